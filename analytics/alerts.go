package analytics

import (
	"math"
	"sort"
	"time"
)

// Alerts tell an office's staff that something changed before the quarterly report does. The
// main kind, the drop test, compares the last days of an office with its own recent past,
// accounting for when citizens came (hour of the week) and the Jalali season, so a quiet
// Thursday or the pre-Nowruz rush does not look like a fall. The simple kinds are HappyOrNot's:
// a share of unhappy citizens or a score beyond a level, each with a minimum count. The method
// and its measured false-alarm rate and power are in docs/alerts.md.

// HoursPerWeek is the number of hour-of-week slots (see HourOfWeek).
const HoursPerWeek = 168

// Cell holds an office's per-citizen headline values (one value per citizen, e.g. the mean of
// their 1–5 answers) aggregated over one hour of the week and one Jalali season: their count,
// sum and sum of squares. A period is a list of cells; the same (Slot, Season) may appear more
// than once (one per day, say) and is simply added up.
type Cell struct {
	Slot   int     `json:"slot"`   // hour of the week, 0 (Saturday 00:00 Tehran) … 167
	Season int     `json:"season"` // Jalali season, 0 spring … 3 winter (see JalaliSeason)
	N      int64   `json:"n"`
	Sum    float64 `json:"sum"`
	SumSq  float64 `json:"sum_sq"`
}

// CellAt returns the cell for one citizen's value v given at t: Slot and Season from t in Tehran.
func CellAt(t time.Time, v float64) Cell {
	return Cell{Slot: HourOfWeek(t), Season: JalaliSeason(t), N: 1, Sum: v, SumSq: v * v}
}

// AlertKind names a kind of alert; it is stored with every alert, so the values are stable.
type AlertKind string

// The kinds of alerts.
const (
	AlertDrop         AlertKind = "drop"          // mean significantly below the office's own baseline
	AlertRise         AlertKind = "rise"          // significantly above it: a positive alert
	AlertShareUnhappy AlertKind = "share_unhappy" // share of unhappy citizens at or above a level
	AlertScoreBelow   AlertKind = "score_below"   // mean below a fixed level
	AlertScoreAbove   AlertKind = "score_above"   // mean above a fixed level (positive)
)

// Default settings of the drop test, chosen and measured in docs/alerts.md.
const (
	// DefaultDropZ is the one-sided z threshold of the drop (and rise) test: z ≤ −3.09, a
	// one-sided p below 0.001. Evaluated daily on overlapping 7-day windows over simulated
	// stable offices (200 offices, one quarter, docs/alerts.md) it opened 0.095 false drop and
	// 0.035 false rise alerts per office per quarter, under the required 1, while it caught a
	// 0.5-point fall at 30 citizens a day within 7 days in 99.5% of offices, on the fifth day of
	// the fall (median).
	DefaultDropZ = 3.09
	// DefaultResolveZ closes an open alert once z is back within ±1: the hysteresis between 3.09
	// and 1 stops one episode from firing again every day it wobbles around the threshold.
	DefaultResolveZ = 1.0
	// DefaultMinWindowN and DefaultMinBaselineN are the minimum counts of citizens: below them
	// the test says "insufficient" and never alerts.
	DefaultMinWindowN   = 30
	DefaultMinBaselineN = 100
	// DefaultSDFloor bounds the between-citizen SD from below (1–5 scale): an office whose
	// citizens all answered 5 for weeks would otherwise alert on a single 4.
	DefaultSDFloor = 0.5
	// DefaultSlotPrior is the weight, in citizens, of the office's overall level when an
	// hour-of-week slot's own baseline mean is estimated: a slot with 30 baseline citizens is
	// taken half from its own mean and half from the office's.
	DefaultSlotPrior = 30
	// DefaultSeasonPrior is the same weight for a season's level inside the baseline, used
	// only when no season effects are supplied.
	DefaultSeasonPrior = 100
)

// DropOptions tune the drop test; zero fields take the defaults above. SDFloor is on the scale of
// the values: use 12.5 for the 0–100 index.
type DropOptions struct {
	Threshold    float64 `json:"threshold"`
	ResolveZ     float64 `json:"resolve_z"`
	MinWindowN   int64   `json:"min_window_n"`
	MinBaselineN int64   `json:"min_baseline_n"`
	SDFloor      float64 `json:"sd_floor"`
	SlotPrior    float64 `json:"slot_prior"`
	SeasonPrior  float64 `json:"season_prior"`
	// SeasonEffects, when set, are the known differences of each Jalali season's mean from the
	// annual mean (spring … winter), e.g. estimated from the whole province over the previous
	// year, where they are precise. The baseline is de-seasonalised with them and the window's
	// expectation re-seasonalised, so a baseline in autumn predicts a window in winter. When
	// nil, seasons are estimated inside the baseline (shrunk towards no effect), which helps
	// only once the window's season has been in the baseline for a while: see docs/alerts.md.
	SeasonEffects *[4]float64 `json:"season_effects,omitempty"`
}

