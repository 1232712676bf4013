package survey

import (
	"context"
	"time"
)

// Buffer holds accepted responses between intake and aggregation. Append returns only once the
// responses are durable, because intake acknowledges a citizen right after it. Consumers read in a
// group: each entry goes to one consumer, stays pending until acked, and is re-delivered (Reclaim)
// when its consumer died. Two implementations exist — Redis Streams for production and an SQL
// inbox for the embedded default and as the fallback while Redis is down — and both pass the
// conformance suite in survey/buffertest.
type Buffer interface {
	// Name labels the buffer in metrics, logs and dead-letter sources ("redis", "inbox").
	Name() string
	// Append durably stores the responses, all or none.
	Append(ctx context.Context, rs []Response) error
	// Read hands up to max entries never delivered before to consumer, waiting up to block for
	// the first one. It returns an empty slice, not an error, when nothing arrives in time.
	// max <= 0 means DefaultReadMax, in Read and Reclaim alike.
	Read(ctx context.Context, consumer string, max int, block time.Duration) ([]Delivery, error)
	// Reclaim transfers to consumer up to max entries that another consumer has held unacked for
	// longer than minIdle (it crashed or hangs), and returns them.
	Reclaim(ctx context.Context, consumer string, minIdle time.Duration, max int) ([]Delivery, error)
	// Resume hands consumer again up to max of the entries already delivered to it and never
	// acked, oldest first, and resets their idle time. A process that restarts under the same
	// consumer name calls it first, so its predecessor's batch is folded at once instead of
	// waiting to be reclaimed as idle. The caller acks (or sets aside) what it got before asking
	// again; entries deleted from the buffer meanwhile are dropped, not returned.
	Resume(ctx context.Context, consumer string, max int) ([]Delivery, error)
	// Touch resets the idle time of those of refs that consumer holds, so that a batch still
	// being folded is not reclaimed by a peer; a holder calls it periodically, well within the
	// peers' reclaim threshold. Refs consumer does not hold (acked, unknown, or reclaimed by
	// another consumer meanwhile) are left alone, never taken back; touching them is not an error.
	Touch(ctx context.Context, consumer string, refs []string) error
	// Ack marks entries processed; they are never delivered again. Acking an unknown or already
	// acked ref is not an error, so acks may be retried.
	Ack(ctx context.Context, refs []string) error
	// Stats reports the backlog for metrics and readiness.
	Stats(ctx context.Context) (BufferStats, error)
	// Ping checks the buffer is reachable.
	Ping(ctx context.Context) error
}

// DefaultReadMax is how many entries Read and Reclaim hand out when asked for max <= 0: a
// careless caller gets a sensible batch, the same from every buffer.
const DefaultReadMax = 100

// Delivery is one buffered entry handed to a consumer. Ref is the buffer's own handle used to ack
// (a stream entry id, an inbox row number). Err is set, and Response empty, when the stored bytes
// cannot be decoded: the consumer must set such entries aside and ack them, not loop on them.
type Delivery struct {
	Ref      string
	Response Response
	Raw      []byte
	Err      error
}

// BufferStats describes the backlog. Pending counts entries delivered but not acked; Backlog
// counts all entries not yet acked (delivered or not); OldestAge is the age of the oldest
// unacked entry (zero when empty), which is the aggregation lag.
type BufferStats struct {
	Pending   int64
	Backlog   int64
	OldestAge time.Duration
}
