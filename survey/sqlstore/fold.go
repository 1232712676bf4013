package sqlstore

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// insertResponses stores raw responses; RETURNING names the ones that were new. CAST(… AS
// TEXT) reads the same on both dialects (PostgreSQL's id is a uuid).
var insertResponsesSQL = bulkStatement{
	head:    "INSERT INTO responses (id, agency_id, office_id, survey_id, survey_version, channel, source, submitted_at, received_at, day, answers)",
	pgTypes: []string{"uuid", "bigint", "bigint", "bigint", "integer", "text", "text", "timestamptz", "timestamptz", "text", "text"},
	tail:    " ON CONFLICT (id) DO NOTHING RETURNING CAST(id AS TEXT)",
}

// upsertRollupsSQL adds cells to rollups: new keys are inserted, existing ones grow.
var upsertRollupsSQL = bulkStatement{
	head:    "INSERT INTO rollups (agency_id, office_id, survey_id, survey_version, question_id, channel, day, type, n, sum, sum_sq)",
	pgTypes: []string{"bigint", "bigint", "bigint", "integer", "text", "text", "text", "text", "bigint", "bigint", "bigint"},
	tail: " ON CONFLICT (agency_id, office_id, survey_id, survey_version, question_id, channel, day) DO UPDATE SET" +
		" n = rollups.n + excluded.n, sum = rollups.sum + excluded.sum, sum_sq = rollups.sum_sq + excluded.sum_sq",
}

// upsertValuesSQL adds histogram cells to rollup_values likewise.
var upsertValuesSQL = bulkStatement{
	head:    "INSERT INTO rollup_values (agency_id, office_id, survey_id, survey_version, question_id, channel, day, value, n)",
	pgTypes: []string{"bigint", "bigint", "bigint", "integer", "text", "text", "text", "text", "bigint"},
	tail: " ON CONFLICT (agency_id, office_id, survey_id, survey_version, question_id, channel, day, value) DO UPDATE SET" +
		" n = rollup_values.n + excluded.n",
}

// pendingResponse is a response ready to insert: id normalised, answers encoded.
type pendingResponse struct {
	r       survey.Response
	day     string
	answers string
}

// Fold stores raw responses and adds exactly the newly stored ones to the rollups, in one
// transaction, and returns how many were new. It is the heart of exactly-once counting: a
// response already stored (an id seen before, in this batch or any earlier one, by this worker
// or a concurrent one) is skipped by ON CONFLICT DO NOTHING, and only the ids the INSERT
// RETURNs are passed to delta, so re-delivered or duplicated responses never count twice.
//
// Responses are written in id order and rollup cells in key order, so concurrent folds lock
// rows in one global order and cannot deadlock. Every id must be a UUID (intake guarantees it);
// otherwise Fold stores nothing and returns an ECodeInvalid error naming the ids, which the
// caller should quarantine and drop.
func (s *Store) Fold(ctx context.Context, rs []survey.Response, delta func(inserted []survey.Response) survey.RollupDelta) (inserted int, err error) {
	if len(rs) == 0 {
		return 0, nil
	}
	pending, err := prepareResponses(rs)
	if err != nil {
		return 0, err
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		ids, err := insertResponses(tx, s.dialect, pending)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			inserted = 0
			return nil
		}
		fresh := make([]survey.Response, 0, len(ids))
		for i := range pending {
			if _, ok := ids[pending[i].r.ID]; ok {
				fresh = append(fresh, pending[i].r)
			}
		}
		inserted = len(fresh)
		return writeDelta(tx, s.dialect, delta(fresh))
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

// prepareResponses copies rs with ids lower-cased (PostgreSQL's uuid text form), sorted by id
// and de-duplicated (first wins), answers encoded, before any lock is taken.
func prepareResponses(rs []survey.Response) ([]pendingResponse, error) {
	out := make([]pendingResponse, 0, len(rs))
	var bad []string
	for i := range rs {
		r := rs[i]
		r.ID = strings.ToLower(strings.TrimSpace(r.ID))
		if !survey.ValidUUID(r.ID) {
			bad = append(bad, rs[i].ID)
			continue
		}
		answers := r.Answers
		if answers == nil {
			answers = []survey.Answer{}
		}
		b, err := json.Marshal(answers)
		if err != nil {
			return nil, survey.Wrap(survey.ECodeInvalid, err, "پاسخ‌ها کدگذاری نشدند.", "cannot encode answers")
		}
		out = append(out, pendingResponse{r: r, day: r.Day().Format(survey.DayFormat), answers: string(b)})
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], "…")
		}
		return nil, survey.Errorf(survey.ECodeInvalid, "شناسهٔ پاسخ باید UUID باشد: %s", "response ids must be UUIDs: %s", strings.Join(bad, ", "))
	}
	slices.SortStableFunc(out, func(a, b pendingResponse) int { return strings.Compare(a.r.ID, b.r.ID) })
	w := 0
	for i := range out {
		if i > 0 && out[i].r.ID == out[w-1].r.ID {
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w], nil
}

