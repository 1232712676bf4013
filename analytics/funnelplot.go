package analytics

import (
	"math"
	"sort"
)

// Funnel plots compare institutions without ranking them: each office is a point (n, score), and
// control limits around the province's target fan out as n shrinks, so an office outside the
// 99.8% limits is very unlikely to be there by chance (Spiegelhalter, "Funnel plots for comparing
// institutional performance", Statistics in Medicine 24:1185–1202, 2005). The 95% limits
// ("two-sigma") flag offices to look at, the 99.8% limits ("three-sigma") offices to act on;
// FunnelPlotR and the NHS use the same pair.

// Normal quantiles of the funnel limits: two-sided 95% and 99.8%.
const (
	zFunnel95  = 1.959963984540054 // Φ⁻¹(0.975)
	zFunnel998 = 3.090232306167813 // Φ⁻¹(0.999)
)

// ControlLimits are the funnel limits for one n: 95% of in-control offices of that size fall
// within [Low95, High95] and 99.8% within [Low998, High998].
type ControlLimits struct {
	N       int64   `json:"n"`
	Target  float64 `json:"target"`
	Low95   float64 `json:"low95"`
	High95  float64 `json:"high95"`
	Low998  float64 `json:"low998"`
	High998 float64 `json:"high998"`
}

// FunnelLimits returns the limits for a mean of n citizens' values (the per-citizen mean on 1–5
// or the 0–100 index) around target, target ± z·sd/√n, where sd is the pooled between-citizen
// standard deviation on the same scale. n < 1 or sd < 0 gives limits equal to the target with
// N = n, which callers treat as "no data".
func FunnelLimits(target, sd float64, n int64) ControlLimits {
	l := ControlLimits{N: n, Target: target, Low95: target, High95: target, Low998: target, High998: target}
	if n < 1 || !(sd >= 0) {
		return l
	}
	se := sd / math.Sqrt(float64(n))
	l.Low95, l.High95 = target-zFunnel95*se, target+zFunnel95*se
	l.Low998, l.High998 = target-zFunnel998*se, target+zFunnel998*se
	return l
}

// FunnelLimitsProportion returns the limits for a share (CSAT: the share of citizens satisfied)
// of n citizens around target θ, from the exact binomial distribution with Spiegelhalter's
// interpolation (2005, appendix A.1.1): for a probability p let r be the smallest count with
// F(r) = P(R ≤ r) ≥ p, where R ~ Binomial(n, θ); then
//
//	α = (F(r) − p) / (F(r) − F(r−1)),   limit = (r − α) / n.
//
// Interpolating makes the limits smooth in n instead of the staircase plain quantiles give, and
// keeps their coverage close to nominal for small n, where the normal approximation is poor
// (θ = 0.9, n = 20). θ outside (0, 1) or n < 1 gives limits equal to the target.
func FunnelLimitsProportion(target float64, n int64) ControlLimits {
	l := ControlLimits{N: n, Target: target, Low95: target, High95: target, Low998: target, High998: target}
	if n < 1 || !(target > 0 && target < 1) {
		return l
	}
	b := newBinomial(n, target)
	l.Low95, l.High95 = b.limit(0.025), b.limit(0.975)
	l.Low998, l.High998 = b.limit(0.001), b.limit(0.999)
	return l
}

// binomial holds the CDF of Binomial(n, θ) over the window of counts where it is not 0 or 1 to
// double precision: k from lo to lo+len(cdf)−1; below lo F = 0, above the window F = 1.
type binomial struct {
	n   int64
	lo  int64
	cdf []float64
}

func newBinomial(n int64, theta float64) binomial {
	fn := float64(n)
	mean, sd := fn*theta, math.Sqrt(fn*theta*(1-theta))
	// 40 SDs (or the whole range for small n) hold every term above 1e-300; the tails beyond
	// do not move a quantile at p ≥ 0.001.
	lo := max(int64(0), int64(math.Floor(mean-40*sd-10)))
	hi := min(n, int64(math.Ceil(mean+40*sd+10)))
	lt, l1t := math.Log(theta), math.Log1p(-theta)
	lgN, _ := math.Lgamma(fn + 1)
	cdf := make([]float64, hi-lo+1)
	var acc float64
	for k := lo; k <= hi; k++ {
		fk := float64(k)
		a, _ := math.Lgamma(fk + 1)
		c, _ := math.Lgamma(fn - fk + 1)
		acc += math.Exp(lgN - a - c + fk*lt + (fn-fk)*l1t)
		cdf[k-lo] = acc
	}
	// Normalise away the rounding of ~n·ε the sum picks up.
	for i := range cdf {
		cdf[i] /= acc
	}
	return binomial{n: n, lo: lo, cdf: cdf}
}