func (o DropOptions) withDefaults() DropOptions {
	if o.Threshold <= 0 {
		o.Threshold = DefaultDropZ
	}
	if o.ResolveZ <= 0 {
		o.ResolveZ = DefaultResolveZ
	}
	if o.MinWindowN <= 0 {
		o.MinWindowN = DefaultMinWindowN
	}
	if o.MinBaselineN <= 0 {
		o.MinBaselineN = DefaultMinBaselineN
	}
	if o.SDFloor <= 0 {
		o.SDFloor = DefaultSDFloor
	}
	if o.SlotPrior <= 0 {
		o.SlotPrior = DefaultSlotPrior
	}
	if o.SeasonPrior <= 0 {
		o.SeasonPrior = DefaultSeasonPrior
	}
	return o
}

// DropStatus is the outcome of one evaluation of the drop test.
type DropStatus string

// The outcomes of the drop test.
const (
	DropInsufficient DropStatus = "insufficient" // fewer citizens than the minimum counts
	DropNone         DropStatus = "ok"           // no significant change
	DropFound        DropStatus = "drop"         // z ≤ −threshold
	RiseFound        DropStatus = "rise"         // z ≥ threshold
)

// DropResult is one evaluation of the drop test for one office and window. Observed and
// Expected are means on the values' scale; SE is the standard error of their difference; Z is
// (Observed − Expected)/SE; PLow = Φ(Z) is the one-sided p-value of a drop and PHigh = 1 − Φ(Z)
// that of a rise (for BenjaminiHochberg across offices). When Status is DropInsufficient only N
// fields and, if WindowN > 0, Observed are set.
type DropResult struct {
	Status    DropStatus `json:"status"`
	Observed  float64    `json:"observed"`
	Expected  float64    `json:"expected"`
	SE        float64    `json:"se"`
	Z         float64    `json:"z"`
	PLow      float64    `json:"p_low"`
	PHigh     float64    `json:"p_high"`
	SD        float64    `json:"sd"` // the between-citizen SD used (after the floor)
	WindowN   int64      `json:"window_n"`
	BaselineN int64      `json:"baseline_n"`
}

// moments3 is a count, sum and sum of squares.
type moments3 struct {
	n        int64
	sum, ssq float64
}

func (m *moments3) add(c Cell) { m.n += c.N; m.sum += c.Sum; m.ssq += c.SumSq }

// usable reports whether c can be counted: a known slot and season and a positive count.
func usable(c Cell) bool {
	return c.N > 0 && c.Slot >= 0 && c.Slot < HoursPerWeek && c.Season >= 0 && c.Season < 4 &&
		!math.IsNaN(c.Sum) && !math.IsNaN(c.SumSq)
}

