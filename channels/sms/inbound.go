package sms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// ClarifyText is the one clarifying SMS an ambiguous reply earns («۵ و ۲»?, «۸»): it asks for a
// single digit and ends with «لغو ۱۱» like every information SMS. It fits one UCS-2 part pair.
const ClarifyText = "پاسخ شما روشن نبود. لطفاً فقط یک عدد از ۱ (خیلی بد) تا ۵ (عالی) بفرستید.\n" + OptOutFooter

// Defaults of InboxOptions.
const (
	DefaultInboxPoll  = 5 * time.Second // how often the stored messages are looked at without a signal
	DefaultInboxLease = time.Minute     // how long a pass holds the messages it took
	defaultInboxBatch = 100
)

// InboxStore is what reply processing needs from storage (the SQL store).
type InboxStore interface {
	// SaveInbound stores a message unless its dedupe key or message id is stored already.
	SaveInbound(ctx context.Context, in *survey.SMSInbound) (bool, error)
	// LeaseInbound hands out messages still to process, each held by the caller until `until`
	// (so two replicas never process one message at once).
	LeaseInbound(ctx context.Context, now, until time.Time, limit int) ([]survey.SMSInbound, error)
	// ReleaseInbound gives a lease back after a failure, so the next pass retries at once.
	ReleaseInbound(ctx context.Context, id survey.ID) error
	LatestInvitation(ctx context.Context, phoneHash string, at time.Time) (survey.InvitationMatch, bool, error)
	FinishInbound(ctx context.Context, id survey.ID, res survey.InboundResult, now time.Time) (bool, error)
	SetOptOut(ctx context.Context, hash string, phoneEnc []byte, at *time.Time, now time.Time) error
	QueueClarification(ctx context.Context, invitationID survey.ID, phoneHash, localID, text string, parts int, now time.Time) (bool, error)
	// ActiveVersionFor returns the version a rating by SMS is scored on: the survey assigned to
	// the invitation's office and the SMS channel (the most specific assignment), else the
	// agency's active one.
	ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error)
	Version(ctx context.Context, surveyID survey.ID, version int) (survey.Version, error)
	// ClaimInvitation makes claim the invitation's one counted answer (false: another answer,
	// by SMS or by link, holds it); ReleaseInvitation undoes it after a refusal.
	ClaimInvitation(ctx context.Context, invitationID survey.ID, claim string) (bool, error)
	ReleaseInvitation(ctx context.Context, invitationID survey.ID, claim string) error
	// QueueSMS queues an information SMS (a follow-up question), once per localID.
	QueueSMS(ctx context.Context, phoneHash, localID, text string, parts int, now time.Time) (bool, error)
	// AwaitingFollowUps lists the durable copies of open conversations; CloseDialogue records
	// that one ended with its response submitted (false: it had ended already).
	AwaitingFollowUps(ctx context.Context, limit int) ([]survey.SMSDialogue, error)
	CloseDialogue(ctx context.Context, inboundID survey.ID, responseID string) (bool, error)
}

// Submitter is intake as replies use it: a scored reply is submitted like any response.
type Submitter interface {
	Submit(ctx context.Context, origin survey.Origin, s *survey.Submission) (survey.Receipt, error)
}

// InboxOptions tune an Inbox; zero values take the defaults.
type InboxOptions struct {
	// Poll is how often the loop looks for stored messages it was not told about (a crash
	// between storing and processing, another replica's push).
	Poll time.Duration
	// Lease is how long one pass holds the messages it took (another replica takes them over
	// after a crash); default DefaultInboxLease.
	Lease time.Duration
	// Dialogues keeps open follow-up conversations (Redis, or the SQL store); nil asks no
	// follow-up questions. DialogueTTL is how long a question waits for its answer
	// (DefaultDialogueTTL).
	Dialogues   DialogueStore
	DialogueTTL time.Duration
	// Cases offers a follow-up case after a low rating and takes the replies to its prompts
	// (cases.Service); nil offers nothing.
	Cases  CasePrompts
	Clock  survey.Clock
	Logger *slog.Logger
}