// F returns P(R ≤ k).
func (b binomial) F(k int64) float64 {
	switch {
	case k < b.lo:
		return 0
	case k-b.lo >= int64(len(b.cdf)):
		return 1
	}
	return b.cdf[k-b.lo]
}

// Quantile returns the smallest k with P(R ≤ k) ≥ p (R's qbinom).
func (b binomial) Quantile(p float64) int64 {
	i := sort.Search(len(b.cdf), func(i int) bool { return b.cdf[i] >= p })
	return min(b.lo+int64(i), b.n)
}

// limit is Spiegelhalter's interpolated limit on the proportion scale.
func (b binomial) limit(p float64) float64 {
	r := b.Quantile(p)
	fr, fr1 := b.F(r), b.F(r-1)
	alpha := 0.0
	if fr > fr1 {
		alpha = (fr - p) / (fr - fr1)
	}
	return math.Max(0, (float64(r)-alpha)/float64(b.n))
}

// FunnelCurve is the funnel's limits over a grid of n, for drawing.
type FunnelCurve struct {
	Target float64         `json:"target"`
	Points []ControlLimits `json:"points"`
}

// FunnelGrid returns about steps values of n from nMin to nMax (both included, nMin ≥ 1),
// spaced evenly on a log scale, where the funnel changes fastest at small n; duplicates after
// rounding are dropped. steps < 2 gives {nMin, nMax}.
func FunnelGrid(nMin, nMax int64, steps int) []int64 {
	nMin = max(nMin, 1)
	nMax = max(nMax, nMin)
	steps = max(steps, 2)
	out := []int64{nMin}
	ratio := math.Log(float64(nMax)/float64(nMin)) / float64(steps-1)
	for i := 1; i < steps; i++ {
		n := int64(math.Round(float64(nMin) * math.Exp(ratio*float64(i))))
		if i == steps-1 {
			n = nMax
		}
		if n > out[len(out)-1] {
			out = append(out, n)
		}
	}
	return out
}

// MeanFunnel returns the limit curves for means around target with between-citizen SD sd at
// each n of grid (see FunnelGrid).
func MeanFunnel(target, sd float64, grid []int64) FunnelCurve {
	c := FunnelCurve{Target: target, Points: make([]ControlLimits, 0, len(grid))}
	for _, n := range grid {
		c.Points = append(c.Points, FunnelLimits(target, sd, n))
	}
	return c
}

// ProportionFunnel returns the limit curves for shares around target at each n of grid.
func ProportionFunnel(target float64, grid []int64) FunnelCurve {
	c := FunnelCurve{Target: target, Points: make([]ControlLimits, 0, len(grid))}
	for _, n := range grid {
		c.Points = append(c.Points, FunnelLimitsProportion(target, n))
	}
	return c
}

// FunnelPosition says where an office's point lies against the limits for its n. The words are
// deliberately neutral ("above", not "good"): a funnel plot finds offices worth a look, not
// verdicts.
type FunnelPosition string

// The positions, from the bottom of the funnel to the top.
const (
	Below998 FunnelPosition = "below_99_8" // below the 99.8% limit: very unlikely to be chance
	Below95  FunnelPosition = "below_95"   // between the lower 99.8% and 95% limits
	Inside   FunnelPosition = "inside"     // within the 95% limits (on a limit counts as inside)
	Above95  FunnelPosition = "above_95"
	Above998 FunnelPosition = "above_99_8"
	NoData   FunnelPosition = "no_data" // n < 1: no point to place
)

// Classify places value against l.
func (l ControlLimits) Classify(value float64) FunnelPosition {
	switch {
	case l.N < 1 || math.IsNaN(value):
		return NoData
	case value < l.Low998:
		return Below998
	case value < l.Low95:
		return Below95
	case value > l.High998:
		return Above998
	case value > l.High95:
		return Above95
	}
	return Inside
}

// ClassifyMean places an office's mean of n citizens against the funnel around target.
func ClassifyMean(value, target, sd float64, n int64) FunnelPosition {
	return FunnelLimits(target, sd, n).Classify(value)
}

