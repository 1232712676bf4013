package sms

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Console is the Gateway of the embedded default, used when no Kavenegar key is configured: it
// writes each outgoing SMS to the log (number masked) instead of sending it, answers like
// Kavenegar would (fake message ids, a repeated local id is not "sent" again, everything
// delivered), and keeps an inbox that the development page fills with Inject, so the whole
// invitation → reply loop runs with `make run` and no provider.
type Console struct {
	log *slog.Logger

	mu      sync.Mutex
	nextID  int64
	byLocal map[string]Sent
	byID    map[string]Delivery
	inbox   []Inbound
	line    string
}

var _ Gateway = (*Console)(nil)

// NewConsole returns a console gateway logging to logger (nil: slog.Default()). line is the
// pretend sender line that replies are addressed to.
func NewConsole(logger *slog.Logger, line string) *Console {
	if logger == nil {
		logger = slog.Default()
	}
	return &Console{log: logger, nextID: 1000, byLocal: map[string]Sent{}, byID: map[string]Delivery{},
		line: line}
}

// Send logs the message with the receptor masked and returns a fake message id; the same
// LocalID returns the first send without logging again, like Kavenegar.
func (c *Console) Send(ctx context.Context, m Message) (Sent, error) {
	if _, err := kavenegarReceptor(m.Receptor); err != nil {
		return Sent{}, &SendError{Op: "send", Class: ClassInvalidNumber, Message: err.Error()}
	}
	if !isDigits(m.LocalID) || m.Text == "" {
		return Sent{}, &SendError{Op: "send", Class: ClassInvalid, Message: "local id must be decimal digits and text not empty"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.byLocal[m.LocalID]; ok {
		return s, nil
	}
	c.nextID++
	parts, enc := Parts(m.Text)
	s := Sent{MessageID: strconv.FormatInt(c.nextID, 10), LocalID: m.LocalID, Status: StatusDelivered, Parts: parts}
	c.byLocal[m.LocalID] = s
	c.byID[s.MessageID] = Delivery{MessageID: s.MessageID, LocalID: m.LocalID, Status: StatusDelivered}
	c.log.InfoContext(ctx, "sms (console, not sent)", "to", Mask(m.Receptor), "localid", m.LocalID,
		"messageid", s.MessageID, "parts", parts, "encoding", enc.String(), "text", m.Text)
	return s, nil
}

// StatusByLocalID finds a message sent through this console gateway.
func (c *Console) StatusByLocalID(_ context.Context, localID string) (Delivery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byLocal[localID]
	if !ok {
		return Delivery{}, ErrNotFound
	}
	return c.byID[s.MessageID], nil
}

// Status reports every known message delivered and others StatusUnknown.
func (c *Console) Status(_ context.Context, messageIDs []string) ([]Delivery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Delivery, 0, len(messageIDs))
	for _, id := range messageIDs {
		d, ok := c.byID[id]
		if !ok {
			d = Delivery{MessageID: id, Status: StatusUnknown}
		}
		out = append(out, d)
	}
	return out, nil
}

// Inject puts a simulated reply from a citizen (from: a phone number as a gateway would give
// it) into the inbox; the development page calls it, and the next Receive returns it.
func (c *Console) Inject(from, text string) Inbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	in := Inbound{MessageID: strconv.FormatInt(c.nextID, 10), From: from, To: c.line, Text: text,
		At: time.Now()}
	c.inbox = append(c.inbox, in)
	c.log.Info("sms (console) reply injected", "from", Mask(from), "messageid", in.MessageID)
	return in
}

// Receive returns the injected replies not returned before (the line is ignored: the console
// has one inbox), like Kavenegar's unread messages that a read marks read.
func (c *Console) Receive(context.Context, string) ([]Inbound, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.inbox
	c.inbox = nil
	return out, nil
}
