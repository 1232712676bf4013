package sqlstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// wantHours computes what rollup_hours must hold for rs, independently of the fold function:
// per agency, office, Tehran day and hour of submission, the counted responses' mean of their
// headline rating5 answers × 2520 (rounded half up), its sum and sum of squares.
func wantHours(rs []survey.Response, agency, office survey.ID, from, to string) map[[2]any][3]int64 {
	out := map[[2]any][3]int64{}
	for _, r := range rs {
		if r.Flag != "" || (agency != 0 && r.AgencyID != agency) || (office != 0 && r.OfficeID != office) {
			continue
		}
		var sum, k int
		for _, a := range r.Answers {
			if a.Headline && a.Type == survey.TypeRating5 && a.Number != nil {
				sum, k = sum+*a.Number, k+1
			}
		}
		if k == 0 {
			continue
		}
		at := r.SubmittedAt.In(survey.Tehran)
		day := at.Format(survey.DayFormat)
		if (from != "" && day < from) || (to != "" && day > to) {
			continue
		}
		v := (2*int64(sum)*2520 + int64(k)) / (2 * int64(k))
		key := [2]any{day, at.Hour()}
		c := out[key]
		out[key] = [3]int64{c[0] + 1, c[1] + v, c[2] + v*v}
	}
	return out
}

// TestRollupHours: the hourly per-citizen rollup is folded with the rest — values as the
// @headline rows hold them, flagged responses and responses without a headline rating left out,
// the Tehran hour of submission — and HourTotals sums it per day and hour under every filter.
func TestRollupHours(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(21)
		g.flagged = 5
		rs := g.responses(1500)
		// A response without a headline rating adds nothing to rollup_hours.
		three := 3
		noHead := survey.Response{ID: uuid.New().String(), AgencyID: 1, OfficeID: 1, SurveyID: 1, SurveyVersion: 1,
			Channel: survey.ChannelWeb, Source: "test", SubmittedAt: g.start.Add(30 * time.Hour), ReceivedAt: g.start.Add(30 * time.Hour),
			Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &three}}}
		// 20:29:59 UTC is 23:59:59 Tehran; 20:30 is the next Tehran day's hour 0.
		edge := func(at time.Time) survey.Response {
			r := g.response()
			r.Flag, r.AgencyID, r.OfficeID, r.SubmittedAt, r.ReceivedAt = "", 4, 2, at, at.Add(2*time.Hour)
			return r
		}
		rs = append(rs, noHead,
			edge(time.Date(2025, 11, 10, 20, 29, 59, 0, time.UTC)),
			edge(time.Date(2025, 11, 10, 20, 30, 0, 0, time.UTC)))
		for start := 0; start < len(rs); start += 400 {
			fold(t, s, rs[start:min(start+400, len(rs))])
		}
		var flagged int
		for _, r := range rs {
			if r.Flag != "" {
				flagged++
			}
		}
		if flagged < 150 {
			t.Fatalf("premise: only %d flagged responses", flagged)
		}
		filters := []struct {
			agency, office survey.ID
			from, to       string
		}{{0, 0, "", ""}, {1, 0, "", ""}, {2, 1, "", ""}, {3, 2, "2025-11-10", "2025-11-12"}, {1, 1, "", ""}, {4, 2, "2025-11-10", "2025-11-11"}}
		for _, f := range filters {
			got, err := s.HourTotals(ctx, f.agency, f.office, f.from, f.to)
			if err != nil {
				t.Fatalf("HourTotals(%v): %v", f, err)
			}
			want := wantHours(rs, f.agency, f.office, f.from, f.to)
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("HourTotals(%v): %d cells, want %d", f, len(got), len(want))
			}
			for i, c := range got {
				if w := want[[2]any{c.Day, c.Hour}]; w != [3]int64{c.N, c.Sum, c.SumSq} {
					t.Fatalf("HourTotals(%v) %s %02d:00 = %d/%d/%d, want %v", f, c.Day, c.Hour, c.N, c.Sum, c.SumSq, w)
				}
				if i > 0 && (got[i-1].Day > c.Day || got[i-1].Day == c.Day && got[i-1].Hour >= c.Hour) {
					t.Fatalf("HourTotals(%v) not ordered by day and hour at %d", f, i)
				}
			}
			if f.agency == 4 && f.office == 2 && f.to == "2025-11-11" {
				if want[[2]any{"2025-11-10", 23}][0] == 0 || want[[2]any{"2025-11-11", 0}][0] == 0 {
					t.Fatal("premise: the Tehran midnight edge responses are missing")
				}
			}
		}
		// The hourly totals of the whole table agree with the @headline rollups' totals.
		hours, err := s.HourTotals(ctx, 0, 0, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var n, sum, ssq int64
		for _, h := range hours {
			n, sum, ssq = n+h.N, sum+h.Sum, ssq+h.SumSq
		}
		totals, err := s.RollupTotals(ctx, survey.RollupFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var hn, hsum, hssq int64
		for _, tot := range totals {
			if tot.QuestionID == survey.HeadlineQuestion {
				hn, hsum, hssq = hn+tot.N, hsum+tot.Sum, hssq+tot.SumSq
			}
		}
		if n != hn || sum != hsum || ssq != hssq || n == 0 {
			t.Fatalf("rollup_hours totals %d/%d/%d, @headline rollups %d/%d/%d", n, sum, ssq, hn, hsum, hssq)
		}
		if want := int64(len(rs) - flagged - 1); n != want {
			t.Fatalf("rollup_hours counts %d citizens, want %d (counted, with a headline)", n, want)
		}
	})
}
