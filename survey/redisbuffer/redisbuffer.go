// Package redisbuffer is the production survey.Buffer: a Redis Stream read through a consumer
// group. Intake appends each accepted response with XADD inside MULTI/EXEC (a batch lands all or
// none); aggregator workers read with XREADGROUP, take their own unacked entries back after a
// restart with XREADGROUP … 0, take over a dead worker's entries with XAUTOCLAIM, keep a batch
// they are still folding from looking idle with XCLAIM … JUSTID (a script that touches only
// entries the caller still holds), and acknowledge with XACK plus XDEL in one script, so the
// stream only ever holds unacknowledged entries and its length is the backlog.
//
// A Redis at its maxmemory with the noeviction policy refuses "deny-oom" commands: XADD, XGROUP
// CREATE, and every command queued in a MULTI. Reading and acking free memory, so neither may
// depend on one of those: acks run as a script (not MULTI), and the consumer group is created
// only when Redis reports it missing (NOGROUP), never as a precondition of each call.
//
// The stream is bounded without ever dropping data: Append refuses (ECodeUnavailable) once the
// stream holds Options.MaxLen entries, and intake then falls back to the SQL inbox. XADD MAXLEN
// and XTRIM are never used, because they would silently delete responses already acknowledged
// to citizens. Every failure to reach Redis is also ECodeUnavailable and comes fast (short dial,
// read and write timeouts), so that fallback costs a citizen little waiting.
//
// Durability is Redis's: run it with appendonly yes (appendfsync always for no loss at all on a
// power cut; everysec risks up to a second of accepted responses).
package redisbuffer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/survey"
)

// Defaults of Options.
const (
	DefaultStream = "afkar:responses"
	DefaultGroup  = "aggregator"
	DefaultMaxLen = 1_000_000
)

// field is the one field of each stream entry; it holds survey.MarshalResponse bytes.
const field = "r"

// readChunk caps a single XREADGROUP BLOCK. A long Read is cut into chunks so that a cancelled
// context (a worker shutting down) ends it within a chunk: go-redis honours context deadlines on
// the socket but not a bare cancellation.
const readChunk = 250 * time.Millisecond

// deadlineMargin keeps a blocking read clear of the caller's deadline, so the read returns empty
// instead of being cut off mid-reply (which would strand delivered entries until reclaimed).
const deadlineMargin = 50 * time.Millisecond

// Options configures a Buffer. Zero values take the defaults above.
type Options struct {
	// Stream is the stream key (default "afkar:responses").
	Stream string
	// Group is the consumer group the aggregator workers share (default "aggregator").
	Group string
	// MaxLen is the stream length at which Append refuses, 0 meaning 1,000,000. It is a soft
	// bound: concurrent appends checked just below it may each still land their batch.
	MaxLen int64
	// Logger receives warnings (stream full, group recreated); default slog.Default().
	Logger *slog.Logger
}

// Buffer is a survey.Buffer on a Redis Stream. It is safe for concurrent use.
type Buffer struct {
	c      *redis.Client
	own    bool
	stream string
	group  string
	maxLen int64
	log    *slog.Logger

	groupReady atomic.Bool // the group was seen to exist; Ping skips creating it
	full       atomic.Bool
	lastLen    atomic.Int64 // stream length seen by the latest append
}

var _ survey.Buffer = (*Buffer)(nil)

// Open connects to the Redis at url ("redis://[user:pass@]host:port/db", or rediss:// for TLS)
// with timeouts short enough for intake to fall back to the SQL inbox quickly when Redis is
// down: 300ms to dial, 1s to read or write (blocking reads get their block time on top), one
// retry, one dial attempt per connection. Timeouts and pool size given in the URL's query
// (dial_timeout, read_timeout, pool_size, …) win. Close closes the client.
func Open(url string, opts Options) (*Buffer, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, survey.Wrap(survey.ECodeInvalid, err,
			"نشانی Redis نامعتبر است.", "the Redis URL is not valid (want redis://host:port/db)")
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 300 * time.Millisecond
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	if o.MinRetryBackoff == 0 {
		o.MinRetryBackoff = 8 * time.Millisecond
	}
	if o.MaxRetryBackoff == 0 {
		o.MaxRetryBackoff = 64 * time.Millisecond
	}
	if o.PoolSize == 0 {
		// ~64 concurrent intake callers plus aggregator workers holding blocking reads.
		o.PoolSize = 80
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = time.Second
	}
	// One dial attempt: go-redis's default of five with 100ms pauses would make every Append
	// against a dead Redis take half a second before intake could fall back.
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true
	b := New(redis.NewClient(o), opts)
	b.own = true
	return b, nil
}

