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

func TestProportion(t *testing.T) {
	// Agresti–Coull with 1.5 + 1.5 pseudo-observations and the t quantile: 30/100 →
	// p̃ = 31.5/103, half = t(99)·√(p̃(1−p̃)/103).
	e := Proportion(30, 100)
	pt := 31.5 / 103
	half := TQuantile95(99) * math.Sqrt(pt*(1-pt)/103)
	near(t, "p", e.Value, 0.3, 1e-12)
	near(t, "low", e.Low, pt-half, 1e-12)
	near(t, "high", e.High, pt+half, 1e-12)
	if e.N != 100 {
		t.Errorf("n = %d", e.N)
	}
	// The bounds are exactly 0 and 1 at 0/n and n/n, and the other bound is not.
	for _, n := range []int64{1, 2, 3, 5, 10, 30, 100, 1000, 100000} {
		all, none := Proportion(n, n), Proportion(0, n)
		if *all.High != 1 || *none.Low != 0 || !(*all.Low < 1) || !(*none.High > 0) {
			t.Errorf("n=%d: %d/%d → [%v, %v], 0/%d → [%v, %v]", n, n, n, *all.Low, *all.High, n, *none.Low, *none.High)
		}
	}
	// Large n: close to the normal approximation.
	big := Proportion(500000, 1000000)
	near(t, "high(n=1e6)", big.High, 0.5+Z95*math.Sqrt(0.25/1e6), 1e-5)
	isNil(t, "p(0/0)", Proportion(0, 0).Value)
	if Proportion(3, 2).Defined() || Proportion(-1, 2).Defined() {
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

func TestBoundedMeanCI(t *testing.T) {
	// 1,2,3,4,5 on 1–5 plus 1.5 pseudo-observations at 1 and at 5: ñ = 8, Σ̃ = 24, Σ̃² = 94;
	// m̃ = 3, ṽ = 94/8 − 9 = 2.75; half = t(4)·√(2.75/8).
	e := BoundedMeanCI(5, 15, 55, 1, 5)
	near(t, "mean", e.Value, 3, 1e-12)
	half := TQuantile95(4) * math.Sqrt(2.75/8)
	near(t, "low", e.Low, 3-half, 1e-12)
	near(t, "high", e.High, 3+half, 1e-12)
	if e.N != 5 {
		t.Errorf("n = %d", e.N)
	}

	// n = 0: nothing. n = 1: a value and an interval (here the whole scale: t(1) = 12.7).
	isNil(t, "mean(n=0)", BoundedMeanCI(0, 0, 0, 1, 5).Value)
	isNil(t, "low(n=0)", BoundedMeanCI(0, 0, 0, 1, 5).Low)
	one := BoundedMeanCI(1, 4, 16, 1, 5)
	near(t, "mean(n=1)", one.Value, 4, 0)
	near(t, "low(n=1)", one.Low, 1, 0)
	near(t, "high(n=1)", one.High, 5, 0)
	isNil(t, "empty scale", BoundedMeanCI(3, 3, 3, 1, 1).Value)

	// The interval always holds the sample mean and stays on the scale, even far out.
	for _, c := range []struct{ n, sum, sumSq float64 }{{2, 10, 50}, {2, 2, 2}, {40, 200, 1000}, {40, 41, 44}, {7, 21, 63}} {
		e := BoundedMeanCI(int64(c.n), c.sum, c.sumSq, 1, 5)
		if *e.Low > *e.Value || *e.High < *e.Value || *e.Low < 1 || *e.High > 5 {
			t.Errorf("%+v: %v not in [%v, %v] ⊂ [1, 5]", c, *e.Value, *e.Low, *e.High)
		}
	}

	// Large n: the t-interval of the data (the pseudo-observations are negligible).
	n := 1000000.0
	big := BoundedMeanCI(int64(n), 4.5*n, 20.5*n, 1, 5) // half 4s, half 5s: variance 0.25
	near(t, "high(n=1e6)", big.High, 4.5+Z95*0.5/1000, 2e-5)
}

// Intervals never collapse to a point when every answer is equal — the failure the textbook
// t- and Wald intervals have — and they reach the bound exactly when the sample sits on it.
func TestIntervalsNeverZeroWidth(t *testing.T) {
	for n := int64(1); n <= 2000; n = n*3 + 1 {
		for _, x := range []float64{1, 2, 3, 4, 5} {
			e := BoundedMeanCI(n, x*float64(n), x*x*float64(n), 1, 5)
			if !(*e.High-*e.Low > 1e-6) || *e.Value != x {
				t.Errorf("n=%d all %v: [%v, %v]", n, x, *e.Low, *e.High)
			}
			idx := NationalIndex(e)
			if !(*idx.High-*idx.Low > 1e-4) {
				t.Errorf("index n=%d all %v: [%v, %v]", n, x, *idx.Low, *idx.High)
			}
		}
		if e := BoundedMeanCI(n, 5*float64(n), 25*float64(n), 1, 5); *e.High != 5 || !(*e.Low < 5) {
			t.Errorf("n=%d all fives: [%v, %v], want [<5, 5]", n, *e.Low, *e.High)
		}
		for _, c := range [][3]int64{{0, n, 0}, {n, 0, 0}, {0, 0, n}} {
			s := NPSCI(c[0], c[1], c[2])
			if !(*s.High-*s.Low > 1e-4) || *s.Low > *s.Score || *s.High < *s.Score {
				t.Errorf("NPS %v: %v in [%v, %v]", c, *s.Score, *s.Low, *s.High)
			}
		}
		if s := NPSCI(n, 0, 0); *s.High != 100 || *s.Score != 100 {
			t.Errorf("all promoters n=%d: %v [%v, %v]", n, *s.Score, *s.Low, *s.High)
		}
	}
	// The cases: five citizens all rating 5; all passives.
	five := BoundedMeanCI(5, 25, 125, 1, 5)
	if *five.Low >= 5 || *NationalIndex(five).Low >= 100 {
		t.Errorf("five fives: [%v, %v]", *five.Low, *five.High)
	}
	if p := NPSCI(0, 5, 0); *p.Low >= 0 || *p.High <= 0 {
		t.Errorf("five passives: [%v, %v]", *p.Low, *p.High)
	}
}

func TestNPSCI(t *testing.T) {
	// 5 promoters, 3 passives, 2 detractors: 50% − 20% = 30. On the −1…1 scale with 1.5
	// pseudo-observations at each end: ñ = 13, Σ̃ = 3, Σ̃² = 10; m̃ = 3/13,
	// ṽ = 10/13 − (3/13)²; half = t(9)·√(ṽ/13).
	n := NPSCI(5, 3, 2)
	near(t, "score", n.Score, 30, 1e-9)
	mt := 3.0 / 13
	half := TQuantile95(9) * math.Sqrt((10.0/13-mt*mt)/13)
	near(t, "low", n.Low, 100*(mt-half), 1e-9)
	near(t, "high", n.High, 100*(mt+half), 1e-9)
	if n.N != 10 || n.Promoters != 5 || n.Passives != 3 || n.Detractors != 2 {
		t.Errorf("counts = %+v", n)
	}
	all := NPSCI(4, 0, 0)
	near(t, "all promoters", all.Score, 100, 0)
	near(t, "high = 100", all.High, 100, 0)
	one := NPSCI(0, 0, 1)
	near(t, "one detractor", one.Score, -100, 0)
	near(t, "low(n=1)", one.Low, -100, 0)
	if one.High == nil || *one.High <= -100 {
		t.Errorf("one detractor: high = %v", one.High)
	}
	none := NPSCI(0, 0, 0)
	isNil(t, "score(n=0)", none.Score)
	isNil(t, "low(n=0)", none.Low)
	// Wide-ranging sample stays within the scale.
	w := NPSCI(1, 0, 1)
	if *w.Low < -100 || *w.High > 100 {
		t.Errorf("interval %v–%v outside ±100", *w.Low, *w.High)
	}
}

func TestNationalIndex(t *testing.T) {
	m := BoundedMeanCI(5, 15, 55, 1, 5)
	idx := NationalIndex(m)
	near(t, "index", idx.Value, 50, 1e-9)
	near(t, "low", idx.Low, (*m.Low-1)/4*100, 1e-9)
	near(t, "high", idx.High, (*m.High-1)/4*100, 1e-9)
	if idx.N != 5 {
		t.Errorf("n = %d", idx.N)
	}
	near(t, "all fives", NationalIndex(BoundedMeanCI(1, 5, 25, 1, 5)).Value, 100, 0)
	near(t, "all ones", NationalIndex(BoundedMeanCI(1, 1, 1, 1, 5)).Value, 0, 0)
	isNil(t, "no data", NationalIndex(BoundedMeanCI(0, 0, 0, 1, 5)).Value)
}

func TestUndefinedEncodesAsNull(t *testing.T) {
	b, err := json.Marshal(struct {
		E Estimate
		N NPS
	}{BoundedMeanCI(0, 0, 0, 1, 5), NPSCI(0, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"E":{"value":null,"ci_low":null,"ci_high":null,"n":0},"N":{"score":null,"ci_low":null,"ci_high":null,"n":0,"promoters":0,"passives":0,"detractors":0}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if ptr(math.NaN()) != nil || ptr(math.Inf(1)) != nil {
		t.Error("ptr must drop NaN and Inf")
	}
}
