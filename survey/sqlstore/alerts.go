package sqlstore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps what the score alert watcher (analytics.AlertWatcher) stores besides the
// alerts themselves: each office's alert state between daily runs, and people's
// acknowledgements of alerts.

// alertTrackRow is one row of alert_tracks: the watcher's JSON state of one office and kind.
type alertTrackRow struct {
	OfficeID  int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind      string `gorm:"primaryKey"`
	AgencyID  int64
	State     string
	UpdatedAt time.Time
}

func (alertTrackRow) TableName() string { return "alert_tracks" }

// AlertTrack returns the state the alert watcher saved for an office and kind, "" when none.
func (s *Store) AlertTrack(ctx context.Context, office survey.ID, kind string) (string, error) {
	var row alertTrackRow
	err := s.read(ctx).Where("office_id = ? AND kind = ?", int64(office), kind).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", s.dbError(err)
	}
	return row.State, nil
}

// SaveAlertTrack stores (replaces) the watcher's state of an office and kind.
func (s *Store) SaveAlertTrack(ctx context.Context, agency, office survey.ID, kind, state string, now time.Time) error {
	row := alertTrackRow{OfficeID: int64(office), Kind: kind, AgencyID: int64(agency), State: state, UpdatedAt: utc(now)}
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "office_id"}, {Name: "kind"}},
			DoUpdates: clause.AssignmentColumns([]string{"agency_id", "state", "updated_at"}),
		}).Create(&row).Error
	})
}

// Alert returns one alert, or a not-found error.
func (s *Store) Alert(ctx context.Context, id survey.ID) (survey.Alert, error) {
	var r alertRow
	if err := s.read(ctx).Take(&r, int64(id)).Error; err != nil {
		return survey.Alert{}, s.notFoundAs(err, "این هشدار پیدا نشد.", "alert not found")
	}
	return r.alert(), nil
}

// AckAlert records that by acknowledged alert id at now with a comment. Acknowledging again
// replaces the earlier acknowledgement (the latest person's word counts); an unknown alert is not
// found. Who may acknowledge is the caller's check.
func (s *Store) AckAlert(ctx context.Context, id survey.ID, by, comment string, now time.Time) (survey.Alert, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, ack_comment = ? WHERE id = ?",
			utc(now), by, comment, int64(id))
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return survey.Alert{}, s.dbError(err)
	}
	if n == 0 {
		return survey.Alert{}, notFound("این هشدار پیدا نشد.", "alert not found")
	}
	return s.Alert(ctx, id)
}
