package sms

import (
	"context"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// DevStore is what the development view reads (the SQL store).
type DevStore interface {
	RecentOutbox(ctx context.Context, limit int) ([]survey.OutboxMessage, error)
	RecentInbound(ctx context.Context, limit int) ([]survey.SMSInbound, error)
}

// DevMessage is one SMS as the development page shows it: the number masked (0912***4567),
// never in full.
type DevMessage struct {
	Phone   string // masked
	Text    string
	State   string // outgoing: the queue state; incoming: the processing outcome ("" while pending)
	Parts   int
	At      time.Time
	Pending bool // incoming: not processed yet
}

// Dev is the development page's view of the SMS channel on the embedded default: the latest
// outgoing SMS (which the console gateway only logs) and the latest replies, numbers masked.
type Dev struct {
	store   DevStore
	privacy *Privacy
}

// NewDev returns the development view.
func NewDev(store DevStore, privacy *Privacy) *Dev { return &Dev{store: store, privacy: privacy} }

// Recent returns the latest limit outgoing and incoming SMS, newest first.
func (d *Dev) Recent(ctx context.Context, limit int) (out, in []DevMessage, err error) {
	ob, err := d.store.RecentOutbox(ctx, limit)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ob {
		at := m.CreatedAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		out = append(out, DevMessage{Phone: d.mask(m.PhoneEnc, m.PhoneHash), Text: m.Text, State: string(m.State), Parts: m.Parts, At: at})
	}
	ib, err := d.store.RecentInbound(ctx, limit)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ib {
		in = append(in, DevMessage{Phone: d.mask(m.PhoneEnc, m.PhoneHash), Text: m.Text, State: string(m.Outcome),
			At: m.ReceivedAt, Pending: m.ProcessedAt == nil})
	}
	return out, in, nil
}

func (d *Dev) mask(enc []byte, hash string) string {
	p, err := d.privacy.Open(enc, hash)
	if err != nil {
		return "—"
	}
	return Mask(p)
}
