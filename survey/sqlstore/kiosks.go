package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps the kiosk channel's data: offices' hours, kiosks and their pairing, the
// presses the stuffing filter judged, each batch's outcome, and alerts. The rules live in
// channels/kiosk; this is storage only (plain CRUD through GORM, the per-day report as a named
// query).

var kioskDaysSQL = query("kiosk_days")

// Office returns one office, or a not-found error.
func (s *Store) Office(ctx context.Context, id survey.ID) (survey.Office, error) {
	var row officeRow
	if err := s.read(ctx).Take(&row, int64(id)).Error; err != nil {
		return survey.Office{}, s.notFoundAs(err, "این دفتر پیدا نشد.", "office not found")
	}
	return survey.Office{ID: survey.ID(row.ID), AgencyID: survey.ID(row.AgencyID), Name: row.Name}, nil
}

// OfficeHours returns an office's stored hours, or survey.DefaultOfficeHours when it has none;
// an unknown office is not found.
func (s *Store) OfficeHours(ctx context.Context, officeID survey.ID) (survey.OfficeHours, error) {
	var rows []string
	if err := s.read(ctx).Raw("SELECT hours FROM offices WHERE id = ?", int64(officeID)).Scan(&rows).Error; err != nil {
		return survey.OfficeHours{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.OfficeHours{}, notFound("این دفتر پیدا نشد.", "office not found")
	}
	if rows[0] == "" {
		return survey.DefaultOfficeHours(), nil
	}
	var h survey.OfficeHours
	if err := json.Unmarshal([]byte(rows[0]), &h); err != nil {
		return survey.OfficeHours{}, internal(fmt.Errorf("office %d hours: %w", officeID, err))
	}
	if h.Weekly == nil {
		h.Weekly = []survey.HoursSpan{}
	}
	if h.Holidays == nil {
		h.Holidays = []string{}
	}
	return h, nil
}

// SetOfficeHours stores an office's hours as given (the caller checks them).
func (s *Store) SetOfficeHours(ctx context.Context, officeID survey.ID, h survey.OfficeHours) error {
	b, err := json.Marshal(h)
	if err != nil {
		return internal(err)
	}
	var n int64
	err = s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec("UPDATE offices SET hours = ? WHERE id = ?", string(b), int64(officeID))
		n = res.RowsAffected
		return res.Error
	})
	if err == nil && n == 0 {
		return notFound("این دفتر پیدا نشد.", "office not found")
	}
	return err
}

type kioskRow struct {
	ID               int64 `gorm:"primaryKey"`
	AgencyID         int64
	OfficeID         int64
	Name             string
	FreeText         bool
	TokenHash        *string
	PairedAt         *time.Time
	PairingCode      *string
	PairingExpiresAt *time.Time
	PairingUsedAt    *time.Time
	CreatedAt        time.Time
	RevokedAt        *time.Time
	LastSeenAt       *time.Time
	AppVersion       string
	Queued           int
	OldestQueuedS    int `gorm:"column:oldest_queued_s"`
	LastSyncAt       *time.Time
	SkewMS           int64 `gorm:"column:skew_ms"`
	BatteryLevel     *float64
	BatteryCharging  *bool
	Rejected         int
	StorageErrors    int
}

func (kioskRow) TableName() string { return "kiosks" }

