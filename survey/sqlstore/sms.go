package sqlstore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps the SMS channel's data: numbers (by keyed hash, with their ciphertext),
// invitations, the send queue and raw inbound messages. The rules — the frequency cap, quiet
// hours, opt-outs, retries — live in channels/sms; storage only runs them inside the right
// transaction (RecordInvitation) and records their outcomes. No method here sees a number in
// plain text, so none can log one.

type smsPhoneRow struct {
	Hash          string `gorm:"primaryKey"`
	PhoneEnc      []byte
	CreatedAt     time.Time
	OptedOutAt    *time.Time
	InvalidAt     *time.Time
	LastInvitedAt *time.Time
}

func (smsPhoneRow) TableName() string { return "sms_phones" }

func (r smsPhoneRow) phone() survey.SMSPhone {
	return survey.SMSPhone{Hash: r.Hash, PhoneEnc: r.PhoneEnc, CreatedAt: r.CreatedAt.UTC(), OptedOutAt: utcPtr(r.OptedOutAt),
		InvalidAt: utcPtr(r.InvalidAt), LastInvitedAt: utcPtr(r.LastInvitedAt)}
}

type invitationRow struct {
	ID          int64 `gorm:"primaryKey"`
	AgencyID    int64
	OfficeID    int64
	PhoneHash   string
	Service     string
	VisitedAt   time.Time
	Via         string
	Status      string
	SkipReason  string
	CreatedAt   time.Time
	SendAfter   *time.Time
	ExpiresAt   time.Time
	SentAt      *time.Time
	DeliveredAt *time.Time
}

func (invitationRow) TableName() string { return "invitations" }

func (r invitationRow) invitation() survey.Invitation {
	return survey.Invitation{ID: survey.ID(r.ID), AgencyID: survey.ID(r.AgencyID), OfficeID: survey.ID(r.OfficeID),
		PhoneHash: r.PhoneHash, Service: r.Service, VisitedAt: r.VisitedAt.UTC(), Via: r.Via,
		Status: survey.InvitationStatus(r.Status), SkipReason: r.SkipReason, CreatedAt: r.CreatedAt.UTC(),
		SendAfter: utcPtr(r.SendAfter), ExpiresAt: r.ExpiresAt.UTC()}
}

// upsertPhone stores a number's row when it is new, and gives a purged number (PurgePhones) its
// ciphertext back when it is heard of again; an existing ciphertext is left as it is.
const upsertPhone = `INSERT INTO sms_phones (hash, phone_enc, created_at) VALUES (?, ?, ?)
 ON CONFLICT (hash) DO UPDATE SET phone_enc = excluded.phone_enc WHERE length(sms_phones.phone_enc) = 0`

// RecordInvitation stores inv for the number hashed inv.PhoneHash (whose ciphertext is phoneEnc)
// and, unless it is skipped, its outbox message with localID, in one transaction holding the
// number's row lock: the number's row is created if new, decide sees its state (opt-out,
// invalid, last invitation) and decides, and a queued or held invitation moves last_invited_at
// to inv.CreatedAt. Two invitations for one number at once therefore see each other, which is
// what makes the frequency cap hold across agencies and replicas. decide may run more than once
// (a retried transaction). inv.ID, Status, SkipReason and SendAfter are set on return.
func (s *Store) RecordInvitation(ctx context.Context, inv *survey.Invitation, phoneEnc []byte, localID string,
	decide func(phone survey.SMSPhone) survey.InvitationDecision) error {
	now := utc(inv.CreatedAt)
	var out invitationRow
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(upsertPhone,
			inv.PhoneHash, phoneEnc, now).Error; err != nil {
			return err
		}
		var rows []smsPhoneRow
		q := tx.Where("hash = ?", inv.PhoneHash)
		if s.dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"}) // SQLite's write transaction is exclusive already
		}
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) != 1 {
			return internal(errors.New("sms_phones row missing after insert"))
		}
		d := decide(rows[0].phone())
		out = invitationRow{AgencyID: int64(inv.AgencyID), OfficeID: int64(inv.OfficeID), PhoneHash: inv.PhoneHash,
			Service: inv.Service, VisitedAt: utc(inv.VisitedAt), Via: inv.Via, Status: string(d.Status),
			SkipReason: d.SkipReason, CreatedAt: now, SendAfter: optTime(d.SendAfter), ExpiresAt: utc(inv.ExpiresAt)}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		if d.Status == survey.InvitationSkipped {
			return nil
		}
		if err := tx.Exec("UPDATE sms_phones SET last_invited_at = ? WHERE hash = ?", now, inv.PhoneHash).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO sms_outbox (invitation_id, phone_hash, local_id, next_attempt_at, state, created_at)