// insertResponses inserts in chunks and returns the set of ids that were new.
func insertResponses(tx *gorm.DB, dialect string, pending []pendingResponse) (map[string]struct{}, error) {
	ids := make(map[string]struct{}, len(pending))
	err := insertResponsesSQL.run(tx, dialect, len(pending), func(i int, w *bulkRow) {
		p := &pending[i]
		w.Text(p.r.ID)
		w.Int(int64(p.r.AgencyID))
		w.Int(int64(p.r.OfficeID))
		w.Int(int64(p.r.SurveyID))
		w.Int(int64(p.r.SurveyVersion))
		w.Text(string(p.r.Channel))
		w.Text(p.r.Source)
		w.Time(p.r.SubmittedAt)
		w.Time(p.r.ReceivedAt)
		w.Text(p.day)
		w.Text(p.answers)
	}, func(rows *sql.Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids[strings.ToLower(id)] = struct{}{}
		}
		return rows.Err()
	})
	return ids, err
}

// writeDelta upserts a delta additively, cells in key order: existing cells grow by the
// delta's counts, new ones are inserted.
func writeDelta(tx *gorm.DB, dialect string, d survey.RollupDelta) error {
	rollups := normaliseRollups(d.Rollups)
	err := upsertRollupsSQL.run(tx, dialect, len(rollups), func(i int, w *bulkRow) {
		c := &rollups[i]
		writeKey(w, c.RollupKey)
		w.Text(string(c.Type))
		w.Int(c.N)
		w.Int(c.Sum)
		w.Int(c.SumSq)
	}, nil)
	if err != nil {
		return err
	}
	cells := normaliseHistogram(d.Histogram)
	return upsertValuesSQL.run(tx, dialect, len(cells), func(i int, w *bulkRow) {
		c := &cells[i]
		writeKey(w, c.RollupKey)
		w.Text(c.Value)
		w.Int(c.N)
	}, nil)
}

func writeKey(w *bulkRow, k survey.RollupKey) {
	w.Int(int64(k.AgencyID))
	w.Int(int64(k.OfficeID))
	w.Int(int64(k.SurveyID))
	w.Int(int64(k.SurveyVersion))
	w.Text(k.QuestionID)
	w.Text(string(k.Channel))
	w.Text(k.Day)
}

// keyCompare orders rollup keys like the tables' primary keys (and analytics.KeyLess).
func keyCompare(a, b survey.RollupKey) int {
	if c := cmp.Compare(a.AgencyID, b.AgencyID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.OfficeID, b.OfficeID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SurveyID, b.SurveyID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SurveyVersion, b.SurveyVersion); c != 0 {
		return c
	}
	if c := strings.Compare(a.QuestionID, b.QuestionID); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Channel), string(b.Channel)); c != 0 {
		return c
	}
	return strings.Compare(a.Day, b.Day)
}

func rollupCompare(a, b survey.Rollup) int { return keyCompare(a.RollupKey, b.RollupKey) }