// New wraps a client the caller configured. Close does not close c: the caller owns it.
func New(c *redis.Client, opts Options) *Buffer {
	b := &Buffer{c: c, stream: opts.Stream, group: opts.Group, maxLen: opts.MaxLen, log: opts.Logger}
	if b.stream == "" {
		b.stream = DefaultStream
	}
	if b.group == "" {
		b.group = DefaultGroup
	}
	if b.maxLen <= 0 {
		b.maxLen = DefaultMaxLen
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("component", "redisbuffer", "stream", b.stream)
	return b
}

// Close releases the connection pool when Open created it.
func (b *Buffer) Close() error {
	if b.own {
		return b.c.Close()
	}
	return nil
}

// Name implements survey.Buffer.
func (b *Buffer) Name() string { return "redis" }

// Stream returns the stream key, for logs and tests.
func (b *Buffer) Stream() string { return b.stream }

// Append adds the responses to the stream in one MULTI/EXEC, so either all of them or none are
// stored. It refuses with ECodeUnavailable when the stream already holds MaxLen entries.
func (b *Buffer) Append(ctx context.Context, rs []survey.Response) error {
	if len(rs) == 0 {
		return nil
	}
	payloads := make([][]byte, len(rs))
	for i := range rs {
		p, err := survey.MarshalResponse(&rs[i])
		if err != nil {
			return survey.Wrap(survey.ECodeInternal, err, "پاسخ قابل ذخیره نیست.", "cannot encode response "+rs[i].ID)
		}
		payloads[i] = p
	}
	// The length bound costs no extra round trip: each append learns the stream's length from an
	// XLEN queued after its XADDs, and only while the stream was last seen full is the length
	// checked before appending (so appends resume as soon as the aggregator catches up).
	if b.lastLen.Load() >= b.maxLen {
		n, err := b.c.XLen(ctx, b.stream).Result()
		if err != nil {
			return unavailable(ctx, err, "XLEN")
		}
		b.lastLen.Store(n)
		if n >= b.maxLen {
			if !b.full.Swap(true) {
				b.log.Warn("stream full, refusing appends until the aggregator catches up", "len", n, "max_len", b.maxLen)
			}
			return &survey.Error{
				Code:      survey.ECodeUnavailable,
				Message:   fmt.Sprintf("the Redis buffer is full (%d entries, limit %d)", n, b.maxLen),
				MessageFA: "صف پاسخ‌ها پر است؛ کمی بعد دوباره تلاش کنید.",
			}
		}
		if b.full.Swap(false) {
			b.log.Info("stream below its limit again, accepting appends", "len", n, "max_len", b.maxLen)
		}
	}
	var xlen *redis.IntCmd
	cmds, err := b.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, pl := range payloads {
			p.XAdd(ctx, &redis.XAddArgs{Stream: b.stream, ID: "*", Values: []any{field, pl}})
		}
		xlen = p.XLen(ctx, b.stream)
		return nil
	})
	if err != nil {
		// EXEC answers EXECABORT when a queued command was refused; the refusal itself (OOM at
		// maxmemory, say) is what an operator needs to read.
		for _, c := range cmds {
			if cerr := c.Err(); cerr != nil && !errors.Is(cerr, err) && redis.HasErrorPrefix(cerr, "OOM") {
				err = fmt.Errorf("%w (%v)", err, cerr)
				break
			}
		}
		return unavailable(ctx, err, "XADD")
	}
	b.lastLen.Store(xlen.Val())
	return nil
}

