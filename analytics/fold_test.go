package analytics

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

func num(n int) *int { return &n }

func rating(q string, n int) survey.Answer {
	return survey.Answer{QuestionID: q, Type: survey.TypeRating5, Number: num(n)}
}

// deltaFixture is five responses spread over two offices, three channels and two Tehran days,
// including the edge where 21:00 UTC is already the next day in Tehran.
func deltaFixture() []survey.Response {
	tehran := func(d, h int) time.Time { return time.Date(2025, 11, d, h, 0, 0, 0, survey.Tehran) }
	base := survey.Response{AgencyID: 1, OfficeID: 10, SurveyID: 5, SurveyVersion: 1, Channel: survey.ChannelKiosk}
	rA := base
	rA.ID, rA.SubmittedAt = "a", tehran(15, 10)
	rA.Answers = []survey.Answer{
		rating("q1", 4),
		{QuestionID: "q2", Type: survey.TypeNPS, Number: num(9)},
		{QuestionID: "q3", Type: survey.TypeYesNo, Number: num(1)},
		{QuestionID: "q4", Type: survey.TypeChoice, Choices: []string{"a", "b"}},
		{QuestionID: "q5", Type: survey.TypeText, Text: "سلام"},
	}
	rB := base
	rB.ID, rB.SubmittedAt = "b", time.Date(2025, 11, 14, 21, 0, 0, 0, time.UTC) // 00:30 on the 15th in Tehran
	rB.Answers = []survey.Answer{
		rating("q1", 5),
		{QuestionID: "q2", Type: survey.TypeNPS, Number: num(10)},
		{QuestionID: "q3", Type: survey.TypeYesNo, Number: num(0)},
		{QuestionID: "q4", Type: survey.TypeChoice, Choices: []string{"a"}},
	}
	rC := base
	rC.ID, rC.Channel, rC.SubmittedAt = "c", survey.ChannelWeb, tehran(15, 18)
	rC.Answers = []survey.Answer{rating("q1", 2)}
	rD := base
	rD.ID, rD.SubmittedAt = "d", time.Date(2025, 11, 14, 20, 0, 0, 0, time.UTC) // 23:30 on the 14th
	rD.ReceivedAt = tehran(16, 9)                                               // late kiosk sync: the visit day counts
	rD.Answers = []survey.Answer{rating("q1", 1)}
	rE := base
	rE.ID, rE.OfficeID, rE.Channel = "e", 0, survey.ChannelSMS
	rE.ReceivedAt = time.Date(2025, 11, 15, 9, 0, 0, 0, time.UTC) // no client time: received day
	rE.Answers = []survey.Answer{rating("q1", 3)}
	return []survey.Response{rA, rB, rC, rD, rE}
}

