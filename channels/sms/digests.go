package sms

import (
	"context"
	"log/slog"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Digests reach staff by SMS once a Jalali week (Saturday 08:00 Tehran, the week before) and once
// a Jalali month (its 1st, 08:00, the month before): every person who set an alert number gets
// one SMS — an agency role its agency's index with interval and n and its movement, a province
// role the province summary — through the outbox like every SMS. The outbox's localid is derived
// from the person and the period, so two replicas or a restart queue it once.

// DigestStore is what the digest sender needs from storage (the SQL store).
type DigestStore interface {
	DigestRecipients(ctx context.Context) ([]survey.DigestRecipient, error)
	OutboxHas(ctx context.Context, localIDs []string) (map[string]bool, error)
	QueueDigestSMS(ctx context.Context, phoneHash, localID, text string, parts int, now time.Time) (bool, error)
}

// DigestSource builds the digests (analytics.Digests): the start of the period holding a time,
// and a person's digest of the last complete period as texts, longest first, with its key.
type DigestSource interface {
	PeriodStart(period string, at time.Time) time.Time
	DigestTexts(ctx context.Context, p survey.Principal, period string, at time.Time) (key string, texts []string, err error)
}

// Digest schedule.
const (
	// DigestHour is the Tehran hour of the period's first day digests go out from.
	DigestHour = 8
	// DigestWindow is how long after DigestHour a digest is still sent (a server that was down
	// at 08:00 sends it when it comes back that day; later it would be stale).
	DigestWindow = 12 * time.Hour
	// DefaultDigestPoll is how often the sender checks whether a digest is due.
	DefaultDigestPoll = 5 * time.Minute
)

// DigestPeriods are the digests' periods, as DigestSource names them.
var DigestPeriods = []string{"week", "month"}

// DigestSender queues the digests when they are due.
type DigestSender struct {
	store  DigestStore
	source DigestSource
	clock  survey.Clock
	log    *slog.Logger
}

// NewDigestSender returns the sender; nil clock and logger take the defaults.
func NewDigestSender(store DigestStore, source DigestSource, clock survey.Clock, log *slog.Logger) *DigestSender {
	if clock == nil {
		clock = survey.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &DigestSender{store: store, source: source, clock: clock, log: log}
}

// Run checks every poll until ctx ends.
func (d *DigestSender) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = DefaultDigestPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("digest sender", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// digestLocalID is the outbox localid of period's digest (key) to user.
func digestLocalID(period, key string, user survey.ID) string {
	return DerivedLocalID("afkar/sms/digest/v1", period, key, user.String())
}

// RunOnce queues every digest that is due and not queued yet, and reports how many it queued.
func (d *DigestSender) RunOnce(ctx context.Context) (int, error) {
	now := d.clock.Now()
	queued := 0
	var people []survey.DigestRecipient
	for _, period := range DigestPeriods {
		start := d.source.PeriodStart(period, now).In(survey.Tehran)
		from := time.Date(start.Year(), start.Month(), start.Day(), DigestHour, 0, 0, 0, survey.Tehran)
		if now.Before(from) || !now.Before(from.Add(DigestWindow)) {
			continue
		}
		if people == nil {
			var err error
			if people, err = d.store.DigestRecipients(ctx); err != nil {
				return queued, err
			}
		}
		n, err := d.sendPeriod(ctx, period, now, people)
		queued += n
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// sendPeriod queues period's digest to each person who has not had it, building each digest
// once per agency (and once for the province).
func (d *DigestSender) sendPeriod(ctx context.Context, period string, now time.Time, people []survey.DigestRecipient) (int, error) {
	key := d.keyOf(period, now)
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = digestLocalID(period, key, p.UserID)
	}
	have, err := d.store.OutboxHas(ctx, ids)
	if err != nil {
		return 0, err
	}
	type built struct {
		text  string
		parts int
	}
	cache := map[survey.ID]built{} // agency id, 0 for the province summary
	queued := 0
	for i, p := range people {
		if have[ids[i]] {
			continue
		}
		scope := p.AgencyID
		if p.Role.ProvinceRole() {
			scope = 0
		}
		b, ok := cache[scope]
		if !ok {
			_, texts, err := d.source.DigestTexts(ctx, p.Principal(), period, now)
			if err != nil {
				d.log.WarnContext(ctx, "digest not built", "period", period, "user", p.UserID, "err", err)
				continue
			}
			for _, t := range texts {
				t += "\n" + OptOutFooter
				if n, _ := Parts(t); n <= MaxParts {
					b = built{t, n}
					break
				}
			}
			cache[scope] = b
		}
		if b.text == "" {
			d.log.WarnContext(ctx, "digest does not fit an SMS", "period", period, "user", p.UserID)
			continue
		}
		done, err := d.store.QueueDigestSMS(ctx, p.PhoneHash, ids[i], b.text, b.parts, now)
		if err != nil {
			return queued, err
		}
		if done {
			queued++
			d.log.InfoContext(ctx, "digest SMS queued", "period", period, "key", key, "user", p.UserID)
		}
	}
	return queued, nil
}

// keyOf names the period a digest due now reports — the one before the period holding now — by
// its start instant, the same on every replica and after a restart.
func (d *DigestSender) keyOf(period string, now time.Time) string {
	prev := d.source.PeriodStart(period, d.source.PeriodStart(period, now).Add(-time.Hour))
	return prev.UTC().Format(time.RFC3339)
}
