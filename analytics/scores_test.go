package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
)

// The fakes below only feed Score's pure computation; the same flow runs against the real
// store in integration_test.go.

// spyStore is the shared in-memory store with a record of what Scores asked it: how many catalog
// reads (to prove tenancy is checked before any) and which rollup filters.
type spyStore struct {
	*inmem.Store
	reads   int
	filters []survey.RollupFilter
}

func (s *spyStore) Agency(ctx context.Context, id survey.ID) (survey.Agency, error) {
	s.reads++
	return s.Store.Agency(ctx, id)
}

func (s *spyStore) ActiveVersion(ctx context.Context, id survey.ID) (survey.Version, error) {
	s.reads++
	return s.Store.ActiveVersion(ctx, id)
}

func (s *spyStore) RollupTotals(ctx context.Context, f survey.RollupFilter) ([]survey.RollupTotal, error) {
	s.filters = append(s.filters, f)
	return s.Store.RollupTotals(ctx, f)
}

// newSpyStore holds the agencies and versions given and the responses folded with Delta.
func newSpyStore(t testing.TB, agencies []survey.Agency, versions []survey.Version, rs []survey.Response) *spyStore {
	t.Helper()
	st := &spyStore{Store: inmem.New()}
	for _, a := range agencies {
		st.PutAgency(a)
	}
	for _, v := range versions {
		st.PutVersion(v)
	}
	if _, err := st.Fold(context.Background(), rs, Delta); err != nil {
		t.Fatal(err)
	}
	return st
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// scoreVersion is agency 1's active survey.
func scoreVersion() survey.Version {
	return survey.Version{SurveyID: 5, AgencyID: 1, Version: 2, Questions: []survey.Question{
		{ID: "q1", Type: survey.TypeRating5, Title: "کیفیت کار"},
		{ID: "q2", Type: survey.TypeNPS, Title: "توصیه"},
		{ID: "q3", Type: survey.TypeYesNo, Title: "کارتان انجام شد؟"},
		{ID: "q4", Type: survey.TypeChoice, Title: "دلیل", Multiple: true,
			Options: []survey.Option{{ID: "a", Label: "الف"}, {ID: "b", Label: "ب"}, {ID: "c", Label: "ج"}, {ID: "d", Label: "د"}}},
		{ID: "q5", Type: survey.TypeText, Title: "نظر"},
	}}
}

// scoreResponses: 7 responses in 2025-11-12…15 plus one on each side of that period.
func scoreResponses() []survey.Response {
	mk := func(id string, ch survey.Channel, day, version int, answers ...survey.Answer) survey.Response {
		return survey.Response{ID: testID(id), AgencyID: 1, OfficeID: 10, SurveyID: 5, SurveyVersion: version, Channel: ch,
			SubmittedAt: time.Date(2025, 11, day, 11, 0, 0, 0, survey.Tehran), Answers: answers}
	}
	nps := func(n int) survey.Answer {
		return survey.Answer{QuestionID: "q2", Type: survey.TypeNPS, Number: num(n)}
	}
	yes := func(n int) survey.Answer {
		return survey.Answer{QuestionID: "q3", Type: survey.TypeYesNo, Number: num(n)}
	}
	choice := func(c ...string) survey.Answer {
		return survey.Answer{QuestionID: "q4", Type: survey.TypeChoice, Choices: c}
	}
	k, w, s := survey.ChannelKiosk, survey.ChannelWeb, survey.ChannelSMS
	return headlineFlags([]survey.Response{
		mk("r1", k, 15, 2, rating("q1", 5), nps(10), yes(1), choice("a", "b"), survey.Answer{QuestionID: "q5", Type: survey.TypeText, Text: "خوب بود"}),
		mk("r2", k, 15, 2, rating("q1", 4), nps(9), yes(1), choice("a")),
		mk("r3", k, 14, 2, rating("q1", 4), nps(7), yes(0)),
		mk("r4", k, 13, 2, rating("q1", 2), nps(3), yes(0), choice("c")),
		mk("r5", w, 15, 2, rating("q1", 3)),
		mk("r6", w, 12, 2, rating("q1", 5)),
		mk("r7", s, 15, 1, rating("legacy", 1)), // a question of the previous version
		mk("r8", k, 11, 2, rating("q1", 1)),     // before the period
		mk("r9", k, 16, 2, rating("q1", 1)),     // after it
	}, "q1", "q2", "legacy")
}

// testID turns a short fixture label ("r7") into the UUID every stored response needs.
func testID(label string) string {
	return fmt.Sprintf("00000000-0000-7000-8000-%012x", crc32.ChecksumIEEE([]byte(label)))
}

// headlineFlags marks the answers to the given questions as headline answers, as Validate does
// for the questions that count in the headline.
func headlineFlags(rs []survey.Response, ids ...string) []survey.Response {
	for i := range rs {
		for j := range rs[i].Answers {
			for _, id := range ids {
				if rs[i].Answers[j].QuestionID == id {
					rs[i].Answers[j].Headline = true
				}
			}
		}
	}
	return rs
}

func newTestScores(t testing.TB, rs []survey.Response) (*Scores, *spyStore, *spyStore) {
	t.Helper()
	st := newSpyStore(t, []survey.Agency{{ID: 1, ProvinceID: 1, Name: "اداره مالیات"}, {ID: 2, ProvinceID: 1, Name: "ثبت احوال"}},
		[]survey.Version{scoreVersion()}, rs)
	for _, o := range []survey.Office{{ID: 10, AgencyID: 1, Name: "مرکزی"}, {ID: 20, AgencyID: 1, Name: "شعبه"}, {ID: 30, AgencyID: 2, Name: "ثبت"}} {
		st.PutOffice(o)
	}
	s := NewScores(st, st)
	s.Clock = fixedClock(time.Date(2025, 11, 20, 1, 0, 0, 0, survey.Tehran))
	return s, st, st
}

var province = survey.Principal{Role: survey.RoleProvinceStaff}

func TestScoreComputation(t *testing.T) {
	s, _, ru := newTestScores(t, scoreResponses())
	// Jalali from (1404-08-21 = 2025-11-12) in Persian digits, Gregorian to.
	sc, err := s.Score(context.Background(), province, 1, ScoreQuery{From: "۱۴۰۴/۰۸/۲۱", To: "2025-11-15"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ru.filters[0]; got != (survey.RollupFilter{AgencyID: 1, FromDay: "2025-11-12", ToDay: "2025-11-15"}) {
		t.Errorf("filter = %+v", got)
	}
	if sc.AgencyID != 1 || sc.AgencyName != "اداره مالیات" || *sc.From != "2025-11-12" || sc.To != "2025-11-15" ||
		*sc.FromJalali != "1404-08-21" || sc.ToJalali != "1404-08-24" {
		t.Errorf("header = %+v", sc)
	}
	if sc.Responses != 7 || sc.Ratings != 7 || sc.Citizens != 7 {
		t.Errorf("responses, ratings, citizens = %d, %d, %d; want 7, 7, 7", sc.Responses, sc.Ratings, sc.Citizens)
	}
	// One headline rating per citizen: 5,4,4,2,3,5 (q1) and 1 (legacy) → n 7, Σ 24, Σ² 96.
	want := BoundedMeanCI(7, 24, 96, 1, 5)
	near(t, "mean", sc.Mean, 24.0/7, 1e-12)
	near(t, "ci_low", sc.CILow, *want.Low, 1e-12)
	near(t, "ci_high", sc.CIHigh, *want.High, 1e-12)
	wc := Proportion(4, 7)
	near(t, "csat", sc.CSAT, 4.0/7, 1e-12)
	near(t, "csat_ci_low", sc.CSATLow, *wc.Low, 1e-12)
	near(t, "csat_ci_high", sc.CSATHigh, *wc.High, 1e-12)
	near(t, "index", sc.Index.Value, (24.0/7-1)/4*100, 1e-9)
	near(t, "index low", sc.Index.Low, (*want.Low-1)/4*100, 1e-9)
	if sc.Index.N != 7 {
		t.Errorf("index n = %d", sc.Index.N)
	}
	if sc.NPS == nil {
		t.Fatal("nps = nil")
	}
	// 10, 9 promoters; 7 passive; 3 detractor → 50 − 25 = 25.
	near(t, "nps", sc.NPS.Score, 25, 1e-9)
	if sc.NPS.N != 4 || sc.NPS.Promoters != 2 || sc.NPS.Passives != 1 || sc.NPS.Detractors != 1 {
		t.Errorf("nps = %+v", *sc.NPS)
	}

	ids := []string{}
	for _, q := range sc.ByQuestion {
		ids = append(ids, q.QuestionID)
	}
	if strings.Join(ids, ",") != "q1,q2,q3,q4,q5,legacy" {
		t.Fatalf("by_question order = %v", ids)
	}
	q1, q2, q3, q4, q5, legacy := sc.ByQuestion[0], sc.ByQuestion[1], sc.ByQuestion[2], sc.ByQuestion[3], sc.ByQuestion[4], sc.ByQuestion[5]
	if q1.Title != "کیفیت کار" || q1.Type != survey.TypeRating5 || q1.N != 6 {
		t.Errorf("q1 = %+v", q1)
	}
	near(t, "q1 mean", q1.Mean, 23.0/6, 1e-12)
	near(t, "q1 csat", q1.CSAT, 4.0/6, 1e-12)
	near(t, "q1 csat low", q1.CSATLow, *Proportion(4, 6).Low, 1e-12)
	if q1.Headline == nil || !*q1.Headline || q3.Headline == nil || *q3.Headline || legacy.Headline != nil {
		t.Errorf("headline flags: q1 %v, q3 %v, legacy %v", q1.Headline, q3.Headline, legacy.Headline)
	}
	eqHist(t, "q1", q1.Histogram, map[string]int64{"1": 0, "2": 1, "3": 1, "4": 2, "5": 2})
	if q1.YesShare != nil || q1.NPS != nil {
		t.Errorf("q1 has fields of other types: %+v", q1)
	}

	near(t, "q2 mean", q2.Mean, 29.0/4, 1e-12)
	if q2.NPS == nil || *q2.NPS.Score != 25 || q2.CSAT != nil {
		t.Errorf("q2 = %+v", q2)
	}
	eqHist(t, "q2", q2.Histogram, map[string]int64{"0": 0, "1": 0, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0, "7": 1, "8": 0, "9": 1, "10": 1})

	if q3.N != 4 {
		t.Errorf("q3 n = %d", q3.N)
	}
	near(t, "q3 yes share", q3.YesShare, 0.5, 1e-12)
	near(t, "q3 yes low", q3.YesLow, *Proportion(2, 4).Low, 1e-12)
	if q3.Mean != nil {
		t.Errorf("q3 mean = %v, want null", *q3.Mean)
	}
	eqHist(t, "q3", q3.Histogram, map[string]int64{"0": 2, "1": 2})

	if q4.N != 3 || q4.Mean != nil {
		t.Errorf("q4 = %+v", q4)
	}
	eqHist(t, "q4", q4.Histogram, map[string]int64{"a": 2, "b": 1, "c": 1, "d": 0})

	if q5.N != 1 || q5.Histogram != nil || q5.Type != survey.TypeText {
		t.Errorf("q5 = %+v", q5)
	}
	// One answer: an interval nonetheless, the whole scale (t(1) = 12.7).
	if legacy.Title != "" || legacy.Type != survey.TypeRating5 || legacy.N != 1 || *legacy.Mean != 1 || *legacy.CILow != 1 || *legacy.CIHigh != 5 {
		t.Errorf("legacy = %+v", legacy)
	}

	chans := []string{}
	for _, c := range sc.ByChannel {
		chans = append(chans, string(c.Channel))
	}
	if strings.Join(chans, ",") != "kiosk,web,sms" {
		t.Fatalf("by_channel = %v", chans)
	}
	kiosk, web, sms := sc.ByChannel[0], sc.ByChannel[1], sc.ByChannel[2]
	if kiosk.Responses != 4 || kiosk.Ratings != 4 || kiosk.Citizens != 4 || web.Responses != 2 || web.Citizens != 2 ||
		sms.Responses != 1 || sms.Ratings != 1 || sms.Citizens != 1 {
		t.Errorf("channel counts: %+v %+v %+v", kiosk, web, sms)
	}
	kw := BoundedMeanCI(4, 15, 61, 1, 5)
	near(t, "kiosk mean", kiosk.Mean, 3.75, 1e-12)
	near(t, "kiosk ci_low", kiosk.CILow, *kw.Low, 1e-12)
	near(t, "kiosk csat", kiosk.CSAT, 0.75, 1e-12)
	near(t, "web mean", web.Mean, 4, 1e-12)
	near(t, "web ci_high", web.CIHigh, 5, 0) // t(1) interval clipped to the scale
	near(t, "sms csat", sms.CSAT, 0, 0)
	near(t, "sms csat_ci_low", sms.CSATLow, 0, 0)
	if sms.CILow == nil || sms.CIHigh == nil || *sms.CIHigh <= *sms.CILow {
		t.Error("sms: one citizen still has an interval")
	}

	if _, err := json.Marshal(sc); err != nil {
		t.Fatalf("marshal: %v", err)
	}
}

func eqHist(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s histogram = %v, want %v", name, got, want)
		return
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s histogram = %v, want %v", name, got, want)
			return
		}
	}
}

func TestScoreNoData(t *testing.T) {
	s, _, _ := newTestScores(t, nil)
	sc, err := s.Score(context.Background(), province, 1, ScoreQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.From != nil || sc.FromJalali != nil || sc.To != "2025-11-20" || sc.ToJalali != "1404-08-29" {
		t.Errorf("period = %v %v %s %s", sc.From, sc.FromJalali, sc.To, sc.ToJalali)
	}
	if sc.Responses != 0 || sc.Mean != nil || sc.CSAT != nil || sc.NPS != nil || sc.Index.Value != nil || len(sc.ByChannel) != 0 {
		t.Errorf("empty score = %+v", sc)
	}
	if len(sc.ByQuestion) != 5 || sc.ByQuestion[0].N != 0 || sc.ByQuestion[0].Histogram["5"] != 0 {
		t.Errorf("by_question = %+v", sc.ByQuestion)
	}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, frag := range []string{`"from":null`, `"mean":null`, `"nps":null`, `"ci_low":null`, `"by_channel":[]`,
		`"index":{"value":null,"ci_low":null,"ci_high":null,"n":0}`, `"responses":0`, `"to_jalali":"1404-08-29"`,
		`"flagged":{"total":0,"interval":0,"burst":0,"after_hours":0}`} {
		if !strings.Contains(js, frag) {
			t.Errorf("JSON lacks %s:\n%s", frag, js)
		}
	}

	// An agency without any published survey still scores (nothing), it is not an error.
	sc, err = s.Score(context.Background(), province, 2, ScoreQuery{})
	if err != nil || sc.AgencyName != "ثبت احوال" || len(sc.ByQuestion) != 0 {
		t.Errorf("agency without survey: %+v, %v", sc, err)
	}
}

func TestScoreTenancy(t *testing.T) {
	s, cat, _ := newTestScores(t, scoreResponses())
	ctx := context.Background()
	// An agency's staff reads its own agency only; integrations read no scores.
	for _, p := range []survey.Principal{
		{Role: survey.RoleAgencyStaff, AgencyID: 2},
		{Role: survey.RoleAgencyStaff},
		{Role: survey.RoleIntegration, AgencyID: 1},
		{},
	} {
		before := cat.reads
		_, err := s.Score(ctx, p, 1, ScoreQuery{})
		if survey.ErrorCode(err) != survey.ECodeNotFound {
			t.Errorf("%+v: err = %v, want not_found", p, err)
		}
		if cat.reads != before {
			t.Errorf("%+v: the catalog was read before the tenancy check", p)
		}
		// Same answer as for an agency that does not exist: existence does not leak.
		_, missing := s.Score(ctx, province, 99, ScoreQuery{})
		if err.Error() != missing.Error() {
			t.Errorf("forbidden %q differs from missing %q", err, missing)
		}
	}
	if _, err := s.Score(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 1}, 1, ScoreQuery{}); err != nil {
		t.Errorf("own agency: %v", err)
	}
	if _, err := s.Score(ctx, survey.Principal{Role: survey.RoleProvinceAdmin}, 2, ScoreQuery{}); err != nil {
		t.Errorf("province admin: %v", err)
	}
}

func TestScorePeriods(t *testing.T) {
	s, _, ru := newTestScores(t, scoreResponses())
	ctx := context.Background()
	cases := []struct {
		from, to  string
		responses int64
		field     string
	}{
		{"", "", 9, ""},
		{"2025-11-15", "2025-11-15", 4, ""}, // one day, inclusive
		{"1404-08-25", "", 1, ""},           // 2025-11-16 to today
		{"", "1404/08/20", 1, ""},           // up to 2025-11-11
		{"2025-11-16", "2025-11-15", 0, "from"},
		{"1404-13-01", "", 0, "from"},
		{"", "yesterday", 0, "to"},
		{"", "9999-12-31", 0, "to"}, // no Jalali date: once a panic in FormatJalali
		{"0001-01-01", "3000-01-01", 0, "to"},
	}
	for _, c := range cases {
		sc, err := s.Score(ctx, province, 1, ScoreQuery{From: c.from, To: c.to})
		if c.field != "" {
			var e *survey.Error
			if !errors.As(err, &e) || e.Code != survey.ECodeInvalid || e.Fields[c.field].Code == "" || e.MessageFA == "" {
				t.Errorf("%q–%q: err = %#v, want invalid on %s", c.from, c.to, err, c.field)
			} else if code := e.Fields[c.field].Code; code != "invalid_date" && code != "after_to" {
				t.Errorf("%q–%q: field code %q", c.from, c.to, code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q–%q: %v", c.from, c.to, err)
			continue
		}
		if sc.Responses != c.responses {
			t.Errorf("%q–%q: responses = %d, want %d (filter %+v)", c.from, c.to, sc.Responses, c.responses, ru.filters[len(ru.filters)-1])
		}
	}
}

// followUpVersion asks three headline ratings, then — only when overall is 2 or less — how bad
// the wait was (a rating) and why.
func followUpVersion(withFollowUp bool, followUpHeadline *bool) survey.Version {
	unhappy := &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}
	qs := []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Required: true},
		{ID: "respect", Type: survey.TypeRating5},
		{ID: "speed", Type: survey.TypeRating5},
	}
	if withFollowUp {
		qs = append(qs,
			survey.Question{ID: "wait", Type: survey.TypeRating5, ShowIf: unhappy, Headline: followUpHeadline},
			survey.Question{ID: "why", Type: survey.TypeChoice, ShowIf: unhappy, Options: []survey.Option{{ID: "queue", Label: "صف"}, {ID: "staff", Label: "کارکنان"}}})
	}
	return survey.Version{SurveyID: 5, AgencyID: 1, Version: 1, Questions: qs}
}