// utcPtr reads a nullable time back in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r kioskRow) kiosk() survey.Kiosk {
	k := survey.Kiosk{
		ID: survey.ID(r.ID), AgencyID: survey.ID(r.AgencyID), OfficeID: survey.ID(r.OfficeID), Name: r.Name,
		FreeText: r.FreeText, Paired: r.TokenHash != nil, PairedAt: utcPtr(r.PairedAt),
		PairingExpiresAt: utcPtr(r.PairingExpiresAt), PairingUsedAt: utcPtr(r.PairingUsedAt), CreatedAt: r.CreatedAt.UTC(),
		RevokedAt: utcPtr(r.RevokedAt), LastSeenAt: utcPtr(r.LastSeenAt), AppVersion: r.AppVersion, Queued: r.Queued,
		OldestQueuedS: r.OldestQueuedS, LastSyncAt: utcPtr(r.LastSyncAt), SkewMS: r.SkewMS,
		Rejected: r.Rejected, StorageErrors: r.StorageErrors,
	}
	if r.PairingCode != nil {
		k.PairingCode = *r.PairingCode
	}
	if r.BatteryLevel != nil {
		// REAL is single precision on PostgreSQL: 0.8 comes back 0.800000011920929. A battery
		// level has no more than three meaningful digits.
		k.Battery = &survey.Battery{Level: math.Round(*r.BatteryLevel*1000) / 1000}
		if r.BatteryCharging != nil {
			k.Battery.Charging = *r.BatteryCharging
		}
	}
	return k
}

// optTime stores a nullable time in UTC at the database's precision.
func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// CreateKiosk stores k with its pending pairing code and sets k.ID and k.CreatedAt. A code
// another kiosk holds is a conflict (the caller makes a new one); the office must exist.
func (s *Store) CreateKiosk(ctx context.Context, k *survey.Kiosk) error {
	row := kioskRow{AgencyID: int64(k.AgencyID), OfficeID: int64(k.OfficeID), Name: k.Name, FreeText: k.FreeText,
		PairingExpiresAt: optTime(k.PairingExpiresAt), CreatedAt: utc(time.Now())}
	if k.PairingCode != "" {
		row.PairingCode = &k.PairingCode
	}
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return refError(err, "office_id", "این دفتر وجود ندارد.", "the office does not exist")
	}
	k.ID, k.CreatedAt = survey.ID(row.ID), row.CreatedAt
	return nil
}

// Kiosk returns one kiosk, or a not-found error.
func (s *Store) Kiosk(ctx context.Context, id survey.ID) (survey.Kiosk, error) {
	return s.kioskWhere(ctx, "id = ?", int64(id))
}

// KioskByToken returns the kiosk whose device token hashes to tokenHash, or not found.
func (s *Store) KioskByToken(ctx context.Context, tokenHash string) (survey.Kiosk, error) {
	return s.kioskWhere(ctx, "token_hash = ?", tokenHash)
}

// KioskByPairingCode returns the kiosk holding pairing code code (pending or used), or not found.
func (s *Store) KioskByPairingCode(ctx context.Context, code string) (survey.Kiosk, error) {
	return s.kioskWhere(ctx, "pairing_code = ?", code)
}

func (s *Store) kioskWhere(ctx context.Context, cond string, arg any) (survey.Kiosk, error) {
	var rows []kioskRow
	if err := s.read(ctx).Where(cond, arg).Limit(1).Find(&rows).Error; err != nil {
		return survey.Kiosk{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.Kiosk{}, notFound("این کیوسک پیدا نشد.", "kiosk not found")
	}
	return rows[0].kiosk(), nil
}

// Kiosks lists an agency's kiosks by id, or every kiosk for agency 0.
func (s *Store) Kiosks(ctx context.Context, agencyID survey.ID) ([]survey.Kiosk, error) {
	q := s.read(ctx).Order("id")
	if agencyID != 0 {
		q = q.Where("agency_id = ?", int64(agencyID))
	}
	var rows []kioskRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Kiosk, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.kiosk())
	}
	return out, nil
}

// updateKiosk applies one UPDATE to kiosk id (and the extra condition, if any) and reports
// whether it matched; a kiosk that does not exist is not found.
func (s *Store) updateKiosk(ctx context.Context, id survey.ID, cond string, condArgs []any, set map[string]any) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		q := db.Model(&kioskRow{}).Where("id = ?", int64(id))
		if cond != "" {
			q = q.Where(cond, condArgs...)
		}
		res := q.Updates(set)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, err
	}
	if n == 0 && cond == "" {
		return false, notFound("این کیوسک پیدا نشد.", "kiosk not found")
	}
	return n > 0, nil
}

