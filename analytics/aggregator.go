package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// FoldStore is what the aggregator needs from storage. Fold must be one transaction that inserts
// the responses not stored yet, adds delta(inserted) to the rollups and commits — idempotent by
// response id, which is what lets the aggregator retry, and other workers reclaim, freely.
// Quarantine keeps entries that cannot be decoded so that a person can look at them.
type FoldStore interface {
	Fold(ctx context.Context, rs []survey.Response, delta func(inserted []survey.Response) survey.RollupDelta) (inserted int, err error)
	Quarantine(ctx context.Context, source string, raw []byte, reason string) error
}

// AggregatorOptions tunes an Aggregator; zero values take the defaults.
type AggregatorOptions struct {
	// Consumer names this worker in the buffers' consumer groups. Default hostname-pid-random:
	// unique per process, so a restarted worker never mistakes a dead one's entries for its own.
	Consumer string
	// BatchSize is the most entries folded in one transaction (default 500).
	BatchSize int
	// Block is how long one Read waits for entries (default 1s).
	Block time.Duration
	// ClaimIdle is how long an entry may stay unacked with another consumer before this worker
	// takes it over (default 30s). Reclaiming runs at start and every ClaimIdle/2.
	ClaimIdle time.Duration
	// FlushTimeout bounds how long, after Run's context is cancelled, the batch in hand may take
	// to be folded and acked (default 10s).
	FlushTimeout time.Duration
	// MaxBackoff caps the wait between retries of a failing store or buffer (default 10s).
	MaxBackoff time.Duration
	// Logger receives progress and errors (default slog.Default()).
	Logger *slog.Logger
}

// Aggregator folds buffered responses into rollups. It reads batches from each buffer as a
// member of the buffer's consumer group, folds a batch in one store transaction, and only then
// acks it: a crash between fold and ack re-delivers the batch, and the idempotent fold counts it
// once. Any number of aggregators may run against the same buffers.
type Aggregator struct {
	store   FoldStore
	buffers []survey.Buffer
	opts    AggregatorOptions
	log     *slog.Logger

	folded, duplicates, batches, errs, quarantined, reclaimed atomic.Int64
	lastFold                                                  atomic.Int64 // unix nanoseconds
}

// AggregatorStats are counters since the aggregator was made, for metrics and logs.
type AggregatorStats struct {
	Folded      int64     // responses newly stored and added to rollups
	Duplicates  int64     // responses delivered again but already stored (retries, reclaims, re-submissions)
	Batches     int64     // batches folded and acked
	Errors      int64     // failed buffer or store calls (each retried)
	Quarantined int64     // undecodable entries set aside
	Reclaimed   int64     // entries taken over from consumers that stopped acking
	LastFold    time.Time // when a batch was last folded; zero before the first
}

// NewAggregator makes an aggregator that drains buffers into store. Production passes both the
// Redis stream and the SQL inbox, because intake falls back to the inbox while Redis is down.
func NewAggregator(store FoldStore, buffers []survey.Buffer, opts AggregatorOptions) *Aggregator {
	if opts.Consumer == "" {
		opts.Consumer = defaultConsumer()
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Block <= 0 {
		opts.Block = time.Second
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = 30 * time.Second
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 10 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Aggregator{
		store:   store,
		buffers: buffers,
		opts:    opts,
		log:     opts.Logger.With("component", "aggregator", "consumer", opts.Consumer),
	}
}

// Consumer returns the consumer name the aggregator reads under.
func (a *Aggregator) Consumer() string { return a.opts.Consumer }

func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "afkar"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Stats returns a snapshot of the counters.
func (a *Aggregator) Stats() AggregatorStats {
	s := AggregatorStats{
		Folded:      a.folded.Load(),
		Duplicates:  a.duplicates.Load(),
		Batches:     a.batches.Load(),
		Errors:      a.errs.Load(),
		Quarantined: a.quarantined.Load(),
		Reclaimed:   a.reclaimed.Load(),
	}
	if ns := a.lastFold.Load(); ns != 0 {
		s.LastFold = time.Unix(0, ns)
	}
	return s
}

// Run drains every buffer, one loop each, until ctx is done. The batch in hand when ctx is
// cancelled is still folded and acked, under a fresh context bounded by FlushTimeout, so a
// graceful stop leaves nothing half done; a batch whose fold is still failing is left pending
// for a later reclaim. Run then returns nil. Failures of the buffer or the store are logged
// and retried with capped exponential backoff, never dropped.
func (a *Aggregator) Run(ctx context.Context) error {
	if len(a.buffers) == 0 {
		return survey.Errorf(survey.ECodeInternal, "هیچ صفی برای تجمیع پیکربندی نشده است.", "aggregator has no buffers")
	}
	var wg sync.WaitGroup
	for _, b := range a.buffers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.loop(ctx, b.Name(), b)
		}()
	}
	a.log.Info("aggregator started", "buffers", len(a.buffers), "batch", a.opts.BatchSize, "claim_idle", a.opts.ClaimIdle)
	wg.Wait()
	s := a.Stats()
	a.log.Info("aggregator stopped", "folded", s.Folded, "duplicates", s.Duplicates, "batches", s.Batches,
		"quarantined", s.Quarantined, "reclaimed", s.Reclaimed, "errors", s.Errors)
	return nil
}

