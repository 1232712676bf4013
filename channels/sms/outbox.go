package sms

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// DefaultRate is how many SMS a second the sender sends when the configuration sets none
// (AFKAR_SMS_RATE): Kavenegar documents no limit, and five a second drains a morning's queue of
// visits (thousands) in minutes without tripping its back-pressure.
const DefaultRate = 5.0

// Defaults of SenderOptions.
const (
	DefaultLease       = 2 * time.Minute  // a claim's lease: after it, another sender may take the message
	DefaultBackoff     = 30 * time.Second // the first retry's wait; it doubles per attempt
	DefaultMaxBackoff  = time.Hour
	DefaultMaxAttempts = 12 // about a day of doubling backoffs capped at an hour
	DefaultPoll        = time.Second
	defaultBatch       = 50
)

// AlertSMSPaused is the alert kind opened when the gateway stops accepting sends (no credit, a
// disabled account, a rejected key): someone must act before sending resumes.
const AlertSMSPaused = "sms_paused"

// alertSubject is the one subject of AlertSMSPaused: the gateway account is shared by all
// agencies, so one alert stays open however many messages hit the pause.
const alertSubject = "sms:gateway"

// OutboxStore is what the sender needs from storage (the SQL store). Messages come with their
// number's ciphertext and state and their invitation's agency, via and expiry.
type OutboxStore interface {
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]survey.OutboxMessage, error)
	ClaimOutbox(ctx context.Context, m survey.OutboxMessage, text string, parts int, leaseUntil time.Time) (bool, error)
	OutboxSent(ctx context.Context, id survey.ID, messageID string, status int, cost int64, parts int, now time.Time) error
	RetryOutbox(ctx context.Context, id survey.ID, next time.Time, class string) error
	FailOutbox(ctx context.Context, id survey.ID, class string, invalidNumber bool, now time.Time) error
	SkipOutbox(ctx context.Context, id survey.ID, reason string, now time.Time) error
	PauseOutbox(ctx context.Context, id survey.ID, class string) error
	ResumeOutbox(ctx context.Context, now time.Time) (int, error)
	OpenAlert(ctx context.Context, a survey.Alert) (bool, error)
}

// LinkFunc gives the web link an invitation's text carries (via "link"). cmd/afkar plugs the
// signed, single-use links of channels/weblink into it; the sms package does not import them.
type LinkFunc func(ctx context.Context, m survey.OutboxMessage) (string, error)

// PlaceholderLink is a stand-in LinkFunc for tests of the sender alone: base + "/s/…", the shape
// (and roughly the length) of a real link, leading nowhere.
func PlaceholderLink(base string) LinkFunc {
	link := strings.TrimSuffix(base, "/") + "/s/…"
	return func(context.Context, survey.OutboxMessage) (string, error) { return link, nil }
}

// Checker is a gateway that can test its configuration at start (Kavenegar: account/info).
type Checker interface {
	Check(ctx context.Context) error
}

// SenderOptions tune a Sender; zero values take the defaults.
type SenderOptions struct {
	Rate        float64    // SMS per second (token bucket, one token of burst)
	Quiet       QuietHours // nothing is sent in these hours
	Lease       time.Duration
	Backoff     time.Duration
	MaxBackoff  time.Duration
	MaxAttempts int
	Poll        time.Duration // how often the queue is looked at when it is empty
	Link        LinkFunc      // nil: invitations via "link" carry no link
	// Settings gives the SMS settings of the survey version the invitation's office answers by
	// SMS (its assignment, else the agency's active survey), whose questions the invitation
	// carries; nil (or nil settings) means the default questions. cmd/afkar reads them from the
	// cached catalog. A failure is logged and the defaults are used: an invitation with the
	// default question is better than none.
	Settings func(ctx context.Context, agencyID, officeID survey.ID) (*survey.SMSSettings, error)
	Clock    survey.Clock
	Logger   *slog.Logger
}

// Sender drains the send queue through a Gateway: it takes due messages, fixes their text on
// the first attempt, sends with the message's local id on every attempt (sms.Resend after the
// first, so a retry or a restart after a crash never sends twice), and records what happened —
// sent with id, parts and cost; retried with backoff; failed (the number marked invalid on
// 411); or, when the account cannot send, paused with an alert until a restart. A number is
// decrypted only to send and never logged.
type Sender struct {
	store   OutboxStore
	gw      Gateway
	privacy *Privacy
	opts    SenderOptions
	log     *slog.Logger
	bucket  *bucket

	mu        sync.Mutex
	paused    error // the failure that paused sending; nil while sending
	configErr error // the gateway's configuration error, for /readyz
}

