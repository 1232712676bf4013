package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// reaggregatePage is how many raw responses Reaggregate reads per query.
const reaggregatePage = 2000

// reaggregateFlush bounds the cells Reaggregate accumulates in memory before writing them.
const reaggregateFlush = 200_000

// Reaggregate rebuilds the rollup tables (rollups, rollup_values, their month sums, rollup_hours,
// the headline tables) from the raw responses in one transaction: it empties
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
			if err := tx.Exec("LOCK TABLE rollups, rollup_values, rollup_months, rollup_value_months, rollup_hours, headline_days, headline_months IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		if err := tx.Exec("DELETE FROM headline_months").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM headline_days").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM rollup_hours").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM rollup_value_months").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM rollup_months").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM rollup_values").Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM rollups").Error; err != nil {
			return err
		}
		var acc survey.RollupSum
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
			acc.Add(delta(page))
			if acc.Len() >= reaggregateFlush {
				if err := writeDelta(tx, s.dialect, acc.Delta()); err != nil {
					return err
				}
				acc = survey.RollupSum{}
			}
		}
		return writeDelta(tx, s.dialect, acc.Delta())
	})
	if err != nil {
		return err
	}
	s.log.Info("rollups rebuilt from raw responses", "responses", total, "took", time.Since(start))
	return nil
}

// readResponses returns up to limit raw responses with ids after the given one, in id order,
// as they were folded: with their content hash, flag (a flagged response is folded into its
// flag row only) and device.
func readResponses(tx *gorm.DB, after string, limit int) (out []survey.Response, err error) {
	q := "SELECT CAST(id AS TEXT), agency_id, office_id, survey_id, survey_version, channel, source, submitted_at, received_at, answers, content_hash, flag, device_id FROM responses"
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
			r                           survey.Response
			agency, office, sid, device int64
			channel, answers, flag      string
		)
		if err := rows.Scan(&r.ID, &agency, &office, &sid, &r.SurveyVersion, &channel, &r.Source, &r.SubmittedAt, &r.ReceivedAt, &answers, &r.Hash, &flag, &device); err != nil {
			return nil, err
		}
		r.AgencyID, r.OfficeID, r.SurveyID, r.Channel = survey.ID(agency), survey.ID(office), survey.ID(sid), survey.Channel(channel)
		r.DeviceID, r.Flag = survey.ID(device), survey.Flag(flag)
		r.SubmittedAt, r.ReceivedAt = r.SubmittedAt.UTC(), r.ReceivedAt.UTC()
		if err := json.Unmarshal([]byte(answers), &r.Answers); err != nil {
			return nil, fmt.Errorf("response %s: answers: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