VALUES (?, ?, ?, ?, 'pending', ?)`, out.ID, inv.PhoneHash, localID, utc(*d.SendAfter), now).Error
	})
	if err != nil {
		return refError(err, "office_id", "این دفتر وجود ندارد.", "the office does not exist")
	}
	*inv = out.invitation()
	return nil
}

// Invitation returns one invitation, or not found.
func (s *Store) Invitation(ctx context.Context, id survey.ID) (survey.Invitation, error) {
	var rows []invitationRow
	if err := s.read(ctx).Where("id = ?", int64(id)).Limit(1).Find(&rows).Error; err != nil {
		return survey.Invitation{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.Invitation{}, notFound("این دعوت پیدا نشد.", "invitation not found")
	}
	return rows[0].invitation(), nil
}

// SMSPhone returns what is stored about the number hashed hash, or not found.
func (s *Store) SMSPhone(ctx context.Context, hash string) (survey.SMSPhone, error) {
	var rows []smsPhoneRow
	if err := s.read(ctx).Where("hash = ?", hash).Limit(1).Find(&rows).Error; err != nil {
		return survey.SMSPhone{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.SMSPhone{}, notFound("این شماره ثبت نشده است.", "number not known")
	}
	return rows[0].phone(), nil
}

// SetOptOut records that the number hashed hash opted out at at (nil: re-subscribed), creating
// its row with phoneEnc when the number is new, so an opt-out from a number never invited is
// honoured too.
func (s *Store) SetOptOut(ctx context.Context, hash string, phoneEnc []byte, at *time.Time, now time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(upsertPhone,
			hash, phoneEnc, utc(now)).Error; err != nil {
			return err
		}
		return tx.Exec("UPDATE sms_phones SET opted_out_at = ? WHERE hash = ?", optTime(at), hash).Error
	})
}

// outboxSelect reads outbox messages with their number's ciphertext and state and their
// invitation's agency, office, via and expiry.
const outboxSelect = `SELECT o.id, COALESCE(o.invitation_id, 0) AS invitation_id, o.phone_hash, o.local_id, o.text, o.parts,
 o.attempts, o.next_attempt_at, o.state, o.message_id, o.status, o.cost, o.error_class, o.created_at, o.sent_at,
 p.phone_enc, p.opted_out_at IS NOT NULL AS opted_out, p.invalid_at IS NOT NULL AS invalid,
 COALESCE(i.agency_id, 0) AS agency_id, COALESCE(a.name, '') AS agency_name, COALESCE(i.office_id, 0) AS office_id,
 COALESCE(i.via, 'sms') AS via, i.expires_at