// Read hands consumer up to max entries never delivered before (XREADGROUP … >), waiting up to
// block for the first. The wait is cut short, returning nothing, just before ctx's deadline; a
// cancelled ctx ends it within a quarter second with an error.
func (b *Buffer) Read(ctx context.Context, consumer string, max int, block time.Duration) ([]survey.Delivery, error) {
	if max <= 0 {
		max = survey.DefaultReadMax
	}
	until := time.Now().Add(block)
	if d, ok := ctx.Deadline(); ok && d.Add(-deadlineMargin).Before(until) {
		until = d.Add(-deadlineMargin)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, unavailable(ctx, err, "XREADGROUP")
		}
		wait := min(time.Until(until), readChunk)
		args := &redis.XReadGroupArgs{
			Group:    b.group,
			Consumer: consumer,
			Streams:  []string{b.stream, ">"},
			Count:    int64(max),
			Block:    -1, // no BLOCK: return at once
		}
		if wait >= time.Millisecond {
			args.Block = wait // never 0, which Redis reads as "forever"
		}
		var res []redis.XStream
		err := b.withGroup(ctx, func() error {
			var err error
			res, err = b.c.XReadGroup(ctx, args).Result()
			return err
		})
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, unavailable(ctx, err, "XREADGROUP")
		default:
			for _, s := range res {
				if len(s.Messages) > 0 {
					ds, _ := decode(s.Messages) // new entries are never deleted ones
					return ds, nil
				}
			}
		}
		if !time.Now().Before(until) {
			return []survey.Delivery{}, nil
		}
	}
}

// Reclaim moves to consumer up to max entries pending with other consumers for at least minIdle
// (XAUTOCLAIM, following its cursor through the pending list). Entries deleted from the stream
// in the meantime are dropped from the pending list by Redis and not returned.
func (b *Buffer) Reclaim(ctx context.Context, consumer string, minIdle time.Duration, max int) ([]survey.Delivery, error) {
	if max <= 0 {
		max = survey.DefaultReadMax
	}
	out := []survey.Delivery{}
	start := "0-0"
	for len(out) < max {
		var msgs []redis.XMessage
		var next string
		err := b.withGroup(ctx, func() error {
			var err error
			msgs, next, err = b.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream:   b.stream,
				Group:    b.group,
				Consumer: consumer,
				MinIdle:  minIdle,
				Start:    start,
				Count:    int64(max - len(out)),
			}).Result()
			return err
		})
		if err != nil {
			return nil, unavailable(ctx, err, "XAUTOCLAIM")
		}
		ds, deleted := decode(msgs)
		out = append(out, ds...)
		if err := b.dropDeleted(ctx, deleted); err != nil {
			return nil, err
		}
		if next == "" || next == "0-0" || next == start {
			break
		}
		start = next
	}
	return out, nil
}