// SetPairingCode gives kiosk id a new pending code, replacing any other; the device token is
// left alone. A code another kiosk holds is a conflict.
func (s *Store) SetPairingCode(ctx context.Context, id survey.ID, code string, expires time.Time) error {
	_, err := s.updateKiosk(ctx, id, "", nil, map[string]any{
		"pairing_code": code, "pairing_expires_at": utc(expires), "pairing_used_at": gorm.Expr("NULL")})
	return err
}

// CompletePairing uses kiosk id's pending code code at now, when it is still pending: the
// kiosk's token becomes tokenHash (the previous token stops working at once) and the code is
// marked used. One UPDATE with the conditions in its WHERE, so two tablets racing for one code
// cannot both win.
func (s *Store) CompletePairing(ctx context.Context, id survey.ID, code, tokenHash string, now time.Time) (bool, error) {
	now = utc(now)
	return s.updateKiosk(ctx, id, "pairing_code = ? AND pairing_used_at IS NULL AND pairing_expires_at > ?", []any{code, now},
		map[string]any{"token_hash": tokenHash, "paired_at": now, "pairing_used_at": now})
}

// RevokeKioskToken clears kiosk id's device token and pending code.
func (s *Store) RevokeKioskToken(ctx context.Context, id survey.ID, now time.Time) error {
	null := gorm.Expr("NULL")
	_, err := s.updateKiosk(ctx, id, "", nil, map[string]any{"token_hash": null, "pairing_code": null,
		"pairing_expires_at": null, "pairing_used_at": null, "revoked_at": utc(now)})
	return err
}

// RecordHeartbeat stores what kiosk id reported and that it was seen at now.
func (s *Store) RecordHeartbeat(ctx context.Context, id survey.ID, h survey.KioskHealth, now time.Time) error {
	set := map[string]any{"last_seen_at": utc(now), "app_version": h.AppVersion, "queued": h.Queued,
		"oldest_queued_s": h.OldestQueuedS, "skew_ms": h.SkewMS, "rejected": h.Rejected, "storage_errors": h.StorageErrors,
		"last_sync_at": gorm.Expr("NULL"), "battery_level": gorm.Expr("NULL"), "battery_charging": gorm.Expr("NULL")}
	if h.LastSyncAt != nil {
		set["last_sync_at"] = utc(*h.LastSyncAt)
	}
	if h.Battery != nil {
		set["battery_level"], set["battery_charging"] = h.Battery.Level, h.Battery.Charging
	}
	_, err := s.updateKiosk(ctx, id, "", nil, set)
	return err
}

type pressRow struct {
	KioskID    int64
	ResponseID string
	PressedAt  time.Time
	Day        string
	Flag       string
}

func (pressRow) TableName() string { return "kiosk_presses" }

func (r pressRow) press() survey.KioskPress {
	return survey.KioskPress{KioskID: survey.ID(r.KioskID), ResponseID: r.ResponseID, PressedAt: r.PressedAt.UTC(), Flag: survey.Flag(r.Flag)}
}

func pressRows(rows []pressRow) []survey.KioskPress {
	out := make([]survey.KioskPress, len(rows))
	for i, r := range rows {
		out[i] = r.press()
	}
	return out
}