FROM sms_outbox o
JOIN sms_phones p ON p.hash = o.phone_hash
LEFT JOIN invitations i ON i.id = o.invitation_id
LEFT JOIN agencies a ON a.id = i.agency_id`

// outboxJoinRow is one row of outboxSelect.
type outboxJoinRow struct {
	ID            int64
	InvitationID  int64
	PhoneHash     string
	LocalID       string
	Text          string
	Parts         int
	Attempts      int
	NextAttemptAt time.Time
	State         string
	MessageID     string
	Status        int
	Cost          int64
	ErrorClass    string
	CreatedAt     time.Time
	SentAt        *time.Time
	PhoneEnc      []byte
	OptedOut      bool
	Invalid       bool
	AgencyID      int64
	AgencyName    string
	OfficeID      int64
	Via           string
	ExpiresAt     *time.Time
}

func (r outboxJoinRow) message() survey.OutboxMessage {
	m := survey.OutboxMessage{ID: survey.ID(r.ID), PhoneHash: r.PhoneHash, LocalID: r.LocalID, Text: r.Text,
		Parts: r.Parts, Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), State: survey.OutboxState(r.State),
		MessageID: r.MessageID, Status: r.Status, Cost: r.Cost, ErrorClass: r.ErrorClass, CreatedAt: r.CreatedAt.UTC(),
		SentAt: utcPtr(r.SentAt), PhoneEnc: r.PhoneEnc, OptedOut: r.OptedOut, Invalid: r.Invalid,
		AgencyID: survey.ID(r.AgencyID), AgencyName: r.AgencyName, OfficeID: survey.ID(r.OfficeID), Via: r.Via,
		ExpiresAt: utcPtr(r.ExpiresAt), InvitationID: survey.ID(r.InvitationID)}
	return m
}

func (s *Store) outboxWhere(ctx context.Context, tail string, args ...any) ([]survey.OutboxMessage, error) {
	var rows []outboxJoinRow
	if err := s.read(ctx).Raw(outboxSelect+" "+tail, args...).Scan(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = r.message()
	}
	return out, nil
}

// DueOutbox lists up to limit messages due at now: pending ones whose time has come, and
// 'sending' ones whose claim's lease ran out (their sender stopped mid-call), oldest first.
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) ([]survey.OutboxMessage, error) {
	return s.outboxWhere(ctx, "WHERE o.state IN ('pending', 'sending') AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?",
		utc(now), limit)
}

// OutboxMessage returns one queued message, or not found.
func (s *Store) OutboxMessage(ctx context.Context, id survey.ID) (survey.OutboxMessage, error) {
	ms, err := s.outboxWhere(ctx, "WHERE o.id = ?", int64(id))
	if err != nil {
		return survey.OutboxMessage{}, err
	}
	if len(ms) == 0 {
		return survey.OutboxMessage{}, notFound("این پیامک در صف نیست.", "outbox message not found")
	}
	return ms[0], nil
}

// ClaimOutbox marks m as being sent, with its final text and parts, until leaseUntil: it
// reports false when another sender changed the message since it was read (its attempts or
// state differ), so of two replicas only one sends. The attempt is counted before the call:
// a claim that is never recorded leaves the message 'sending', and whoever takes it after the
// lease asks the gateway by local id first.
func (s *Store) ClaimOutbox(ctx context.Context, m survey.OutboxMessage, text string, parts int, leaseUntil time.Time) (bool, error) {
	return s.updateOne(ctx, `UPDATE sms_outbox SET state = 'sending', attempts = attempts + 1, text = ?, parts = ?,
 next_attempt_at = ? WHERE id = ? AND attempts = ? AND state = ?`,
		text, parts, utc(leaseUntil), int64(m.ID), m.Attempts, string(m.State))
}

// OutboxSent records the gateway's acceptance of message id (its id, status, cost and parts) and
// marks its invitation sent (delivered, when the gateway says so already).
func (s *Store) OutboxSent(ctx context.Context, id survey.ID, messageID string, status int, cost int64, parts int, now time.Time) error {
	invStatus := survey.InvitationSent
	if status == 10 { // Kavenegar's "delivered": the console gateway answers it at once
		invStatus = survey.InvitationDelivered
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE sms_outbox SET state = 'sent', message_id = ?, status = ?, cost = ?, parts = ?, sent_at = ?,
 error_class = '' WHERE id = ?`, messageID, status, cost, parts, utc(now), int64(id)).Error; err != nil {
			return err
		}
		delivered := any(nil)
		if invStatus == survey.InvitationDelivered {
			delivered = utc(now)
		}
		return tx.Exec(`UPDATE invitations SET status = ?, sent_at = ?, delivered_at = ? WHERE id = (SELECT invitation_id FROM sms_outbox WHERE id = ?)`,
			string(invStatus), utc(now), delivered, int64(id)).Error
	})
}

// RetryOutbox puts message id back in the queue for next, noting the class of the failure.
func (s *Store) RetryOutbox(ctx context.Context, id survey.ID, next time.Time, class string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("UPDATE sms_outbox SET state = 'pending', next_attempt_at = ?, error_class = ? WHERE id = ?",
			utc(next), class, int64(id)).Error
	})
}

// FailOutbox ends message id for good: the message and its invitation are failed with class;
// with invalidNumber the number is marked invalid at now and never texted again.
func (s *Store) FailOutbox(ctx context.Context, id survey.ID, class string, invalidNumber bool, now time.Time) error {
	return s.endOutbox(ctx, id, class, survey.InvitationFailed, "", invalidNumber, now)
}

// SkipOutbox drops message id before sending (the citizen opted out meanwhile, the number was
// found invalid, the invitation expired): the message is failed and its invitation skipped, both
// with reason.
func (s *Store) SkipOutbox(ctx context.Context, id survey.ID, reason string, now time.Time) error {
	return s.endOutbox(ctx, id, reason, survey.InvitationSkipped, reason, false, now)
}

func (s *Store) endOutbox(ctx context.Context, id survey.ID, class string, inv survey.InvitationStatus, reason string,
	invalidNumber bool, now time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE sms_outbox SET state = 'failed', error_class = ? WHERE id = ?", class, int64(id)).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE invitations SET status = ?, skip_reason = ? WHERE id = (SELECT invitation_id FROM sms_outbox WHERE id = ?)`,
			string(inv), reason, int64(id)).Error; err != nil {
			return err
		}
		if !invalidNumber {
			return nil
		}
		return tx.Exec("UPDATE sms_phones SET invalid_at = ? WHERE hash = (SELECT phone_hash FROM sms_outbox WHERE id = ?)",
			utc(now), int64(id)).Error
	})
}

// PauseOutbox parks message id: the sender stopped on it (no credit, a disabled account).
func (s *Store) PauseOutbox(ctx context.Context, id survey.ID, class string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("UPDATE sms_outbox SET state = 'paused', error_class = ? WHERE id = ?", class, int64(id)).Error
	})
}