// NewSender returns a sender over store and gateway.
func NewSender(store OutboxStore, gw Gateway, privacy *Privacy, opts SenderOptions) *Sender {
	if opts.Rate <= 0 {
		opts.Rate = DefaultRate
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Sender{store: store, gw: gw, privacy: privacy, opts: opts, log: opts.Logger, bucket: newBucket(opts.Rate)}
}

// Start resumes messages a previous run paused on and checks the gateway's configuration when
// it can: a configuration error is logged and reported by Health, a pausing one pauses.
func (s *Sender) Start(ctx context.Context) error {
	n, err := s.store.ResumeOutbox(ctx, s.now())
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("sms sending resumed", "messages", n)
	}
	if c, ok := s.gw.(Checker); ok {
		if err := c.Check(ctx); err != nil {
			switch ClassOf(err) {
			case ClassConfig, ClassPaused:
				s.setConfigErr(err)
				if IsPaused(err) {
					s.pause(err)
				}
				s.log.Error("sms gateway is misconfigured; fix AFKAR_KAVENEGAR_* or the account", "err", err)
			default:
				s.log.Warn("sms gateway check failed; sending will retry", "err", err)
			}
		}
	}
	return nil
}

// Run sends until ctx ends: Start, then the queue, looked at every Poll when empty, idle in
// quiet hours and once paused.
func (s *Sender) Run(ctx context.Context) {
	if err := s.Start(ctx); err != nil {
		s.log.Error("sms sender could not start", "err", err)
	}
	for ctx.Err() == nil {
		n, err := s.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("sms sender: the queue could not be read", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.opts.Poll):
		}
	}
}

// RunOnce handles the messages due now (one batch) and says how many it handled; it handles none
// while paused or in quiet hours.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	if s.Paused() != nil {
		return 0, nil
	}
	if _, quiet := s.opts.Quiet.Until(s.now()); quiet {
		return 0, nil
	}
	due, err := s.store.DueOutbox(ctx, s.now(), defaultBatch)
	if err != nil {
		return 0, err
	}
	handled := 0
	for _, m := range due {
		if s.Paused() != nil || ctx.Err() != nil {
			break
		}
		if err := s.handle(ctx, m); err != nil {
			return handled, err
		}
		handled++
	}
	return handled, nil
}

// Paused returns the failure that paused sending, nil while sending.
func (s *Sender) Paused() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// Health is the sender's /readyz detail: nil while it can send, else why not (paused, or the
// gateway's configuration is wrong).
func (s *Sender) Health(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused != nil {
		return errors.New("sms sending paused: " + s.paused.Error())
	}
	if s.configErr != nil {
		return errors.New("sms gateway configuration: " + s.configErr.Error())
	}
	return nil
}

func (s *Sender) now() time.Time { return s.opts.Clock.Now().UTC() }

func (s *Sender) pause(err error) {
	s.mu.Lock()
	s.paused = err
	s.mu.Unlock()
}

func (s *Sender) setConfigErr(err error) {
	s.mu.Lock()
	s.configErr = err
	s.mu.Unlock()
}

// handle takes one due message through one attempt. Only storage failures are returned.
func (s *Sender) handle(ctx context.Context, m survey.OutboxMessage) error {
	now := s.now()
	switch {
	case m.OptedOut:
		return s.store.SkipOutbox(ctx, m.ID, SkipOptedOut, now)
	case m.Invalid:
		return s.store.SkipOutbox(ctx, m.ID, SkipInvalidNumber, now)
	case m.ExpiresAt != nil && now.After(*m.ExpiresAt):
		return s.store.SkipOutbox(ctx, m.ID, SkipExpired, now)
	}
	phone, err := s.privacy.Open(m.PhoneEnc, m.PhoneHash)
	if errors.Is(err, ErrPurged) {
		s.log.Info("sms: the number was purged before its message went; skipped", "outbox", m.ID)
		return s.store.SkipOutbox(ctx, m.ID, SkipPurged, now)
	}
	if err != nil {
		s.log.Error("sms: a stored number cannot be decrypted (was AFKAR_SECRET_KEY changed?)", "outbox", m.ID)
		return s.store.FailOutbox(ctx, m.ID, "undecryptable", false, now)
	}
	text := m.Text
	if text == "" { // fixed at the first attempt, so every attempt sends the same text
		if text, err = s.compose(ctx, m); err != nil {
			s.log.Error("sms: invitation text cannot be composed", "outbox", m.ID, "err", err)
			return s.store.FailOutbox(ctx, m.ID, "compose", false, now)
		}
	}
	parts, _ := Parts(text)
	if err := s.bucket.wait(ctx); err != nil {
		return nil // shutting down
	}
	ok, err := s.store.ClaimOutbox(ctx, m, text, parts, now.Add(s.opts.Lease))
	if err != nil || !ok {
		return err // another sender took it
	}
	msg := Message{Receptor: phone, Text: text, LocalID: m.LocalID}
	var sent Sent
	if m.Attempts == 0 {
		sent, err = s.gw.Send(ctx, msg)
	} else {
		sent, err = Resend(ctx, s.gw, msg) // it may have gone out before: ask first
	}
	attempt := m.Attempts + 1
	if err == nil {
		if sent.Parts == 0 {
			sent.Parts = parts
		}
		s.log.InfoContext(ctx, "sms sent", "outbox", m.ID, "invitation", m.InvitationID, "localid", m.LocalID,
			"messageid", sent.MessageID, "parts", sent.Parts, "cost", sent.Cost, "attempt", attempt)
		return s.store.OutboxSent(ctx, m.ID, sent.MessageID, int(sent.Status), sent.Cost, sent.Parts, s.now())
	}
	return s.failed(ctx, m, attempt, err)
}

