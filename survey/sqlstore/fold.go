package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// insertResponses stores raw responses — with their flag and device, which `afkar reaggregate`
// reads back — and RETURNING names the ones that were new. CAST(… AS TEXT) reads the same on
// both dialects (PostgreSQL's id is a uuid).
var insertResponsesSQL = bulkStatement{
	head:    "INSERT INTO responses (id, agency_id, office_id, survey_id, survey_version, channel, source, submitted_at, received_at, day, answers, content_hash, flag, device_id)",
	pgTypes: []string{"uuid", "bigint", "bigint", "bigint", "integer", "text", "text", "timestamptz", "timestamptz", "text", "text", "text", "text", "bigint"},
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

// upsertRollupMonthsSQL adds the same cells, summed per Jalali month, to rollup_months
// (migration 0019): a long period reads its whole months there (periods.go).
var upsertRollupMonthsSQL = bulkStatement{
	head:    "INSERT INTO rollup_months (agency_id, month, office_id, survey_id, survey_version, question_id, channel, type, n, sum, sum_sq)",
	pgTypes: []string{"bigint", "text", "bigint", "bigint", "integer", "text", "text", "text", "bigint", "bigint", "bigint"},
	tail: " ON CONFLICT (agency_id, month, office_id, survey_id, survey_version, question_id, channel) DO UPDATE SET" +
		" n = rollup_months.n + excluded.n, sum = rollup_months.sum + excluded.sum, sum_sq = rollup_months.sum_sq + excluded.sum_sq",
}

// upsertValueMonthsSQL adds histogram cells, summed per Jalali month, to rollup_value_months.
var upsertValueMonthsSQL = bulkStatement{
	head:    "INSERT INTO rollup_value_months (agency_id, month, office_id, survey_id, survey_version, question_id, channel, value, n)",
	pgTypes: []string{"bigint", "text", "bigint", "bigint", "integer", "text", "text", "text", "bigint"},
	tail: " ON CONFLICT (agency_id, month, office_id, survey_id, survey_version, question_id, channel, value) DO UPDATE SET" +
		" n = rollup_value_months.n + excluded.n",
}

// upsertHoursSQL adds hourly per-citizen cells to rollup_hours likewise.
var upsertHoursSQL = bulkStatement{
	head:    "INSERT INTO rollup_hours (agency_id, office_id, day, hour, n, sum, sum_sq)",
	pgTypes: []string{"bigint", "bigint", "text", "smallint", "bigint", "bigint", "bigint"},
	tail: " ON CONFLICT (agency_id, office_id, day, hour) DO UPDATE SET" +
		" n = rollup_hours.n + excluded.n, sum = rollup_hours.sum + excluded.sum, sum_sq = rollup_hours.sum_sq + excluded.sum_sq",
}

// pendingResponse is a response ready to insert: id normalised, answers encoded; idx is its
// position in the slice given to Fold.
type pendingResponse struct {
	r       survey.Response
	idx     int
	day     string
	answers string
}

// Fold stores raw responses and adds exactly the newly stored ones to the rollups, in one
// transaction, and returns how many were new. It is FoldResponses without the conflicts, for
// callers that only count.
func (s *Store) Fold(ctx context.Context, rs []survey.Response, delta func(inserted []survey.Response) survey.RollupDelta) (inserted int, err error) {
	res, err := s.FoldResponses(ctx, rs, delta)
	return res.Inserted, err
}

// FoldResponses stores raw responses and adds exactly the newly stored ones to the rollups, in
// one transaction. It is the heart of exactly-once counting: a response already stored (an id
// seen before, in this batch or any earlier one, by this worker or a concurrent one) is skipped
// by ON CONFLICT DO NOTHING, and only the ids the INSERT RETURNs are passed to delta, so
// re-delivered or duplicated responses never count twice.
//
// A skipped response whose content hash differs from the one kept for its id — the stored row,
// or the first of the id in this batch — is not a resend but a different response reusing an
// id: its position is reported in FoldResult.Conflicts, so the caller can set it aside rather
// than lose it silently. The stored hashes are read only when some response was skipped, so a
// batch of new responses costs no extra query. Rows or responses without a hash (from before
// hashes were kept) never conflict.
//
// Responses are written in id order and rollup cells in key order, so concurrent folds lock
// rows in one global order and cannot deadlock. Every id must be a UUID (intake guarantees it);
// otherwise nothing is stored and the error is ECodeInvalid naming the ids, which the caller
// should quarantine and drop.
func (s *Store) FoldResponses(ctx context.Context, rs []survey.Response, delta func(inserted []survey.Response) survey.RollupDelta) (survey.FoldResult, error) {
	var res survey.FoldResult
	if len(rs) == 0 {
		return res, nil
	}
	all, err := prepareResponses(rs)
	if err != nil {
		return res, err
	}
	unique := firstOfEachID(all)
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res = survey.FoldResult{}
		ids, err := insertResponses(tx, s.dialect, unique)
		if err != nil {
			return err
		}
		if len(unique) > len(ids) || len(all) > len(unique) {
			if res.Conflicts, err = foldConflicts(tx, s.dialect, all, ids); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		fresh := make([]survey.Response, 0, len(ids))
		for i := range unique {
			if _, ok := ids[unique[i].r.ID]; ok {
				fresh = append(fresh, unique[i].r)
			}
		}
		res.Inserted = len(fresh)
		return writeDelta(tx, s.dialect, delta(fresh))
	})
	if err != nil {
		return survey.FoldResult{}, err
	}
	return res, nil
}