// DropTest compares an office's window (by default the last 7 days) with its baseline (the 8–12
// weeks before the window), both given as cells. The expected window mean is what the baseline
// predicts for the hours and season the window's citizens actually came in:
//
//	expected = Σ_cells n_w·(level + season[s] + slot[h]) / n_w
//
// where level is the baseline's de-seasonalised mean, season[s] the season effect (supplied, or
// estimated in the baseline and shrunk with weight SeasonPrior), and slot[h] the baseline's
// deviation in hour-of-week h shrunk toward 0 with weight SlotPrior (a fixed-prior empirical
// Bayes estimate: slots with few citizens borrow the office's level). Then
//
//	z = (observed − expected) / √(σ̂²/n_w + Var(expected))
//
// with σ̂ the baseline's between-citizen SD (at least SDFloor) and Var(expected) the baseline's
// own sampling error, which the plain σ̂/√n_w would ignore. The test is one-sided each way:
// z ≤ −Threshold is a drop, z ≥ Threshold a rise. Cells with a slot outside 0…167, a season
// outside 0…3 or N ≤ 0 are ignored.
func DropTest(baseline, window []Cell, opts DropOptions) DropResult {
	o := opts.withDefaults()
	var bAll, wAll moments3
	var bSeason, wSeason [4]moments3
	var bSlot, wSlot [HoursPerWeek]moments3
	for _, c := range baseline {
		if usable(c) {
			bAll.add(c)
			bSeason[c.Season].add(c)
			bSlot[c.Slot].add(c)
		}
	}
	for _, c := range window {
		if usable(c) {
			wAll.add(c)
			wSeason[c.Season].add(c)
			wSlot[c.Slot].add(c)
		}
	}
	r := DropResult{Status: DropInsufficient, WindowN: wAll.n, BaselineN: bAll.n}
	if wAll.n > 0 {
		r.Observed = wAll.sum / float64(wAll.n)
	}
	if wAll.n < o.MinWindowN || bAll.n < o.MinBaselineN {
		return r
	}
	bn, wn := float64(bAll.n), float64(wAll.n)
	bMean := bAll.sum / bn
	variance := 0.0
	if bAll.n > 1 {
		variance = math.Max((bAll.ssq-bn*bMean*bMean)/(bn-1), 0)
	}
	sd := math.Max(math.Sqrt(variance), o.SDFloor)
	s2 := sd * sd

	// Season effects and the de-seasonalised level.
	var eff [4]float64
	var varSeason [4]float64
	if o.SeasonEffects != nil {
		eff = *o.SeasonEffects
	} else {
		for s := range eff {
			if m := bSeason[s]; m.n > 0 {
				k := float64(m.n) + o.SeasonPrior
				eff[s] = (m.sum - float64(m.n)*bMean) / k
				varSeason[s] = s2 * float64(m.n) / (k * k)
			}
		}
	}
	var adj float64
	for s := range eff {
		adj += float64(bSeason[s].n) * eff[s]
	}
	level := (bAll.sum - adj) / bn

	// Slot deviations from level+season, shrunk toward 0.
	var dev [HoursPerWeek]float64
	var slotResid [HoursPerWeek]float64
	for _, c := range baseline {
		if usable(c) {
			slotResid[c.Slot] += c.Sum - float64(c.N)*(level+eff[c.Season])
		}
	}
	varExp := s2 / bn
	for h := range dev {
		if wSlot[h].n == 0 || bSlot[h].n == 0 {
			continue // no window citizens here, or no baseline: the slot adds nothing
		}
		k := float64(bSlot[h].n) + o.SlotPrior
		dev[h] = slotResid[h] / k
		p := float64(wSlot[h].n) / wn
		varExp += p * p * s2 * float64(bSlot[h].n) / (k * k)
	}
	for s := range varSeason {
		p := float64(wSeason[s].n) / wn
		varExp += p * p * varSeason[s]
	}

	var expSum float64
	for _, c := range window {
		if usable(c) {
			expSum += float64(c.N) * (level + eff[c.Season] + dev[c.Slot])
		}
	}
	r.Expected = expSum / wn
	r.SD = sd
	r.SE = math.Sqrt(s2/wn + varExp)
	r.Z = (r.Observed - r.Expected) / r.SE
	r.PLow = 0.5 * math.Erfc(-r.Z/math.Sqrt2)
	r.PHigh = 0.5 * math.Erfc(r.Z/math.Sqrt2)
	switch {
	case r.Z <= -o.Threshold:
		r.Status = DropFound
	case r.Z >= o.Threshold:
		r.Status = RiseFound
	default:
		r.Status = DropNone
	}
	return r
}

// OpenAlert is an alert that has fired and not yet resolved.
type OpenAlert struct {
	Kind   AlertKind  `json:"kind"`
	Since  time.Time  `json:"since"`
	First  DropResult `json:"first"`  // the evaluation that opened it
	Latest DropResult `json:"latest"` // the most recent evaluation with enough data
}

// AlertEvent is a change of an office's alert state: an alert opened or resolved.
type AlertEvent struct {
	Kind     AlertKind  `json:"kind"`
	Opened   bool       `json:"opened"` // false: resolved
	At       time.Time  `json:"at"`
	Result   DropResult `json:"result"`
	OpenedAt time.Time  `json:"opened_at"` // for a resolution, when the alert opened
}

// AlertTrack is one office's drop and rise alert state, kept between daily evaluations (the
// watcher stores it). An alert fires once, stays open — no re-firing — while the office stays
// off its baseline, and resolves when |z| is back under ResolveZ. Evaluations without enough
// data change nothing: a closed office neither resolves nor re-opens an alert.
type AlertTrack struct {
	Drop *OpenAlert `json:"drop,omitempty"`
	Rise *OpenAlert `json:"rise,omitempty"`
}