// loop drains one buffer until ctx is done.
func (a *Aggregator) loop(ctx context.Context, name string, buf survey.Buffer) {
	log := a.log.With("buffer", name)
	var bo backoff
	nextClaim := time.Time{} // reclaim at start
	// While a full batch folds, the next one is read and decoded (prefetch), so the buffer's
	// round trip and JSON decoding overlap the database transaction when there is a backlog.
	type readResult struct {
		ds  []survey.Delivery
		err error
	}
	var prefetch chan readResult
	defer func() {
		// A prefetched batch is in hand too: fold it before stopping, like the current one.
		if prefetch != nil {
			if r := <-prefetch; r.err == nil && len(r.ds) > 0 {
				a.process(ctx, log, name, buf, r.ds)
			}
		}
	}()
	for ctx.Err() == nil {
		var (
			ds        []survey.Delivery
			err       error
			reclaimed bool
		)
		if prefetch != nil {
			r := <-prefetch
			prefetch = nil
			ds, err = r.ds, r.err
		} else if !time.Now().Before(nextClaim) {
			ds, err = buf.Reclaim(ctx, a.opts.Consumer, a.opts.ClaimIdle, a.opts.BatchSize)
			if err == nil {
				reclaimed = len(ds) > 0
				if len(ds) > 0 {
					a.reclaimed.Add(int64(len(ds)))
					log.Info("reclaimed entries from stalled consumers", "entries", len(ds))
				}
				if len(ds) < a.opts.BatchSize { // a full batch means more may wait: go again
					nextClaim = time.Now().Add(a.opts.ClaimIdle / 2)
				}
			}
		}
		if err == nil && len(ds) == 0 {
			ds, err = buf.Read(ctx, a.opts.Consumer, a.opts.BatchSize, a.opts.Block)
		}
		if err != nil {
			if ctx.Err() != nil {
				// Cancelled while blocked in Read: anything the buffer handed out but we did not
				// receive stays pending and is reclaimed later.
				return
			}
			a.errs.Add(1)
			wait := bo.next(a.opts.MaxBackoff)
			log.Warn("buffer read failed; retrying", "err", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		bo.reset()
		if len(ds) == 0 {
			continue
		}
		if !reclaimed && len(ds) == a.opts.BatchSize && time.Now().Before(nextClaim) {
			ch := make(chan readResult, 1)
			go func() {
				// Not cancelled by shutdown: a read the buffer answers must reach us so its
				// entries are folded before we stop, not left pending until a reclaim. It
				// waits at most Block.
				nds, nerr := buf.Read(context.WithoutCancel(ctx), a.opts.Consumer, a.opts.BatchSize, a.opts.Block)
				ch <- readResult{nds, nerr}
			}()
			prefetch = ch
		}
		a.process(ctx, log, name, buf, ds)
	}
}

// process quarantines the undecodable deliveries, folds the rest and acks the whole batch, each
// step retried until it succeeds. It returns without acking when ctx is done and a step fails,
// leaving the entries pending for a reclaim.
//
// A response the store refuses outright (Fold answers ECodeInvalid, e.g. an id that is not a
// UUID) would block its batch forever if retried; instead the batch is folded one response at a
// time and only the refused ones are quarantined.
func (a *Aggregator) process(ctx context.Context, log *slog.Logger, name string, buf survey.Buffer, ds []survey.Delivery) {
	wctx, cancel := flushContext(ctx, a.opts.FlushTimeout)
	defer cancel()

	refs := make([]string, 0, len(ds))
	rs := make([]survey.Response, 0, len(ds))
	byID := make(map[string]survey.Delivery, len(ds))
	type poison struct {
		d      survey.Delivery
		reason string
	}
	var bad []poison
	dups := 0
	for _, d := range ds {
		refs = append(refs, d.Ref)
		if d.Err != nil {
			bad = append(bad, poison{d, d.Err.Error()})
			continue
		}
		id := strings.ToLower(strings.TrimSpace(d.Response.ID))
		_, seen := byID[id]
		switch {
		case !survey.ValidUUID(id):
			bad = append(bad, poison{d, fmt.Sprintf("response id %q is not a UUID", d.Response.ID)})
		case seen:
			// The same response twice in one batch (appended twice): the store would skip it
			// anyway; dropping it here keeps the multi-row insert free of repeated keys.
			dups++
		default:
			byID[id] = d
			rs = append(rs, d.Response)
		}
	}

	quarantine := func(d survey.Delivery, reason string) bool {
		raw := d.Raw
		if raw == nil && d.Err == nil {
			raw, _ = survey.MarshalResponse(&d.Response)
		}
		source := name + "/" + d.Ref
		if a.retry(ctx, wctx, log, "quarantine", nil, func(c context.Context) error {
			return a.store.Quarantine(c, source, raw, reason)
		}) != nil {
			return false
		}
		a.quarantined.Add(1)
		log.Warn("quarantined entry", "ref", d.Ref, "reason", reason, "bytes", len(raw))
		return true
	}
	for _, p := range bad {
		if !quarantine(p.d, p.reason) {
			return
		}
	}

	refused := func(err error) bool { return survey.ErrorCode(err) == survey.ECodeInvalid }
	inserted, refusedN := 0, 0
	fold := func(rs []survey.Response) error {
		return a.retry(ctx, wctx, log, "fold", refused, func(c context.Context) error {
			n, err := a.store.Fold(c, rs, Delta)
			if err == nil {
				inserted += n
			}
			return err
		})
	}
	if len(rs) > 0 {
		err := fold(rs)
		if refused(err) {
			log.Warn("store refused a batch; folding it one response at a time", "err", err, "responses", len(rs))
			for _, r := range rs {
				err := fold([]survey.Response{r})
				if refused(err) {
					if !quarantine(byID[strings.ToLower(strings.TrimSpace(r.ID))], err.Error()) {
						return
					}
					refusedN++
					continue
				}
				if err != nil {
					return
				}
			}
		} else if err != nil {
			return
		}
	}
	if a.retry(ctx, wctx, log, "ack", nil, func(c context.Context) error { return buf.Ack(c, refs) }) != nil {
		// Folded but not acked: the entries come back by reclaim and fold as duplicates.
		return
	}
	a.folded.Add(int64(inserted))
	a.duplicates.Add(int64(dups + len(rs) - inserted - refusedN))
	a.batches.Add(1)
	a.lastFold.Store(time.Now().UnixNano())
	log.Debug("batch folded", "entries", len(ds), "inserted", inserted, "quarantined", len(bad)+refusedN)
}

// errShutdown reports a step abandoned because the aggregator is stopping.
var errShutdown = errors.New("aggregator stopping")

// retry calls f with wctx until it succeeds, backing off between failures, and returns nil. An
// error for which permanent reports true is returned at once, unretried. It gives up, returning
// errShutdown, when the run context ctx is done (or the flush deadline wctx passes) after a
// failure: during shutdown the batch gets the attempt already under way, not an endless retry.
func (a *Aggregator) retry(ctx, wctx context.Context, log *slog.Logger, what string, permanent func(error) bool, f func(context.Context) error) error {
	var bo backoff
	for {
		err := f(wctx)
		if err == nil {
			return nil
		}
		a.errs.Add(1)
		if permanent != nil && permanent(err) {
			return err
		}
		if ctx.Err() != nil || wctx.Err() != nil {
			log.Warn(what+" failed during shutdown; batch left pending for a later reclaim", "err", err)
			return errShutdown
		}
		wait := bo.next(a.opts.MaxBackoff)
		log.Error(what+" failed; retrying", "err", err, "retry_in", wait)
		if !sleep(ctx, wait) {
			log.Warn(what + " abandoned at shutdown; batch left pending for a later reclaim")
			return errShutdown
		}
	}
}

// flushContext returns a context that ignores parent's cancellation for up to d after it, so the
// batch in hand can be finished during a graceful shutdown, but not forever.
func flushContext(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	go func() {
		select {
		case <-parent.Done():
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// backoff yields capped exponential waits: 100ms, 200ms, 400ms, … up to max.
type backoff struct{ d time.Duration }

func (b *backoff) next(max time.Duration) time.Duration {
	switch {
	case b.d == 0:
		b.d = 100 * time.Millisecond
	case b.d < max:
		b.d *= 2
	}
	if b.d > max {
		b.d = max
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits d or until ctx is done, reporting whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