// prepareResponses copies rs with ids lower-cased (PostgreSQL's uuid text form), sorted by id
// (stable: the first of an id stays first), answers encoded, before any lock is taken.
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
		out = append(out, pendingResponse{r: r, idx: i, day: r.Day().Format(survey.DayFormat), answers: string(b)})
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], "…")
		}
		return nil, survey.Errorf(survey.ECodeInvalid, "شناسهٔ پاسخ باید UUID باشد: %s", "response ids must be UUIDs: %s", strings.Join(bad, ", "))
	}
	slices.SortStableFunc(out, func(a, b pendingResponse) int { return strings.Compare(a.r.ID, b.r.ID) })
	return out, nil
}

// firstOfEachID returns the first response of each id of a sorted slice, in a new slice.
func firstOfEachID(sorted []pendingResponse) []pendingResponse {
	out := make([]pendingResponse, 0, len(sorted))
	for i := range sorted {
		if i > 0 && sorted[i].r.ID == sorted[i-1].r.ID {
			continue
		}
		out = append(out, sorted[i])
	}
	return out
}

// foldConflicts returns the positions (pendingResponse.idx) of the responses of a batch that
// were not stored and differ from what is kept for their id: the row stored before this fold
// (its hash read here), or else the first of the id in this batch, which was just inserted.
func foldConflicts(tx *gorm.DB, dialect string, all []pendingResponse, inserted map[string]struct{}) ([]int, error) {
	var old []string
	for i := range all {
		id := all[i].r.ID
		if _, ok := inserted[id]; !ok && (i == 0 || all[i-1].r.ID != id) {
			old = append(old, id)
		}
	}
	stored, err := contentHashes(tx, dialect, old)
	if err != nil {
		return nil, err
	}
	var conflicts []int
	kept := ""
	for i := range all {
		p := &all[i]
		first := i == 0 || all[i-1].r.ID != p.r.ID
		_, fresh := inserted[p.r.ID]
		switch {
		case first && fresh:
			kept = p.r.Hash // stored by this fold: the rest of its id compare with it
			continue
		case first:
			kept = stored[p.r.ID]
		}
		if kept != "" && p.r.Hash != "" && p.r.Hash != kept {
			conflicts = append(conflicts, p.idx)
		}
	}
	slices.Sort(conflicts)
	return conflicts, nil
}

// ContentHashes returns the content hash stored with each of ids that is stored (implements
// intake.Stored); absent ids are not stored, "" is a row from before hashes were kept. Intake
// calls it once per group commit with the batch's client-made ids; ids that are not UUIDs are
// skipped (they cannot be stored).
func (s *Store) ContentHashes(ctx context.Context, ids []string) (map[string]string, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.ToLower(id); survey.ValidUUID(id) {
			valid = append(valid, id)
		}
	}
	out, err := contentHashes(s.read(ctx), s.dialect, valid)
	return out, s.dbError(err)
}

// contentHashes reads id → content_hash for the stored ones of ids (lower-case UUIDs): on
// PostgreSQL with one uuid array parameter, on SQLite with IN lists that fit a statement.
func contentHashes(db *gorm.DB, dialect string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	per := sqliteParams
	if dialect == DialectPostgres {
		per = pgBulkRows
	}
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		var rows []struct {
			ID          string
			ContentHash string
		}
		var q *gorm.DB
		if dialect == DialectPostgres {
			// UUIDs need no quoting inside an array literal.
			q = db.Raw("SELECT CAST(id AS TEXT) AS id, content_hash FROM responses WHERE id = ANY(CAST(? AS uuid[]))",
				"{"+strings.Join(chunk, ",")+"}")
		} else {
			q = db.Raw("SELECT id, content_hash FROM responses WHERE id IN ?", chunk)
		}
		if err := q.Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[strings.ToLower(r.ID)] = r.ContentHash
		}
	}
	return out, nil
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
		w.Text(p.r.Hash)
		w.Text(string(p.r.Flag))
		w.Int(int64(p.r.DeviceID))
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

