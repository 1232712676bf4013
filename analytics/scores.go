package analytics

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// AgencyReader is what scores need from the catalog: the agency itself and the questions of its
// active survey version (for titles, order and choice labels).
type AgencyReader interface {
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error)
}

// RollupReader is what scores need from the rollups: totals per question and channel, and
// histogram totals per question, channel and value, over a period.
type RollupReader interface {
	RollupTotals(ctx context.Context, f survey.RollupFilter) ([]survey.RollupTotal, error)
	HistogramTotals(ctx context.Context, f survey.RollupFilter) ([]survey.HistogramTotal, error)
}

// Scores computes agency scores from rollups only; it never reads raw responses, so a score
// costs the same for ten responses or ten million.
type Scores struct {
	agencies AgencyReader
	rollups  RollupReader
	// Clock decides "today" when a period has no end; nil means the wall clock.
	Clock survey.Clock
}

// NewScores returns a Scores reading from the given catalog and rollups.
func NewScores(agencies AgencyReader, rollups RollupReader) *Scores {
	return &Scores{agencies: agencies, rollups: rollups}
}

// Score is an agency's citizen-satisfaction score over a period of Tehran days.
//
// Choices, documented once here:
//   - Mean, CILow and CIHigh pool every rating5 answer of the period (all rating5 questions, all
//     channels), because the national practice is a handful of 5-point questions read together;
//     the interval is a t-interval and is clipped to the 1–5 scale.
//   - CSAT is the share of those rating5 answers that are 4 or 5, with a Wilson interval.
//   - Index is the mean mapped onto 0–100 for the national evaluation, with its interval and n.
//   - NPS pools the answers to every nps question; it is null when none was answered.
//   - Responses counts responses (not answers) from the response-count rollups.
//
// Values that are undefined — no data, or too little for an interval — are nil and encode as
// JSON null, never NaN.
type Score struct {
	AgencyID   survey.ID `json:"agency_id"`
	AgencyName string    `json:"agency_name"`
	// From is the first day (ISO Gregorian), nil when the period is unbounded at the start.
	From *string `json:"from"`
	// To is the last day (ISO Gregorian), inclusive.
	To         string  `json:"to"`
	FromJalali *string `json:"from_jalali"`
	ToJalali   string  `json:"to_jalali"`
	Responses  int64   `json:"responses"`
	// Ratings counts the rating5 answers behind Mean and CSAT.
	Ratings    int64           `json:"ratings"`
	Mean       *float64        `json:"mean"`
	CILow      *float64        `json:"ci_low"`
	CIHigh     *float64        `json:"ci_high"`
	CSAT       *float64        `json:"csat"`
	CSATLow    *float64        `json:"csat_ci_low"`
	CSATHigh   *float64        `json:"csat_ci_high"`
	Index      Estimate        `json:"index"`
	NPS        *NPS            `json:"nps"`
	ByQuestion []QuestionScore `json:"by_question"`
	ByChannel  []ChannelScore  `json:"by_channel"`
}

// QuestionScore is one question over the period, all channels together. Every field is always
// present; those that do not apply to the question's type are null:
// Mean and its interval for rating5 and nps; CSAT for rating5; YesShare for yesno; NPS for nps.
// Histogram counts answers per value — "1"…"5", "0"…"10", "0"/"1" — or per option id for
// choice questions (an answer with several options counts once per option), and is null for
// text.
type QuestionScore struct {
	QuestionID string              `json:"question_id"`
	Title      string              `json:"title"`
	Type       survey.QuestionType `json:"type"`
	N          int64               `json:"n"`
	Mean       *float64            `json:"mean"`
	CILow      *float64            `json:"ci_low"`
	CIHigh     *float64            `json:"ci_high"`
	CSAT       *float64            `json:"csat"`
	CSATLow    *float64            `json:"csat_ci_low"`
	CSATHigh   *float64            `json:"csat_ci_high"`
	YesShare   *float64            `json:"yes_share"`
	YesLow     *float64            `json:"yes_ci_low"`
	YesHigh    *float64            `json:"yes_ci_high"`
	NPS        *NPS                `json:"nps"`
	Histogram  map[string]int64    `json:"histogram"`
}

// ChannelScore is the pooled rating5 score of the responses that came through one channel.
type ChannelScore struct {
	Channel   survey.Channel `json:"channel"`
	Responses int64          `json:"responses"`
	Ratings   int64          `json:"ratings"`
	Mean      *float64       `json:"mean"`
	CILow     *float64       `json:"ci_low"`
	CIHigh    *float64       `json:"ci_high"`
	CSAT      *float64       `json:"csat"`
	CSATLow   *float64       `json:"csat_ci_low"`
	CSATHigh  *float64       `json:"csat_ci_high"`
}

