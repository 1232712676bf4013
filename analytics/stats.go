package analytics

import "math"

// Z95 is the two-sided 95% quantile of the standard normal distribution. Every interval Afkar
// publishes is a 95% interval, so one constant keeps them comparable.
const Z95 = 1.959963984540054

// Estimate is a point estimate with its 95% interval and the number of observations behind it.
// Nil fields are undefined — there is no data (N = 0) — and encode as JSON null. They are never
// NaN or ±Inf, which encoding/json refuses to encode. Whenever N ≥ 1 the interval is present and
// has positive width.
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

// PseudoCount is how many imaginary citizens the bounded intervals add, half at each end of the
// scale (see BoundedMeanCI). 3 was chosen by simulation (docs/statistics.md): 2 undercovers
// proportions near 0 or 1 at n ≈ 20 (exact binomial coverage 92.9%), 4 shifts the centre of
// tight distributions near a bound enough to undercover at n ≈ 1000.
const PseudoCount = 3.0

// BoundedMeanCI estimates the mean of n values known to lie in [lo, hi], given their sum and sum
// of squares, with a 95% adjusted-Wald interval: PseudoCount/2 imaginary observations are added
// at lo and at hi, and the interval is m̃ ± t(0.975, n−1)·√(ṽ/ñ), where ñ = n + PseudoCount and
// m̃, ṽ are the mean and (divisor ñ) variance of the augmented sample; it is then widened to
// contain the sample mean and clipped to [lo, hi].
//
// Why not the textbook t-interval: when every answer is equal (five citizens all rating 5) its
// width is zero, and when a rare value exists but was not drawn (95% fives, 5% ones; 30
// citizens) it excludes the truth a fifth of the time. The pseudo-observations keep the
// variance above zero and pull the centre slightly towards the middle, which is what a
// statistician's "we have not seen everything yet" means for a bounded scale; for a 0/1 variable
// this is the Agresti–Coull interval, and for large n it tends to the t-interval. The t quantile
// (df ≥ 1) keeps small samples honest: for n ≤ 3 the interval is nearly the whole scale.
//
// The interval is never zero-width for n ≥ 1. n = 0 (or lo ≥ hi) gives an undefined estimate.
// The Value is the plain sample mean.
func BoundedMeanCI(n int64, sum, sumSq, lo, hi float64) Estimate {
	e := Estimate{N: n}
	if n <= 0 || !(lo < hi) {
		return e
	}
	fn := float64(n)
	mean := math.Min(hi, math.Max(lo, sum/fn))
	e.Value = ptr(mean)
	nt := fn + PseudoCount
	mt := (sum + PseudoCount/2*(lo+hi)) / nt
	vt := (sumSq+PseudoCount/2*(lo*lo+hi*hi))/nt - mt*mt
	if vt < 0 {
		vt = 0 // rounding only: the pseudo-observations alone give a positive variance
	}
	df := int(min(n-1, math.MaxInt32))
	half := TQuantile95(max(df, 1)) * math.Sqrt(vt/nt)
	e.Low = ptr(math.Max(lo, math.Min(mt-half, mean)))
	e.High = ptr(math.Min(hi, math.Max(mt+half, mean)))
	return e
}

// Proportion estimates the share k/n with BoundedMeanCI on the 0–1 scale, which for a yes/no
// variable is the Agresti–Coull interval with a t quantile. It replaces the Wilson interval,
// whose exact coverage falls to about 83% for shares near 0 or 1 (and to 86% at n = 3 for a
// true share of 95%, a common CSAT); the bounds are exactly 0 when k = 0 and 1 when k = n.
// n = 0, k < 0 or k > n give an undefined estimate.
func Proportion(k, n int64) Estimate {
	if n <= 0 || k < 0 || k > n {
		return Estimate{N: max(n, 0)}
	}
	return BoundedMeanCI(n, float64(k), float64(k), 0, 1)
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

// NPSCI computes the Net Promoter Score from category counts. NPS is the mean of a score that is
// +1 for a promoter, 0 for a passive and −1 for a detractor, so its interval is BoundedMeanCI on
// the −1…1 scale, in points: an adjusted Wald interval with PseudoCount/2 imaginary promoters
// and detractors (Rocks, The American Statistician 2016, found adjusted Wald the best of six NPS
// intervals). Unlike the plain Wald interval it is not zero-width when every citizen is a
// passive (NPS 0 ± something) and it stays inside ±100.
func NPSCI(promoters, passives, detractors int64) NPS {
	r := NPS{Promoters: promoters, Passives: passives, Detractors: detractors}
	r.N = promoters + passives + detractors
	if promoters < 0 || passives < 0 || detractors < 0 || r.N <= 0 {
		return r
	}
	e := BoundedMeanCI(r.N, float64(promoters-detractors), float64(promoters+detractors), -1, 1)
	points := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr(100 * *p)
	}
	r.Score, r.Low, r.High = points(e.Value), points(e.Low), points(e.High)
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