// RecordPresses runs decide under kiosk kioskID's lock — a row lock on PostgreSQL, the one write
// transaction on SQLite — and inserts the presses it returns (ON CONFLICT DO NOTHING: a press is
// recorded once). decide gets the recorded presses among ids and a window reader that runs in the
// same transaction. The transaction may be retried (SQLite busy), running decide again.
func (s *Store) RecordPresses(ctx context.Context, kioskID survey.ID, ids []string, decide func(known []survey.KioskPress,
	window func(from, to time.Time) ([]survey.KioskPress, error)) ([]survey.KioskPress, error)) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		lock := tx
		if s.dialect == DialectPostgres {
			lock = lock.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var k []kioskRow
		if err := lock.Select("id").Where("id = ?", int64(kioskID)).Limit(1).Find(&k).Error; err != nil {
			return err
		}
		if len(k) == 0 {
			return notFound("این کیوسک پیدا نشد.", "kiosk not found")
		}
		var known []pressRow
		if len(ids) > 0 {
			if err := tx.Where("kiosk_id = ? AND response_id IN ?", int64(kioskID), ids).Find(&known).Error; err != nil {
				return err
			}
		}
		window := func(from, to time.Time) ([]survey.KioskPress, error) {
			var rows []pressRow
			err := tx.Where("kiosk_id = ? AND pressed_at >= ? AND pressed_at <= ?", int64(kioskID), utc(from), utc(to)).
				Order("pressed_at").Find(&rows).Error
			return pressRows(rows), s.dbError(err)
		}
		add, err := decide(pressRows(known), window)
		if err != nil || len(add) == 0 {
			return err
		}
		rows := make([]pressRow, len(add))
		for i, p := range add {
			at := utc(p.PressedAt)
			rows[i] = pressRow{KioskID: int64(kioskID), ResponseID: p.ResponseID, PressedAt: at,
				Day: survey.TehranDay(at).Format(survey.DayFormat), Flag: string(p.Flag)}
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
	})
}

type syncRow struct {
	ID         int64 `gorm:"primaryKey"`
	KioskID    int64
	ReceivedAt time.Time
	SentAt     time.Time
	SkewMS     int64 `gorm:"column:skew_ms"`
	Corrected  bool
	Items      int
	Accepted   int
	Duplicates int
	Rejected   int
}

func (syncRow) TableName() string { return "kiosk_syncs" }

// RecordSync stores one batch's outcome and makes its skew and arrival the kiosk's latest
// (skew_ms, last_seen_at).
func (s *Store) RecordSync(ctx context.Context, ks survey.KioskSync) error {
	row := syncRow{KioskID: int64(ks.KioskID), ReceivedAt: utc(ks.ReceivedAt), SentAt: utc(ks.SentAt), SkewMS: ks.SkewMS,
		Corrected: ks.Corrected, Items: ks.Items, Accepted: ks.Accepted, Duplicates: ks.Duplicates, Rejected: ks.Rejected}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Model(&kioskRow{}).Where("id = ?", row.KioskID).
			Updates(map[string]any{"skew_ms": row.SkewMS, "last_seen_at": row.ReceivedAt}).Error
	})
}

// KioskSyncs lists kiosk id's recorded batches, oldest first.
func (s *Store) KioskSyncs(ctx context.Context, id survey.ID) ([]survey.KioskSync, error) {
	var rows []syncRow
	if err := s.read(ctx).Where("kiosk_id = ?", int64(id)).Order("id").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.KioskSync, len(rows))
	for i, r := range rows {
		out[i] = survey.KioskSync{KioskID: survey.ID(r.KioskID), ReceivedAt: r.ReceivedAt.UTC(), SentAt: r.SentAt.UTC(),
			SkewMS: r.SkewMS, Corrected: r.Corrected, Items: r.Items, Accepted: r.Accepted, Duplicates: r.Duplicates, Rejected: r.Rejected}
	}
	return out, nil
}

// KioskPresses lists kiosk id's recorded presses in time order (for audits and tests).
func (s *Store) KioskPresses(ctx context.Context, id survey.ID) ([]survey.KioskPress, error) {
	var rows []pressRow
	if err := s.read(ctx).Where("kiosk_id = ?", int64(id)).Order("pressed_at, response_id").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	return pressRows(rows), nil
}

