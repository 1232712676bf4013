package sms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Gateway is what the send queue and the inbound reconciler call to reach an SMS provider. It is
// small on purpose: Kavenegar in production, the console gateway on the embedded default, and a
// fake Kavenegar server in tests all fit behind it, so the queue's retry and pause rules are
// written once against SendError classes rather than against one provider's codes.
type Gateway interface {
	// Send sends one message to one receptor. A failure is a *SendError whose Class tells the
	// queue what to do. Sending the same LocalID twice must never deliver twice: the gateway
	// (like Kavenegar) answers a repeated LocalID with the first send.
	Send(ctx context.Context, m Message) (Sent, error)
	// StatusByLocalID finds a message by our idempotency key (Kavenegar keeps this for 12 h). It
	// answers ErrNotFound when the gateway never accepted that LocalID, which after a timeout
	// means the send did not happen.
	StatusByLocalID(ctx context.Context, localID string) (Delivery, error)
	// Status polls delivery for gateway message ids (Kavenegar: the last 48 h). Unknown ids come
	// back with StatusUnknown rather than failing the batch.
	Status(ctx context.Context, messageIDs []string) ([]Delivery, error)
	// Receive returns the unread inbound messages of a line (empty: the configured sender line)
	// and the gateway marks them read, so the caller must persist what it gets before it calls
	// again: the next call will not return them.
	Receive(ctx context.Context, line string) ([]Inbound, error)
}

// Message is one SMS to send.
type Message struct {
	// Receptor is the citizen's number in E.164 (+989121234567), normalised before it gets here.
	Receptor string
	// Text is the final text (see ComposeInvitation); the gateway does not shorten it.
	Text string
	// LocalID is our idempotency key, a string of decimal digits (Kavenegar's localid is a
	// number): the queue keeps it for every attempt of the same message, so a retry after a
	// timeout or a crash is never delivered twice.
	LocalID string
}

// Sent is what a gateway answered for an accepted message; the queue records it per message.
type Sent struct {
	// MessageID is the gateway's id, used to poll delivery.
	MessageID string
	// LocalID echoes Message.LocalID.
	LocalID string
	// Status is the delivery status at acceptance (usually StatusQueued).
	Status DeliveryStatus
	// Cost is what the gateway charged, in rials; 0 when unknown (a send recovered by
	// StatusByLocalID after a timeout carries no cost).
	Cost int64
	// Parts is how many SMS parts the text takes (Parts), since cost is per part.
	Parts int
}

// Delivery is one message's delivery status, from polling by message id or by local id.
type Delivery struct {
	MessageID string
	LocalID   string
	Status    DeliveryStatus
}

// Inbound is one SMS a citizen sent to our line. From is as the gateway wrote it (Kavenegar
// gives national 09… form); the caller normalises it to E.164 before matching.
type Inbound struct {
	MessageID string
	From      string
	To        string
	Text      string
	At        time.Time
}

// DeliveryStatus is a message's delivery state. It uses Kavenegar's numbers, since Kavenegar is
// the one provider and its numbers are what operators see in its panel; other gateways map onto
// them.
type DeliveryStatus int

// The delivery statuses Kavenegar documents.
const (
	StatusQueued      DeliveryStatus = 1   // in the gateway's queue
	StatusScheduled   DeliveryStatus = 2   // waiting for its send date
	StatusSentToOp    DeliveryStatus = 4   // handed to the operator
	StatusSent        DeliveryStatus = 5   // sent by the operator
	StatusFailed      DeliveryStatus = 6   // the line failed to send
	StatusDelivered   DeliveryStatus = 10  // delivered to the handset
	StatusUndelivered DeliveryStatus = 11  // not delivered (handset off, out of range)
	StatusCancelled   DeliveryStatus = 13  // cancelled, refunded
	StatusBlocked     DeliveryStatus = 14  // the recipient blocked the sender (لغو ۱۱), refunded
	StatusUnknown     DeliveryStatus = 100 // unknown message id (or too old to poll)
)

// Final reports whether the status will not change any more, so polling can stop.
func (s DeliveryStatus) Final() bool {
	switch s {
	case StatusFailed, StatusDelivered, StatusUndelivered, StatusCancelled, StatusBlocked:
		return true
	}
	return false
}

// String names the status for logs and the funnel's failure breakdown.
func (s DeliveryStatus) String() string {
	switch s {
	case StatusQueued:
		return "queued"
	case StatusScheduled:
		return "scheduled"
	case StatusSentToOp, StatusSent:
		return "sent"
	case StatusFailed:
		return "failed"
	case StatusDelivered:
		return "delivered"
	case StatusUndelivered:
		return "undelivered"
	case StatusCancelled:
		return "cancelled"
	case StatusBlocked:
		return "blocked"
	case StatusUnknown:
		return "unknown"
	}
	return fmt.Sprintf("status-%d", int(s))
}

