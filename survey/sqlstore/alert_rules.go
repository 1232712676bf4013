package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps each agency's simple alert rules (survey.AlertRules, table agency_alert_rules):
// what the alert watcher reads on each run and the alert-rules settings write.

type alertRulesRow struct {
	AgencyID     int64 `gorm:"primaryKey"`
	UnhappyShare float64
	ScoreBelow   float64
	ScoreAbove   float64
	MinN         int64
	UpdatedAt    time.Time
	UpdatedBy    string
}

func (alertRulesRow) TableName() string { return "agency_alert_rules" }

func (r alertRulesRow) rules() survey.AlertRules {
	return survey.AlertRules{AgencyID: survey.ID(r.AgencyID), UnhappyShare: r.UnhappyShare, ScoreBelow: r.ScoreBelow,
		ScoreAbove: r.ScoreAbove, MinN: r.MinN, UpdatedAt: r.UpdatedAt.UTC(), UpdatedBy: r.UpdatedBy}
}

// AlertRules returns agency's simple alert rules; an agency that never set any gets zero rules
// (every rule off) with its id.
func (s *Store) AlertRules(ctx context.Context, agency survey.ID) (survey.AlertRules, error) {
	var rows []alertRulesRow
	if err := s.read(ctx).Where("agency_id = ?", int64(agency)).Limit(1).Find(&rows).Error; err != nil {
		return survey.AlertRules{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.AlertRules{AgencyID: agency}, nil
	}
	return rows[0].rules(), nil
}

// AllAlertRules lists the rules of every agency that has at least one rule on: what one run of
// the alert watcher reads.
func (s *Store) AllAlertRules(ctx context.Context) ([]survey.AlertRules, error) {
	var rows []alertRulesRow
	err := s.read(ctx).Where("unhappy_share > 0 OR score_below > 0 OR score_above > 0").Order("agency_id").Find(&rows).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.AlertRules, len(rows))
	for i, r := range rows {
		out[i] = r.rules()
	}
	return out, nil
}

// SetAlertRules stores r as its agency's rules, replacing what was there.
func (s *Store) SetAlertRules(ctx context.Context, r survey.AlertRules) error {
	row := alertRulesRow{AgencyID: int64(r.AgencyID), UnhappyShare: r.UnhappyShare, ScoreBelow: r.ScoreBelow,
		ScoreAbove: r.ScoreAbove, MinN: r.MinN, UpdatedAt: utc(r.UpdatedAt), UpdatedBy: r.UpdatedBy}
	return s.write(ctx, func(db *gorm.DB) error {
		return s.dbError(db.Exec(`INSERT INTO agency_alert_rules (agency_id, unhappy_share, score_below, score_above, min_n, updated_at, updated_by)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agency_id) DO UPDATE SET unhappy_share = excluded.unhappy_share,
 score_below = excluded.score_below, score_above = excluded.score_above, min_n = excluded.min_n,
 updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			row.AgencyID, row.UnhappyShare, row.ScoreBelow, row.ScoreAbove, row.MinN, row.UpdatedAt, row.UpdatedBy).Error)
	})
}