// KioskDays counts kiosk kioskID's presses per Tehran day from fromDay to toDay (inclusive,
// "YYYY-MM-DD"; "" for open-ended), by day (the kiosk_days query).
func (s *Store) KioskDays(ctx context.Context, kioskID survey.ID, fromDay, toDay string) (_ []survey.KioskDay, err error) {
	rows, err := s.read(ctx).Raw(kioskDaysSQL, sql.Named("kiosk", int64(kioskID)),
		sql.Named("from_day", fromDay), sql.Named("to_day", toDay)).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.KioskDay{}
	for rows.Next() {
		var (
			d    survey.KioskDay
			last any
		)
		if err := rows.Scan(&d.Day, &d.Accepted, &d.Interval, &d.Burst, &d.AfterHours, &last); err != nil {
			return nil, s.dbError(err)
		}
		if d.LastPress, err = scannedTime(last); err != nil {
			return nil, internal(err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

// scannedTime reads a time an aggregate returned: PostgreSQL gives a time, SQLite the stored text
// (an aggregate loses the column's declared type, so the driver does not parse it).
func scannedTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case []byte:
		return parseSQLiteTime(string(t))
	case string:
		return parseSQLiteTime(t)
	}
	return time.Time{}, fmt.Errorf("unexpected time value %T", v)
}

// parseSQLiteTime reads the text the SQLite driver writes for a time.
func parseSQLiteTime(s string) (time.Time, error) {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read time %q", s)
}

type alertRow struct {
	ID             int64 `gorm:"primaryKey"`
	Kind           string
	AgencyID       int64
	OfficeID       int64
	Subject        string
	OpenedAt       time.Time
	ResolvedAt     *time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
	AckComment     string
	Detail         string
}

func (alertRow) TableName() string { return "alerts" }

func (r alertRow) alert() survey.Alert {
	return survey.Alert{ID: survey.ID(r.ID), Kind: r.Kind, AgencyID: survey.ID(r.AgencyID), OfficeID: survey.ID(r.OfficeID),
		Subject: r.Subject, OpenedAt: r.OpenedAt.UTC(), ResolvedAt: utcPtr(r.ResolvedAt), AcknowledgedAt: utcPtr(r.AcknowledgedAt),
		AcknowledgedBy: r.AcknowledgedBy, AckComment: r.AckComment, Detail: r.Detail}
}

// OpenAlert opens a unless an alert of its kind is already open for its subject, and reports
// whether it did. The partial unique index on open alerts decides, so watchers on several
// replicas open it once between them.
func (s *Store) OpenAlert(ctx context.Context, a survey.Alert) (bool, error) {
	if a.Detail == "" {
		a.Detail = "{}"
	}
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec(`INSERT INTO alerts (kind, agency_id, office_id, subject, opened_at, acknowledged_by, detail)
VALUES (?, ?, ?, ?, ?, '', ?)
ON CONFLICT (kind, subject) WHERE resolved_at IS NULL DO NOTHING`,
			a.Kind, int64(a.AgencyID), int64(a.OfficeID), a.Subject, utc(a.OpenedAt), a.Detail)
		n = res.RowsAffected
		return res.Error
	})
	return n > 0, refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
}

// ResolveAlerts resolves the open alerts of kind about subject at now and says how many.
func (s *Store) ResolveAlerts(ctx context.Context, kind, subject string, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec("UPDATE alerts SET resolved_at = ? WHERE kind = ? AND subject = ? AND resolved_at IS NULL", utc(now), kind, subject)
		n = res.RowsAffected
		return res.Error
	})
	return int(n), err
}

// Alerts lists alerts by id, of one agency (0: all), only the open ones when openOnly.
func (s *Store) Alerts(ctx context.Context, agencyID survey.ID, openOnly bool) ([]survey.Alert, error) {
	q := s.read(ctx).Order("id")
	if agencyID != 0 {
		q = q.Where("agency_id = ?", int64(agencyID))
	}
	if openOnly {
		q = q.Where("resolved_at IS NULL")
	}
	var rows []alertRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Alert, len(rows))
	for i, r := range rows {
		out[i] = r.alert()
	}
	return out, nil
}
