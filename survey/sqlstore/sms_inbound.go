package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps what becomes of citizens' replies: the inbound messages still to process,
// the invitation a reply is matched to, the outcome recorded on the message, and the one
// clarifying SMS an ambiguous reply may earn. Like sms.go, nothing here sees a number in plain
// text.

type inboundRow struct {
	ID           int64
	MessageID    *string
	DedupeKey    string
	PhoneHash    string
	PhoneEnc     []byte
	Text         string
	ReceivedAt   time.Time
	ParsedKind   string
	InvitationID *int64
	Line         string
	ProcessedAt  *time.Time
	Outcome      string
	Rating       int
	Comment      string
	ResponseID   string
}

func (r inboundRow) inbound() survey.SMSInbound {
	in := survey.SMSInbound{ID: survey.ID(r.ID), DedupeKey: r.DedupeKey, PhoneHash: r.PhoneHash, PhoneEnc: r.PhoneEnc,
		Text: r.Text, ReceivedAt: r.ReceivedAt.UTC(), ParsedKind: r.ParsedKind, Line: r.Line,
		ProcessedAt: utcPtr(r.ProcessedAt), Outcome: survey.InboundOutcome(r.Outcome), Rating: r.Rating,
		Comment: r.Comment, ResponseID: r.ResponseID}
	if r.MessageID != nil {
		in.MessageID = *r.MessageID
	}
	if r.InvitationID != nil {
		in.InvitationID = survey.ID(*r.InvitationID)
	}
	return in
}

const inboundColumns = `id, message_id, dedupe_key, phone_hash, phone_enc, text, received_at, parsed_kind, invitation_id,
 line, processed_at, outcome, rating, comment, response_id`

func (s *Store) inboundWhere(ctx context.Context, tail string, args ...any) ([]survey.SMSInbound, error) {
	var rows []inboundRow
	if err := s.read(ctx).Raw("SELECT "+inboundColumns+" FROM sms_inbound "+tail, args...).Scan(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.SMSInbound, len(rows))
	for i, r := range rows {
		out[i] = r.inbound()
	}
	return out, nil
}

// UnprocessedInbound lists up to limit stored messages not processed yet, oldest first: the
// processing loop's work, including what a crash between storing and processing left behind.
func (s *Store) UnprocessedInbound(ctx context.Context, limit int) ([]survey.SMSInbound, error) {
	return s.inboundWhere(ctx, "WHERE processed_at IS NULL ORDER BY id LIMIT ?", limit)
}

// InboundMessage returns one stored message, or not found.
func (s *Store) InboundMessage(ctx context.Context, id survey.ID) (survey.SMSInbound, error) {
	ms, err := s.inboundWhere(ctx, "WHERE id = ?", int64(id))
	if err != nil {
		return survey.SMSInbound{}, err
	}
	if len(ms) == 0 {
		return survey.SMSInbound{}, notFound("این پیامک دریافتی پیدا نشد.", "inbound message not found")
	}
	return ms[0], nil
}

// RecentInbound lists the latest limit stored messages, newest first (the development page).
func (s *Store) RecentInbound(ctx context.Context, limit int) ([]survey.SMSInbound, error) {
	return s.inboundWhere(ctx, "ORDER BY id DESC LIMIT ?", limit)
}

type invitationMatchRow struct {
	ID, AgencyID, OfficeID          int64
	PhoneHash, Service, Via, Status string
	SkipReason                      string
	VisitedAt, CreatedAt, ExpiresAt time.Time
	SendAfter, SentAt, DeliveredAt  *time.Time
	AnsweredAt, ClarifiedAt         *time.Time
}

