package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps what sending alerts to agency admins by SMS needs (channels/sms AlertNotifier):
// the number each person gets alerts on, which alerts are still to notify, and which person was
// sent which alert (for the per-person cap). Numbers are stored as ciphertext and keyed hash only.

// SetAlertPhone stores (or, with an empty hash, removes) the number user gets alerts on. The
// number's ciphertext is kept while it is an alert number: retention purges only numbers that
// are not.
func (s *Store) SetAlertPhone(ctx context.Context, user survey.ID, phoneHash string, phoneEnc []byte, now time.Time) error {
	return s.tx(ctx, func(db *gorm.DB) error {
		if phoneHash == "" {
			return db.Exec("DELETE FROM alert_phones WHERE user_id = ?", int64(user)).Error
		}
		// The outbox sends to numbers of sms_phones: the number is stored there too (an
		// opt-out «لغو» of the number applies to alerts as to every SMS).
		if err := db.Exec(upsertPhone, phoneHash, phoneEnc, utc(now)).Error; err != nil {
			return err
		}
		return db.Exec(`INSERT INTO alert_phones (user_id, phone_enc, phone_hash, updated_at) VALUES (?, ?, ?, ?)
 ON CONFLICT (user_id) DO UPDATE SET phone_enc = excluded.phone_enc, phone_hash = excluded.phone_hash, updated_at = excluded.updated_at`,
			int64(user), phoneEnc, phoneHash, utc(now)).Error
	})
}

// AlertPhone returns the ciphertext and keyed hash of the number user gets alerts on; nil when
// none.
func (s *Store) AlertPhone(ctx context.Context, user survey.ID) ([]byte, string, error) {
	var rows []struct {
		PhoneEnc  []byte
		PhoneHash string
	}
	err := s.read(ctx).Raw("SELECT phone_enc, phone_hash FROM alert_phones WHERE user_id = ?", int64(user)).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, "", s.dbError(err)
	}
	return rows[0].PhoneEnc, rows[0].PhoneHash, nil
}

// UnnotifiedAlerts lists up to limit open alerts opened at or after since whose recipients were
// not handled yet, oldest first.
func (s *Store) UnnotifiedAlerts(ctx context.Context, since time.Time, limit int) ([]survey.Alert, error) {
	var rows []alertRow
	err := s.read(ctx).Where("notified_at IS NULL AND resolved_at IS NULL AND opened_at >= ?", utc(since)).
		Order("opened_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Alert, len(rows))
	for i, r := range rows {
		out[i] = r.alert()
	}
	return out, nil
}

// AlertRecipients lists the enabled agency admins of agency that have an alert number.
func (s *Store) AlertRecipients(ctx context.Context, agency survey.ID) ([]survey.AlertRecipient, error) {
	var rows []struct {
		UserID    int64
		PhoneHash string
		PhoneEnc  []byte
	}
	err := s.read(ctx).Raw(`SELECT u.id AS user_id, p.phone_hash, p.phone_enc FROM users u JOIN alert_phones p ON p.user_id = u.id
 WHERE u.agency_id = ? AND u.role = ? AND NOT u.disabled ORDER BY u.id`, int64(agency), string(survey.RoleAgencyAdmin)).Scan(&rows).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.AlertRecipient, len(rows))
	for i, r := range rows {
		out[i] = survey.AlertRecipient{UserID: survey.ID(r.UserID), PhoneHash: r.PhoneHash, PhoneEnc: r.PhoneEnc}
	}
	return out, nil
}

// AlertsSentSince counts the alert SMS queued for user since `since` (capped ones excluded).
func (s *Store) AlertsSentSince(ctx context.Context, user survey.ID, since time.Time) (int, error) {
	var n int64
	err := s.read(ctx).Raw("SELECT COUNT(*) FROM alert_notifications WHERE user_id = ? AND queued_at >= ? AND NOT capped",
		int64(user), utc(since)).Scan(&n).Error
	return int(n), s.dbError(err)
}

// QueueAlertSMS records that alert goes to user and queues its SMS (text, parts, localID) in one
// transaction; capped records a refusal by the per-person cap and queues nothing. It reports
// false when this alert was handled for this person before.
func (s *Store) QueueAlertSMS(ctx context.Context, alert, user survey.ID, phoneHash, localID, text string, parts int, capped bool,
	now time.Time) (bool, error) {
	var done bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r := tx.Exec("INSERT INTO alert_notifications (alert_id, user_id, queued_at, capped) VALUES (?, ?, ?, ?) ON CONFLICT (alert_id, user_id) DO NOTHING",
			int64(alert), int64(user), utc(now), capped)
		if r.Error != nil || r.RowsAffected == 0 || capped {
			done = r.RowsAffected > 0
			return r.Error
		}
		done = true
		return tx.Exec(`INSERT INTO sms_outbox (phone_hash, local_id, text, parts, next_attempt_at, state, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (local_id) DO NOTHING`, phoneHash, localID, text, parts, utc(now), utc(now)).Error
	})
	return done, err
}

// MarkAlertNotified records that alert's recipients were handled.
func (s *Store) MarkAlertNotified(ctx context.Context, alert survey.ID, now time.Time) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("UPDATE alerts SET notified_at = ? WHERE id = ? AND notified_at IS NULL", utc(now), int64(alert)).Error
	})
}

// DigestRecipients lists every enabled person (any staff role) who set an alert number: the
// digests' recipients.
func (s *Store) DigestRecipients(ctx context.Context) ([]survey.DigestRecipient, error) {
	var rows []struct {
		UserID    int64
		Name      string
		Role      string
		AgencyID  *int64
		PhoneHash string
	}
	err := s.read(ctx).Raw(`SELECT u.id AS user_id, u.name, u.role, u.agency_id, p.phone_hash FROM users u
 JOIN alert_phones p ON p.user_id = u.id WHERE NOT u.disabled ORDER BY u.id`).Scan(&rows).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.DigestRecipient, 0, len(rows))
	for _, r := range rows {
		d := survey.DigestRecipient{UserID: survey.ID(r.UserID), Name: r.Name, Role: survey.Role(r.Role), PhoneHash: r.PhoneHash}
		if r.AgencyID != nil {
			d.AgencyID = survey.ID(*r.AgencyID)
		}
		if d.Role.PersonRole() {
			out = append(out, d)
		}
	}
	return out, nil
}

// OutboxHas reports which of localIDs the SMS outbox already holds.
func (s *Store) OutboxHas(ctx context.Context, localIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(localIDs))
	for start := 0; start < len(localIDs); start += 500 {
		var got []string
		err := s.read(ctx).Raw("SELECT local_id FROM sms_outbox WHERE local_id IN ?", localIDs[start:min(start+500, len(localIDs))]).Scan(&got).Error
		if err != nil {
			return nil, s.dbError(err)
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// QueueDigestSMS queues a digest SMS (text, parts) to the number with phoneHash under localID,
// which is derived from the person and the period: it reports false when that localID is
// queued already (another replica, or this one before a restart), and queues nothing then.
func (s *Store) QueueDigestSMS(ctx context.Context, phoneHash, localID, text string, parts int, now time.Time) (bool, error) {
	var done bool
	err := s.write(ctx, func(db *gorm.DB) error {
		r := db.Exec(`INSERT INTO sms_outbox (phone_hash, local_id, text, parts, next_attempt_at, state, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (local_id) DO NOTHING`, phoneHash, localID, text, parts, utc(now), utc(now))
		done = r.RowsAffected > 0
		return r.Error
	})
	return done, err
}
