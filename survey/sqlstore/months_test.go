package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// headlineByOfficeFromDays is headline_by_office as it read before migration 0019: the day tables
// only. The month-aware query must give exactly its rows for every period.
const headlineByOfficeFromDays = `
SELECT agency_id, office_id, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT),
       CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(sat) AS BIGINT)
FROM (
    SELECT agency_id, office_id, n, sum, sum_sq, 0 AS sat FROM rollups
    WHERE question_id = '@headline' AND (? = 0 OR agency_id = ?) AND (? = '' OR day >= ?) AND (? = '' OR day <= ?)
    UNION ALL
    SELECT agency_id, office_id, 0, 0, 0, n FROM rollup_values
    WHERE question_id = '@headline' AND value IN ('4', '5') AND (? = 0 OR agency_id = ?) AND (? = '' OR day >= ?) AND (? = '' OR day <= ?)
) AS t
GROUP BY agency_id, office_id
ORDER BY agency_id, office_id`

// headlineByDayFromRollups is headline_by_day as it read before migration 0020: the rollups'
// '@headline' cells and satisfied buckets. The trend read from headline_days must equal it.
const headlineByDayFromRollups = `
SELECT day, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(sat) AS BIGINT)
FROM (
    SELECT day, n, sum, sum_sq, 0 AS sat FROM rollups
    WHERE question_id = '@headline' AND agency_id = ? AND (? = 0 OR office_id = ?) AND (? = '' OR day >= ?) AND (? = '' OR day <= ?)
    UNION ALL
    SELECT day, 0, 0, 0, n FROM rollup_values
    WHERE question_id = '@headline' AND value IN ('4', '5') AND agency_id = ? AND (? = 0 OR office_id = ?) AND (? = '' OR day >= ?) AND (? = '' OR day <= ?)
) AS t
GROUP BY day
ORDER BY day`

// TestMonthRollups: responses over 16 months, folded in batches, keep the month tables equal to
// the day tables summed per Jalali month; scores over random periods (whole months, partial
// months, across the Jalali new year, unbounded) equal the in-memory oracle's, and the province
// table's rows (read from the headline tables, migration 0020) equal the rollups' own sums;
// re-aggregation and the backfills of migrations 0019 and 0020 give the same cells.
func TestMonthRollups(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(19)
		g.days = 480 // 2025-11-09 … 2027-03: Jalali 1404-08 … 1405-12
		g.flagged = 20
		rs := g.responses(2000)
		for start := 0; start < len(rs); start += 250 {
			fold(t, s, rs[start:min(start+250, len(rs))])
		}
		checkDrift(t, s, "after folding")
		var months int64
		if err := s.TestDB().Raw("SELECT COUNT(DISTINCT month) FROM rollup_months").Scan(&months).Error; err != nil {
			t.Fatal(err)
		}
		if months < 15 {
			t.Fatalf("%d months in rollup_months, want ≥ 15", months)
		}

		day := func(i int) string { return g.start.AddDate(0, 0, i).In(survey.Tehran).Format(survey.DayFormat) }
		rng := rand.New(rand.NewPCG(3, 5))
		filters := []survey.RollupFilter{
			{}, {FromDay: day(100)}, {ToDay: day(300)},
			{FromDay: "2026-03-21", ToDay: "2027-03-20"}, // the year 1405 exactly
			{FromDay: "2026-03-20", ToDay: "2026-04-21"}, // Farvardin 1405 and a day each side
			{AgencyID: 2, OfficeID: 1, FromDay: "2025-12-22", ToDay: "2026-06-21"},
		}
		for range 24 {
			a, b := rng.IntN(g.days), rng.IntN(g.days)
			if a > b {
				a, b = b, a
			}
			filters = append(filters, survey.RollupFilter{AgencyID: survey.ID(rng.IntN(5)), OfficeID: survey.ID(rng.IntN(3)) * survey.ID(rng.IntN(2)),
				FromDay: day(a), ToDay: day(b)})
		}
		oracle := inmem.New()
		each := make([]survey.Response, len(rs))
		for i, r := range rs {
			r.ID = fmt.Sprintf("00000000-0000-4000-8000-%012x", i)
			each[i] = r
		}
		if _, err := oracle.Fold(context.Background(), each, testDelta); err != nil {
			t.Fatal(err)
		}
		trendsCompared := 0
		for _, f := range filters {
			ctx := testCtx(t)
			wantR, _ := oracle.RollupTotals(ctx, f)
			wantH, _ := oracle.HistogramTotals(ctx, f)
			gotR, err := s.RollupTotals(ctx, f)
			if err != nil || fmt.Sprint(gotR) != fmt.Sprint(wantR) {
				t.Fatalf("RollupTotals(%+v): %v\n got %v\nwant %v", f, err, gotR, wantR)
			}
			gotH, err := s.HistogramTotals(ctx, f)
			if err != nil || fmt.Sprint(gotH) != fmt.Sprint(wantH) {
				t.Fatalf("HistogramTotals(%+v): %v\n got %v\nwant %v", f, err, gotH, wantH)
			}
			got, err := s.HeadlineByOffice(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			a := int64(f.AgencyID)
			rows, err := s.TestDB().Raw(headlineByOfficeFromDays, a, a, f.FromDay, f.FromDay, f.ToDay, f.ToDay, a, a, f.FromDay, f.FromDay, f.ToDay, f.ToDay).Rows()
			if err != nil {
				t.Fatal(err)
			}
			var want []survey.HeadlineTotal
			for rows.Next() {
				var h survey.HeadlineTotal
				var ag, of int64
				if err := rows.Scan(&ag, &of, &h.N, &h.Sum, &h.SumSq, &h.Satisfied); err != nil {
					t.Fatal(err)
				}
				h.AgencyID, h.OfficeID = survey.ID(ag), survey.ID(of)
				want = append(want, h)
			}
			rows.Close()
			if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("HeadlineByOffice(%+v):\n got %v\nwant %v", f, got, want)
			}
			if f.AgencyID == 0 {
				continue
			}
			byDay, err := s.HeadlineByDay(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			o := int64(f.OfficeID)
			rows, err = s.TestDB().Raw(headlineByDayFromRollups, a, o, o, f.FromDay, f.FromDay, f.ToDay, f.ToDay, a, o, o, f.FromDay, f.FromDay, f.ToDay, f.ToDay).Rows()
			if err != nil {
				t.Fatal(err)
			}
			var wantDays []survey.HeadlineTotal
			for rows.Next() {
				h := survey.HeadlineTotal{AgencyID: f.AgencyID, OfficeID: f.OfficeID}
				if err := rows.Scan(&h.Day, &h.N, &h.Sum, &h.SumSq, &h.Satisfied); err != nil {
					t.Fatal(err)
				}
				wantDays = append(wantDays, h)
			}
			rows.Close()
			if len(wantDays) > 0 {
				trendsCompared++
			}
			if fmt.Sprint(byDay) != fmt.Sprint(wantDays) && !(len(byDay) == 0 && len(wantDays) == 0) {
				t.Fatalf("HeadlineByDay(%+v):\n got %v\nwant %v", f, byDay, wantDays)
			}
		}

		if trendsCompared < 10 {
			t.Fatalf("only %d of the periods had headline days to compare", trendsCompared)
		}

		// Re-aggregation rebuilds the month cells with the day cells.
		ctx = testCtx(t)
		live := dump(t, s)
		if err := s.Reaggregate(ctx, testDelta); err != nil {
			t.Fatal(err)
		}
		if rebuilt := dump(t, s); rebuilt != live {
			t.Fatalf("re-aggregated months differ:\n%s", firstDiff(live, rebuilt))
		}

		// Migration 0019 on a database that already has rollups: its backfill sums them.
		for _, q := range []string{"DROP TABLE rollup_value_months", "DROP TABLE rollup_months", "DROP TABLE jalali_days", "DROP TABLE jalali_months", "DROP INDEX IF EXISTS rollup_values_headline_day_idx",
			"DELETE FROM schema_migrations WHERE version = 19"} {
			if err := s.TestDB().Exec(q).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if n, err := s.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate after dropping 0019: applied %d, %v", n, err)
		}
		checkDrift(t, s, "after the migration's backfill")
		if backfilled := dump(t, s); backfilled != live {
			t.Fatalf("backfilled months differ from folded ones:\n%s", firstDiff(live, backfilled))
		}

		// Migration 0020 likewise derives the headline tables from existing rollups.
		for _, q := range []string{"DROP TABLE headline_months", "DROP TABLE headline_days", "DELETE FROM schema_migrations WHERE version = 20"} {
			if err := s.TestDB().Exec(q).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if n, err := s.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate after dropping 0020: applied %d, %v", n, err)
		}
		checkDrift(t, s, "after migration 0020's backfill")
		if backfilled := dump(t, s); backfilled != live {
			t.Fatalf("backfilled headline cells differ from folded ones:\n%s", firstDiff(live, backfilled))
		}
	})
}