// LatestInvitation returns the latest invitation sent (or delivered) to the number hashed
// phoneHash no later than at, with whether it was answered or clarified; false when there is
// none. An invitation whose SMS is being sent counts as sent: the gateway may have delivered it
// before the sender records so, and a reply in that moment must not be lost as unmatched. Whether the reply is still within its window is the caller's call (InvitationMatch.Open).
func (s *Store) LatestInvitation(ctx context.Context, phoneHash string, at time.Time) (survey.InvitationMatch, bool, error) {
	var rows []invitationMatchRow
	err := s.read(ctx).Raw(`SELECT id, agency_id, office_id, phone_hash, service, visited_at, via, status, skip_reason, created_at,
 send_after, expires_at, sent_at, delivered_at, answered_at, clarified_at FROM invitations
 WHERE phone_hash = ? AND created_at <= ? AND (status IN ('sent', 'delivered') OR (status = 'queued' AND EXISTS
 (SELECT 1 FROM sms_outbox o WHERE o.invitation_id = invitations.id AND o.state IN ('sending', 'sent'))))
 ORDER BY created_at DESC, id DESC LIMIT 1`,
		phoneHash, utc(at)).Scan(&rows).Error
	if err != nil {
		return survey.InvitationMatch{}, false, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.InvitationMatch{}, false, nil
	}
	r := rows[0]
	inv := invitationRow{ID: r.ID, AgencyID: r.AgencyID, OfficeID: r.OfficeID, PhoneHash: r.PhoneHash, Service: r.Service,
		VisitedAt: r.VisitedAt, Via: r.Via, Status: r.Status, SkipReason: r.SkipReason, CreatedAt: r.CreatedAt,
		SendAfter: r.SendAfter, ExpiresAt: r.ExpiresAt, SentAt: r.SentAt, DeliveredAt: r.DeliveredAt}
	return survey.InvitationMatch{Invitation: inv.invitation(), AnsweredAt: utcPtr(r.AnsweredAt), ClarifiedAt: utcPtr(r.ClarifiedAt)}, true, nil
}

// FinishInbound records what processing made of message id, once: a message processed already
// is left as it is (it reports false), so two processors racing record one outcome. A scored
// reply (res.Answered) marks its invitation answered by SMS in the same transaction, unless it
// was answered before.
func (s *Store) FinishInbound(ctx context.Context, id survey.ID, res survey.InboundResult, now time.Time) (bool, error) {
	var inv any
	if res.InvitationID != 0 {
		inv = int64(res.InvitationID)
	}
	dialogue := ""
	if res.Dialogue != nil {
		b, err := json.Marshal(res.Dialogue)
		if err != nil {
			return false, internal(err)
		}
		dialogue = string(b)
	}
	var done bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r := tx.Exec(`UPDATE sms_inbound SET processed_at = ?, parsed_kind = ?, outcome = ?, rating = ?, comment = ?, response_id = ?,
 invitation_id = ?, dialogue = ?, lease_until = NULL WHERE id = ? AND processed_at IS NULL`, utc(now), res.Kind, string(res.Outcome),
			res.Rating, res.Comment, res.ResponseID, inv, dialogue, int64(id))
		if r.Error != nil {
			return r.Error
		}
		done = r.RowsAffected > 0
		if !done || !res.Answered || res.InvitationID == 0 {
			return nil
		}
		return tx.Exec("UPDATE invitations SET answered_at = ?, answered_via = 'sms' WHERE id = ? AND answered_at IS NULL",
			utc(now), int64(res.InvitationID)).Error
	})
	return done, err
}

// QueueClarification queues the clarifying SMS (text, parts, localID) for invitation
// invitationID to the number hashed phoneHash — unless the invitation had one already: it
// reports whether it queued. The message is not tied to the invitation in the outbox, so that
// sending it leaves the invitation's own status (sent, delivered) as it is.
func (s *Store) QueueClarification(ctx context.Context, invitationID survey.ID, phoneHash, localID, text string, parts int,
	now time.Time) (bool, error) {
	var queued bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r := tx.Exec("UPDATE invitations SET clarified_at = ? WHERE id = ? AND clarified_at IS NULL", utc(now), int64(invitationID))
		if r.Error != nil || r.RowsAffected == 0 {
			return r.Error
		}
		queued = true
		return tx.Exec(`INSERT INTO sms_outbox (phone_hash, local_id, text, parts, next_attempt_at, state, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?)`, phoneHash, localID, text, parts, utc(now), utc(now)).Error
	})
	return queued, err
}

// RecentOutbox lists the latest limit queued messages, newest first, with their numbers'
// ciphertext (the development page shows them masked).
func (s *Store) RecentOutbox(ctx context.Context, limit int) ([]survey.OutboxMessage, error) {
	return s.outboxWhere(ctx, "ORDER BY o.id DESC LIMIT ?", limit)
}

// AgencyInbound lists the latest limit messages received in [from, to) that were matched to an
// invitation of agency, newest first (staff's view; a message matched to none belongs to no agency).
func (s *Store) AgencyInbound(ctx context.Context, agency survey.ID, from, to time.Time, limit int) ([]survey.SMSInbound, error) {
	return s.inboundWhere(ctx, `WHERE invitation_id IN (SELECT id FROM invitations WHERE agency_id = ?)
 AND received_at >= ? AND received_at < ? ORDER BY id DESC LIMIT ?`, int64(agency), utc(from), utc(to), limit)
}
