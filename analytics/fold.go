// Package analytics turns buffered responses into rollups and rollups into what people read:
// agency scores with honest intervals, and later the PR ranking and alerts. Folding is done by a
// consumer-group worker (Aggregator) so that any number of workers give exactly the totals of one.
package analytics

import (
	"strconv"

	"github.com/afkar-gov/afkar/survey"
)

// Delta computes what responses add to the rollups: one response-count cell per response, one
// cell per answer, one histogram cell per answer value, and — for a response with headline
// answers — one per-citizen cell and histogram cell in survey.HeadlineQuestion and
// survey.HeadlineNPSQuestion (see citizenValues), and its headline value once more to the
// hourly cell of its Tehran day and hour (survey.HourCell, read by alerts and the heatmap). A
// flagged response adds only n = 1 to its survey.FlaggedQuestion row and nothing else. It is the only fold function: the aggregator
// and `afkar reaggregate` both use it, which is why a rebuild reproduces the live rollups
// exactly. The result is sorted by key so concurrent upserts never deadlock.
func Delta(rs []survey.Response) survey.RollupDelta {
	var sum survey.RollupSum
	add := func(k survey.RollupKey, t survey.QuestionType, v int64, counted bool) {
		c := survey.Rollup{RollupKey: k, Type: t, N: 1}
		if counted {
			c.Sum, c.SumSq = v, v*v
		}
		sum.AddRollup(c)
	}
	count := func(k survey.RollupKey, value string) {
		sum.AddCell(survey.HistogramCell{RollupKey: k, Value: value, N: 1})
	}
	for i := range rs {
		r := &rs[i]
		base := survey.RollupKey{
			AgencyID: r.AgencyID, OfficeID: r.OfficeID, SurveyID: r.SurveyID,
			SurveyVersion: r.SurveyVersion, Channel: r.Channel,
			Day: r.Day().Format(survey.DayFormat),
		}
		if r.Flag != "" {
			k := base
			k.QuestionID = survey.FlaggedQuestion(r.Flag)
			add(k, survey.TypeFlag, 0, false)
			continue // stored for audit, kept out of every score (see survey.FlaggedPrefix)
		}
		add(base, survey.ResponseQuestion, 0, false)
		for _, a := range r.Answers {
			k := base
			k.QuestionID = a.QuestionID
			switch {
			case a.Number != nil:
				add(k, a.Type, int64(*a.Number), true)
				count(k, strconv.Itoa(*a.Number))
			case len(a.Choices) > 0:
				add(k, a.Type, 0, false)
				for _, c := range a.Choices {
					count(k, c)
				}
			default:
				add(k, a.Type, 0, false)
			}
		}
		head, nps := citizenValues(r)
		if head.ok {
			sum.AddHour(survey.HourCell{
				HourKey: survey.HourKey{AgencyID: r.AgencyID, OfficeID: r.OfficeID, Day: base.Day, Hour: r.Hour()},
				N:       1, Sum: head.scaled, SumSq: head.scaled * head.scaled,
			})
		}
		for _, c := range [...]struct {
			id string
			v  citizenValue
		}{{survey.HeadlineQuestion, head}, {survey.HeadlineNPSQuestion, nps}} {
			if !c.v.ok {
				continue
			}
			k := base
			k.QuestionID = c.id
			add(k, survey.TypeCitizenMean, c.v.scaled, true)
			count(k, strconv.FormatInt(c.v.bucket(), 10))
		}
	}
	return sum.Delta()
}

// citizenValue is one citizen's value in a per-citizen rollup: the mean of its answers ×
// survey.CitizenScale, when it gave any.
type citizenValue struct {
	scaled int64
	ok     bool
}

// bucket is the histogram value of a per-citizen mean: its whole part ("4" for 4.33). Every
// threshold the scores read is a whole number (satisfied ≥ 4; promoter ≥ 9, passive ≥ 7), so
// the buckets classify every citizen exactly, and they keep a per-citizen rollup to five or
// eleven histogram cells per key instead of one per distinct mean (fewer cells per fold).
func (v citizenValue) bucket() int64 { return v.scaled / survey.CitizenScale }

// citizenValues returns a response's headline values: the mean of its rating5 answers marked
// Headline, and the mean of its nps answers marked Headline (see survey.CitizenValue). Answers
// not marked — conditional follow-ups, or questions a survey excludes — never reach the
// headline.
func citizenValues(r *survey.Response) (head, nps citizenValue) {
	var hs, hk, ns, nk int
	for _, a := range r.Answers {
		if !a.Headline || a.Number == nil {
			continue
		}
		switch a.Type {
		case survey.TypeRating5:
			hs, hk = hs+*a.Number, hk+1
		case survey.TypeNPS:
			ns, nk = ns+*a.Number, nk+1
		}
	}
	if hk > 0 {
		head = citizenValue{survey.CitizenValue(hs, hk), true}
	}
	if nk > 0 {
		nps = citizenValue{survey.CitizenValue(ns, nk), true}
	}
	return head, nps
}