// ErrNotFound is StatusByLocalID's answer when the gateway has no message with that local id.
var ErrNotFound = errors.New("sms: no message with that local id")

// ErrorClass tells the send queue what a failure means for the message and for the sender as a
// whole; DOMAIN.md §2 lists which gateway codes fall in which class.
type ErrorClass int

const (
	// ClassRetry: try again later with backoff and the same LocalID (Kavenegar 409, HTTP 5xx,
	// timeouts, network errors, an unreadable answer). 409 is back-pressure: slow down.
	ClassRetry ErrorClass = iota + 1
	// ClassInvalidNumber: the receptor is not a valid mobile number (Kavenegar 411); mark the
	// number invalid and never send to it again.
	ClassInvalidNumber
	// ClassPaused: the account cannot send (418 no credit, 401 disabled, 403 bad key); stop all
	// sending and raise an alert until an operator acts.
	ClassPaused
	// ClassConfig: our configuration is wrong (412 bad sender line, 407/416 IP not allowed, a
	// base URL that answers 404); report it at start and in /readyz.
	ClassConfig
	// ClassInvalid: this request is wrong (400/406 bad parameters, 413 text empty or too long,
	// 414 too many records, 417 bad date, 422 bad characters); fail this message only, do not
	// retry: the same request will fail again.
	ClassInvalid
)

// String names the class for logs, metrics and the funnel's failures-by-class.
func (c ErrorClass) String() string {
	switch c {
	case ClassRetry:
		return "retry"
	case ClassInvalidNumber:
		return "invalid_number"
	case ClassPaused:
		return "paused"
	case ClassConfig:
		return "config"
	case ClassInvalid:
		return "invalid"
	}
	return "unclassified"
}

// SendError is every failure a Gateway returns, classified once here so that the queue never
// reads provider codes. Its text never contains the API key or a phone number: both would end
// up in logs.
type SendError struct {
	// Op is the gateway call that failed: "send", "status", "statuslocalmessageid", "receive".
	Op string
	// Class is what the failure means (see ErrorClass).
	Class ErrorClass
	// Code is the gateway's own status (Kavenegar's return.status); 0 when no answer was read.
	Code int
	// HTTPStatus is the HTTP status of the answer; 0 when none arrived.
	HTTPStatus int
	// Uncertain means the gateway may have acted although we got no answer (a timeout, a
	// cancelled call, an unreadable reply): before sending again, ask StatusByLocalID (Resend
	// does).
	Uncertain bool
	// Message is the gateway's explanation (often Persian), or ours.
	Message string

	cause error
}

// Error describes the failure without secrets: op, class, codes and the gateway's message.
func (e *SendError) Error() string {
	s := "sms " + e.Op + ": " + e.Class.String()
	if e.Code != 0 {
		s += fmt.Sprintf(" (gateway status %d)", e.Code)
	} else if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Uncertain {
		s += ", outcome unknown"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap exposes the scrubbed cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *SendError) Unwrap() error { return e.cause }

// ClassOf returns err's class, or 0 when err is nil or not a *SendError.
func ClassOf(err error) ErrorClass {
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	return 0
}

// IsRetryable reports whether the queue should try again later with the same LocalID.
func IsRetryable(err error) bool { return ClassOf(err) == ClassRetry }

// IsInvalidNumber reports whether the receptor must be marked invalid.
func IsInvalidNumber(err error) bool { return ClassOf(err) == ClassInvalidNumber }

// IsPaused reports whether all sending must stop and an alert be raised.
func IsPaused(err error) bool { return ClassOf(err) == ClassPaused }

// IsConfig reports whether the gateway's configuration is wrong (shown in /readyz).
func IsConfig(err error) bool { return ClassOf(err) == ClassConfig }

// IsUncertain reports whether the gateway may have acted despite the error, so the next attempt
// must look the message up by LocalID before sending.
func IsUncertain(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Uncertain
}

// Resend is the queue's every attempt after the first (and its recovery after a crash between
// send and record): it asks the gateway by LocalID first, and only sends when the gateway never
// accepted the message. With Kavenegar the repeated localid would not be delivered twice anyway,
// but the lookup also recovers the message id that a lost reply carried, and it is the only
// safeguard once the provider forgets localids. A failed lookup is returned as is (classified),
// so the queue backs off instead of sending blind.
func Resend(ctx context.Context, g Gateway, m Message) (Sent, error) {
	d, err := g.StatusByLocalID(ctx, m.LocalID)
	switch {
	case err == nil:
		parts, _ := Parts(m.Text)
		return Sent{MessageID: d.MessageID, LocalID: m.LocalID, Status: d.Status, Parts: parts}, nil
	case errors.Is(err, ErrNotFound):
		return g.Send(ctx, m)
	default:
		return Sent{}, err
	}
}
