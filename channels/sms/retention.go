package sms

import (
	"context"
	"log/slog"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// DefaultRetention is how long a number is kept after its last contact when the configuration
// sets none (AFKAR_SMS_RETENTION): 90 days, past the frequency cap and any reply window, so a
// number is never forgotten while Afkar may still text it or score its reply.
const DefaultRetention = 90 * 24 * time.Hour

// MinRetention is the shortest retention the configuration accepts: a shorter one could forget
// a number between its invitation and the citizen's reply.
const MinRetention = 24 * time.Hour

// DefaultPurgeEvery is how often serve runs the retention purge.
const DefaultPurgeEvery = 24 * time.Hour

// RetentionStore is what the purge needs from storage (the SQL store): clear the ciphertext of
// numbers last in contact before before, keeping their hashes, and say how many.
type RetentionStore interface {
	PurgePhones(ctx context.Context, before time.Time) (phones, inbound int, err error)
}

// Retention forgets citizens' numbers a retention period after their last contact (DOMAIN.md
// §6): their ciphertext is cleared, their keyed hash kept, so an opt-out, an invalid mark and the
// frequency cap still hold while the number itself is gone. Only counts are logged.
type Retention struct {
	store RetentionStore
	keep  time.Duration
	clock survey.Clock
	log   *slog.Logger
}

// NewRetention returns the purge keeping numbers for keep (DefaultRetention when not positive).
// A nil clock is the system clock; a nil logger the default one.
func NewRetention(store RetentionStore, keep time.Duration, clock survey.Clock, log *slog.Logger) *Retention {
	if keep <= 0 {
		keep = DefaultRetention
	}
	if clock == nil {
		clock = survey.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Retention{store: store, keep: keep, clock: clock, log: log}
}

// PurgeOnce purges the numbers whose last contact is older than the retention and says how many
// numbers and stored replies lost their ciphertext.
func (r *Retention) PurgeOnce(ctx context.Context) (phones, inbound int, err error) {
	phones, inbound, err = r.store.PurgePhones(ctx, r.clock.Now().Add(-r.keep))
	if err == nil && phones+inbound > 0 {
		r.log.Info("sms retention: numbers purged", "phones", phones, "inbound", inbound, "retention", r.keep.String())
	}
	return phones, inbound, err
}

// Run purges at once and then every interval until ctx ends, logging failed runs (the next one
// tries again). It returns when ctx is done, so serve can wait for it on shutdown.
func (r *Retention) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := r.PurgeOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("sms retention purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