// ClassifyProportion places an office's share k/n against the funnel around target θ with the
// exact binomial tail probabilities the limits stand for: below the 99.8% funnel when
// P(R ≤ k) < 0.001, below the 95% funnel when P(R ≤ k) < 0.025, and the same upwards with
// P(R ≥ k). The interpolated limits are a drawing aid; classifying by them would call every
// small office with a perfect record "above 99.8%" — at θ = 0.8 and n = 5 the upper 99.8% limit
// is 0.9994, yet five of five happens by chance a third of the time. The test is exact, so an
// office on target is flagged at most 5% (and 0.2%) of the time whatever n.
func ClassifyProportion(k, n int64, target float64) FunnelPosition {
	if n < 1 || k < 0 || k > n {
		return NoData
	}
	if !(target > 0 && target < 1) {
		return FunnelLimitsProportion(target, n).Classify(float64(k) / float64(n))
	}
	b := newBinomial(n, target)
	down, up := b.F(k), 1-b.F(k-1)
	switch {
	case down < 0.001:
		return Below998
	case down < 0.025:
		return Below95
	case up < 0.001:
		return Above998
	case up < 0.025:
		return Above95
	}
	return Inside
}

// FunnelLimitsTau is FunnelLimits widened for real between-office variation: target ±
// z·√(sd²/n + τ²), Spiegelhalter's additive random-effects limits (2005, §5.2). With many large
// offices the plain limits are so narrow that most offices fall outside them for reasons no
// one controls (catchment, building, mix of services); τ (on the values' scale, see
// BetweenOfficeTau) says how much offices differ beyond chance, and the widened funnel flags
// only those unusual even then. τ = 0 gives FunnelLimits.
func FunnelLimitsTau(target, sd, tau float64, n int64) ControlLimits {
	l := FunnelLimits(target, sd, n)
	if n < 1 || !(sd >= 0) || !(tau > 0) {
		return l
	}
	se := math.Sqrt(sd*sd/float64(n) + tau*tau)
	l.Low95, l.High95 = target-zFunnel95*se, target+zFunnel95*se
	l.Low998, l.High998 = target-zFunnel998*se, target+zFunnel998*se
	return l
}

// OfficeMean is one office's point on a funnel plot of means: its mean, n and standard error
// (sd/√n with the pooled SD).
type OfficeMean struct {
	Mean float64
	SE   float64
}

// BetweenOfficeTau estimates τ, the SD of the offices' true means around target beyond their
// sampling error, by Spiegelhalter's method (2005, §5.1–5.2): z-scores zᵢ = (yᵢ − target)/sᵢ
// are Winsorised at their 10th and 90th percentiles (so a few real outliers do not widen the
// funnel that is meant to find them), φ = Σz²/I, and if Iφ > I − 1
//
//	τ² = (Iφ − (I − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ),  wᵢ = 1/sᵢ²,
//
// else τ = 0 (no over-dispersion). Winsorising biases τ low when it is large (about 0.72 of the
// truth in TestBetweenOfficeTau): the widened funnel errs towards flagging. Offices with SE ≤ 0 or a NaN are left out; fewer than 10
// offices give 0 — too few to tell over-dispersion from chance.
func BetweenOfficeTau(target float64, offices []OfficeMean) float64 {
	var zs, ws []float64
	for _, o := range offices {
		if o.SE > 0 && !math.IsNaN(o.Mean) && !math.IsInf(o.SE, 0) {
			zs = append(zs, (o.Mean-target)/o.SE)
			ws = append(ws, 1/(o.SE*o.SE))
		}
	}
	k := len(zs)
	if k < 10 {
		return 0
	}
	sorted := append([]float64(nil), zs...)
	sort.Float64s(sorted)
	lo, hi := sorted[int(math.Floor(0.1*float64(k)))], sorted[int(math.Ceil(0.9*float64(k)))-1]
	var phi, sw, sw2 float64
	for i, z := range zs {
		z = math.Min(hi, math.Max(lo, z))
		phi += z * z
		sw += ws[i]
		sw2 += ws[i] * ws[i]
	}
	excess := phi - float64(k-1) // I·φ − (I − 1)
	if excess <= 0 {
		return 0
	}
	return math.Sqrt(excess / (sw - sw2/sw))
}
