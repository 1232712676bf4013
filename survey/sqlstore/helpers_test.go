package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// eachDialect runs fn as a parallel subtest per dialect.
func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range sqltest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t testing.TB, err error, code survey.Code) *survey.Error {
	t.Helper()
	var se *survey.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *survey.Error with code %s", err, err, code)
	}
	if se.Code != code {
		t.Fatalf("error code %s (%v), want %s", se.Code, err, code)
	}
	if se.Message == "" || se.MessageFA == "" {
		t.Fatalf("error %v lacks its English or Persian message", err)
	}
	return se
}

// testDelta is analytics.Delta with its cells reversed: the store must order cells itself before
// upserting (concurrent folds lock rows in one order), so the tests hand it an unsorted delta.
func testDelta(rs []survey.Response) survey.RollupDelta {
	d := analytics.Delta(rs)
	slices.Reverse(d.Rollups)
	slices.Reverse(d.Histogram)
	slices.Reverse(d.Hours)
	return d
}

// gen makes synthetic responses: agencies 1..agencies, offices 0..2, three channels, days
// spread over a week of Tehran days, survey versions 1..versions, two ratings (headline), an
// nps, a yes/no, a choice and sometimes a text (5⅓ answers on average). With flagged set, about
// one response in flagged is flagged (a random survey.Flags entry, from kiosk device 1..3).
type gen struct {
	rng      *rand.Rand
	agencies int
	versions int
	start    time.Time
	days     int
	flagged  int
}

func newGen(seed uint64) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), agencies: 4, versions: 2,
		start: time.Date(2025, 11, 8, 20, 30, 0, 0, time.UTC) /* Tehran midnight */, days: 7}
}

func (g *gen) response() survey.Response {
	n := func(k int) *int { v := g.rng.IntN(k); return &v }
	rating, staff := 1+g.rng.IntN(5), 1+g.rng.IntN(5)
	at := g.start.Add(time.Duration(g.rng.Int64N(int64(time.Duration(g.days) * 24 * time.Hour))))
	r := survey.Response{
		ID:            uuid.New().String(),
		AgencyID:      survey.ID(1 + g.rng.IntN(g.agencies)),
		OfficeID:      survey.ID(g.rng.IntN(3)),
		SurveyID:      1,
		SurveyVersion: 1 + g.rng.IntN(g.versions),
		Channel:       survey.Channels[g.rng.IntN(3)],
		Source:        "test",
		SubmittedAt:   at,
		ReceivedAt:    at.Add(time.Duration(g.rng.IntN(3600)) * time.Second),
		Answers: []survey.Answer{
			{QuestionID: "q1", Type: survey.TypeRating5, Number: &rating, Headline: true},
			{QuestionID: "q2", Type: survey.TypeRating5, Number: &staff, Headline: true},
			{QuestionID: "nps", Type: survey.TypeNPS, Number: n(11)},
			{QuestionID: "yes", Type: survey.TypeYesNo, Number: n(2)},
			{QuestionID: "why", Type: survey.TypeChoice, Choices: []string{[]string{"slow", "rude", "closed"}[g.rng.IntN(3)]}},
		},
	}
	if g.rng.IntN(3) == 0 {
		r.Answers = append(r.Answers, survey.Answer{QuestionID: "comment", Type: survey.TypeText, Text: "کارمند «خوب» بود \\ \"quoted\" ۱۲"})
	}
	if g.flagged > 0 && g.rng.IntN(g.flagged) == 0 {
		r.Flag = survey.Flags[g.rng.IntN(len(survey.Flags))]
		r.DeviceID = survey.ID(1 + g.rng.IntN(3))
	}
	return r
}

func (g *gen) responses(n int) []survey.Response {
	rs := make([]survey.Response, n)
	for i := range rs {
		rs[i] = g.response()
	}
	return rs
}

func dump(t testing.TB, s *sqlstore.Store) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.DumpRollups(testCtx(t), &b); err != nil {
		t.Fatalf("DumpRollups: %v", err)
	}
	return b.String()
}

// rebuildRepairs damages the rollups with the given statements, checks that the dump shows it,
// and that Reaggregate brings the dump back to live byte for byte.
func rebuildRepairs(t testing.TB, s *sqlstore.Store, live string, damage ...string) {
	t.Helper()
	for _, q := range damage {
		if err := s.TestDB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if dump(t, s) == live {
		t.Fatal("damage did not show in the dump")
	}
	if err := s.Reaggregate(testCtx(t), testDelta); err != nil {
		t.Fatalf("Reaggregate: %v", err)
	}
	if rebuilt := dump(t, s); rebuilt != live {
		t.Fatalf("rebuild did not repair the rollups:\n%s", firstDiff(live, rebuilt))
	}
}

func fold(t testing.TB, s *sqlstore.Store, rs []survey.Response) int {
	t.Helper()
	n, err := s.Fold(testCtx(t), rs, testDelta)
	if err != nil {
		t.Fatalf("Fold(%d): %v", len(rs), err)
	}
	return n
}

// expectedTotals is what RollupTotals and HistogramTotals must return for rs under filter f: the
// answers of the shared in-memory store (survey/inmem) after folding every element of rs — a
// response listed twice counts twice, as a test that doubles a delta wants.
func expectedTotals(rs []survey.Response, f survey.RollupFilter) ([]survey.RollupTotal, []survey.HistogramTotal) {
	ctx := context.Background()
	oracle := inmem.New()
	each := make([]survey.Response, len(rs))
	for i, r := range rs {
		r.ID = fmt.Sprintf("00000000-0000-4000-8000-%012x", i) // ids are not part of any cell
		each[i] = r
	}
	if _, err := oracle.Fold(ctx, each, testDelta); err != nil {
		panic(err) // the generated responses always have UUID ids
	}
	rt, _ := oracle.RollupTotals(ctx, f)
	ht, _ := oracle.HistogramTotals(ctx, f)
	return rt, ht
}

func checkTotals(t testing.TB, s *sqlstore.Store, rs []survey.Response, f survey.RollupFilter) {
	t.Helper()
	ctx := testCtx(t)
	wantR, wantH := expectedTotals(rs, f)
	gotR, err := s.RollupTotals(ctx, f)
	if err != nil {
		t.Fatalf("RollupTotals(%+v): %v", f, err)
	}
	if fmt.Sprint(gotR) != fmt.Sprint(wantR) {
		t.Fatalf("RollupTotals(%+v):\n got %v\nwant %v", f, gotR, wantR)
	}
	gotH, err := s.HistogramTotals(ctx, f)
	if err != nil {
		t.Fatalf("HistogramTotals(%+v): %v", f, err)
	}
	if fmt.Sprint(gotH) != fmt.Sprint(wantH) {
		t.Fatalf("HistogramTotals(%+v):\n got %v\nwant %v", f, gotH, wantH)
	}
}
