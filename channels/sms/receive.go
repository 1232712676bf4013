package sms

import (
	"context"
	"log/slog"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// DefaultReceiveEvery is how often the receive poller asks the gateway for unread replies
// (AFKAR_SMS_RECEIVE_EVERY) when the push is the main path: a minute bounds how late a reply
// the push lost is processed, at one cheap call a minute.
const DefaultReceiveEvery = time.Minute

// Accepter stores an inbound message (Inbox.Accept); the webhook, the poller and the development
// page all hand messages to it.
type Accepter interface {
	Accept(ctx context.Context, m Inbound) (survey.ID, bool, error)
}

// Receiver is the receive poller, run beside Kavenegar's push as a reconciler: it fetches the
// line's unread messages (sms/receive.json), which the gateway marks read as it answers, and
// hands each to the inbox, which stores it once whether the push brought it already or not (the
// message id is the dedupe key). Since a fetched message is not offered again, the receiver
// keeps what it could not store and stores it before it fetches more.
type Receiver struct {
	gw      Gateway
	inbox   Accepter
	line    string
	log     *slog.Logger
	pending []Inbound // fetched, not yet stored
}

// NewReceiver returns a poller of line (empty: the gateway's sender line) into inbox.
func NewReceiver(gw Gateway, inbox Accepter, line string, logger *slog.Logger) *Receiver {
	if logger == nil {
		logger = slog.Default()
	}
	return &Receiver{gw: gw, inbox: inbox, line: line, log: logger}
}

// RunOnce stores what an earlier pass could not, then fetches and stores the unread messages. It
// says how many new messages it stored (0 for those the push had brought already). Not safe for
// concurrent use: one poller per process.
func (r *Receiver) RunOnce(ctx context.Context) (int, error) {
	if len(r.pending) == 0 {
		got, err := r.gw.Receive(ctx, r.line)
		if err != nil {
			return 0, err
		}
		r.pending = got
	}
	n := 0
	for len(r.pending) > 0 {
		created, err := r.store(ctx, r.pending[0])
		if err != nil {
			return n, err // kept: stored on the next pass, before anything is fetched
		}
		if created {
			n++
		}
		r.pending = r.pending[1:]
	}
	r.pending = nil
	return n, nil
}

func (r *Receiver) store(ctx context.Context, m Inbound) (bool, error) {
	_, created, err := r.inbox.Accept(ctx, m)
	return created, err
}

// Run polls every every until ctx ends.
func (r *Receiver) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultReceiveEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("sms receive: polling the gateway for replies", "err", err)
		} else if n > 0 {
			r.log.Info("sms receive: replies the push had not brought", "stored", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
