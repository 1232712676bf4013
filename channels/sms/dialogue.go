package sms

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// The dialogue: after a rating, a survey may ask a few more questions by SMS (its
// SMSSettings.FollowUp, typically the reasons of an unhappy citizen as numbered options, shown
// only when the rating is 2 or less). One conversation per number is open at a time, never
// longer than the survey's SMS question limit, and it ends when the last question is answered,
// when the citizen writes something that is not an answer, or when it expires. Its response is
// submitted once, at the end, with every answer — one citizen, one response — under an id
// derived from the rating's message, so submitting twice stores it once.
//
// Durability: the rating was acknowledged to the citizen (a follow-up SMS went out), so it must
// not depend on the live state. The conversation as it was opened is kept on the rating's own
// message in the SQL store (outcome awaiting_follow_up); the live state (answers so far, the
// pending question) is kept under a TTL in the DialogueStore — Redis, or the SQL store on the
// embedded default. The sweeper submits an expired conversation from whatever survives: the
// live state if it is still there, else the durable copy (the rating alone).

// DialogueStore keeps the live state of open conversations, one per number, each dead after its
// ExpiresAt.
type DialogueStore interface {
	PutDialogue(ctx context.Context, d survey.SMSDialogue) error
	// TakeDialogue removes and returns the number's conversation if it was open at `at`; of
	// two concurrent takers only one gets it.
	TakeDialogue(ctx context.Context, phoneHash string, at time.Time) (survey.SMSDialogue, bool, error)
}

// DialogueSweeper is a DialogueStore that must delete its dead conversations itself (the SQL
// one; Redis expires keys on its own).
type DialogueSweeper interface {
	SweepDialogues(ctx context.Context, before time.Time) (int64, error)
}

// DefaultDialogueTTL is how long a follow-up question waits for its answer: long enough for a
// citizen who reads the SMS on the bus home, short enough that the response of an unhappy
// citizen reaches the dashboard the same hour.
const DefaultDialogueTTL = time.Hour

// dialogueGrace is added to a conversation's lifetime before the sweeper ends it, so that a reply
// received just before the expiry, and still being processed, ends it first.
const dialogueGrace = 2 * time.Minute

// openDialogue starts a conversation after a claimed rating when the survey has a follow-up
// question for it: it stores the live state, queues the first follow-up SMS and returns the
// conversation (nil when the survey asks nothing more, or the question cannot be put in an SMS —
// then the rating is scored at once).
func (b *Inbox) openDialogue(ctx context.Context, in survey.SMSInbound, match survey.InvitationMatch, v survey.Version,
	answers []survey.SubmittedAnswer) (*survey.SMSDialogue, error) {
	if b.opts.Dialogues == nil {
		return nil, nil
	}
	next, ok := v.NextSMSQuestion(answers, 1)
	if !ok {
		return nil, nil
	}
	d := survey.SMSDialogue{PhoneHash: in.PhoneHash, InboundID: in.ID, ResponseID: ResponseID(in), InvitationID: match.ID,
		AgencyID: match.AgencyID, OfficeID: match.OfficeID, SurveyID: v.SurveyID, Version: v.Version, RatedAt: in.ReceivedAt,
		Answers: answers, Asked: 1, ExpiresAt: in.ReceivedAt.Add(b.opts.DialogueTTL)}
	asked, err := b.ask(ctx, &d, next)
	if err != nil || !asked {
		return nil, err
	}
	return &d, nil
}

// ask puts question q to the conversation's number: the live state first (so an answer that
// comes back at once finds it), then the SMS. It reports false when q cannot be put in an SMS
// (the conversation then ends without it).
func (b *Inbox) ask(ctx context.Context, d *survey.SMSDialogue, q survey.Question) (bool, error) {
	text, err := ComposeFollowUp(q)
	if err != nil {
		b.log.Warn("sms dialogue: a follow-up question does not fit an SMS; not asked", "agency", d.AgencyID,
			"question", q.ID, "err", err)
		return false, nil
	}
	d.Pending = q.ID
	d.Asked++
	if err := b.opts.Dialogues.PutDialogue(ctx, *d); err != nil {
		return false, err
	}
	parts, _ := Parts(text)
	if _, err := b.store.QueueSMS(ctx, d.PhoneHash, followUpLocalID(d.InboundID, q.ID), text, parts, b.opts.Clock.Now().UTC()); err != nil {
		return false, err
	}
	return true, nil
}

// continueDialogue takes a reply to the number's open conversation, if it has one: an answer to
// the pending question is added and the next question asked, or the conversation ends and its
// response is submitted. It reports false when no conversation was open (the reply is then an
// ordinary one). A reply that does not answer the question ends the conversation too, and is
// processed as an ordinary reply after.
func (b *Inbox) continueDialogue(ctx context.Context, in survey.SMSInbound, reply Reply, res *survey.InboundResult) (bool, error) {
	if b.opts.Dialogues == nil {
		return false, nil
	}
	d, ok, err := b.opts.Dialogues.TakeDialogue(ctx, in.PhoneHash, in.ReceivedAt)
	if err != nil || !ok {
		return false, err
	}
	v, err := b.store.Version(ctx, d.SurveyID, d.Version)
	if err != nil {
		b.putBack(ctx, d)
		return false, err
	}
	q, _, found := v.Question(d.Pending)
	var value json.RawMessage
	answered := false
	if found && reply.Kind != KindOptOut && reply.Kind != KindResubscribe {
		value, answered = ParseFollowUp(in.Text, q)
	}
	if !answered {
		// Not an answer: the conversation ends with what it has; the message is then an ordinary
		// reply (an opt-out, a comment).
		return false, b.endDialogue(ctx, d)
	}
	d.Answers = append(d.Answers, survey.SubmittedAnswer{QuestionID: q.ID, Value: value})
	res.Outcome, res.InvitationID = survey.InboundFollowUp, d.InvitationID
	if next, more := v.NextSMSQuestion(d.Answers, d.Asked); more {
		asked, err := b.ask(ctx, &d, next)
		if err != nil {
			b.putBack(ctx, d)
			return true, err
		}
		if asked {
			return true, nil
		}
	}
	return true, b.endDialogue(ctx, d)
}

