package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// queryFiles holds the reporting SQL: one named query per file, reviewed like a migration and
// run on both dialects as written. Named parameters (@agency) are bound by GORM.
//
//go:embed queries/*.sql
var queryFiles embed.FS

// query returns the statement in queries/<name>.sql without its comment lines: GORM would bind a
// named parameter it found in a comment, leaving the server a placeholder it cannot type. A
// missing file is a programming error, caught when the package loads in any test.
func query(name string) string {
	b, err := queryFiles.ReadFile("queries/" + name + ".sql")
	if err != nil {
		panic("sqlstore: no query " + name)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// Reporting queries, read once at start.
var (
	rollupTotalsSQL       = query("rollup_totals")
	histogramTotalsSQL    = query("histogram_totals")
	dumpRollupsSQL        = query("dump_rollups")
	dumpRollupValuesSQL   = query("dump_rollup_values")
	responseCountSQL      = query("response_count")
	hourTotalsSQL         = query("hour_totals")
	dumpRollupHoursSQL    = query("dump_rollup_hours")
	dumpMonthsSQL         = query("dump_rollup_months")
	dumpValueMonthsSQL    = query("dump_rollup_value_months")
	derivedDriftSQL       = query("derived_drift")
	dumpHeadlineDaysSQL   = query("dump_headline_days")
	dumpHeadlineMonthsSQL = query("dump_headline_months")
)

// filterArgs binds a report filter to the named parameters the reporting queries share.
func filterArgs(f survey.RollupFilter) []any {
	return []any{
		sql.Named("agency", int64(f.AgencyID)),
		sql.Named("office", int64(f.OfficeID)),
		sql.Named("from_day", f.FromDay),
		sql.Named("to_day", f.ToDay),
	}
}

// RollupTotals sums the rollups the filter selects over offices, survey versions and days, per
// question (and its type) and channel, ordered by question, channel, type. AgencyID 0 means
// every agency: callers check the principal before asking.
func (s *Store) RollupTotals(ctx context.Context, f survey.RollupFilter) (_ []survey.RollupTotal, err error) {
	rows, err := s.read(ctx).Raw(rollupTotalsSQL, periodArgs(f)...).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.RollupTotal{}
	for rows.Next() {
		var (
			t          survey.RollupTotal
			typ, chanl string
		)
		if err := rows.Scan(&t.QuestionID, &typ, &chanl, &t.N, &t.Sum, &t.SumSq); err != nil {
			return nil, s.dbError(err)
		}
		t.Type, t.Channel = survey.QuestionType(typ), survey.Channel(chanl)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

// HistogramTotals sums histogram cells likewise, per question, channel and value, ordered so.
func (s *Store) HistogramTotals(ctx context.Context, f survey.RollupFilter) (_ []survey.HistogramTotal, err error) {
	rows, err := s.read(ctx).Raw(histogramTotalsSQL, periodArgs(f)...).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.HistogramTotal{}
	for rows.Next() {
		var (
			t     survey.HistogramTotal
			chanl string
		)
		if err := rows.Scan(&t.QuestionID, &chanl, &t.Value, &t.N); err != nil {
			return nil, s.dbError(err)
		}
		t.Channel = survey.Channel(chanl)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

// DumpRollups writes the rollup tables (rollups, rollup_values, their month sums, the headline
// tables, rollup_hours) as canonical text — one tab-separated line per cell,
// text quoted, ordered by primary key — so that two dumps are byte-for-byte equal exactly when
// the tables hold the same cells. It is how `afkar reaggregate` and its tests prove a rebuild
// reproduced the live rollups.
func (s *Store) DumpRollups(ctx context.Context, w io.Writer) (err error) {
	bw := bufio.NewWriter(w)
	db := s.read(ctx)
	rows, err := db.Raw(dumpRollupsSQL).Rows()
	if err != nil {
		return s.dbError(err)
	}
	fmt.Fprintln(bw, "# rollups: agency_id office_id survey_id survey_version question_id channel day type n sum sum_sq")
	for rows.Next() {
		var (
			k             dumpKey
			typ           string
			n, sum, sumSq int64
		)
		if err = rows.Scan(&k.agency, &k.office, &k.survey, &k.version, &k.question, &k.channel, &k.day, &typ, &n, &sum, &sumSq); err != nil {
			_ = rows.Close()
			return s.dbError(err)
		}
		fmt.Fprintf(bw, "%s\t%s\t%d\t%d\t%d\n", k, strconv.Quote(typ), n, sum, sumSq)
	}
	if err = rows.Err(); err != nil {
		_ = rows.Close()
		return s.dbError(err)
	}
	if err = rows.Close(); err != nil {
		return s.dbError(err)
	}
	rows, err = db.Raw(dumpRollupValuesSQL).Rows()
	if err != nil {
		return s.dbError(err)
	}
	defer closeRows(rows, &err)
	fmt.Fprintln(bw, "# rollup_values: agency_id office_id survey_id survey_version question_id channel day value n")
	for rows.Next() {
		var (
			k     dumpKey
			value string
			n     int64
		)
		if err := rows.Scan(&k.agency, &k.office, &k.survey, &k.version, &k.question, &k.channel, &k.day, &value, &n); err != nil {
			_ = rows.Close()
			return s.dbError(err)
		}
		fmt.Fprintf(bw, "%s\t%s\t%d\n", k, strconv.Quote(value), n)
	}
	if err = rows.Err(); err != nil {
		_ = rows.Close()
		return s.dbError(err)
	}
	if err = rows.Close(); err != nil {
		return s.dbError(err)
	}
	if err := dumpText(db, bw, "# rollup_months: agency_id month office_id survey_id survey_version question_id channel type n sum sum_sq", dumpMonthsSQL, 11); err != nil {
		return s.dbError(err)
	}
	if err := dumpText(db, bw, "# rollup_value_months: agency_id month office_id survey_id survey_version question_id channel value n", dumpValueMonthsSQL, 9); err != nil {
		return s.dbError(err)
	}
	if err := dumpText(db, bw, "# headline_days: day agency_id office_id n sum sum_sq satisfied", dumpHeadlineDaysSQL, 7); err != nil {
		return s.dbError(err)
	}
	if err := dumpText(db, bw, "# headline_months: month agency_id office_id n sum sum_sq satisfied", dumpHeadlineMonthsSQL, 7); err != nil {
		return s.dbError(err)
	}
	rows, err = db.Raw(dumpRollupHoursSQL).Rows()
	if err != nil {
		return s.dbError(err)
	}
	defer closeRows(rows, &err)
	fmt.Fprintln(bw, "# rollup_hours: agency_id office_id day hour n sum sum_sq")
	for rows.Next() {
		var (
			agency, office int64
			day            string
			hour           int
			n, sum, sumSq  int64
		)
		if err := rows.Scan(&agency, &office, &day, &hour, &n, &sum, &sumSq); err != nil {
			return s.dbError(err)
		}
		fmt.Fprintf(bw, "%d\t%d\t%s\t%d\t%d\t%d\t%d\n", agency, office, strconv.Quote(day), hour, n, sum, sumSq)
	}
	if err := rows.Err(); err != nil {
		return s.dbError(err)
	}
	return bw.Flush()
}

// HourTotals sums the hourly per-citizen rollup (rollup_hours) of one agency — of one office, or
// of all its offices when office is 0; agency 0 means every agency (the province-wide season
// estimate) — per Tehran day and hour, over the inclusive Tehran days fromDay…toDay (empty:
// unbounded), ordered by day and hour. Callers check the principal before asking.
func (s *Store) HourTotals(ctx context.Context, agency, office survey.ID, fromDay, toDay string) (_ []survey.HourTotal, err error) {
	f := survey.RollupFilter{AgencyID: agency, OfficeID: office, FromDay: fromDay, ToDay: toDay}
	rows, err := s.read(ctx).Raw(hourTotalsSQL, filterArgs(f)...).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.HourTotal{}
	for rows.Next() {
		var t survey.HourTotal
		if err := rows.Scan(&t.Day, &t.Hour, &t.N, &t.Sum, &t.SumSq); err != nil {
			return nil, s.dbError(err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

type dumpKey struct {
	agency, office, survey, version int64
	question, channel, day          string
}

func (k dumpKey) String() string {
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%s\t%s\t%s", k.agency, k.office, k.survey, k.version,
		strconv.Quote(k.question), strconv.Quote(k.channel), strconv.Quote(k.day))
}

// ResponseCount counts stored raw responses of one agency, or of all when agencyID is 0,
// flagged ones included (the rollups count those apart).
func (s *Store) ResponseCount(ctx context.Context, agencyID survey.ID) (int64, error) {
	var n int64
	if err := s.read(ctx).Raw(responseCountSQL, sql.Named("agency", int64(agencyID))).Scan(&n).Error; err != nil {
		return 0, s.dbError(err)
	}
	return n, nil
}

// dumpText writes a header line, then each row of query (cols columns) as tab-separated text,
// every value quoted: the month tables' part of the canonical dump.
func dumpText(db *gorm.DB, w io.Writer, header, query string, cols int) (err error) {
	rows, err := db.Raw(query).Rows()
	if err != nil {
		return err
	}
	defer closeRows(rows, &err)
	fmt.Fprintln(w, header)
	vals := make([]sql.NullString, cols)
	ptrs := make([]any, cols)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			if i > 0 {
				fmt.Fprint(w, "\t")
			}
			fmt.Fprint(w, strconv.Quote(v.String))
		}
		fmt.Fprintln(w)
	}
	return rows.Err()
}

// DerivedDrift counts the cells where a derived table differs from what it is derived from: the
// month tables (migration 0019) from the day tables summed per Jalali month, and the headline
// tables (migration 0020) from the '@headline' rollups. 0 when every writer kept them in step.
// Tests call it after folds, re-aggregation, the national seed and the migrations' backfills.
func (s *Store) DerivedDrift(ctx context.Context) (int64, error) {
	var n int64
	if err := s.read(ctx).Raw(derivedDriftSQL).Row().Scan(&n); err != nil {
		return 0, s.dbError(err)
	}
	return n, nil
}