// scoreOf validates raw answers (question id → JSON value) against v, exactly as intake does,
// folds them with Delta and scores them.
func scoreOf(t *testing.T, v survey.Version, citizens []map[string]string) Score {
	t.Helper()
	now := time.Date(2025, 11, 15, 12, 0, 0, 0, survey.Tehran)
	var rs []survey.Response
	for i, answers := range citizens {
		sub := survey.Submission{ID: fmt.Sprintf("0193a1d2-7c4e-7b3a-9f00-%012d", i), AgencyID: 1, OfficeID: 10,
			SurveyID: 5, SurveyVersion: 1, Channel: survey.ChannelKiosk}
		for _, q := range v.Questions {
			if raw, ok := answers[q.ID]; ok {
				sub.Answers = append(sub.Answers, survey.SubmittedAnswer{QuestionID: q.ID, Value: json.RawMessage(raw)})
			}
		}
		r, err := v.Validate(&sub, now)
		if err != nil {
			t.Fatalf("citizen %d: %v", i, err)
		}
		rs = append(rs, r)
	}
	st := newSpyStore(t, []survey.Agency{{ID: 1, Name: "اداره"}}, []survey.Version{v}, rs)
	s := NewScores(st, st)
	s.Clock = fixedClock(now)
	sc, err := s.Score(context.Background(), province, 1, ScoreQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// The case: a rating shown only to unhappy citizens must not drag the headline. With the
// follow-up pooled, the mean would be 39/14 ≈ 2.79 over 14 "answers"; per citizen, from the
// three headline questions, it is (4/3 + 7/3 + 4 + 14/3)/4 = 37/12 over 4 citizens — the same
// as if the follow-up had never been asked.
func TestConditionalFollowUpDoesNotDragHeadline(t *testing.T) {
	citizens := []map[string]string{
		{"overall": "1", "respect": "2", "speed": "1", "wait": "1", "why": `"queue"`},
		{"overall": "2", "respect": "3", "speed": "2", "wait": "1"},
		{"overall": "4", "respect": "5", "speed": "3"},
		{"overall": "5", "respect": "5", "speed": "4"},
	}
	with := scoreOf(t, followUpVersion(true, nil), citizens)
	near(t, "mean", with.Mean, 37.0/12, 1e-12)
	if with.Citizens != 4 || with.Index.N != 4 || with.Ratings != 14 || with.Responses != 4 {
		t.Errorf("citizens %d, index n %d, ratings %d, responses %d; want 4, 4, 14, 4", with.Citizens, with.Index.N, with.Ratings, with.Responses)
	}
	near(t, "csat", with.CSAT, 0.5, 1e-12) // citizens whose mean is ≥ 4: the last two

	var plain []map[string]string
	for _, c := range citizens {
		plain = append(plain, map[string]string{"overall": c["overall"], "respect": c["respect"], "speed": c["speed"]})
	}
	without := scoreOf(t, followUpVersion(false, nil), plain)
	for name, pair := range map[string][2]*float64{
		"mean": {with.Mean, without.Mean}, "ci_low": {with.CILow, without.CILow}, "ci_high": {with.CIHigh, without.CIHigh},
		"csat": {with.CSAT, without.CSAT}, "index": {with.Index.Value, without.Index.Value},
	} {
		if *pair[0] != *pair[1] {
			t.Errorf("%s with the follow-up %v, without %v", name, *pair[0], *pair[1])
		}
	}
	// The follow-up is still reported on its own, marked as outside the headline.
	var wait *QuestionScore
	for i := range with.ByQuestion {
		if with.ByQuestion[i].QuestionID == "wait" {
			wait = &with.ByQuestion[i]
		}
	}
	if wait == nil || wait.N != 2 || *wait.Mean != 1 || wait.Headline == nil || *wait.Headline {
		t.Errorf("wait = %+v", wait)
	}

	// A survey may put a conditional rating in the headline explicitly; then it counts.
	yes := true
	counted := scoreOf(t, followUpVersion(true, &yes), citizens)
	near(t, "mean with the follow-up counted", counted.Mean, (5.0/4+8.0/4+4+14.0/3)/4, 1e-12)
}

// Flagged responses move no figure: a score over counted and flagged responses is exactly the
// score of the counted ones alone, with the flagged ones counted apart by flag — for the agency
// and for each office.
func TestScoreLeavesFlaggedOut(t *testing.T) {
	counted := scoreResponses()
	for i := range counted {
		if i%3 == 1 {
			counted[i].OfficeID = 20
		}
	}
	// Flagged presses that would drag every figure if they counted: all 1s, on the kiosk, in
	// the period, in both offices.
	var flagged []survey.Response
	for i, f := range []survey.Flag{survey.FlagBurst, survey.FlagBurst, survey.FlagInterval, survey.FlagAfterHours, survey.FlagBurst, "future_flag"} {
		r := headlineFlags([]survey.Response{{ID: testID(fmt.Sprint("flagged", i)), AgencyID: 1, OfficeID: survey.ID(10 + 10*(i%2)),
			SurveyID: 5, SurveyVersion: 2, Channel: survey.ChannelKiosk, DeviceID: 3, Flag: f,
			SubmittedAt: time.Date(2025, 11, 13+i%3, 11, 0, 0, 0, survey.Tehran),
			Answers:     []survey.Answer{rating("q1", 1), {QuestionID: "q2", Type: survey.TypeNPS, Number: num(0)}}}}, "q1", "q2")[0]
		flagged = append(flagged, r)
	}
	withFlags, _, ru := newTestScores(t, append(append([]survey.Response(nil), counted...), flagged...))
	alone, _, _ := newTestScores(t, counted)
	ctx := context.Background()
	period := ScoreQuery{From: "2025-11-12", To: "2025-11-15"}
	for _, c := range []struct {
		office string
		id     survey.ID
		want   Flagged
	}{
		{"", 0, Flagged{Total: 6, Interval: 1, Burst: 3, AfterHours: 1}},
		{"10", 10, Flagged{Total: 3, Interval: 1, Burst: 2}},
		{"۲۰", 20, Flagged{Total: 3, Burst: 1, AfterHours: 1}}, // Persian digits, as a form may send them
	} {
		q := period
		q.Office = c.office
		got, err := withFlags.Score(ctx, province, 1, q)
		if err != nil {
			t.Fatalf("office %q: %v", c.office, err)
		}
		if f := ru.filters[len(ru.filters)-1]; f.OfficeID != c.id || got.OfficeID != c.id {
			t.Errorf("office %q: filter %+v, score office %d; want office %d", c.office, f, got.OfficeID, c.id)
		}
		if got.Flagged != c.want {
			t.Errorf("office %q: flagged = %+v, want %+v", c.office, got.Flagged, c.want)
		}
		want, err := alone.Score(ctx, province, 1, q)
		if err != nil {
			t.Fatal(err)
		}
		got.Flagged = Flagged{}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("office %q: flagged responses changed the score:\n got  %s\n want %s", c.office, gj, wj)
		}
		if c.id != 0 && (want.Responses == 0 || want.Responses == 7) {
			t.Errorf("office %q: %d responses; the fixture should split the 7 between offices", c.office, want.Responses)
		}
	}
	if sc, _ := withFlags.Score(ctx, province, 1, period); sc.Responses != 7 || sc.Citizens != 7 || sc.ByQuestion[0].N != 6 {
		t.Errorf("responses %d, citizens %d, q1 n %d; want the 7, 7 and 6 counted", sc.Responses, sc.Citizens, sc.ByQuestion[0].N)
	}
	if b, _ := json.Marshal(must(withFlags.Score(ctx, province, 1, period))); !strings.Contains(string(b), `"flagged":{"total":6,"interval":1,"burst":3,"after_hours":1}`) {
		t.Errorf("JSON: %s", b)
	}
}

// An office_id that is not one of the agency's offices — another agency's, an unknown one, or
// not an id — is one and the same "not found" on the office_id field, so offices do not leak.
func TestScoreOfficeNotTheAgencys(t *testing.T) {
	s, _, ru := newTestScores(t, scoreResponses())
	ctx := context.Background()
	var first string
	for _, office := range []string{"30", "999", "abc", "0", "-10", "10.5"} {
		before := len(ru.filters)
		_, err := s.Score(ctx, province, 1, ScoreQuery{Office: office})
		var e *survey.Error
		if !errors.As(err, &e) || e.Code != survey.ECodeNotFound || e.Fields["office_id"].Code != "not_found" || e.MessageFA == "" {
			t.Errorf("office %q: err = %#v, want not_found on office_id", office, err)
			continue
		}
		if first == "" {
			first = e.Error()
		} else if e.Error() != first {
			t.Errorf("office %q answers %q, office 30 %q: the answers differ", office, e.Error(), first)
		}
		if len(ru.filters) != before {
			t.Errorf("office %q: rollups were read", office)
		}
	}
	// Agency 2's own office is fine for agency 2, and tenancy still comes first.
	if _, err := s.Score(ctx, province, 2, ScoreQuery{Office: "30"}); err != nil {
		t.Errorf("agency 2, office 30: %v", err)
	}
	_, err := s.Score(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 2}, 1, ScoreQuery{Office: "10"})
	if survey.ErrorCode(err) != survey.ECodeNotFound || err.Error() != survey.ErrForbiddenAgency().Error() {
		t.Errorf("another agency's staff: %v, want the agency's not-found", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
