package sms

import (
	"context"
	"log/slog"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// DefaultStatusEvery is how often the delivery poller asks the gateway about messages still on
// their way (AFKAR_SMS_STATUS_EVERY): operators report within minutes, and the funnel's
// "delivered" is a daily figure, so five minutes costs little and is never far behind.
const DefaultStatusEvery = 5 * time.Minute

// StatusWindow is how far back the gateway answers delivery status (Kavenegar's sms/status.json:
// 48 hours); older messages are left as they are rather than polled for "unknown".
const StatusWindow = 48 * time.Hour

// statusBatch is the most message ids one Status call carries (Kavenegar's limit).
const statusBatch = 500

// DeliveryStore is what the delivery poller and the status push need from storage (the SQL
// store): the sent messages whose delivery is not settled, and a way to record a status.
type DeliveryStore interface {
	UnsettledOutbox(ctx context.Context, since time.Time, afterID survey.ID, limit int) ([]survey.OutboxMessage, error)
	OutboxStatus(ctx context.Context, messageID string, status int, outcome survey.InvitationStatus, class string,
		refunded bool, now time.Time) (bool, error)
}

// Deliveries tracks what became of sent SMS, from two sources that may both report one
// message: the poller (RunOnce, sms/status.json) and the gateway's optional status push
// (Record). Each status is recorded on the message; a delivered one makes its invitation
// delivered, a failed, undelivered, cancelled, blocked or unknown one makes it failed with that
// class (cancelled and blocked are refunded, so they cost nothing). A settled message is never
// polled again nor moved by a later report, so the two sources cannot disagree. It logs
// message ids and statuses only, never a number.
type Deliveries struct {
	store DeliveryStore
	gw    Gateway
	clock survey.Clock
	log   *slog.Logger
}

// NewDeliveries returns the delivery tracker over store; gw may be nil when only the push is
// used (the console gateway reports every message delivered at once, so there is nothing to poll).
func NewDeliveries(store DeliveryStore, gw Gateway, clock survey.Clock, logger *slog.Logger) *Deliveries {
	if clock == nil {
		clock = survey.SystemClock{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Deliveries{store: store, gw: gw, clock: clock, log: logger}
}

// deliveryOutcome says what status means for the invitation: delivered, failed (with the class
// the funnel counts and whether the gateway refunds it), or "" while the message is on its way.
func deliveryOutcome(s DeliveryStatus) (outcome survey.InvitationStatus, class string, refunded bool) {
	switch s {
	case StatusDelivered:
		return survey.InvitationDelivered, "", false
	case StatusFailed, StatusUndelivered, StatusUnknown:
		return survey.InvitationFailed, s.String(), false
	case StatusCancelled, StatusBlocked:
		return survey.InvitationFailed, s.String(), true
	}
	return "", "", false
}

// Record stores one status report for the gateway's message messageID and reports whether it
// changed anything (false for an unknown id, or a message whose delivery was settled before).
func (d *Deliveries) Record(ctx context.Context, messageID string, status DeliveryStatus) (bool, error) {
	outcome, class, refunded := deliveryOutcome(status)
	return d.store.OutboxStatus(ctx, messageID, int(status), outcome, class, refunded, d.clock.Now())
}

// RunOnce polls the gateway for every message sent in the last StatusWindow whose delivery is
// not settled, statusBatch ids per call, records what changed, and says how many messages
// changed. With nothing unsettled it makes no call at all.
func (d *Deliveries) RunOnce(ctx context.Context) (int, error) {
	since := d.clock.Now().Add(-StatusWindow)
	changed := 0
	var after survey.ID
	for {
		ms, err := d.store.UnsettledOutbox(ctx, since, after, statusBatch)
		if err != nil || len(ms) == 0 {
			return changed, err
		}
		after = ms[len(ms)-1].ID
		ids := make([]string, len(ms))
		known := make(map[string]DeliveryStatus, len(ms))
		for i, m := range ms {
			ids[i] = m.MessageID
			known[m.MessageID] = DeliveryStatus(m.Status)
		}
		got, err := d.gw.Status(ctx, ids)
		if err != nil {
			return changed, err
		}
		for _, s := range got {
			if prev, ok := known[s.MessageID]; !ok || prev == s.Status {
				continue // not asked about, or no news
			}
			ok, err := d.Record(ctx, s.MessageID, s.Status)
			if err != nil {
				return changed, err
			}
			if ok {
				changed++
			}
		}
		if len(ms) < statusBatch {
			return changed, nil
		}
	}
}

// Run polls every every until ctx ends.
func (d *Deliveries) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultStatusEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("sms status: polling the gateway for delivery", "err", err)
		} else if n > 0 {
			d.log.Info("sms status: deliveries recorded", "messages", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