// Score returns agency agencyID's score between from and to, inclusive Tehran days written as
// ParseDay reads them. An empty from means since the beginning, an empty to means today.
//
// Tenancy is checked first and answers "not found" — the same as for an agency that does not
// exist — so a caller cannot probe which agencies exist outside its reach.
func (s *Scores) Score(ctx context.Context, p survey.Principal, agencyID survey.ID, from, to string) (Score, error) {
	if !p.CanReadAgency(agencyID) {
		return Score{}, survey.ErrForbiddenAgency()
	}
	agency, err := s.agencies.Agency(ctx, agencyID)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return Score{}, survey.ErrForbiddenAgency()
		}
		return Score{}, err
	}
	out := Score{AgencyID: agency.ID, AgencyName: agency.Name, ByQuestion: []QuestionScore{}, ByChannel: []ChannelScore{}}
	f := survey.RollupFilter{AgencyID: agencyID}

	var fromDay, toDay time.Time
	if from != "" {
		if fromDay, err = ParseDay(from); err != nil {
			return Score{}, fieldError(err, "from")
		}
		iso, jal := fromDay.Format(survey.DayFormat), FormatJalali(fromDay)
		out.From, out.FromJalali, f.FromDay = &iso, &jal, iso
	}
	if to != "" {
		if toDay, err = ParseDay(to); err != nil {
			return Score{}, fieldError(err, "to")
		}
	} else {
		toDay = survey.TehranDay(s.now())
	}
	if from != "" && fromDay.After(toDay) {
		return Score{}, &survey.Error{Code: survey.ECodeInvalid,
			Message: "from is after to", MessageFA: "تاریخ آغاز پس از تاریخ پایان است.",
			Fields: map[string]survey.FieldError{"from": {Code: "after_to",
				Message: "from must not be after to", MessageFA: "تاریخ آغاز نباید پس از تاریخ پایان باشد."}}}
	}
	out.To, out.ToJalali = toDay.Format(survey.DayFormat), FormatJalali(toDay)
	f.ToDay = out.To

	var version survey.Version
	if v, err := s.agencies.ActiveVersion(ctx, agencyID); err == nil {
		version = v
	} else if survey.ErrorCode(err) != survey.ECodeNotFound {
		return Score{}, err
	}
	totals, err := s.rollups.RollupTotals(ctx, f)
	if err != nil {
		return Score{}, err
	}
	hist, err := s.rollups.HistogramTotals(ctx, f)
	if err != nil {
		return Score{}, err
	}
	computeScore(&out, &version, totals, hist)
	return out, nil
}

func (s *Scores) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// fieldError attaches the offending query parameter to a ParseDay error.
func fieldError(err error, field string) error {
	e, ok := err.(*survey.Error)
	if !ok {
		return err
	}
	c := *e
	c.Fields = map[string]survey.FieldError{field: {Code: "invalid_date", Message: e.Message, MessageFA: e.MessageFA}}
	return &c
}

// moments accumulates n, Σx and Σx².
type moments struct{ n, sum, sumSq int64 }

func (m *moments) add(t survey.RollupTotal) { m.n += t.N; m.sum += t.Sum; m.sumSq += t.SumSq }