// TestJalaliMonthsTable checks migration 0019's calendar, row by row, against go-jalaali.
func TestJalaliMonthsTable(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		s := sqltest.Open(t, d)
		var rows []struct{ Month, FirstDay, LastDay string }
		if err := s.TestDB().Raw("SELECT month, first_day, last_day FROM jalali_months ORDER BY month").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 71*12 {
			t.Fatalf("%d months, want %d", len(rows), 71*12)
		}
		// jalali_days: every day of the calendar once, in the month whose bounds hold it.
		var days, misplaced int64
		if err := s.TestDB().Raw("SELECT COUNT(*), SUM(CASE WHEN d.day >= m.first_day AND d.day <= m.last_day THEN 0 ELSE 1 END) FROM jalali_days d JOIN jalali_months m ON m.month = d.month").Row().Scan(&days, &misplaced); err != nil {
			t.Fatal(err)
		}
		if want := int64(time.Date(2072, 3, 20, 0, 0, 0, 0, time.UTC).Sub(time.Date(2001, 3, 21, 0, 0, 0, 0, time.UTC)).Hours() / 24); days != want || misplaced != 0 {
			t.Fatalf("jalali_days: %d days (want %d), %d outside their month", days, want, misplaced)
		}
		prevLast := ""
		for i, r := range rows {
			jy, jm := 1380+i/12, 1+i%12
			gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), 1)
			if err != nil {
				t.Fatal(err)
			}
			first := time.Date(gy, gm, gd, 0, 0, 0, 0, time.UTC).Format(survey.DayFormat)
			if r.Month != fmt.Sprintf("%04d-%02d", jy, jm) || r.FirstDay != first {
				t.Fatalf("row %d = %+v, want %04d-%02d from %s", i, r, jy, jm, first)
			}
			if prevLast != "" {
				if next, _ := time.Parse(survey.DayFormat, prevLast); next.AddDate(0, 0, 1).Format(survey.DayFormat) != r.FirstDay {
					t.Fatalf("gap or overlap before %+v (previous month ends %s)", r, prevLast)
				}
			}
			prevLast = r.LastDay
		}
	})
}

func checkDrift(t *testing.T, s *sqlstore.Store, when string) {
	t.Helper()
	n, err := s.DerivedDrift(testCtx(t))
	if err != nil {
		t.Fatalf("DerivedDrift %s: %v", when, err)
	}
	if n != 0 {
		t.Fatalf("%s: %d derived cells (month or headline tables) differ from what they are derived from", when, n)
	}
}
