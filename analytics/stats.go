package analytics

import "math"

// Z95 is the two-sided 95% quantile of the standard normal distribution. Every interval Afkar
// publishes is a 95% interval, so one constant keeps them comparable.
const Z95 = 1.959963984540054

// Estimate is a point estimate with its 95% interval and the number of observations behind it.
// Nil fields are undefined — no data for the value, or too little data for an interval — and
// encode as JSON null. They are never NaN or ±Inf, which encoding/json refuses to encode.
type Estimate struct {
	Value *float64 `json:"value"`
	Low   *float64 `json:"ci_low"`
	High  *float64 `json:"ci_high"`
	N     int64    `json:"n"`
}

// Defined reports whether the estimate has a value.
func (e Estimate) Defined() bool { return e.Value != nil }

// HasInterval reports whether the estimate has both interval bounds.
func (e Estimate) HasInterval() bool { return e.Low != nil && e.High != nil }

// clamp bounds the value and the interval to [lo, hi]. It is used where the quantity cannot lie
// outside a known range (a mean of 1–5 ratings), because the normal and t approximations happily
// reach past it for small n and a dashboard should not print "5.7 out of 5".
func (e Estimate) clamp(lo, hi float64) Estimate {
	c := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr(math.Min(hi, math.Max(lo, *p)))
	}
	return Estimate{Value: c(e.Value), Low: c(e.Low), High: c(e.High), N: e.N}
}

// ptr returns a pointer to a finite v, or nil for NaN and ±Inf so that nothing undefined reaches
// JSON.
func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// tTable holds the two-sided 95% quantiles t(0.975, df) of Student's t distribution for
// df = 1…30, where the normal approximation is visibly too narrow.
var tTable = [...]float64{
	12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836,
	2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
	2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546,
	2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447,
	2.079613845, 2.073873068, 2.068657610, 2.063898562, 2.059538553,
	2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
}

// TQuantile95 returns the two-sided 95% quantile of Student's t distribution with df degrees of
// freedom: exact (table) for df ≤ 30, and beyond that the Cornish–Fisher expansion around the
// normal quantile, which is within 1e-5 of the true value there and tends to Z95 — so intervals
// widen smoothly as n shrinks instead of jumping at df = 30. df < 1 gives NaN (no interval).
func TQuantile95(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(tTable):
		return tTable[df-1]
	}
	z, v := Z95, float64(df)
	z3, z5, z7 := z*z*z, math.Pow(z, 5), math.Pow(z, 7)
	return z + (z3+z)/(4*v) + (5*z5+16*z3+3*z)/(96*v*v) + (3*z7+19*z5+17*z3-15*z)/(384*v*v*v)
}

// MeanVariance returns the mean and the sample variance (divisor n−1) of a sample summarised as
// n, Σx and Σx², which is what rollups store. ok is false when n = 0; the variance is NaN when
// n < 2. Rounding can make Σx² − (Σx)²/n slightly negative for constant samples: it is floored
// at zero.
func MeanVariance(n, sum, sumSq int64) (mean, variance float64, ok bool) {
	if n <= 0 {
		return math.NaN(), math.NaN(), false
	}
	fn, fs := float64(n), float64(sum)
	mean = fs / fn
	if n < 2 {
		return mean, math.NaN(), true
	}
	variance = (float64(sumSq) - fs*mean) / (fn - 1)
	if variance < 0 {
		variance = 0
	}
	return mean, variance, true
}

// MeanCI estimates a mean with its 95% t-interval, mean ± t(0.975, n−1)·s/√n. The t quantile
// rather than 1.96 matters for the small offices that get a handful of responses a week. n = 0
// gives no value, n = 1 a value without an interval.
func MeanCI(n, sum, sumSq int64) Estimate {
	mean, variance, ok := MeanVariance(n, sum, sumSq)
	e := Estimate{N: n}
	if !ok {
		return e
	}
	e.Value = ptr(mean)
	if n < 2 {
		return e
	}
	half := TQuantile95(int(n-1)) * math.Sqrt(variance/float64(n))
	e.Low, e.High = ptr(mean-half), ptr(mean+half)
	return e
}

// Wilson estimates a proportion k/n with the 95% Wilson score interval. Unlike the textbook
// p ± z·√(p(1−p)/n) it stays inside [0, 1] and is not zero-width at 0% or 100%, which are
// common for small agencies ("10 of 10 satisfied" is not certainty). n = 0 gives no value.
func Wilson(k, n int64) Estimate {
	e := Estimate{N: n}
	if n <= 0 || k < 0 || k > n {
		return e
	}
	fn := float64(n)
	p := float64(k) / fn
	z2 := Z95 * Z95
	den := 1 + z2/fn
	centre := (p + z2/(2*fn)) / den
	half := Z95 * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn)) / den
	e.Value = ptr(p)
	e.Low = ptr(math.Max(0, centre-half))
	e.High = ptr(math.Min(1, centre+half))
	return e
}

// NPS is a Net Promoter Score: the percentage of promoters (9–10) minus the percentage of
// detractors (0–6), from −100 to 100, with its 95% interval.
type NPS struct {
	Score      *float64 `json:"score"`
	Low        *float64 `json:"ci_low"`
	High       *float64 `json:"ci_high"`
	N          int64    `json:"n"`
	Promoters  int64    `json:"promoters"`
	Passives   int64    `json:"passives"`
	Detractors int64    `json:"detractors"`
}

// NPSCI computes the Net Promoter Score from category counts. The interval is the normal
// approximation for the difference of two proportions of one multinomial sample,
// Var(p̂ − d̂) = (p + d − (p − d)²)/n, scaled to points and clipped to [−100, 100]; it needs
// n ≥ 2.
func NPSCI(promoters, passives, detractors int64) NPS {
	r := NPS{Promoters: promoters, Passives: passives, Detractors: detractors}
	r.N = promoters + passives + detractors
	if r.N <= 0 {
		return r
	}
	n := float64(r.N)
	p, d := float64(promoters)/n, float64(detractors)/n
	r.Score = ptr(100 * (p - d))
	if r.N < 2 {
		return r
	}
	v := (p + d - (p-d)*(p-d)) / n
	if v < 0 {
		v = 0
	}
	half := 100 * Z95 * math.Sqrt(v)
	r.Low = ptr(math.Max(-100, 100*(p-d)-half))
	r.High = ptr(math.Min(100, 100*(p-d)+half))
	return r
}

// NationalIndex maps a mean of 1–5 ratings onto the 0–100 scale of the national (Shahid Rajaei)
// evaluation, (mean − 1)/4 × 100. The transformation is linear and increasing, so the mean's
// interval maps to the index's interval; n is carried over.
func NationalIndex(mean Estimate) Estimate {
	f := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr((*p - 1) / 4 * 100)
	}
	return Estimate{Value: f(mean.Value), Low: f(mean.Low), High: f(mean.High), N: mean.N}
}