func TestDeltaExactCells(t *testing.T) {
	key := func(office survey.ID, q string, ch survey.Channel, day string) survey.RollupKey {
		return survey.RollupKey{AgencyID: 1, OfficeID: office, SurveyID: 5, SurveyVersion: 1, QuestionID: q, Channel: ch, Day: day}
	}
	const d14, d15 = "2025-11-14", "2025-11-15"
	k, w, s := survey.ChannelKiosk, survey.ChannelWeb, survey.ChannelSMS
	wantRollups := []survey.Rollup{
		{RollupKey: key(0, "", s, d15), N: 1},
		{RollupKey: key(0, "q1", s, d15), Type: survey.TypeRating5, N: 1, Sum: 3, SumSq: 9},
		{RollupKey: key(10, "", k, d14), N: 1},
		{RollupKey: key(10, "", k, d15), N: 2},
		{RollupKey: key(10, "", w, d15), N: 1},
		{RollupKey: key(10, "q1", k, d14), Type: survey.TypeRating5, N: 1, Sum: 1, SumSq: 1},
		{RollupKey: key(10, "q1", k, d15), Type: survey.TypeRating5, N: 2, Sum: 9, SumSq: 41},
		{RollupKey: key(10, "q1", w, d15), Type: survey.TypeRating5, N: 1, Sum: 2, SumSq: 4},
		{RollupKey: key(10, "q2", k, d15), Type: survey.TypeNPS, N: 2, Sum: 19, SumSq: 181},
		{RollupKey: key(10, "q3", k, d15), Type: survey.TypeYesNo, N: 2, Sum: 1, SumSq: 1},
		{RollupKey: key(10, "q4", k, d15), Type: survey.TypeChoice, N: 2},
		{RollupKey: key(10, "q5", k, d15), Type: survey.TypeText, N: 1},
	}
	wantHist := []survey.HistogramCell{
		{RollupKey: key(0, "q1", s, d15), Value: "3", N: 1},
		{RollupKey: key(10, "q1", k, d14), Value: "1", N: 1},
		{RollupKey: key(10, "q1", k, d15), Value: "4", N: 1},
		{RollupKey: key(10, "q1", k, d15), Value: "5", N: 1},
		{RollupKey: key(10, "q1", w, d15), Value: "2", N: 1},
		{RollupKey: key(10, "q2", k, d15), Value: "10", N: 1}, // values sort as text
		{RollupKey: key(10, "q2", k, d15), Value: "9", N: 1},
		{RollupKey: key(10, "q3", k, d15), Value: "0", N: 1},
		{RollupKey: key(10, "q3", k, d15), Value: "1", N: 1},
		{RollupKey: key(10, "q4", k, d15), Value: "a", N: 2},
		{RollupKey: key(10, "q4", k, d15), Value: "b", N: 1},
	}
	d := Delta(deltaFixture())
	if !reflect.DeepEqual(d.Rollups, wantRollups) {
		t.Errorf("rollups:\n got  %+v\n want %+v", d.Rollups, wantRollups)
	}
	if !reflect.DeepEqual(d.Histogram, wantHist) {
		t.Errorf("histogram:\n got  %+v\n want %+v", d.Histogram, wantHist)
	}
}

func TestDeltaOrderIndependentAndAdditive(t *testing.T) {
	rs := deltaFixture()
	whole := Delta(rs)
	rev := make([]survey.Response, len(rs))
	for i := range rs {
		rev[len(rs)-1-i] = rs[i]
	}
	if !reflect.DeepEqual(Delta(rev), whole) {
		t.Error("Delta depends on the order of responses")
	}
	// Folding in two batches adds up to folding at once: what makes batches and reaggregate agree.
	a, b := Delta(rs[:2]), Delta(rs[2:])
	sum := map[survey.RollupKey]survey.Rollup{}
	for _, r := range append(a.Rollups, b.Rollups...) {
		c := sum[r.RollupKey]
		c.RollupKey, c.Type = r.RollupKey, r.Type
		c.N, c.Sum, c.SumSq = c.N+r.N, c.Sum+r.Sum, c.SumSq+r.SumSq
		sum[r.RollupKey] = c
	}
	merged := make([]survey.Rollup, 0, len(sum))
	for _, r := range sum {
		merged = append(merged, r)
	}
	sort.Slice(merged, func(i, j int) bool { return survey.CompareRollupKeys(merged[i].RollupKey, merged[j].RollupKey) < 0 })
	if !reflect.DeepEqual(merged, whole.Rollups) {
		t.Errorf("batched rollups differ:\n got  %+v\n want %+v", merged, whole.Rollups)
	}
	for _, d := range []survey.RollupDelta{whole, a, b} {
		if !sort.SliceIsSorted(d.Rollups, func(i, j int) bool {
			return survey.CompareRollupKeys(d.Rollups[i].RollupKey, d.Rollups[j].RollupKey) < 0
		}) {
			t.Error("rollups not sorted")
		}
	}
	empty := Delta(nil)
	if len(empty.Rollups) != 0 || len(empty.Histogram) != 0 {
		t.Errorf("Delta(nil) = %+v", empty)
	}
}

