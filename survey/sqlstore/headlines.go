package sqlstore

import (
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// The headline tables (migration 0020) hold only the per-citizen headline — n, Σx, Σx² and the
// satisfied citizens — per agency, office and day (headline_days) and per Jalali month
// (headline_months). They are derived from a delta's '@headline' rollup and histogram cells, so
// every writer of those (the fold, the seeder's COPY, `afkar reaggregate`) writes them too, in
// the same transaction; DerivedDrift checks they agree. The province and offices tables read
// them instead of every survey version × channel × bucket cell of the rollups.

// upsertHeadlineDaysSQL adds headline cells to headline_days: new keys are inserted, existing
// ones grow.
var upsertHeadlineDaysSQL = bulkStatement{
	head:    "INSERT INTO headline_days (day, agency_id, office_id, n, sum, sum_sq, satisfied)",
	pgTypes: []string{"text", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint"},
	tail: " ON CONFLICT (day, agency_id, office_id) DO UPDATE SET" +
		" n = headline_days.n + excluded.n, sum = headline_days.sum + excluded.sum," +
		" sum_sq = headline_days.sum_sq + excluded.sum_sq, satisfied = headline_days.satisfied + excluded.satisfied",
}

// upsertHeadlineMonthsSQL adds the same cells, summed per Jalali month, to headline_months.
var upsertHeadlineMonthsSQL = bulkStatement{
	head:    "INSERT INTO headline_months (month, agency_id, office_id, n, sum, sum_sq, satisfied)",
	pgTypes: []string{"text", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint"},
	tail: " ON CONFLICT (month, agency_id, office_id) DO UPDATE SET" +
		" n = headline_months.n + excluded.n, sum = headline_months.sum + excluded.sum," +
		" sum_sq = headline_months.sum_sq + excluded.sum_sq, satisfied = headline_months.satisfied + excluded.satisfied",
}

// headlineCell is one row of headline_days (period: a day) or headline_months (a month).
type headlineCell struct {
	period                   string
	agency, office           int64
	n, sum, sumSq, satisfied int64
}

// values lists a cell in the headline tables' column order, typed for COPY.
func (c *headlineCell) values() []any {
	return []any{c.period, c.agency, c.office, c.n, c.sum, c.sumSq, c.satisfied}
}

// headlineSatisfied reports whether a '@headline' histogram bucket counts as satisfied: a
// citizen whose headline mean is 4 or more (the same buckets the reports call satisfied).
func headlineSatisfied(value string) bool { return value == "4" || value == "5" }

// headlineCells sums a delta's '@headline' cells per agency, office and day, and again per Jalali
// month (a day outside jalali_months' years has no month cell), each sorted in primary-key order
// so that two folds lock the rows in one order.
func headlineCells(rollups []survey.Rollup, cells []survey.HistogramCell) (days, months []headlineCell) {
	type key struct {
		period         string
		agency, office int64
	}
	dayIdx := map[key]int{}
	at := func(k survey.RollupKey) *headlineCell {
		dk := key{k.Day, int64(k.AgencyID), int64(k.OfficeID)}
		j, ok := dayIdx[dk]
		if !ok {
			j = len(days)
			dayIdx[dk] = j
			days = append(days, headlineCell{period: k.Day, agency: dk.agency, office: dk.office})
		}
		return &days[j]
	}
	for i := range rollups {
		c := &rollups[i]
		if c.QuestionID != survey.HeadlineQuestion {
			continue
		}
		d := at(c.RollupKey)
		d.n += c.N
		d.sum += c.Sum
		d.sumSq += c.SumSq
	}
	for i := range cells {
		c := &cells[i]
		if c.QuestionID != survey.HeadlineQuestion || !headlineSatisfied(c.Value) {
			continue
		}
		at(c.RollupKey).satisfied += c.N
	}
	monthIdx := map[key]int{}
	for _, d := range days {
		m, ok := monthOf(d.period)
		if !ok {
			continue
		}
		mk := key{m, d.agency, d.office}
		j, seen := monthIdx[mk]
		if !seen {
			j = len(months)
			monthIdx[mk] = j
			months = append(months, headlineCell{period: m, agency: d.agency, office: d.office})
		}
		months[j].n += d.n
		months[j].sum += d.sum
		months[j].sumSq += d.sumSq
		months[j].satisfied += d.satisfied
	}
	order := func(a, b headlineCell) int {
		if c := strings.Compare(a.period, b.period); c != 0 {
			return c
		}
		if c := cmpInt(a.agency, b.agency); c != 0 {
			return c
		}
		return cmpInt(a.office, b.office)
	}
	slices.SortFunc(days, order)
	slices.SortFunc(months, order)
	return days, months
}

// writeHeadlines upserts a delta's headline cells (headlineCells) into headline_days and
// headline_months.
func writeHeadlines(tx *gorm.DB, dialect string, rollups []survey.Rollup, cells []survey.HistogramCell) error {
	days, months := headlineCells(rollups, cells)
	row := func(cs []headlineCell) func(i int, w *bulkRow) {
		return func(i int, w *bulkRow) {
			c := &cs[i]
			w.Text(c.period)
			w.Int(c.agency)
			w.Int(c.office)
			w.Int(c.n)
			w.Int(c.sum)
			w.Int(c.sumSq)
			w.Int(c.satisfied)
		}
	}
	if err := upsertHeadlineDaysSQL.run(tx, dialect, len(days), row(days), nil); err != nil {
		return err
	}
	return upsertHeadlineMonthsSQL.run(tx, dialect, len(months), row(months), nil)
}
