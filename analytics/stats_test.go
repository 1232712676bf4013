package analytics

import (
	"encoding/json"
	"math"
	"testing"
)

func near(t *testing.T, name string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %.6f", name, want)
		return
	}
	if math.Abs(*got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f (±%g)", name, *got, want, tol)
	}
}

func isNil(t *testing.T, name string, got *float64) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %v, want nil", name, *got)
	}
}

func TestWilsonKnownValues(t *testing.T) {
	cases := []struct {
		k, n         int64
		p, low, high float64
	}{
		{8, 10, 0.8, 0.4902, 0.9433},
		{0, 10, 0, 0, 0.2775},
		{10, 10, 1, 0.7225, 1},
		{1, 1, 1, 0.2065, 1},
		{50, 100, 0.5, 0.4038, 0.5962},
	}
	for _, c := range cases {
		e := Wilson(c.k, c.n)
		near(t, "p", e.Value, c.p, 1e-9)
		near(t, "low", e.Low, c.low, 5e-4)
		near(t, "high", e.High, c.high, 5e-4)
		if e.N != c.n {
			t.Errorf("n = %d, want %d", e.N, c.n)
		}
	}
	e := Wilson(0, 0)
	isNil(t, "p(0/0)", e.Value)
	isNil(t, "low(0/0)", e.Low)
	if Wilson(3, 2).Defined() || Wilson(-1, 2).Defined() {
		t.Error("impossible proportions must be undefined")
	}
}

// tCDFHalf integrates Student's t density from 0 to x (Simpson's rule), i.e. CDF(x) − 0.5.
func tCDFHalf(x float64, df int) float64 {
	v := float64(df)
	lg1, _ := math.Lgamma((v + 1) / 2)
	lg2, _ := math.Lgamma(v / 2)
	c := math.Exp(lg1-lg2) / math.Sqrt(v*math.Pi)
	f := func(u float64) float64 { return c * math.Pow(1+u*u/v, -(v+1)/2) }
	const steps = 20000
	h := x / steps
	s := f(0) + f(x)
	for i := 1; i < steps; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(float64(i)*h)
	}
	return s * h / 3
}

func TestTQuantile95(t *testing.T) {
	if got := TQuantile95(9); math.Abs(got-2.262) > 5e-4 {
		t.Errorf("t(9) = %.4f, want 2.262", got)
	}
	if got := TQuantile95(1); math.Abs(got-12.706) > 5e-4 {
		t.Errorf("t(1) = %.4f, want 12.706", got)
	}
	// Every table entry and the expansion beyond it put 2.5% in the upper tail.
	for _, df := range []int{1, 2, 3, 5, 9, 10, 17, 29, 30, 31, 35, 40, 60, 100, 120, 500} {
		q := TQuantile95(df)
		if got := tCDFHalf(q, df); math.Abs(got-0.475) > 2e-6 {
			t.Errorf("df=%d: P(0<T<%.6f) = %.7f, want 0.475", df, q, got)
		}
	}
	// Monotone decreasing towards the normal quantile, with no jump after the table.
	prev := math.Inf(1)
	for df := 1; df <= 2000; df++ {
		q := TQuantile95(df)
		if !(q < prev) || q <= Z95 {
			t.Fatalf("t(%d) = %v after %v: not decreasing towards %v", df, q, prev, Z95)
		}
		prev = q
	}
	if !math.IsNaN(TQuantile95(0)) {
		t.Error("t(0) must be NaN")
	}
}

