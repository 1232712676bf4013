package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps SMS follow-up conversations (channels/sms dialogue) on the embedded default,
// the leases that keep two replicas from acting on one reply at once, and the one claim an
// invitation's answer takes.

// PutDialogue stores d as its number's open conversation, replacing any earlier one; it is
// dead after d.ExpiresAt.
func (s *Store) PutDialogue(ctx context.Context, d survey.SMSDialogue) error {
	state, err := json.Marshal(d)
	if err != nil {
		return internal(err)
	}
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec(`INSERT INTO sms_dialogues (phone_hash, state, expires_at) VALUES (?, ?, ?)
 ON CONFLICT (phone_hash) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at`,
			d.PhoneHash, string(state), utc(d.ExpiresAt)).Error
	})
}

// TakeDialogue removes the number's open conversation and returns it, when there is one that
// had not expired at `at`. One statement deletes and returns, so of two concurrent takers only
// one gets the conversation.
func (s *Store) TakeDialogue(ctx context.Context, phoneHash string, at time.Time) (survey.SMSDialogue, bool, error) {
	var rows []struct {
		State     string
		ExpiresAt time.Time
	}
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Raw("DELETE FROM sms_dialogues WHERE phone_hash = ? RETURNING state, expires_at", phoneHash).Scan(&rows).Error
	})
	if err != nil || len(rows) == 0 {
		return survey.SMSDialogue{}, false, err
	}
	if at.After(rows[0].ExpiresAt) {
		return survey.SMSDialogue{}, false, nil
	}
	var d survey.SMSDialogue
	if err := json.Unmarshal([]byte(rows[0].State), &d); err != nil {
		return survey.SMSDialogue{}, false, internal(err)
	}
	return d, true, nil
}

// SweepDialogues deletes conversations that expired before `before` and reports how many.
func (s *Store) SweepDialogues(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		r := db.Exec("DELETE FROM sms_dialogues WHERE expires_at < ?", utc(before))
		n = r.RowsAffected
		return r.Error
	})
	return n, err
}

// AwaitingFollowUps lists up to limit ratings still waiting for their conversation to end, with
// the conversation as it was opened (the durable copy), oldest first.
func (s *Store) AwaitingFollowUps(ctx context.Context, limit int) ([]survey.SMSDialogue, error) {
	var states []string
	err := s.read(ctx).Raw("SELECT dialogue FROM sms_inbound WHERE outcome = ? ORDER BY received_at, id LIMIT ?",
		string(survey.InboundAwaitingFollowUp), limit).Scan(&states).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.SMSDialogue, 0, len(states))
	for _, st := range states {
		var d survey.SMSDialogue
		if err := json.Unmarshal([]byte(st), &d); err != nil {
			return nil, internal(err)
		}
		out = append(out, d)
	}
	return out, nil
}

// CloseDialogue records that the conversation opened by message inboundID ended with response
// responseID submitted: the message's outcome becomes scored. It reports false when the message
// was closed already (by another replica, or by the sweeper).
func (s *Store) CloseDialogue(ctx context.Context, inboundID survey.ID, responseID string) (bool, error) {
	var done bool
	err := s.write(ctx, func(db *gorm.DB) error {
		r := db.Exec("UPDATE sms_inbound SET outcome = ?, response_id = ? WHERE id = ? AND outcome = ?",
			string(survey.InboundScored), responseID, int64(inboundID), string(survey.InboundAwaitingFollowUp))
		done = r.RowsAffected > 0
		return r.Error
	})
	return done, err
}

// LeaseInbound hands out up to limit messages still to process, each leased to the caller until
// `until`: another replica asking before then gets other messages, and a message whose lease ran
// out (its processor died) is handed out again. Oldest first.
func (s *Store) LeaseInbound(ctx context.Context, now, until time.Time, limit int) ([]survey.SMSInbound, error) {
	var rows []inboundRow
	err := s.write(ctx, func(db *gorm.DB) error {
		// The lease condition is repeated outside the subquery: on PostgreSQL a row another
		// replica leased meanwhile is re-checked after its lock is released, and skipped.
		return db.Raw(`UPDATE sms_inbound SET lease_until = ? WHERE id IN (SELECT id FROM sms_inbound
 WHERE processed_at IS NULL AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?)
 AND processed_at IS NULL AND (lease_until IS NULL OR lease_until < ?) RETURNING `+inboundColumns,
			utc(until), utc(now), limit, utc(now)).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := make([]survey.SMSInbound, len(rows))
	for i, r := range rows {
		out[i] = r.inbound()
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b survey.SMSInbound) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ReleaseInbound gives up the lease on message id after its processing failed in this pass, so
// the next pass (of any replica) retries it at once.
func (s *Store) ReleaseInbound(ctx context.Context, id survey.ID) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("UPDATE sms_inbound SET lease_until = NULL WHERE id = ? AND processed_at IS NULL", int64(id)).Error
	})
}

// ClaimInvitation makes claim ('sms:<inbound id>' or 'link:<response id>') the invitation's one
// counted answer and reports whether it is: true when this call set it or it was this claim
// already (a retry after a crash), false when another answer holds the invitation.
func (s *Store) ClaimInvitation(ctx context.Context, invitationID survey.ID, claim string) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		r := db.Exec("UPDATE invitations SET answer_claim = ? WHERE id = ? AND (answer_claim IS NULL OR answer_claim = ?)",
			claim, int64(invitationID), claim)
		n = r.RowsAffected
		return r.Error
	})
	return n > 0, err
}

// ReleaseInvitation undoes ClaimInvitation(invitationID, claim) when the answer could not be
// stored after all; another answer's claim is left alone.
func (s *Store) ReleaseInvitation(ctx context.Context, invitationID survey.ID, claim string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("UPDATE invitations SET answer_claim = NULL WHERE id = ? AND answer_claim = ?", int64(invitationID), claim).Error
	})
}

// QueueSMS queues one information SMS (a follow-up question) to the number hashed phoneHash and
// reports whether it did: localID names the message for good, so queueing it again (the same
// reply processed twice) queues nothing.
func (s *Store) QueueSMS(ctx context.Context, phoneHash, localID, text string, parts int, now time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		r := db.Exec(`INSERT INTO sms_outbox (phone_hash, local_id, text, parts, next_attempt_at, state, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (local_id) DO NOTHING`, phoneHash, localID, text, parts, utc(now), utc(now))
		n = r.RowsAffected
		return r.Error
	})
	return n > 0, err
}
