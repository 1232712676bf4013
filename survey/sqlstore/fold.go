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

// writeDelta upserts a delta additively, cells in key order (survey.CompareRollupKeys): existing
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