// Step feeds one evaluation, made at at, into the track and returns the events it causes.
func (tr *AlertTrack) Step(r DropResult, at time.Time, opts DropOptions) []AlertEvent {
	if r.Status == DropInsufficient {
		return nil
	}
	o := opts.withDefaults()
	var evs []AlertEvent
	step := func(slot **OpenAlert, kind AlertKind, fired, resolved bool) {
		switch {
		case *slot == nil && fired:
			*slot = &OpenAlert{Kind: kind, Since: at, First: r, Latest: r}
			evs = append(evs, AlertEvent{Kind: kind, Opened: true, At: at, Result: r, OpenedAt: at})
		case *slot != nil && resolved:
			evs = append(evs, AlertEvent{Kind: kind, At: at, Result: r, OpenedAt: (*slot).Since})
			*slot = nil
		case *slot != nil:
			(*slot).Latest = r
		}
	}
	step(&tr.Drop, AlertDrop, r.Status == DropFound, r.Z > -o.ResolveZ)
	step(&tr.Rise, AlertRise, r.Status == RiseFound, r.Z < o.ResolveZ)
	return evs
}

// BenjaminiHochberg returns which of the p-values are discoveries at false discovery rate q
// (Benjamini & Hochberg 1995): sort them, find the largest i with p₍ᵢ₎ ≤ i·q/m, and flag the i
// smallest. It is the alternative to the fixed threshold when the province wants the alerts of
// one day, across all its offices, to contain at most a share q of false ones on average: pass
// each sufficient office's PLow (for drops) of that day. NaN p-values are never flagged but
// count in m.
func BenjaminiHochberg(p []float64, q float64) []bool {
	m := len(p)
	out := make([]bool, m)
	idx := make([]int, 0, m)
	for i, v := range p {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	last := -1
	for rank, i := range idx {
		if p[i] <= float64(rank+1)*q/float64(m) {
			last = rank
		}
	}
	for rank := 0; rank <= last; rank++ {
		out[idx[rank]] = true
	}
	return out
}

// SimpleStatus is the outcome of a simple alert rule.
type SimpleStatus string

// The outcomes of a simple alert rule.
const (
	SimpleInsufficient SimpleStatus = "insufficient" // fewer citizens than the minimum
	SimpleOK           SimpleStatus = "ok"
	SimpleFired        SimpleStatus = "fired"
)

// SimpleResult is one evaluation of a simple rule over a window.
type SimpleResult struct {
	Kind   AlertKind    `json:"kind,omitempty"` // set when fired
	Status SimpleStatus `json:"status"`
	Value  float64      `json:"value"` // the share or the mean
	N      int64        `json:"n"`
}

// ShareUnhappy is HappyOrNot's rule: it fires when at least the share threshold (0.5 = 50%) of
// the n citizens of a window were unhappy (e.g. rated 1 or 2), provided n ≥ minN (HappyOrNot
// uses 15 minutes and 4 answers; a day and 10 suits SMS). It has no notion of chance beyond
// minN: use it for "something is wrong right now", and the drop test for trends.
func ShareUnhappy(unhappy, n, minN int64, threshold float64) SimpleResult {
	r := SimpleResult{Status: SimpleInsufficient, N: n}
	if n <= 0 || unhappy < 0 || unhappy > n {
		return r
	}
	r.Value = float64(unhappy) / float64(n)
	if n < max(minN, 1) {
		return r
	}
	r.Status = SimpleOK
	if r.Value >= threshold {
		r.Status, r.Kind = SimpleFired, AlertShareUnhappy
	}
	return r
}

// ScoreOutside fires when the mean of n citizens is below low (AlertScoreBelow) or above high
// (AlertScoreAbove, a positive alert), provided n ≥ minN. A NaN level disables that side.
func ScoreOutside(mean float64, n int64, low, high float64, minN int64) SimpleResult {
	r := SimpleResult{Status: SimpleInsufficient, Value: mean, N: n}
	if n < max(minN, 1) || math.IsNaN(mean) {
		return r
	}
	r.Status = SimpleOK
	switch {
	case mean < low:
		r.Status, r.Kind = SimpleFired, AlertScoreBelow
	case mean > high:
		r.Status, r.Kind = SimpleFired, AlertScoreAbove
	}
	return r
}