func cellCompare(a, b survey.HistogramCell) int {
	if c := keyCompare(a.RollupKey, b.RollupKey); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// normaliseRollups returns the cells in key order with equal keys merged. A delta is normally
// sorted and unique already (then it is returned as is); this keeps a careless one from
// deadlocking concurrent folds or tripping PostgreSQL's "ON CONFLICT DO UPDATE command cannot
// affect row a second time". The caller's slice is never modified.
func normaliseRollups(in []survey.Rollup) []survey.Rollup {
	if isStrictlySorted(in, rollupCompare) {
		return in
	}
	out := slices.Clone(in)
	slices.SortStableFunc(out, rollupCompare)
	w := 0
	for i := range out {
		if w > 0 && out[i].RollupKey == out[w-1].RollupKey {
			out[w-1].N += out[i].N
			out[w-1].Sum += out[i].Sum
			out[w-1].SumSq += out[i].SumSq
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

// normaliseHistogram is normaliseRollups for histogram cells.
func normaliseHistogram(in []survey.HistogramCell) []survey.HistogramCell {
	if isStrictlySorted(in, cellCompare) {
		return in
	}
	out := slices.Clone(in)
	slices.SortStableFunc(out, cellCompare)
	w := 0
	for i := range out {
		if w > 0 && cellCompare(out[i], out[w-1]) == 0 {
			out[w-1].N += out[i].N
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

// isStrictlySorted reports whether s is sorted with no two equal elements.
func isStrictlySorted[T any](s []T, compare func(a, b T) int) bool {
	for i := 1; i < len(s); i++ {
		if compare(s[i-1], s[i]) >= 0 {
			return false
		}
	}
	return true
}

// reaggregatePage is how many raw responses Reaggregate reads per query.
const reaggregatePage = 2000

// reaggregateFlush bounds the cells Reaggregate accumulates in memory before writing them.
const reaggregateFlush = 200_000

// Reaggregate rebuilds both rollup tables from the raw responses in one transaction: it empties
// them, reads every response in id order page by page, folds each page with delta, and writes
// the sums. Because rollup cells are additive and delta is the same function live folding uses,
// the result equals what live folding produced (compare with DumpRollups). On PostgreSQL it
// blocks concurrent folds (taking the tables' locks in the order Fold does, so no deadlock)
// until it commits; on SQLite the write transaction already excludes them.
func (s *Store) Reaggregate(ctx context.Context, delta func([]survey.Response) survey.RollupDelta) error {
	start := time.Now()
	var total int
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			if err := tx.Exec("LOCK TABLE responses IN SHARE MODE").Error; err != nil {
				return err
			}
			if err := tx.Exec("LOCK TABLE rollups, rollup_values IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		if err := tx.Exec("DELETE FROM rollup_values").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM rollups").Error; err != nil {
			return err
		}
		acc := newAccumulator()
		after := ""
		for {
			page, err := readResponses(tx, after, reaggregatePage)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			total += len(page)
			after = page[len(page)-1].ID
			acc.add(delta(page))
			if acc.size() >= reaggregateFlush {
				if err := writeDelta(tx, s.dialect, acc.delta()); err != nil {
					return err
				}
				acc = newAccumulator()
			}
		}
		return writeDelta(tx, s.dialect, acc.delta())
	})
	if err != nil {
		return err
	}
	s.log.Info("rollups rebuilt from raw responses", "responses", total, "took", time.Since(start))
	return nil
}

// readResponses returns up to limit raw responses with ids after the given one, in id order.
func readResponses(tx *gorm.DB, after string, limit int) (out []survey.Response, err error) {
	q := "SELECT CAST(id AS TEXT), agency_id, office_id, survey_id, survey_version, channel, source, submitted_at, received_at, answers FROM responses"
	var rows interface {
		Next() bool
		Scan(...any) error
		Err() error
		Close() error
	}
	if after == "" {
		rows, err = tx.Raw(q+" ORDER BY id LIMIT ?", limit).Rows()
	} else {
		rows, err = tx.Raw(q+" WHERE id > ? ORDER BY id LIMIT ?", after, limit).Rows()
	}
	if err != nil {
		return nil, err
	}
	defer closeRows(rows, &err)
	for rows.Next() {
		var (
			r                   survey.Response
			agency, office, sid int64
			channel, answers    string
		)
		if err := rows.Scan(&r.ID, &agency, &office, &sid, &r.SurveyVersion, &channel, &r.Source, &r.SubmittedAt, &r.ReceivedAt, &answers); err != nil {
			return nil, err
		}
		r.AgencyID, r.OfficeID, r.SurveyID, r.Channel = survey.ID(agency), survey.ID(office), survey.ID(sid), survey.Channel(channel)
		r.SubmittedAt, r.ReceivedAt = r.SubmittedAt.UTC(), r.ReceivedAt.UTC()
		if err := json.Unmarshal([]byte(answers), &r.Answers); err != nil {
			return nil, fmt.Errorf("response %s: answers: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// accumulator sums deltas cell by cell.
type accumulator struct {
	rollups map[survey.RollupKey]*survey.Rollup
	values  map[valueKey]int64
}

type valueKey struct {
	survey.RollupKey
	value string
}

func newAccumulator() *accumulator {
	return &accumulator{rollups: map[survey.RollupKey]*survey.Rollup{}, values: map[valueKey]int64{}}
}

func (a *accumulator) size() int { return len(a.rollups) + len(a.values) }

func (a *accumulator) add(d survey.RollupDelta) {
	for _, r := range d.Rollups {
		c := a.rollups[r.RollupKey]
		if c == nil {
			c = &survey.Rollup{RollupKey: r.RollupKey, Type: r.Type}
			a.rollups[r.RollupKey] = c
		}
		c.N += r.N
		c.Sum += r.Sum
		c.SumSq += r.SumSq
	}
	for _, h := range d.Histogram {
		a.values[valueKey{h.RollupKey, h.Value}] += h.N
	}
}

func (a *accumulator) delta() survey.RollupDelta {
	d := survey.RollupDelta{
		Rollups:   make([]survey.Rollup, 0, len(a.rollups)),
		Histogram: make([]survey.HistogramCell, 0, len(a.values)),
	}
	for _, c := range a.rollups {
		d.Rollups = append(d.Rollups, *c)
	}
	for k, n := range a.values {
		d.Histogram = append(d.Histogram, survey.HistogramCell{RollupKey: k.RollupKey, Value: k.value, N: n})
	}
	return d // writeDelta sorts it
}

// rollupWhere builds the WHERE clause of a report filter.
func rollupWhere(f survey.RollupFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if f.AgencyID != 0 {
		conds, args = append(conds, "agency_id = ?"), append(args, int64(f.AgencyID))
	}
	if f.OfficeID != 0 {
		conds, args = append(conds, "office_id = ?"), append(args, int64(f.OfficeID))
	}
	if f.FromDay != "" {
		conds, args = append(conds, "day >= ?"), append(args, f.FromDay)
	}
	if f.ToDay != "" {
		conds, args = append(conds, "day <= ?"), append(args, f.ToDay)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// RollupTotals sums the rollups the filter selects over offices, survey versions and days, per
// question (and its type) and channel, ordered by question, channel, type. AgencyID 0 means
// every agency: callers check the principal before asking.
func (s *Store) RollupTotals(ctx context.Context, f survey.RollupFilter) (_ []survey.RollupTotal, err error) {
	where, args := rollupWhere(f)
	rows, err := s.read(ctx).Raw(`SELECT question_id, type, channel,
 CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT)
FROM rollups`+where+`
GROUP BY question_id, type, channel
ORDER BY question_id, channel, type`, args...).Rows()
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
	where, args := rollupWhere(f)
	rows, err := s.read(ctx).Raw(`SELECT question_id, channel, value, CAST(SUM(n) AS BIGINT)
FROM rollup_values`+where+`
GROUP BY question_id, channel, value
ORDER BY question_id, channel, value`, args...).Rows()
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

// DumpRollups writes both rollup tables as canonical text — one tab-separated line per cell,
// text quoted, ordered by primary key — so that two dumps are byte-for-byte equal exactly when
// the tables hold the same cells. It is how `afkar reaggregate` and its tests prove a rebuild
// reproduced the live rollups.
func (s *Store) DumpRollups(ctx context.Context, w io.Writer) (err error) {
	bw := bufio.NewWriter(w)
	db := s.read(ctx)
	rows, err := db.Raw(`SELECT agency_id, office_id, survey_id, survey_version, question_id, channel, day, type, n, sum, sum_sq
FROM rollups ORDER BY agency_id, office_id, survey_id, survey_version, question_id, channel, day`).Rows()
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
	rows, err = db.Raw(`SELECT agency_id, office_id, survey_id, survey_version, question_id, channel, day, value, n
FROM rollup_values ORDER BY agency_id, office_id, survey_id, survey_version, question_id, channel, day, value`).Rows()
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
			return s.dbError(err)
		}
		fmt.Fprintf(bw, "%s\t%s\t%d\n", k, strconv.Quote(value), n)
	}
	if err := rows.Err(); err != nil {
		return s.dbError(err)
	}
	return bw.Flush()
}

type dumpKey struct {
	agency, office, survey, version int64
	question, channel, day          string
}

func (k dumpKey) String() string {
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%s\t%s\t%s", k.agency, k.office, k.survey, k.version,
		strconv.Quote(k.question), strconv.Quote(k.channel), strconv.Quote(k.day))
}

// ResponseCount counts stored raw responses of one agency, or of all when agencyID is 0.
func (s *Store) ResponseCount(ctx context.Context, agencyID survey.ID) (int64, error) {
	var n int64
	q := s.read(ctx)
	var err error
	if agencyID == 0 {
		err = q.Raw("SELECT COUNT(*) FROM responses").Scan(&n).Error
	} else {
		err = q.Raw("SELECT COUNT(*) FROM responses WHERE agency_id = ?", int64(agencyID)).Scan(&n).Error
	}
	if err != nil {
		return 0, s.dbError(err)
	}
	return n, nil
}

// Quarantine keeps an entry that cannot be processed (undecodable bytes, an invalid response)
// in dead_letters for a person to inspect, so that the aggregator can ack it and move on.
func (s *Store) Quarantine(ctx context.Context, source string, raw []byte, reason string) error {
	if raw == nil {
		raw = []byte{}
	}
	// source comes first: GORM expands a []byte right after "(" into one parameter per byte.
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("INSERT INTO dead_letters (source, reason, payload) VALUES (?, ?, ?)", source, reason, raw).Error
	})
}