// computeScore fills out from the period's rollup and histogram totals; it is pure so that the
// statistics can be tested without a store.
func computeScore(out *Score, version *survey.Version, totals []survey.RollupTotal, hist []survey.HistogramTotal) {
	type question struct {
		id    string
		typ   survey.QuestionType
		m     moments
		hist  map[string]int64
		order int
	}
	questions := map[string]*question{}
	get := func(id string) *question {
		q := questions[id]
		if q == nil {
			q = &question{id: id, hist: map[string]int64{}, order: -1}
			questions[id] = q
		}
		return q
	}
	for i, vq := range version.Questions {
		q := get(vq.ID)
		q.typ, q.order = vq.Type, i
	}

	type channel struct {
		responses int64
		rating    moments
		satisfied int64
	}
	channels := map[survey.Channel]*channel{}
	getCh := func(c survey.Channel) *channel {
		ch := channels[c]
		if ch == nil {
			ch = &channel{}
			channels[c] = ch
		}
		return ch
	}

	var overall moments
	for _, t := range totals {
		if t.QuestionID == survey.ResponseQuestion {
			out.Responses += t.N
			getCh(t.Channel).responses += t.N
			continue
		}
		q := get(t.QuestionID)
		if q.typ == "" {
			q.typ = t.Type // a question of an older version; ids keep their type across versions
		}
		q.m.add(t)
		if t.Type == survey.TypeRating5 {
			overall.add(t)
			getCh(t.Channel).rating.add(t)
		}
	}

	var satisfied, promoters, passives, detractors int64
	npsAnswered := false
	for _, h := range hist {
		if h.QuestionID == survey.ResponseQuestion {
			continue
		}
		q := get(h.QuestionID)
		q.hist[h.Value] += h.N
		v, numErr := strconv.Atoi(h.Value)
		switch q.typ {
		case survey.TypeRating5:
			if numErr == nil && v >= 4 {
				satisfied += h.N
				getCh(h.Channel).satisfied += h.N
			}
		case survey.TypeNPS:
			if numErr != nil {
				continue
			}
			npsAnswered = true
			switch {
			case v >= 9:
				promoters += h.N
			case v >= 7:
				passives += h.N
			default:
				detractors += h.N
			}
		}
	}

	mean := MeanCI(overall.n, overall.sum, overall.sumSq).clamp(1, 5)
	out.Ratings = overall.n
	out.Mean, out.CILow, out.CIHigh = mean.Value, mean.Low, mean.High
	csat := Wilson(satisfied, overall.n)
	out.CSAT, out.CSATLow, out.CSATHigh = csat.Value, csat.Low, csat.High
	out.Index = NationalIndex(mean)
	if npsAnswered {
		n := NPSCI(promoters, passives, detractors)
		out.NPS = &n
	}

	list := make([]*question, 0, len(questions))
	for _, q := range questions {
		list = append(list, q)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if (a.order >= 0) != (b.order >= 0) {
			return a.order >= 0 // questions of the active version first, in its order
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return a.id < b.id
	})
	for _, q := range list {
		qs := QuestionScore{QuestionID: q.id, Type: q.typ, N: q.m.n}
		if vq, _, ok := version.Question(q.id); ok {
			qs.Title = vq.Title
		}
		switch q.typ {
		case survey.TypeRating5:
			e := MeanCI(q.m.n, q.m.sum, q.m.sumSq).clamp(1, 5)
			qs.Mean, qs.CILow, qs.CIHigh = e.Value, e.Low, e.High
			c := Wilson(q.hist["4"]+q.hist["5"], q.m.n)
			qs.CSAT, qs.CSATLow, qs.CSATHigh = c.Value, c.Low, c.High
			qs.Histogram = valueHistogram(q.hist, 1, 5)
		case survey.TypeNPS:
			e := MeanCI(q.m.n, q.m.sum, q.m.sumSq).clamp(0, 10)
			qs.Mean, qs.CILow, qs.CIHigh = e.Value, e.Low, e.High
			var pr, pa, de int64
			for v := 0; v <= 10; v++ {
				n := q.hist[strconv.Itoa(v)]
				switch {
				case v >= 9:
					pr += n
				case v >= 7:
					pa += n
				default:
					de += n
				}
			}
			if pr+pa+de > 0 {
				n := NPSCI(pr, pa, de)
				qs.NPS = &n
			}
			qs.Histogram = valueHistogram(q.hist, 0, 10)
		case survey.TypeYesNo:
			y := Wilson(q.m.sum, q.m.n)
			qs.YesShare, qs.YesLow, qs.YesHigh = y.Value, y.Low, y.High
			qs.Histogram = valueHistogram(q.hist, 0, 1)
		case survey.TypeChoice:
			h := map[string]int64{}
			if vq, _, ok := version.Question(q.id); ok {
				for _, o := range vq.Options {
					h[o.ID] = 0
				}
			}
			for k, n := range q.hist {
				h[k] += n
			}
			qs.Histogram = h
		}
		out.ByQuestion = append(out.ByQuestion, qs)
	}

	for _, c := range channelOrder(channels) {
		ch := channels[c]
		e := MeanCI(ch.rating.n, ch.rating.sum, ch.rating.sumSq).clamp(1, 5)
		w := Wilson(ch.satisfied, ch.rating.n)
		out.ByChannel = append(out.ByChannel, ChannelScore{
			Channel: c, Responses: ch.responses, Ratings: ch.rating.n,
			Mean: e.Value, CILow: e.Low, CIHigh: e.High,
			CSAT: w.Value, CSATLow: w.Low, CSATHigh: w.High,
		})
	}
}

// valueHistogram returns counts for every value lo…hi, zeros included, so charts have fixed axes.
func valueHistogram(h map[string]int64, lo, hi int) map[string]int64 {
	out := make(map[string]int64, hi-lo+1)
	for v := lo; v <= hi; v++ {
		out[strconv.Itoa(v)] = 0
	}
	for k, n := range h {
		out[k] += n
	}
	return out
}

// channelOrder lists the channels present in display order (kiosk, web, sms), unknown ones last.
func channelOrder[T any](m map[survey.Channel]T) []survey.Channel {
	var out []survey.Channel
	known := map[survey.Channel]bool{}
	for _, c := range survey.Channels {
		known[c] = true
		if _, ok := m[c]; ok {
			out = append(out, c)
		}
	}
	var rest []survey.Channel
	for c := range m {
		if !known[c] {
			rest = append(rest, c)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	return append(out, rest...)
}