// Each response with headline answers adds one per-citizen cell: the mean of its headline
// rating5 answers (and, separately, of its headline nps answers) × CitizenScale, with a
// histogram cell of that value. Answers not marked Headline — a conditional follow-up — are
// left out; a response without headline answers adds nothing.
func TestDeltaHeadlineCells(t *testing.T) {
	at := time.Date(2025, 11, 15, 10, 0, 0, 0, survey.Tehran)
	h := func(a survey.Answer) survey.Answer { a.Headline = true; return a }
	nps := func(n int) survey.Answer {
		return survey.Answer{QuestionID: "rec", Type: survey.TypeNPS, Number: num(n), Headline: true}
	}
	mk := func(id string, answers ...survey.Answer) survey.Response {
		return survey.Response{ID: id, AgencyID: 1, OfficeID: 10, SurveyID: 5, SurveyVersion: 1, Channel: survey.ChannelKiosk, SubmittedAt: at, Answers: answers}
	}
	rs := []survey.Response{
		mk("a", h(rating("overall", 4)), h(rating("respect", 5)), h(rating("speed", 4)), nps(9)), // 13/3
		mk("b", h(rating("overall", 2)), h(rating("respect", 3)), rating("wait", 1)),             // 5/2; the follow-up is not counted
		mk("c", h(rating("overall", 5))), // 5
		mk("d", rating("wait", 1), survey.Answer{QuestionID: "why", Type: survey.TypeText, Text: "صف"}), // nothing in the headline
		mk("e", nps(6), nps(7)), // nps only: mean 6.5
	}
	d := Delta(rs)
	key := survey.RollupKey{AgencyID: 1, OfficeID: 10, SurveyID: 5, SurveyVersion: 1, Channel: survey.ChannelKiosk, Day: "2025-11-15"}
	key.QuestionID = survey.HeadlineQuestion
	s := int64(survey.CitizenScale)
	v13 := (13*s + 1) / 3 // 13/3 × 2520 = 10920 exactly
	if v13 != 10920 {
		t.Fatalf("premise: %d", v13)
	}
	vals := []int64{10920, 5 * s / 2, 5 * s}
	var sum, sumSq int64
	for _, v := range vals {
		sum, sumSq = sum+v, sumSq+v*v
	}
	npsKey := key
	npsKey.QuestionID = survey.HeadlineNPSQuestion
	var gotHead, gotNPS *survey.Rollup
	for i := range d.Rollups {
		switch d.Rollups[i].RollupKey {
		case key:
			gotHead = &d.Rollups[i]
		case npsKey:
			gotNPS = &d.Rollups[i]
		}
	}
	if gotHead == nil || *gotHead != (survey.Rollup{RollupKey: key, Type: survey.TypeCitizenMean, N: 3, Sum: sum, SumSq: sumSq}) {
		t.Errorf("@headline = %+v, want n 3 Σ %d Σ² %d", gotHead, sum, sumSq)
	}
	if gotNPS == nil || *gotNPS != (survey.Rollup{RollupKey: npsKey, Type: survey.TypeCitizenMean, N: 2, Sum: 9*s + 13*s/2, SumSq: 81*s*s + (13*s/2)*(13*s/2)}) {
		t.Errorf("@nps = %+v", gotNPS)
	}
	hist := map[string]int64{}
	for _, c := range d.Histogram {
		if c.RollupKey == key || c.RollupKey == npsKey {
			hist[c.QuestionID+"="+c.Value] += c.N
		}
	}
	// Buckets are the whole part of each citizen's mean: 13/3 → 4, 5/2 → 2, 5 → 5; 9 → 9, 6.5 → 6.
	want := map[string]int64{"@headline=4": 1, "@headline=2": 1, "@headline=5": 1, "@nps=9": 1, "@nps=6": 1}
	if !reflect.DeepEqual(hist, want) {
		t.Errorf("histogram = %v, want %v", hist, want)
	}
	// The per-answer cells are unchanged: the follow-up still has its own question row.
	for _, r := range d.Rollups {
		if r.QuestionID == "wait" && r.N != 2 {
			t.Errorf("wait = %+v", r)
		}
	}
}