// ResumeOutbox makes paused messages pending again, due at now; a starting sender calls it. It
// says how many it resumed.
func (s *Store) ResumeOutbox(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec("UPDATE sms_outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'paused'", utc(now))
		n = res.RowsAffected
		return res.Error
	})
	return int(n), err
}

// SaveInbound stores a citizen's message unless one with its dedupe key (or gateway message id)
// is stored already; it sets in.ID and reports whether it stored it.
func (s *Store) SaveInbound(ctx context.Context, in *survey.SMSInbound) (bool, error) {
	var msgID any
	if in.MessageID != "" {
		msgID = in.MessageID
	}
	var inv any
	if in.InvitationID != 0 {
		inv = int64(in.InvitationID)
	}
	var created bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO sms_inbound (message_id, dedupe_key, phone_hash, phone_enc, text, received_at, parsed_kind, invitation_id, line)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, msgID, in.DedupeKey, in.PhoneHash, in.PhoneEnc, in.Text,
			utc(in.ReceivedAt), in.ParsedKind, inv, in.Line)
		if res.Error != nil {
			return res.Error
		}
		created = res.RowsAffected > 0
		var ids []int64
		if err := tx.Raw("SELECT id FROM sms_inbound WHERE dedupe_key = ? OR message_id = ?", in.DedupeKey, msgID).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) > 0 {
			in.ID = survey.ID(ids[0])
		}
		return nil
	})
	return created, err
}

// updateOne runs one UPDATE and reports whether it changed a row.
func (s *Store) updateOne(ctx context.Context, sql string, args ...any) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec(sql, args...)
		n = res.RowsAffected
		return res.Error
	})
	return n > 0, err
}

// finalStatuses are the gateway delivery statuses (Kavenegar's numbers, as sms_outbox.status
// keeps them) after which a message is not polled again: 6 failed, 10 delivered, 11
// undelivered, 13 cancelled, 14 blocked, 100 unknown id. channels/sms decides what they mean;
// storage only needs to know which rows are settled, so a late or repeated report (a push after
// the poll, a push twice) never moves a settled row back.
const finalStatuses = "(6, 10, 11, 13, 14, 100)"

// UnsettledOutbox lists up to limit messages sent at or after since (Kavenegar answers status
// for 48 hours) whose delivery is not settled yet, with ids above afterID in id order, so the
// delivery poller pages through them in batches the gateway takes in one call.
func (s *Store) UnsettledOutbox(ctx context.Context, since time.Time, afterID survey.ID, limit int) ([]survey.OutboxMessage, error) {
	return s.outboxWhere(ctx, "WHERE o.state = 'sent' AND o.message_id <> '' AND o.sent_at >= ? AND o.id > ? AND o.status NOT IN "+
		finalStatuses+" ORDER BY o.id LIMIT ?", utc(since), int64(afterID), limit)
}

// OutboxStatus records delivery status status for the message the gateway calls messageID,
// unless its delivery is settled already, and reports whether it changed a row (false for an
// unknown id or a settled message). outcome is what the status means for the invitation:
// delivered (its delivered_at set to now), failed (the message failed with class, its cost
// zeroed when refunded), or "" while the message is still on its way. A clarifying message has
// no invitation, so only its own row changes.
func (s *Store) OutboxStatus(ctx context.Context, messageID string, status int, outcome survey.InvitationStatus, class string,
	refunded bool, now time.Time) (bool, error) {
	if messageID == "" {
		return false, nil
	}
	var changed bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Raw("SELECT id FROM sms_outbox WHERE message_id = ? AND state = 'sent' AND status NOT IN "+finalStatuses,
			messageID).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		changed = true
		set, args := "status = ?", []any{status}
		if outcome == survey.InvitationFailed {
			set += ", state = 'failed', error_class = ?"
			args = append(args, class)
			if refunded {
				set += ", cost = 0"
			}
		}
		if err := tx.Exec("UPDATE sms_outbox SET "+set+" WHERE id IN ?", append(args, ids)...).Error; err != nil {
			return err
		}
		switch outcome {
		case survey.InvitationDelivered:
			return tx.Exec(`UPDATE invitations SET status = 'delivered', delivered_at = ?
 WHERE status = 'sent' AND id IN (SELECT invitation_id FROM sms_outbox WHERE id IN ?)`, utc(now), ids).Error
		case survey.InvitationFailed:
			return tx.Exec(`UPDATE invitations SET status = 'failed'
 WHERE status = 'sent' AND id IN (SELECT invitation_id FROM sms_outbox WHERE id IN ?)`, ids).Error
		}
		return nil
	})
	return changed, err
}