// Inbox takes citizens' SMS from the push webhook, the receive poller and the development
// page alike: Accept stores the message raw (number encrypted and hashed) and returns at once;
// the processing loop (Run) then parses it, matches it to the number's latest invitation and
// acts — a rating becomes a response with origin sms through intake, an opt-out or a
// re-subscription changes the number's state, an ambiguous reply earns one clarifying SMS, the
// rest is kept as a comment — and records the outcome on the message. Processing is
// idempotent: the response's id is derived from the message, so a message processed twice (a
// crash before its outcome was recorded) is one response.
type Inbox struct {
	store   InboxStore
	intake  Submitter
	privacy *Privacy
	opts    InboxOptions
	log     *slog.Logger
	wake    chan struct{}
	mu      sync.Mutex // one processing pass at a time in this process
}

// NewInbox returns the reply processor.
func NewInbox(store InboxStore, intake Submitter, privacy *Privacy, opts InboxOptions) *Inbox {
	if opts.Poll <= 0 {
		opts.Poll = DefaultInboxPoll
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultInboxLease
	}
	if opts.DialogueTTL <= 0 {
		opts.DialogueTTL = DefaultDialogueTTL
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Inbox{store: store, intake: intake, privacy: privacy, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
}

// Accept stores one message as the gateway gave it, before anything acts on it, and wakes the
// processing loop. It reports the stored row's id and whether the message is new (false: the
// same message came before, by push or poll). The number is normalised for its hash; a sender
// that is not a mobile number is stored under the hash of what the gateway wrote.
func (b *Inbox) Accept(ctx context.Context, m Inbound) (survey.ID, bool, error) {
	from := strings.TrimSpace(m.From)
	if e164, err := NormalizePhone(from); err == nil {
		from = e164
	}
	at := m.At
	if at.IsZero() {
		at = b.opts.Clock.Now()
	}
	enc, err := b.privacy.Seal(from)
	if err != nil {
		return 0, false, survey.Wrap(survey.ECodeInternal, err, "رمزگذاری شماره انجام نشد.", "could not encrypt the number")
	}
	hash := b.privacy.Hash(from)
	in := survey.SMSInbound{MessageID: strings.TrimSpace(m.MessageID), PhoneHash: hash, PhoneEnc: enc, Text: m.Text,
		ReceivedAt: at.UTC(), Line: strings.TrimSpace(m.To)}
	in.DedupeKey = DedupeKey(in.MessageID, hash, m.Text, at)
	created, err := b.store.SaveInbound(ctx, &in)
	if err != nil {
		return 0, false, err
	}
	if created {
		b.log.InfoContext(ctx, "sms inbound stored", "inbound", in.ID, "messageid", in.MessageID)
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return in.ID, created, nil
}

// DedupeKey is what makes one message one row however often it arrives: the gateway's message
// id when there is one, else a digest of the sender's hash, the text and the minute it arrived
// (a push without an id retried within the minute is the same message).
func DedupeKey(messageID, phoneHash, text string, at time.Time) string {
	if messageID != "" {
		return "id:" + messageID
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", phoneHash, text, at.UTC().Unix()/60)
	return "h:" + hex.EncodeToString(h.Sum(nil))
}

// Run processes stored messages until ctx ends: when Accept stores one, and every Poll for
// whatever it was not told about.
func (b *Inbox) Run(ctx context.Context) {
	t := time.NewTicker(b.opts.Poll)
	defer t.Stop()
	for {
		if _, err := b.ProcessPending(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("sms inbound: processing", "err", err)
		}
		if _, err := b.SweepDialogues(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("sms dialogue: ending expired conversations", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		case <-t.C:
		}
	}
}

// ProcessPending processes every stored message not processed yet and says how many it
// recorded. A message whose processing fails (storage down) stays unprocessed for the next pass.
func (b *Inbox) ProcessPending(ctx context.Context) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for {
		now := b.opts.Clock.Now().UTC()
		rows, err := b.store.LeaseInbound(ctx, now, now.Add(b.opts.Lease), defaultInboxBatch)
		if err != nil {
			return n, err
		}
		progressed := false
		for _, in := range rows {
			res, err := b.process(ctx, in)
			if err != nil {
				b.log.Warn("sms inbound: processing a message failed; it stays queued", "inbound", in.ID, "err", err)
				b.release(ctx, in.ID)
				continue
			}
			done, err := b.store.FinishInbound(ctx, in.ID, res, b.opts.Clock.Now().UTC())
			if err != nil {
				b.log.Warn("sms inbound: recording an outcome failed", "inbound", in.ID, "err", err)
				b.release(ctx, in.ID)
				continue
			}
			progressed = true
			if done {
				n++
				b.log.InfoContext(ctx, "sms inbound processed", "inbound", in.ID, "kind", res.Kind, "outcome", res.Outcome,
					"invitation", res.InvitationID, "rating", res.Rating, "response", res.ResponseID)
			}
		}
		if len(rows) == 0 || !progressed {
			return n, nil
		}
	}
}

// release gives up this pass's lease on a message it failed to process; if even that fails, the
// lease runs out on its own.
func (b *Inbox) release(ctx context.Context, id survey.ID) {
	if err := b.store.ReleaseInbound(ctx, id); err != nil {
		b.log.Warn("sms inbound: releasing a message failed; it is retried when its lease ends", "inbound", id, "err", err)
	}
}

// process decides what one message is and does it; only failures worth retrying are errors.
func (b *Inbox) process(ctx context.Context, in survey.SMSInbound) (survey.InboundResult, error) {
	reply := Parse(in.Text)
	res := survey.InboundResult{Kind: string(reply.Kind), Comment: reply.Comment}
	now := b.opts.Clock.Now().UTC()
	// A reply to an open follow-up conversation answers its question.
	if took, err := b.continueDialogue(ctx, in, reply, &res); err != nil || took {
		res.Comment = cleanComment(in.Text)
		return res, err
	}
	// A «۱» or «۲» answering a case prompt (the offer to be contacted, the resolution question).
	if took, err := b.answerCasePrompt(ctx, in, reply, &res); err != nil || took {
		res.Comment = ""
		return res, err
	}
	switch reply.Kind {
	case KindOptOut:
		res.Outcome = survey.InboundOptedOut
		return res, b.store.SetOptOut(ctx, in.PhoneHash, in.PhoneEnc, &now, now)
	case KindResubscribe:
		res.Outcome = survey.InboundResubscribed
		return res, b.store.SetOptOut(ctx, in.PhoneHash, in.PhoneEnc, nil, now)
	}
	match, found, err := b.store.LatestInvitation(ctx, in.PhoneHash, in.ReceivedAt)
	if err != nil {
		return res, err
	}
	// Whatever is not scored is kept for staff as the citizen wrote it.
	asWritten := cleanComment(in.Text)
	if reply.Kind != KindRating {
		res.Comment = asWritten
	}
	switch {
	case !found:
		res.Outcome, res.Comment = survey.InboundNoInvitation, asWritten
		return res, nil
	case !match.Open(in.ReceivedAt):
		res.Outcome, res.Comment, res.InvitationID = survey.InboundLate, asWritten, match.ID
		return res, nil
	}
	res.InvitationID = match.ID
	switch reply.Kind {
	case KindAmbiguous:
		parts, _ := Parts(ClarifyText)
		queued, err := b.store.QueueClarification(ctx, match.ID, in.PhoneHash, NewLocalID(), ClarifyText, parts, now)
		if err != nil {
			return res, err
		}
		res.Outcome = survey.InboundAmbiguous
		if queued {
			res.Outcome = survey.InboundClarify
		}
		return res, nil
	case KindRating:
		if match.AnsweredAt != nil {
			res.Outcome, res.Comment = survey.InboundAnsweredBefore, asWritten
			return res, nil
		}
		// One visit, one counted answer: claim the invitation before anything is submitted (a
		// link answer or another reply on another replica may be racing this one).
		held, err := b.store.ClaimInvitation(ctx, match.ID, inboundClaim(in.ID))
		if err != nil {
			return res, err
		}
		if !held {
			res.Outcome, res.Comment = survey.InboundAnsweredBefore, asWritten
			return res, nil
		}
		return b.score(ctx, in, match, reply, res, asWritten)
	}
	res.Outcome = survey.InboundComment
	return res, nil
}

// score submits a rating as a response of the invitation's office, through intake with origin
// sms, on the first rating5 question of the survey the invitation's office uses by SMS (ActiveVersionFor).
func (b *Inbox) score(ctx context.Context, in survey.SMSInbound, match survey.InvitationMatch, reply Reply,
	res survey.InboundResult, asWritten string) (survey.InboundResult, error) {
	reject := func(why string, err error) (survey.InboundResult, error) {
		b.log.Warn("sms inbound: a rating cannot be stored as a response", "inbound", in.ID, "invitation", match.ID,
			"agency", match.AgencyID, "why", why, "err", err)
		res.Outcome, res.Comment = survey.InboundRejected, asWritten
		return res, b.store.ReleaseInvitation(ctx, match.ID, inboundClaim(in.ID))
	}
	v, err := b.store.ActiveVersionFor(ctx, match.AgencyID, match.OfficeID, survey.ChannelSMS)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return reject("no active survey", err)
		}
		return res, err
	}
	question, ok := v.SMSRatingQuestion()
	if !ok {
		return reject("the active survey has no rating5 question", nil)
	}
	value, _ := json.Marshal(reply.Rating)
	answers := []survey.SubmittedAnswer{{QuestionID: question.ID, Value: value}}
	// A survey with follow-up questions for this rating opens a conversation; its response is
	// submitted when the conversation ends.
	d, err := b.openDialogue(ctx, in, match, v, answers)
	if err != nil {
		return res, err
	}
	if d != nil {
		res.Outcome, res.Rating, res.Answered, res.Dialogue = survey.InboundAwaitingFollowUp, reply.Rating, true, d
		return res, nil
	}
	at := in.ReceivedAt
	sub := survey.Submission{ID: ResponseID(in), AgencyID: match.AgencyID, OfficeID: match.OfficeID, SurveyID: v.SurveyID,
		SurveyVersion: v.Version, Source: "sms", SubmittedAt: &at, Answers: answers}
	rc, err := b.intake.Submit(ctx, smsOrigin(match.AgencyID, match.ID), &sub)
	if err != nil {
		var se *survey.Error
		if errors.As(err, &se) && (se.Code == survey.ECodeInvalid || se.Code == survey.ECodeForbidden || se.Code == survey.ECodeIDConflict) {
			return reject("intake refused the response", err)
		}
		return res, err
	}
	res.Outcome, res.Rating, res.ResponseID, res.Answered = survey.InboundScored, reply.Rating, rc.Response.ID, true
	return res, b.offerCase(ctx, in.PhoneHash, in.ID, match.AgencyID, match.OfficeID, rc.Response.ID, answers, in.ReceivedAt)
}

// inboundClaim is the claim a reply puts on its invitation: the message's own id, so a retry of
// the same message holds the claim it took.
func inboundClaim(id survey.ID) string { return "sms:" + id.String() }

// ResponseID is the id of the response a stored message becomes: a UUID (version 8, RFC 9562)
// from a digest of the message's row id and dedupe key, the same however often it is processed,
// so intake stores it once.
func ResponseID(in survey.SMSInbound) string {
	sum := sha256.Sum256([]byte("afkar/sms/response/v1\x00" + strconv.FormatInt(int64(in.ID), 10) + "\x00" + in.DedupeKey))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8: custom
	u[8] = u[8]&0x3f | 0x80 // variant RFC 9562
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