// Resume hands consumer again its own pending entries (XREADGROUP … 0: the consumer's pending
// list from the start), up to max, oldest first. Redis counts this as a delivery, which resets
// the entries' idle time. Entries deleted from the stream while pending come back without
// fields; they are acked here and not returned.
func (b *Buffer) Resume(ctx context.Context, consumer string, max int) ([]survey.Delivery, error) {
	if max <= 0 {
		max = survey.DefaultReadMax
	}
	var res []redis.XStream
	err := b.withGroup(ctx, func() error {
		var err error
		res, err = b.c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: b.group, Consumer: consumer, Streams: []string{b.stream, "0"}, Count: int64(max), Block: -1,
		}).Result()
		return err
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(ctx, err, "XREADGROUP 0")
	}
	out := []survey.Delivery{}
	for _, s := range res {
		ds, deleted := decode(s.Messages)
		out = append(out, ds...)
		if err := b.dropDeleted(ctx, deleted); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dropDeleted acks pending ids whose entries are gone from the stream, so they stop coming back.
func (b *Buffer) dropDeleted(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	b.log.Warn("pending entries no longer in the stream; acking them", "entries", len(ids))
	if err := b.c.XAck(ctx, b.stream, b.group, ids...).Err(); err != nil {
		return unavailable(ctx, err, "XACK")
	}
	return nil
}

// touchScript resets the idle time of the given pending entries that ARGV[2] holds in group
// ARGV[1], and returns how many it touched. Each entry's owner is checked first (XPENDING on
// the one id, filtered by consumer) because XCLAIM alone would take an entry back from a peer
// that reclaimed it meanwhile. XCLAIM … JUSTID leaves the delivery count alone. A missing group
// means nothing is held.
var touchScript = redis.NewScript(`
local group, consumer = ARGV[1], ARGV[2]
local owned = {}
for i = 3, #ARGV do
  local p = redis.pcall('XPENDING', KEYS[1], group, ARGV[i], ARGV[i], 1, consumer)
  if type(p) == 'table' and p.err then return 0 end
  if #p > 0 then owned[#owned + 1] = ARGV[i] end
end
for i = 1, #owned, 500 do
  local args = {KEYS[1], group, consumer, 0}
  for j = i, math.min(i + 499, #owned) do args[#args + 1] = owned[j] end
  args[#args + 1] = 'JUSTID'
  redis.call('XCLAIM', unpack(args))
end
return #owned
`)

// touchChunk bounds the ids passed to one script call.
const touchChunk = 2000

// Touch resets the idle time of the entries of refs that consumer holds (see touchScript).
// Under a full Redis it still works: neither XPENDING nor XCLAIM is refused for memory.
func (b *Buffer) Touch(ctx context.Context, consumer string, refs []string) error {
	ids := streamIDs(refs)
	for start := 0; start < len(ids); start += touchChunk {
		chunk := ids[start:min(start+touchChunk, len(ids))]
		args := make([]any, 0, len(chunk)+3)
		args = append(args, b.group, consumer)
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := touchScript.Run(ctx, b.c, []string{b.stream}, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			return unavailable(ctx, err, "XCLAIM")
		}
	}
	return nil
}

// ackScript acknowledges and deletes entries atomically. It is a script rather than MULTI/EXEC
// because Redis at maxmemory refuses every command queued in a MULTI, and acking is what frees
// memory; XACK and XDEL themselves are never refused.
var ackScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
`)

// ackChunk bounds the ids passed to one script call (Lua's unpack has a stack limit).
const ackChunk = 4000

// Ack acknowledges and deletes the entries (XACK and XDEL in one script, so atomically), so they
// are never delivered again and stop counting against MaxLen. Refs that are not stream ids are
// ignored.
func (b *Buffer) Ack(ctx context.Context, refs []string) error {
	ids := streamIDs(refs)
	for start := 0; start < len(ids); start += ackChunk {
		chunk := ids[start:min(start+ackChunk, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, b.group)
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := ackScript.Run(ctx, b.c, []string{b.stream}, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			return unavailable(ctx, err, "XACK")
		}
	}
	return nil
}

// streamIDs keeps the refs that are stream entry ids.
func streamIDs(refs []string) []string {
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		if validID(r) {
			ids = append(ids, r)
		}
	}
	return ids
}

// Stats reports pending (XPENDING), backlog (XLEN: the stream holds only unacked entries) and the
// age of the oldest entry, from its id's millisecond timestamp against Redis's own clock.
func (b *Buffer) Stats(ctx context.Context) (survey.BufferStats, error) {
	var (
		pend  *redis.XPendingCmd
		xlen  *redis.IntCmd
		first *redis.XMessageSliceCmd
		now   *redis.TimeCmd
	)
	err := b.withGroup(ctx, func() error {
		_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			pend = p.XPending(ctx, b.stream, b.group)
			xlen = p.XLen(ctx, b.stream)
			first = p.XRangeN(ctx, b.stream, "-", "+", 1)
			now = p.Time(ctx)
			return nil
		})
		return err
	})
	if err != nil {
		return survey.BufferStats{}, unavailable(ctx, err, "XPENDING")
	}
	st := survey.BufferStats{Pending: pend.Val().Count, Backlog: xlen.Val()}
	if msgs := first.Val(); len(msgs) > 0 {
		if ms, ok := idMillis(msgs[0].ID); ok {
			if age := now.Val().Sub(time.UnixMilli(ms)); age > 0 {
				st.OldestAge = age
			}
		}
	}
	return st, nil
}

// Ping checks Redis answers and the consumer group exists.
func (b *Buffer) Ping(ctx context.Context) error {
	if err := b.c.Ping(ctx).Err(); err != nil {
		return unavailable(ctx, err, "PING")
	}
	if err := b.ensureGroup(ctx); err != nil {
		return unavailable(ctx, err, "XGROUP CREATE")
	}
	return nil
}

// ensureGroup creates the consumer group (and the stream) unless it was seen to exist. The group
// starts at id 0, not $, so entries appended before it existed — after a Redis restart lost the
// group, say — are read. XGROUP CREATE is refused while Redis is at maxmemory even when the group
// exists, so an out-of-memory refusal is answered by looking (XINFO GROUPS, never refused).
func (b *Buffer) ensureGroup(ctx context.Context) error {
	if b.groupReady.Load() {
		return nil
	}
	err := b.c.XGroupCreateMkStream(ctx, b.stream, b.group, "0").Err()
	if err != nil && redis.HasErrorPrefix(err, "OOM") {
		groups, ierr := b.c.XInfoGroups(ctx, b.stream).Result()
		if ierr != nil {
			return err
		}
		for _, g := range groups {
			if g.Name == b.group {
				err = nil
			}
		}
	}
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	b.groupReady.Store(true)
	return nil
}

// withGroup runs fn and, when Redis says the group or the stream is missing (never created, or
// lost in a restart without persistence), creates it and runs fn once more. The group is not
// created up front: the calls that drain a full Redis (reads, acks) must not depend on XGROUP
// CREATE, which a Redis at maxmemory refuses.
func (b *Buffer) withGroup(ctx context.Context, fn func() error) error {
	err := fn()
	if err == nil || !redis.HasErrorPrefix(err, "NOGROUP") {
		return err
	}
	if b.groupReady.Swap(false) {
		b.log.Warn("consumer group missing, recreating it", "group", b.group)
	}
	if err := b.ensureGroup(ctx); err != nil {
		return err
	}
	return fn()
}

// decode turns stream entries into deliveries; an entry that does not decode is delivered with
// Err and its raw bytes so the consumer can quarantine and ack it. Pending entries that were
// deleted from the stream come back from XREADGROUP … 0 and XAUTOCLAIM (Redis 6) without any
// fields: they are returned apart, as deleted, for the caller to ack.
func decode(msgs []redis.XMessage) (out []survey.Delivery, deleted []string) {
	out = make([]survey.Delivery, 0, len(msgs))
	for _, m := range msgs {
		if m.Values == nil {
			deleted = append(deleted, m.ID)
			continue
		}
		d := survey.Delivery{Ref: m.ID}
		switch v := m.Values[field].(type) {
		case string:
			d.Raw = []byte(v)
		case []byte:
			d.Raw = v
		default:
			d.Raw, _ = json.Marshal(m.Values)
			d.Err = fmt.Errorf("stream entry %s has no %q field", m.ID, field)
			out = append(out, d)
			continue
		}
		r, err := survey.UnmarshalResponse(d.Raw)
		if err != nil {
			d.Err = fmt.Errorf("stream entry %s: %w", m.ID, err)
		} else {
			d.Response = r
		}
		out = append(out, d)
	}
	return out, deleted
}

// unavailable wraps a Redis failure; a done context is reported as such, not blamed on Redis.
func unavailable(ctx context.Context, err error, op string) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%v)", cerr, err)
	}
	return survey.Wrap(survey.ECodeUnavailable, err,
		"صف پاسخ‌ها (Redis) در دسترس نیست.", "the Redis buffer is unavailable ("+op+")")
}

// validID reports whether s looks like a stream entry id "ms-seq".
func validID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}

// idMillis returns the millisecond timestamp of a stream entry id.
func idMillis(id string) (int64, bool) {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, err == nil
}
