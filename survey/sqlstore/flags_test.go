package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// Flagged responses on both dialects: stored with their flag and device, counted in their
// @flagged:<flag> row only (not in the response count, answers, histograms or per-citizen rows),
// selected by the office filter like every row, and rebuilt exactly by Reaggregate.
func TestFlaggedResponses(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(12)
		g.flagged = 4
		rs := g.responses(600)
		for start := 0; start < len(rs); start += 128 {
			fold(t, s, rs[start:min(start+128, len(rs))])
		}

		// The raw rows keep the flag and the device, upper-case ids and all.
		var rows []struct {
			ID       string
			Flag     string
			DeviceID int64
		}
		if err := s.TestDB().Raw("SELECT CAST(id AS TEXT) AS id, flag, device_id FROM responses").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		stored := map[string][2]any{}
		for _, r := range rows {
			stored[strings.ToLower(r.ID)] = [2]any{survey.Flag(r.Flag), survey.ID(r.DeviceID)}
		}
		var flagged int
		for _, r := range rs {
			if got := stored[r.ID]; got != [2]any{r.Flag, r.DeviceID} {
				t.Fatalf("response %s stored flag/device %v, want %q/%d", r.ID, got, r.Flag, r.DeviceID)
			}
			if r.Flag != "" {
				flagged++
			}
		}
		if flagged < 100 || flagged > 200 {
			t.Fatalf("premise: %d of %d responses flagged", flagged, len(rs))
		}
		if n, err := s.ResponseCount(ctx, 0); err != nil || n != int64(len(rs)) {
			t.Fatalf("ResponseCount = %d, %v; want every stored response, flagged ones too", n, err)
		}

		filters := []survey.RollupFilter{
			{},
			{AgencyID: 1},
			{AgencyID: 2, OfficeID: 1},
			{AgencyID: 3, OfficeID: 2, FromDay: "2025-11-10", ToDay: "2025-11-12"},
			{OfficeID: 1},
		}
		for _, f := range filters {
			checkTotals(t, s, rs, f)
			totals, err := s.RollupTotals(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var counted, citizens int64
			byFlag := map[survey.Flag]int64{}
			for _, tot := range totals {
				if flag, ok := survey.FlagOfQuestion(tot.QuestionID); ok {
					if tot.Type != survey.TypeFlag || tot.Sum != 0 || tot.SumSq != 0 {
						t.Errorf("%+v: flag row %+v", f, tot)
					}
					byFlag[flag] += tot.N
				}
				switch tot.QuestionID {
				case survey.ResponseQuestion:
					counted += tot.N
				case survey.HeadlineQuestion:
					citizens += tot.N
				}
			}
			wantCounted, wantFlags := int64(0), map[survey.Flag]int64{}
			for _, r := range rs {
				if !inFilter(r, f) {
					continue
				}
				if r.Flag == "" {
					wantCounted++
				} else {
					wantFlags[r.Flag]++
				}
			}
			if counted != wantCounted || citizens != wantCounted {
				t.Errorf("%+v: %d responses and %d citizens counted, want the %d unflagged", f, counted, citizens, wantCounted)
			}
			for _, fl := range survey.Flags {
				if byFlag[fl] != wantFlags[fl] {
					t.Errorf("%+v: %s = %d, want %d", f, fl, byFlag[fl], wantFlags[fl])
				}
			}
			hist, err := s.HistogramTotals(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hist {
				if _, ok := survey.FlagOfQuestion(h.QuestionID); ok {
					t.Errorf("%+v: histogram cell %+v for a flag", f, h)
				}
			}
		}

		// A rebuild reproduces the flag rows byte for byte, and repairs them when damaged.
		live := dump(t, s)
		if !strings.Contains(live, `"@flagged:burst"`) || !strings.Contains(live, `"@flagged:after_hours"`) {
			t.Fatalf("dump has no flag rows:\n%.500s", live)
		}
		if err := s.Reaggregate(ctx, testDelta); err != nil {
			t.Fatalf("Reaggregate: %v", err)
		}
		if rebuilt := dump(t, s); rebuilt != live {
			t.Fatalf("rebuilt rollups differ from live ones:\n%s", firstDiff(live, rebuilt))
		}
		rebuildRepairs(t, s, live, "UPDATE rollups SET n = n + 1 WHERE question_id LIKE '@flagged:%'",
			"DELETE FROM rollups WHERE question_id = '@flagged:interval'")
	})
}

// inFilter reports whether a report filter selects r's cells.
func inFilter(r survey.Response, f survey.RollupFilter) bool {
	day := r.Day().Format(survey.DayFormat)
	return (f.AgencyID == 0 || r.AgencyID == f.AgencyID) && (f.OfficeID == 0 || r.OfficeID == f.OfficeID) &&
		(f.FromDay == "" || day >= f.FromDay) && (f.ToDay == "" || day <= f.ToDay)
}