func TestMeanCI(t *testing.T) {
	// 1,2,3,4,5: mean 3, s² = 2.5, t(4) = 2.7764 → 3 ± 1.9632.
	e := MeanCI(5, 15, 55)
	near(t, "mean", e.Value, 3, 1e-12)
	near(t, "low", e.Low, 1.0368, 1e-4)
	near(t, "high", e.High, 4.9632, 1e-4)

	m, v, ok := MeanVariance(5, 15, 55)
	if !ok || m != 3 || math.Abs(v-2.5) > 1e-12 {
		t.Errorf("MeanVariance = %v, %v, %v; want 3, 2.5, true", m, v, ok)
	}

	// n = 1: a value, no interval. n = 0: nothing.
	e = MeanCI(1, 4, 16)
	near(t, "mean(n=1)", e.Value, 4, 0)
	isNil(t, "low(n=1)", e.Low)
	isNil(t, "high(n=1)", e.High)
	e = MeanCI(0, 0, 0)
	isNil(t, "mean(n=0)", e.Value)

	// Constant sample: zero-width interval, never NaN from a slightly negative variance.
	e = MeanCI(3, 15, 75)
	near(t, "low(const)", e.Low, 5, 1e-12)
	near(t, "high(const)", e.High, 5, 1e-12)

	// Large n uses (nearly) the normal quantile: 1000 answers, half 4 and half 5.
	e = MeanCI(1000, 4500, 500*16+500*25)
	sd := math.Sqrt(250.0 / 999)
	near(t, "high(n=1000)", e.High, 4.5+TQuantile95(999)*sd/math.Sqrt(1000), 1e-12)
	if math.Abs(TQuantile95(999)-1.9623) > 1e-4 {
		t.Errorf("t(999) = %v, want 1.9623", TQuantile95(999))
	}
}

func TestClampKeepsScale(t *testing.T) {
	// 4 and 5: mean 4.5, t(1) = 12.706 → the raw interval runs far past the 1–5 scale.
	e := MeanCI(2, 9, 41)
	if *e.High < 5 || *e.Low > 1 {
		t.Fatalf("test premise: raw interval %v–%v", *e.Low, *e.High)
	}
	c := e.clamp(1, 5)
	near(t, "low", c.Low, 1, 0)
	near(t, "high", c.High, 5, 0)
	near(t, "mean", c.Value, 4.5, 0)
}

func TestNPSCI(t *testing.T) {
	// 5 promoters, 3 passives, 2 detractors: 50% − 20% = 30;
	// Var = (0.5 + 0.2 − 0.3²)/10 = 0.061 → ± 100·1.96·0.24698 = 48.41.
	n := NPSCI(5, 3, 2)
	near(t, "score", n.Score, 30, 1e-9)
	near(t, "low", n.Low, 30-48.407, 1e-2)
	near(t, "high", n.High, 30+48.407, 1e-2)
	if n.N != 10 || n.Promoters != 5 || n.Passives != 3 || n.Detractors != 2 {
		t.Errorf("counts = %+v", n)
	}
	all := NPSCI(4, 0, 0)
	near(t, "all promoters", all.Score, 100, 0)
	near(t, "high ≤ 100", all.High, 100, 0)
	one := NPSCI(0, 0, 1)
	near(t, "one detractor", one.Score, -100, 0)
	isNil(t, "low(n=1)", one.Low)
	none := NPSCI(0, 0, 0)
	isNil(t, "score(n=0)", none.Score)
	// Wide-ranging sample stays within the scale.
	w := NPSCI(1, 0, 1)
	if *w.Low < -100 || *w.High > 100 {
		t.Errorf("interval %v–%v outside ±100", *w.Low, *w.High)
	}
}

func TestNationalIndex(t *testing.T) {
	idx := NationalIndex(MeanCI(5, 15, 55))
	near(t, "index", idx.Value, 50, 1e-9)
	near(t, "low", idx.Low, (1.0368-1)/4*100, 3e-3)
	near(t, "high", idx.High, (4.9632-1)/4*100, 3e-3)
	if idx.N != 5 {
		t.Errorf("n = %d", idx.N)
	}
	near(t, "all fives", NationalIndex(MeanCI(1, 5, 25)).Value, 100, 0)
	near(t, "all ones", NationalIndex(MeanCI(1, 1, 1)).Value, 0, 0)
	isNil(t, "no data", NationalIndex(MeanCI(0, 0, 0)).Value)
}

func TestUndefinedEncodesAsNull(t *testing.T) {
	b, err := json.Marshal(struct {
		E Estimate
		N NPS
	}{MeanCI(1, 3, 9), NPSCI(0, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"E":{"value":3,"ci_low":null,"ci_high":null,"n":1},"N":{"score":null,"ci_low":null,"ci_high":null,"n":0,"promoters":0,"passives":0,"detractors":0}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if ptr(math.NaN()) != nil || ptr(math.Inf(1)) != nil {
		t.Error("ptr must drop NaN and Inf")
	}
}