// compose writes the invitation's text: the agency's name, the question of its active survey
// version (InvitationQuestion) and, via "link", the web link.
func (s *Sender) compose(ctx context.Context, m survey.OutboxMessage) (string, error) {
	inv := Invitation{Agency: m.AgencyName}
	if m.Via == "link" && s.opts.Link != nil {
		link, err := s.opts.Link(ctx, m)
		if err != nil {
			return "", err
		}
		inv.Link = link
	}
	if s.opts.Settings != nil {
		st, err := s.opts.Settings(ctx, m.AgencyID, m.OfficeID)
		if err != nil {
			s.log.WarnContext(ctx, "sms: the survey's SMS settings could not be read; the default question is used",
				"outbox", m.ID, "agency", m.AgencyID, "err", err)
			st = nil
		}
		inv.Question = InvitationQuestion(st, inv.Link != "")
	}
	text, err := ComposeInvitation(inv)
	if errors.Is(err, ErrTooLong) && inv.Question != "" {
		// The survey's question does not fit beside this agency's name or link (sms.CheckSMS
		// was not run where it was published): the default still asks for a rating.
		s.log.WarnContext(ctx, "sms: the survey's SMS question does not fit; the default question is used",
			"outbox", m.ID, "agency", m.AgencyID, "err", err)
		inv.Question = ""
		return ComposeInvitation(inv)
	}
	return text, err
}

// failed records a failed attempt by its class.
func (s *Sender) failed(ctx context.Context, m survey.OutboxMessage, attempt int, err error) error {
	now := s.now()
	class := ClassOf(err)
	attrs := []any{"outbox", m.ID, "localid", m.LocalID, "attempt", attempt, "class", class.String(), "err", err}
	switch class {
	case ClassInvalidNumber:
		s.log.WarnContext(ctx, "sms: the gateway refused the number; it is marked invalid", attrs...)
		return s.store.FailOutbox(ctx, m.ID, class.String(), true, now)
	case ClassPaused:
		s.pause(err)
		s.log.ErrorContext(ctx, "sms sending paused: the gateway account cannot send; restart after fixing it", attrs...)
		if err := s.store.PauseOutbox(ctx, m.ID, class.String()); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"error": err.Error(), "localid": m.LocalID})
		_, aerr := s.store.OpenAlert(ctx, survey.Alert{Kind: AlertSMSPaused, AgencyID: m.AgencyID, OfficeID: m.OfficeID,
			Subject: alertSubject, OpenedAt: now, Detail: string(detail)})
		return aerr
	case ClassConfig:
		s.setConfigErr(err)
		s.log.ErrorContext(ctx, "sms gateway configuration error; the message waits", attrs...)
		return s.store.RetryOutbox(ctx, m.ID, now.Add(s.opts.MaxBackoff), class.String())
	case ClassRetry, 0:
		if ctx.Err() != nil {
			return nil // shutting down: the lease brings it back
		}
		if attempt >= s.opts.MaxAttempts {
			s.log.WarnContext(ctx, "sms: giving up after repeated failures", attrs...)
			return s.store.FailOutbox(ctx, m.ID, ClassRetry.String(), false, now)
		}
		s.log.InfoContext(ctx, "sms: attempt failed; retrying later", attrs...)
		return s.store.RetryOutbox(ctx, m.ID, now.Add(s.backoff(attempt)), ClassRetry.String())
	default: // ClassInvalid: the same request would fail again
		s.log.WarnContext(ctx, "sms: the gateway refused the message", attrs...)
		return s.store.FailOutbox(ctx, m.ID, class.String(), false, now)
	}
}

// backoff is the wait after attempt n: Backoff doubled per attempt, at most MaxBackoff.
func (s *Sender) backoff(n int) time.Duration {
	d := s.opts.Backoff
	for i := 1; i < n && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.opts.MaxBackoff)
}

// bucket is a token bucket with one token of burst: sends are spaced 1/rate apart, in real time
// (the throttle protects the gateway, whose clock is the real one).
type bucket struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newBucket(rate float64) *bucket {
	return &bucket{every: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the next send may go, or ctx ends.
func (b *bucket) wait(ctx context.Context) error {
	b.mu.Lock()
	now := time.Now()
	at := b.next
	if at.Before(now) {
		at = now
	}
	b.next = at.Add(b.every)
	b.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
