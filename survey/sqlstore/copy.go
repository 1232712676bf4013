package sqlstore

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// CopyFold writes raw responses and a rollup delta computed from exactly those responses, in
// one transaction, with PostgreSQL's COPY (into rollups, rollup_values, their month sums, rollup_hours and the headline tables: every
// table writeDelta writes) — the bulk path of the national seeder (`afkar demo
// --national`), about ten times faster than folding batches because it sends rows in pgx's
// binary format and does no upserts. It is not a fold: nothing is added to existing cells, so
// the delta's cells must be new (a seeder writing one freshly created agency at a time, whose
// cells no other call touches) and the ids unused; otherwise the COPY fails on the primary key
// and nothing is written. The caller guarantees that d is what the fold function makes of rs, so
// `afkar reaggregate` reproduces the same rollups (the seeder's test checks it).
//
// On SQLite, which has no COPY, it falls back to Fold's multi-row inserts with the same
// delta, in one transaction.
func (s *Store) CopyFold(ctx context.Context, rs []survey.Response, d survey.RollupDelta) error {
	if len(rs) == 0 {
		return nil
	}
	all, err := prepareResponses(rs)
	if err != nil {
		return err
	}
	if s.dialect != DialectPostgres {
		return s.tx(ctx, func(tx *gorm.DB) error {
			ids, err := insertResponses(tx, s.dialect, all)
			if err != nil {
				return err
			}
			if len(ids) != len(all) {
				return survey.Errorf(survey.ECodeConflict, "برخی شناسه‌های پاسخ پیش‌تر ذخیره شده‌اند.", "some response ids are already stored")
			}
			return writeDelta(tx, s.dialect, d)
		})
	}
	d = d.Normalized()
	sqlDB, err := s.db.DB()
	if err != nil {
		return internal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return s.dbError(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"responses"},
				[]string{"id", "agency_id", "office_id", "survey_id", "survey_version", "channel", "source", "submitted_at", "received_at", "day", "answers", "content_hash", "flag", "device_id"},
				&responseRows{rs: all}); err != nil {
				return err
			}
			i := -1
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rollups"},
				[]string{"agency_id", "office_id", "survey_id", "survey_version", "question_id", "channel", "day", "type", "n", "sum", "sum_sq"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if i++; i >= len(d.Rollups) {
						return nil, nil
					}
					c := &d.Rollups[i]
					return append(keyValues(c.RollupKey), string(c.Type), c.N, c.Sum, c.SumSq), nil
				})); err != nil {
				return err
			}
			j := -1
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rollup_values"},
				[]string{"agency_id", "office_id", "survey_id", "survey_version", "question_id", "channel", "day", "value", "n"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if j++; j >= len(d.Histogram) {
						return nil, nil
					}
					c := &d.Histogram[j]
					return append(keyValues(c.RollupKey), c.Value, c.N), nil
				})); err != nil {
				return err
			}
			rs, vs := monthCells(d.Rollups, d.Histogram)
			k := -1
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rollup_months"},
				[]string{"agency_id", "month", "office_id", "survey_id", "survey_version", "question_id", "channel", "type", "n", "sum", "sum_sq"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if k++; k >= len(rs) {
						return nil, nil
					}
					c := &rs[k]
					return append(c.key.values(), string(c.typ), c.n, c.sum, c.sumSq), nil
				})); err != nil {
				return err
			}
			v := -1
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rollup_value_months"},
				[]string{"agency_id", "month", "office_id", "survey_id", "survey_version", "question_id", "channel", "value", "n"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if v++; v >= len(vs) {
						return nil, nil
					}
					c := &vs[v]
					return append(c.key.values(), c.value, c.n), nil
				})); err != nil {
				return err
			}
			h := -1
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rollup_hours"},
				[]string{"agency_id", "office_id", "day", "hour", "n", "sum", "sum_sq"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if h++; h >= len(d.Hours) {
						return nil, nil
					}
					c := &d.Hours[h]
					return []any{int64(c.AgencyID), int64(c.OfficeID), c.Day, int16(c.Hour), c.N, c.Sum, c.SumSq}, nil
				})); err != nil {
				return err
			}
			days, months := headlineCells(d.Rollups, d.Histogram)
			for _, t := range []struct {
				table, period string
				cells         []headlineCell
			}{{"headline_days", "day", days}, {"headline_months", "month", months}} {
				x := -1
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table},
					[]string{t.period, "agency_id", "office_id", "n", "sum", "sum_sq", "satisfied"},
					pgx.CopyFromFunc(func() ([]any, error) {
						if x++; x >= len(t.cells) {
							return nil, nil
						}
						return t.cells[x].values(), nil
					})); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return s.dbError(err)
}

// values lists a month key in the month tables' column order, typed for COPY.
func (k monthKey) values() []any {
	return []any{k.agency, k.month, k.office, k.survey, int32(k.version), k.question, string(k.channel)}
}

func keyValues(k survey.RollupKey) []any {
	return []any{int64(k.AgencyID), int64(k.OfficeID), int64(k.SurveyID), int32(k.SurveyVersion), k.QuestionID, string(k.Channel), k.Day}
}

// responseRows feeds prepared responses to COPY, in the column order of CopyFold.
type responseRows struct {
	rs  []pendingResponse
	i   int
	err error
}

func (r *responseRows) Next() bool { r.i++; return r.i <= len(r.rs) && r.err == nil }
func (r *responseRows) Err() error { return r.err }
func (r *responseRows) Values() ([]any, error) {
	p := &r.rs[r.i-1]
	id, err := uuid.Parse(p.r.ID)
	if err != nil {
		r.err = err
		return nil, err
	}
	return []any{[16]byte(id), int64(p.r.AgencyID), int64(p.r.OfficeID), int64(p.r.SurveyID), int32(p.r.SurveyVersion),
		string(p.r.Channel), p.r.Source, utc(p.r.SubmittedAt), utc(p.r.ReceivedAt), p.day, p.answers, p.r.Hash,
		string(p.r.Flag), int64(p.r.DeviceID)}, nil
}

// Analyze refreshes the planner's statistics of the response and rollup tables, after a bulk
// load has changed them by orders of magnitude (autovacuum would get there, minutes later).
func (s *Store) Analyze(ctx context.Context) error {
	q := "ANALYZE responses, rollups, rollup_values, rollup_months, rollup_value_months, rollup_hours, headline_days, headline_months"
	if s.dialect == DialectSQLite {
		q = "ANALYZE"
	}
	return s.dbError(s.read(ctx).Exec(q).Error)
}