// writeDelta upserts a delta additively — rollups, then rollup_values, then their month sums
// (writeMonths), then rollup_hours, then the headline tables (writeHeadlines), each
// in key order (survey.CompareRollupKeys, survey.CompareHourKeys): existing
// cells grow by the delta's counts, new ones are inserted.
func writeDelta(tx *gorm.DB, dialect string, d survey.RollupDelta) error {
	d = d.Normalized()
	rollups, cells := d.Rollups, d.Histogram
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
	err = upsertValuesSQL.run(tx, dialect, len(cells), func(i int, w *bulkRow) {
		c := &cells[i]
		writeKey(w, c.RollupKey)
		w.Text(c.Value)
		w.Int(c.N)
	}, nil)
	if err != nil {
		return err
	}
	if err := writeMonths(tx, dialect, rollups, cells); err != nil {
		return err
	}
	hours := d.Hours
	err = upsertHoursSQL.run(tx, dialect, len(hours), func(i int, w *bulkRow) {
		c := &hours[i]
		w.Int(int64(c.AgencyID))
		w.Int(int64(c.OfficeID))
		w.Text(c.Day)
		w.Int(int64(c.Hour))
		w.Int(c.N)
		w.Int(c.Sum)
		w.Int(c.SumSq)
	}, nil)
	if err != nil {
		return err
	}
	return writeHeadlines(tx, dialect, rollups, cells)
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

// monthKey is the grain of the month tables: a RollupKey with the Jalali month in place of the day.
type monthKey struct {
	agency, office, survey int64
	version                int
	month, question        string
	channel                survey.Channel
}

func (a monthKey) compare(b monthKey) int {
	switch {
	case a.agency != b.agency:
		return cmpInt(a.agency, b.agency)
	case a.month != b.month:
		return strings.Compare(a.month, b.month)
	case a.office != b.office:
		return cmpInt(a.office, b.office)
	case a.survey != b.survey:
		return cmpInt(a.survey, b.survey)
	case a.version != b.version:
		return cmpInt(int64(a.version), int64(b.version))
	case a.question != b.question:
		return strings.Compare(a.question, b.question)
	}
	return strings.Compare(string(a.channel), string(b.channel))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// monthRollup and monthValue are a delta's cells summed per month.
type monthRollup struct {
	key           monthKey
	typ           survey.QuestionType
	n, sum, sumSq int64
}

type monthValue struct {
	key   monthKey
	value string
	n     int64
}

// monthCells sums a delta's day cells into their Jalali months, sorted in primary-key order
// like every other upsert (so two folds lock month rows in one order). A day outside
// jalali_months' years has no month cell.
func monthCells(rollups []survey.Rollup, cells []survey.HistogramCell) ([]monthRollup, []monthValue) {
	keyOf := func(k survey.RollupKey) (monthKey, bool) {
		m, ok := monthOf(k.Day)
		return monthKey{int64(k.AgencyID), int64(k.OfficeID), int64(k.SurveyID), k.SurveyVersion, m, k.QuestionID, k.Channel}, ok
	}
	rIdx := map[monthKey]int{}
	var rs []monthRollup
	for i := range rollups {
		c := &rollups[i]
		k, ok := keyOf(c.RollupKey)
		if !ok {
			continue
		}
		j, seen := rIdx[k]
		if !seen {
			j = len(rs)
			rIdx[k] = j
			rs = append(rs, monthRollup{key: k, typ: c.Type})
		}
		rs[j].n += c.N
		rs[j].sum += c.Sum
		rs[j].sumSq += c.SumSq
	}
	type valueKey struct {
		k monthKey
		v string
	}
	vIdx := map[valueKey]int{}
	var vs []monthValue
	for i := range cells {
		c := &cells[i]
		k, ok := keyOf(c.RollupKey)
		if !ok {
			continue
		}
		j, seen := vIdx[valueKey{k, c.Value}]
		if !seen {
			j = len(vs)
			vIdx[valueKey{k, c.Value}] = j
			vs = append(vs, monthValue{key: k, value: c.Value})
		}
		vs[j].n += c.N
	}
	slices.SortFunc(rs, func(a, b monthRollup) int { return a.key.compare(b.key) })
	slices.SortFunc(vs, func(a, b monthValue) int {
		if c := a.key.compare(b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	return rs, vs
}

// writeMonths upserts a delta's month sums (monthCells) into rollup_months and
// rollup_value_months.
func writeMonths(tx *gorm.DB, dialect string, rollups []survey.Rollup, cells []survey.HistogramCell) error {
	rs, vs := monthCells(rollups, cells)
	writeMonthKey := func(w *bulkRow, k monthKey) {
		w.Int(k.agency)
		w.Text(k.month)
		w.Int(k.office)
		w.Int(k.survey)
		w.Int(int64(k.version))
		w.Text(k.question)
		w.Text(string(k.channel))
	}
	err := upsertRollupMonthsSQL.run(tx, dialect, len(rs), func(i int, w *bulkRow) {
		c := &rs[i]
		writeMonthKey(w, c.key)
		w.Text(string(c.typ))
		w.Int(c.n)
		w.Int(c.sum)
		w.Int(c.sumSq)
	}, nil)
	if err != nil {
		return err
	}
	return upsertValueMonthsSQL.run(tx, dialect, len(vs), func(i int, w *bulkRow) {
		c := &vs[i]
		writeMonthKey(w, c.key)
		w.Text(c.value)
		w.Int(c.n)
	}, nil)
}