// putBack restores a conversation taken by a pass that then failed, so the retry finds it.
func (b *Inbox) putBack(ctx context.Context, d survey.SMSDialogue) {
	if err := b.opts.Dialogues.PutDialogue(ctx, d); err != nil {
		b.log.Warn("sms dialogue: restoring a conversation failed; it ends at its expiry with the rating alone",
			"inbound", d.InboundID, "err", err)
	}
}

// endDialogue submits the conversation's response and records it on the rating's message. A
// response whose follow-up answers intake refuses is submitted with the rating alone.
func (b *Inbox) endDialogue(ctx context.Context, d survey.SMSDialogue) error {
	rc, err := b.submit(ctx, d)
	var se *survey.Error
	if err != nil && errors.As(err, &se) && se.Code == survey.ECodeInvalid && len(d.Answers) > 1 {
		b.log.Warn("sms dialogue: intake refused the follow-up answers; the rating is submitted alone",
			"inbound", d.InboundID, "err", err)
		d.Answers = d.Answers[:1]
		rc, err = b.submit(ctx, d)
	}
	if err != nil {
		if errors.As(err, &se) && (se.Code == survey.ECodeInvalid || se.Code == survey.ECodeForbidden) {
			// Refused for good (the survey was withdrawn, say): nothing will ever store it.
			b.log.Warn("sms dialogue: the response cannot be stored", "inbound", d.InboundID, "err", err)
			_, cerr := b.store.CloseDialogue(ctx, d.InboundID, "")
			return cerr
		}
		if !errors.As(err, &se) || se.Code != survey.ECodeIDConflict {
			return err
		}
		// id_conflict: the sweeper or another replica submitted this conversation first.
	}
	closed, err := b.store.CloseDialogue(ctx, d.InboundID, d.ResponseID)
	if err == nil && closed {
		b.log.InfoContext(ctx, "sms dialogue ended", "inbound", d.InboundID, "invitation", d.InvitationID,
			"answers", len(d.Answers), "response", rc.Response.ID)
		// The case offer comes after the last follow-up question.
		err = b.offerCase(ctx, d.PhoneHash, d.InboundID, d.AgencyID, d.OfficeID, d.ResponseID, d.Answers, d.RatedAt)
	}
	return err
}

// submit sends the conversation's response through intake with origin sms.
func (b *Inbox) submit(ctx context.Context, d survey.SMSDialogue) (survey.Receipt, error) {
	at := d.RatedAt
	sub := survey.Submission{ID: d.ResponseID, AgencyID: d.AgencyID, OfficeID: d.OfficeID, SurveyID: d.SurveyID,
		SurveyVersion: d.Version, Source: "sms", SubmittedAt: &at, Answers: d.Answers}
	return b.intake.Submit(ctx, smsOrigin(d.AgencyID, d.InvitationID), &sub)
}

// smsOrigin is the origin of every response an SMS reply becomes.
func smsOrigin(agency, invitation survey.ID) survey.Origin {
	return survey.Origin{Channel: survey.ChannelSMS, InvitationID: invitation,
		Principal: survey.Principal{Role: survey.RoleIntegration, AgencyID: agency, Channel: survey.ChannelSMS, Name: "sms-inbound"}}
}

// SweepDialogues ends every conversation that expired (plus a grace) before now: its response
// is submitted with what survives — the live state's answers if the store still has it, else the
// rating alone from the durable copy. It reports how many it ended.
func (b *Inbox) SweepDialogues(ctx context.Context) (int, error) {
	if b.opts.Dialogues == nil {
		return 0, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.opts.Clock.Now().UTC()
	waiting, err := b.store.AwaitingFollowUps(ctx, defaultInboxBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range waiting {
		if !now.After(d.ExpiresAt.Add(dialogueGrace)) {
			continue
		}
		// The live state, if it outlived its TTL (the SQL store keeps dead rows until swept),
		// has the follow-up answers; take it so no late reply continues it.
		live, ok, err := b.opts.Dialogues.TakeDialogue(ctx, d.PhoneHash, d.ExpiresAt)
		switch {
		case err != nil:
			return n, err
		case ok && live.InboundID == d.InboundID:
			d = live
		case ok:
			b.putBack(ctx, live) // a newer conversation of the same number: not this one's to end
		}
		if err := b.endDialogue(ctx, d); err != nil {
			return n, err
		}
		n++
	}
	if sw, ok := b.opts.Dialogues.(DialogueSweeper); ok {
		if _, err := sw.SweepDialogues(ctx, now.Add(-dialogueGrace)); err != nil {
			return n, err
		}
	}
	return n, nil
}

// followUpLocalID is the gateway's localid of the follow-up SMS asking question qid in the
// conversation opened by message inbound: the same however often that is processed, so the
// outbox queues it once.
func followUpLocalID(inbound survey.ID, qid string) string {
	return DerivedLocalID("afkar/sms/follow-up/v1", inbound.String(), qid)
}