// A flagged response adds n = 1 to its flag's reserved row and nothing else: not to the
// response count, not to any answer or histogram cell, not to the per-citizen rows — so the
// counted responses' cells are exactly those they have alone.
func TestDeltaFlaggedAddsOnlyTheFlagRow(t *testing.T) {
	counted := headlineAll(deltaFixture())
	var flagged []survey.Response
	for i, r := range headlineAll(deltaFixture()) {
		r.ID += "-flagged"
		r.DeviceID = 7
		r.Flag = survey.Flags[i%len(survey.Flags)]
		flagged = append(flagged, r)
	}
	extra := flagged[0] // a second press flagged like the first, on the same key
	extra.ID = "a-again"
	flagged = append(flagged, extra)

	d := Delta(append(append([]survey.Response(nil), counted...), flagged...))
	alone := Delta(counted)
	if !reflect.DeepEqual(d.Histogram, alone.Histogram) {
		t.Errorf("flagged responses changed the histogram:\n got  %+v\n want %+v", d.Histogram, alone.Histogram)
	}
	var ordinary, flags []survey.Rollup
	for _, r := range d.Rollups {
		if _, ok := survey.FlagOfQuestion(r.QuestionID); ok {
			flags = append(flags, r)
		} else {
			ordinary = append(ordinary, r)
		}
	}
	if !reflect.DeepEqual(ordinary, alone.Rollups) {
		t.Errorf("flagged responses changed ordinary rows:\n got  %+v\n want %+v", ordinary, alone.Rollups)
	}
	key := func(office survey.ID, f survey.Flag, ch survey.Channel, day string) survey.RollupKey {
		return survey.RollupKey{AgencyID: 1, OfficeID: office, SurveyID: 5, SurveyVersion: 1,
			QuestionID: survey.FlaggedQuestion(f), Channel: ch, Day: day}
	}
	row := func(k survey.RollupKey, n int64) survey.Rollup {
		return survey.Rollup{RollupKey: k, Type: survey.TypeFlag, N: n}
	}
	k, w, s := survey.ChannelKiosk, survey.ChannelWeb, survey.ChannelSMS
	// Fixture a…e flagged interval, burst, after_hours, interval, burst; a twice.
	want := []survey.Rollup{
		row(key(0, survey.FlagBurst, s, "2025-11-15"), 1),
		row(key(10, survey.FlagAfterHours, w, "2025-11-15"), 1),
		row(key(10, survey.FlagBurst, k, "2025-11-15"), 1),
		row(key(10, survey.FlagInterval, k, "2025-11-14"), 1),
		row(key(10, survey.FlagInterval, k, "2025-11-15"), 2),
	}
	if !reflect.DeepEqual(flags, want) {
		t.Errorf("flag rows:\n got  %+v\n want %+v", flags, want)
	}
	only := Delta(flagged)
	if !reflect.DeepEqual(only.Rollups, want) || len(only.Histogram) != 0 {
		t.Errorf("flagged responses alone: %+v", only)
	}
}

// headlineAll marks every rating5 and nps answer as a headline answer, so that the responses
// would add per-citizen cells if they were counted.
func headlineAll(rs []survey.Response) []survey.Response {
	for i := range rs {
		answers := append([]survey.Answer(nil), rs[i].Answers...)
		for j := range answers {
			answers[j].Headline = answers[j].Type == survey.TypeRating5 || answers[j].Type == survey.TypeNPS
		}
		rs[i].Answers = answers
	}
	return rs
}
