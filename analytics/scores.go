package analytics

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// AgencyReader is what scores need from the catalog: the agency itself, the questions of its
// active survey version (for titles, order and choice labels), and its offices (a score
// restricted to one office must name one of them).
type AgencyReader interface {
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
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
// Choices, documented once here (docs/statistics.md has the definitions, the interval methods and
// the simulation that checks them):
//   - The unit of the headline figures is the citizen (one response), not the answer: one
//     citizen's ratings of the same visit are strongly correlated, so pooling answers counts one
//     opinion several times and makes intervals too narrow. Each response with headline answers
//     contributes one value, the mean of its headline rating5 answers (Question.CountsInHeadline:
//     by default the unconditional rating5 questions; a follow-up shown only to unhappy citizens
//     does not count). Citizens is their number, the n of Mean, CSAT and Index.
//   - Mean, CILow and CIHigh: the mean of those per-citizen means, with BoundedMeanCI on 1–5.
//   - CSAT: the share of citizens whose headline mean is 4 or more, with Proportion.
//   - Index is the mean mapped onto 0–100 for the national evaluation, with its interval and n.
//   - NPS: per citizen, the mean of its headline nps answers (normally one) classed as promoter
//     (≥ 9), detractor (< 7) or passive; NPSCI. It is null when no citizen answered one.
//   - Responses counts responses; Ratings counts every rating5 answer of the period (headline or
//     not, for context: it is the n of nothing).
//   - ByQuestion is per answer, as before — one answer per citizen per question, so answers are
//     independent there — with the same never-zero-width interval methods.
//   - Flagged responses (survey.Response.Flag: a kiosk's stuffing filter caught them) are in
//     none of the figures above, Responses included; Flagged counts them apart, by flag.
//   - OfficeID, when set, restricts every figure, Flagged included, to that office.
//
// Values that are undefined — no data — are nil and encode as JSON null, never NaN.
type Score struct {
	AgencyID   survey.ID `json:"agency_id"`
	AgencyName string    `json:"agency_name"`
	// OfficeID is the office the score is restricted to; absent for the whole agency.
	OfficeID survey.ID `json:"office_id,omitempty"`
	// From is the first day (ISO Gregorian), nil when the period is unbounded at the start.
	From *string `json:"from"`
	// To is the last day (ISO Gregorian), inclusive.
	To         string  `json:"to"`
	FromJalali *string `json:"from_jalali"`
	ToJalali   string  `json:"to_jalali"`
	Responses  int64   `json:"responses"`
	// Citizens counts the responses with at least one headline rating: the n of Mean, CSAT and
	// Index.
	Citizens int64 `json:"citizens"`
	// Ratings counts every rating5 answer of the period.
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
	// Flagged counts the period's flagged responses, which no other figure includes.
	Flagged Flagged `json:"flagged"`
}

// Flagged counts responses that were stored but left out of the scores, in total and per flag
// (survey.Flags). Every key is always present, 0 when none, so a dashboard can show "0 set
// aside" without guessing. Total also counts flags this version does not know by name.
type Flagged struct {
	Total      int64 `json:"total"`
	Interval   int64 `json:"interval"`
	Burst      int64 `json:"burst"`
	AfterHours int64 `json:"after_hours"`
}

// add counts n responses flagged f.
func (fl *Flagged) add(f survey.Flag, n int64) {
	fl.Total += n
	switch f {
	case survey.FlagInterval:
		fl.Interval += n
	case survey.FlagBurst:
		fl.Burst += n
	case survey.FlagAfterHours:
		fl.AfterHours += n
	}
}

// ScoreQuery is what a score is asked for, as the client wrote it (the API passes its query
// parameters through, so every check and its error live here): From and To are Tehran days as
// ParseDay reads them, From empty for since the beginning and To empty for today; Office is an
// office id (ASCII or Persian digits), empty for the whole agency.
type ScoreQuery struct {
	From   string
	To     string
	Office string
}

// QuestionScore is one question over the period, all channels together. Every field is always
// present; those that do not apply to the question's type are null:
// Mean and its interval for rating5 and nps; CSAT for rating5; YesShare for yesno; NPS for nps.
// Headline says whether the question counts toward the headline figures in the active survey
// version (null for a question that is not in it). Histogram counts answers per value —
// "1"…"5", "0"…"10", "0"/"1" — or per option id for choice questions (an answer with several
// options counts once per option), and is null for text.
type QuestionScore struct {
	QuestionID string              `json:"question_id"`
	Title      string              `json:"title"`
	Type       survey.QuestionType `json:"type"`
	Headline   *bool               `json:"headline"`
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

// ChannelScore is the headline score of the responses that came through one channel, with the
// same per-citizen definitions as Score.
type ChannelScore struct {
	Channel   survey.Channel `json:"channel"`
	Responses int64          `json:"responses"`
	Citizens  int64          `json:"citizens"`
	Ratings   int64          `json:"ratings"`
	Mean      *float64       `json:"mean"`
	CILow     *float64       `json:"ci_low"`
	CIHigh    *float64       `json:"ci_high"`
	CSAT      *float64       `json:"csat"`
	CSATLow   *float64       `json:"csat_ci_low"`
	CSATHigh  *float64       `json:"csat_ci_high"`
}

// Score returns agency agencyID's score over q's period (inclusive Tehran days), for the whole
// agency or the one office q names.
//
// Tenancy is checked first and answers "not found" — the same as for an agency that does not
// exist — so a caller cannot probe which agencies exist outside its reach. An office that is
// not one of the agency's (another agency's, unknown, or not an id at all) is "not found" too,
// on the office_id field, with one answer for all three, so offices do not leak either.
func (s *Scores) Score(ctx context.Context, p survey.Principal, agencyID survey.ID, q ScoreQuery) (Score, error) {
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
	from, to := q.From, q.To

	var fromDay, toDay time.Time
	if from != "" {
		if fromDay, err = ParseDayParam(from, "from"); err != nil {
			return Score{}, err
		}
		iso, jal := fromDay.Format(survey.DayFormat), FormatJalali(fromDay)
		out.From, out.FromJalali, f.FromDay = &iso, &jal, iso
	}
	if to != "" {
		if toDay, err = ParseDayParam(to, "to"); err != nil {
			return Score{}, err
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
	if q.Office != "" {
		if f.OfficeID, err = s.office(ctx, agencyID, q.Office); err != nil {
			return Score{}, err
		}
		out.OfficeID = f.OfficeID
	}

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

// office returns the office id written as raw if it is one of the agency's offices, and
// errOfficeNotFound otherwise.
func (s *Scores) office(ctx context.Context, agencyID survey.ID, raw string) (survey.ID, error) {
	n, err := strconv.ParseInt(survey.NormalizeDigits(strings.TrimSpace(raw)), 10, 64)
	if err != nil || n <= 0 {
		return 0, errOfficeNotFound()
	}
	offices, err := s.agencies.Offices(ctx, agencyID)
	if err != nil {
		return 0, err
	}
	for _, o := range offices {
		if o.ID == survey.ID(n) {
			return o.ID, nil
		}
	}
	return 0, errOfficeNotFound()
}

// errOfficeNotFound is the one answer for an office_id that is not an office of the agency.
func errOfficeNotFound() error {
	const en, fa = "office not found in this agency", "این دفتر در این دستگاه پیدا نشد."
	return &survey.Error{Code: survey.ECodeNotFound, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{"office_id": {Code: string(survey.ECodeNotFound), Message: en, MessageFA: fa}}}
}

func (s *Scores) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// moments accumulates n, Σx and Σx².
type moments struct{ n, sum, sumSq int64 }

func (m *moments) add(t survey.RollupTotal) { m.n += t.N; m.sum += t.Sum; m.sumSq += t.SumSq }

// meanCI is BoundedMeanCI of the answers summarised by m, on [lo, hi].
func (m moments) meanCI(lo, hi float64) Estimate {
	return BoundedMeanCI(m.n, float64(m.sum), float64(m.sumSq), lo, hi)
}

// citizenMeanCI is BoundedMeanCI of per-citizen values summarised by m, which are stored
// × survey.CitizenScale.
func (m moments) citizenMeanCI(lo, hi float64) Estimate {
	const s = survey.CitizenScale
	return BoundedMeanCI(m.n, float64(m.sum)/s, float64(m.sumSq)/(s*s), lo, hi)
}

// Thresholds on the per-citizen histogram buckets (the whole part of a citizen's mean): a
// citizen is satisfied when the mean of its headline ratings is 4 or more; an NPS promoter when
// the mean of its headline nps answers is 9 or more, a detractor when it is below 7 — for one
// answer, the usual 9–10 and 0–6.
const (
	satisfiedFrom = 4
	promoterFrom  = 9
	passiveFrom   = 7
)

// npsClasses counts promoters, passives and detractors.
type npsClasses struct{ promoters, passives, detractors int64 }

func (c *npsClasses) add(v, atLeast9, atLeast7, n int64) {
	switch {
	case v >= atLeast9:
		c.promoters += n
	case v >= atLeast7:
		c.passives += n
	default:
		c.detractors += n
	}
}

// headline is the per-citizen figures of one set of responses (all, or one channel).
type headline struct {
	citizens  moments // survey.HeadlineQuestion: N citizens, Σ and Σ² of their scaled means
	satisfied int64
	ratings   int64 // every rating5 answer, for context
	responses int64
}

// estimates returns the mean (1–5) and CSAT of h.
func (h *headline) estimates() (mean, csat Estimate) {
	return h.citizens.citizenMeanCI(1, 5), Proportion(h.satisfied, h.citizens.n)
}

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

	var all headline
	channels := map[survey.Channel]*headline{}
	getCh := func(c survey.Channel) *headline {
		ch := channels[c]
		if ch == nil {
			ch = &headline{}
			channels[c] = ch
		}
		return ch
	}

	var npsCitizens npsClasses
	npsAnswered := false
	for _, t := range totals {
		if flag, ok := survey.FlagOfQuestion(t.QuestionID); ok {
			out.Flagged.add(flag, t.N)
			continue
		}
		switch {
		case t.QuestionID == survey.ResponseQuestion:
			all.responses += t.N
			getCh(t.Channel).responses += t.N
			continue
		case t.QuestionID == survey.HeadlineQuestion:
			all.citizens.add(t)
			getCh(t.Channel).citizens.add(t)
			continue
		case strings.HasPrefix(t.QuestionID, survey.ReservedPrefix):
			continue // @nps comes from the histogram; flags are counted above; other pseudo-questions are not questions
		}
		q := get(t.QuestionID)
		if q.typ == "" {
			q.typ = t.Type // a question of an older version; ids keep their type across versions
		}
		q.m.add(t)
		if t.Type == survey.TypeRating5 {
			all.ratings += t.N
			getCh(t.Channel).ratings += t.N
		}
	}

	for _, h := range hist {
		switch {
		case h.QuestionID == survey.ResponseQuestion:
			continue
		case h.QuestionID == survey.HeadlineQuestion:
			if v, err := strconv.ParseInt(h.Value, 10, 64); err == nil && v >= satisfiedFrom {
				all.satisfied += h.N
				getCh(h.Channel).satisfied += h.N
			}
			continue
		case h.QuestionID == survey.HeadlineNPSQuestion:
			if v, err := strconv.ParseInt(h.Value, 10, 64); err == nil {
				npsCitizens.add(v, promoterFrom, passiveFrom, h.N)
				npsAnswered = true
			}
			continue
		case strings.HasPrefix(h.QuestionID, survey.ReservedPrefix):
			continue
		}
		get(h.QuestionID).hist[h.Value] += h.N
	}

	mean, csat := all.estimates()
	out.Responses, out.Citizens, out.Ratings = all.responses, all.citizens.n, all.ratings
	out.Mean, out.CILow, out.CIHigh = mean.Value, mean.Low, mean.High
	out.CSAT, out.CSATLow, out.CSATHigh = csat.Value, csat.Low, csat.High
	out.Index = NationalIndex(mean)
	if npsAnswered {
		n := NPSCI(npsCitizens.promoters, npsCitizens.passives, npsCitizens.detractors)
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
			h := vq.CountsInHeadline()
			qs.Headline = &h
		}
		switch q.typ {
		case survey.TypeRating5:
			e := q.m.meanCI(1, 5)
			qs.Mean, qs.CILow, qs.CIHigh = e.Value, e.Low, e.High
			c := Proportion(q.hist["4"]+q.hist["5"], q.m.n)
			qs.CSAT, qs.CSATLow, qs.CSATHigh = c.Value, c.Low, c.High
			qs.Histogram = valueHistogram(q.hist, 1, 5)
		case survey.TypeNPS:
			e := q.m.meanCI(0, 10)
			qs.Mean, qs.CILow, qs.CIHigh = e.Value, e.Low, e.High
			var c npsClasses
			for v := 0; v <= 10; v++ {
				c.add(int64(v), 9, 7, q.hist[strconv.Itoa(v)])
			}
			if c.promoters+c.passives+c.detractors > 0 {
				n := NPSCI(c.promoters, c.passives, c.detractors)
				qs.NPS = &n
			}
			qs.Histogram = valueHistogram(q.hist, 0, 10)
		case survey.TypeYesNo:
			y := Proportion(q.m.sum, q.m.n)
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
		e, w := ch.estimates()
		out.ByChannel = append(out.ByChannel, ChannelScore{
			Channel: c, Responses: ch.responses, Citizens: ch.citizens.n, Ratings: ch.ratings,
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
