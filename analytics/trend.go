package analytics

import (
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// DayTotals is one Tehran day's per-citizen headline figures, as the rollups hold them after
// unscaling: N citizens, the sum and sum of squares of their values on 1–5, and how many were
// satisfied (value ≥ 4). Several entries for one day (one per office or channel) are added up.
type DayTotals struct {
	Day       time.Time `json:"day"` // any instant of the Tehran day
	N         int64     `json:"n"`
	Sum       float64   `json:"sum"`
	SumSq     float64   `json:"sum_sq"`
	Satisfied int64     `json:"satisfied"`
}

// TrendPoint is one period of a trend chart: the per-citizen mean (1–5), CSAT and the 0–100
// national index, each with its 95% interval — the band drawn around the line — and n. A period
// without citizens has undefined estimates (N = 0), drawn as a gap, never as zero.
type TrendPoint struct {
	Period
	Mean  Estimate `json:"mean"`
	CSAT  Estimate `json:"csat"`
	Index Estimate `json:"index"`
}

// Trend cuts [from, to) into periods of granularity g (see Periods) and computes each period's
// estimates from the days that fall in it, with the same intervals as the score (BoundedMeanCI
// on 1–5, Proportion). Days outside [from, to) are ignored.
func Trend(days []DayTotals, from, to time.Time, g Granularity) []TrendPoint {
	periods := Periods(from, to, g)
	type acc struct {
		n, sat     int64
		sum, sumSq float64
	}
	accs := make([]acc, len(periods))
	index := make(map[string]int, len(periods))
	for i, p := range periods {
		index[p.Key] = i
	}
	for _, d := range days {
		if d.Day.Before(from) || !d.Day.Before(to) || d.N <= 0 {
			continue
		}
		i, ok := index[PeriodOf(survey.TehranDay(d.Day), g).Key]
		if !ok {
			continue
		}
		a := &accs[i]
		a.n += d.N
		a.sat += d.Satisfied
		a.sum += d.Sum
		a.sumSq += d.SumSq
	}
	out := make([]TrendPoint, len(periods))
	for i, p := range periods {
		a := accs[i]
		mean := BoundedMeanCI(a.n, a.sum, a.sumSq, 1, 5)
		out[i] = TrendPoint{Period: p, Mean: mean, CSAT: Proportion(a.sat, a.n), Index: NationalIndex(mean)}
	}
	return out
}
