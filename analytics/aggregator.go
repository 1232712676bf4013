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

// FoldStore is what the aggregator needs from storage. FoldResponses must be one transaction that
// inserts the responses not stored yet, adds delta(inserted) to the rollups and commits —
// idempotent by response id, which is what lets the aggregator retry, and other workers reclaim,
// freely. Its result names the responses it did not store because their id is already stored
// with different content (FoldResult.Conflicts: an id reused for another body, which intake
// refuses with 409 but two replicas can still race on); they are dead-lettered. It answers
// ECodeInvalid when the data itself can never be stored (the database refuses a value); any
// other error is taken for an outage and retried. Quarantine keeps entries the aggregator sets
// aside so that a person can look at them.
type FoldStore interface {
	FoldResponses(ctx context.Context, rs []survey.Response, delta func(inserted []survey.Response) survey.RollupDelta) (survey.FoldResult, error)
	Quarantine(ctx context.Context, source string, raw []byte, reason string) error
}

// Dead-letter reasons start with one of these words, so that a person (or a query) can tell why
// an entry was set aside: it could not be decoded, its id is not a UUID, the database refused its
// data, or its id is already stored with a different body.
const (
	ReasonUndecodable = "undecodable"
	ReasonInvalidID   = "invalid_id"
	ReasonRefused     = "refused"
	ReasonIDConflict  = "id_conflict"
)

// AggregatorOptions tunes an Aggregator; zero values take the defaults.
type AggregatorOptions struct {
	// Consumer names this worker in the buffers' consumer groups. At start the aggregator takes
	// back, at once, whatever the buffers still hold delivered to this name and unacked — a
	// predecessor's batch when a process restarts under the same name — so a deployment should
	// give each worker a name that is stable across its restarts and distinct from its live peers
	// (cmd/afkar derives one from the host and the configuration). Two live workers that share a
	// name are still safe: each may fold the other's batch again, which the idempotent fold
	// counts once, at the cost of duplicate work. The default, hostname-pid-random, is unique per
	// process and so never resumes anything: a predecessor's entries wait for ClaimIdle.
	Consumer string
	// BatchSize is the most entries folded in one transaction (default 500).
	BatchSize int
	// Block is how long one Read waits for entries (default 1s).
	Block time.Duration
	// ClaimIdle is how long an entry may stay unacked with another consumer before this worker
	// takes it over (default 5s). A live worker touches the entries it holds every ClaimIdle/3, so
	// only a dead or frozen worker's entries ever get that idle, and they are reclaimed within
	// ClaimIdle plus one reclaim round (every ClaimIdle/4, at most every second). Reclaiming an
	// entry too early costs a second fold of it, never a second count.
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
//
// Nothing blocks a stream for good. A response the store refuses for what it holds is found by
// bisecting its batch and dead-lettered, and the rest is folded; reclaiming another worker's
// entries runs on its own schedule and its failures are logged and counted while reading and
// acking go on (under a full Redis, reading and acking are what free memory).
type Aggregator struct {
	store   FoldStore
	buffers []survey.Buffer
	opts    AggregatorOptions
	log     *slog.Logger

	folded, duplicates, batches, errs, quarantined, deadLettered, reclaimed, resumed, reclaimErrs atomic.Int64
	lastFold                                                                                      atomic.Int64 // unix nanoseconds
}

// AggregatorStats are counters since the aggregator was made, for metrics and logs.
type AggregatorStats struct {
	Folded        int64     // responses newly stored and added to rollups
	Duplicates    int64     // responses delivered again but already stored (retries, reclaims, re-submissions)
	Batches       int64     // batches folded and acked
	Errors        int64     // failed buffer or store calls (each retried), refused folds included
	Quarantined   int64     // entries set aside before the store saw them: undecodable, or an id that is not a UUID
	DeadLettered  int64     // responses set aside because the store refused their data (or their id conflicts)
	Reclaimed     int64     // entries taken over from consumers that stopped acking
	Resumed       int64     // entries taken back from this consumer's own predecessor at start
	ReclaimErrors int64     // failed resume, reclaim or touch calls (logged; reading went on)
	LastFold      time.Time // when a batch was last folded; zero before the first
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
		opts.ClaimIdle = DefaultClaimIdle
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

// DefaultClaimIdle is AggregatorOptions.ClaimIdle's default: short enough that a dead worker's
// entries are counted within seconds, long enough that a live one (which touches what it holds
// every third of it) never loses its batch to a pause.
const DefaultClaimIdle = 5 * time.Second

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

// reclaimEvery is how often other consumers' idle entries are looked for.
func (a *Aggregator) reclaimEvery() time.Duration {
	return min(max(a.opts.ClaimIdle/4, 10*time.Millisecond), time.Second)
}

// touchEvery is how often the entries in hand are touched: three times per ClaimIdle.
func (a *Aggregator) touchEvery() time.Duration { return max(a.opts.ClaimIdle/3, 10*time.Millisecond) }

// Stats returns a snapshot of the counters.
func (a *Aggregator) Stats() AggregatorStats {
	s := AggregatorStats{
		Folded:        a.folded.Load(),
		Duplicates:    a.duplicates.Load(),
		Batches:       a.batches.Load(),
		Errors:        a.errs.Load(),
		Quarantined:   a.quarantined.Load(),
		DeadLettered:  a.deadLettered.Load(),
		Reclaimed:     a.reclaimed.Load(),
		Resumed:       a.resumed.Load(),
		ReclaimErrors: a.reclaimErrs.Load(),
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
		"quarantined", s.Quarantined, "dead_lettered", s.DeadLettered, "reclaimed", s.Reclaimed,
		"resumed", s.Resumed, "errors", s.Errors)
	return nil
}

// loop drains one buffer until ctx is done: first it takes back its own unacked entries
// (Resume), then it reads new entries, and on its own schedule it reclaims idle entries of
// other consumers. Everything it holds is touched in the background so peers do not reclaim it.
func (a *Aggregator) loop(ctx context.Context, name string, buf survey.Buffer) {
	log := a.log.With("buffer", name)
	held := &holder{refs: map[string]struct{}{}}
	stopTouch := a.keepFresh(log, buf, held)
	defer stopTouch()

	var bo backoff
	tb := &takeBack{}
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
				held.remove(r.ds)
			}
		}
	}()
	for ctx.Err() == nil {
		var (
			ds       []survey.Delivery
			err      error
			fromRead bool
		)
		if prefetch != nil {
			r := <-prefetch
			prefetch = nil
			ds, err, fromRead = r.ds, r.err, true
		} else if tb.due() {
			ds = a.takeBack(ctx, log, buf, tb)
			held.add(ds)
		}
		if err == nil && len(ds) == 0 {
			ds, err = buf.Read(ctx, a.opts.Consumer, a.opts.BatchSize, a.opts.Block)
			fromRead = true
			held.add(ds)
		}
		if err != nil {
			if ctx.Err() != nil {
				// Cancelled while blocked in Read: anything the buffer handed out but we did not
				// receive stays pending and is resumed or reclaimed later.
				return
			}
			a.errs.Add(1)
			wait := bo.next(a.opts.MaxBackoff)
			log.Warn("buffer read failed; retrying", "err", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		if fromRead {
			bo.reset()
		}
		if len(ds) == 0 {
			continue
		}
		if fromRead && len(ds) == a.opts.BatchSize && !tb.due() {
			ch := make(chan readResult, 1)
			go func() {
				// Not cancelled by shutdown: a read the buffer answers must reach us so its
				// entries are folded before we stop, not left pending until a reclaim. It
				// waits at most Block.
				nds, nerr := buf.Read(context.WithoutCancel(ctx), a.opts.Consumer, a.opts.BatchSize, a.opts.Block)
				held.add(nds)
				ch <- readResult{nds, nerr}
			}()
			prefetch = ch
		}
		a.process(ctx, log, name, buf, ds)
		held.remove(ds)
	}
}

// takeBack is one loop's schedule for taking entries back: its own (once, at start, until none
// are left) and other consumers' idle ones (every reclaimEvery, at once again after a full
// batch, later after a failure).
type takeBack struct {
	resumed bool      // this consumer's own pending entries have all been taken back
	next    time.Time // when to look again; zero: now
	bo      backoff
}

func (t *takeBack) due() bool { return !time.Now().Before(t.next) }

// takeBack returns entries to fold now, or none. It never returns an error: a failing resume or
// reclaim is logged, counted and tried again later, while the caller goes on reading and acking
// — under a full Redis those are what free memory, so they must not wait for a reclaim.
func (a *Aggregator) takeBack(ctx context.Context, log *slog.Logger, buf survey.Buffer, t *takeBack) []survey.Delivery {
	fail := func(what string, err error) []survey.Delivery {
		if ctx.Err() != nil {
			return nil
		}
		a.errs.Add(1)
		a.reclaimErrs.Add(1)
		wait := max(t.bo.next(a.opts.MaxBackoff), a.reclaimEvery())
		t.next = time.Now().Add(wait)
		log.Warn(what+" failed; reading on, trying again later", "err", err, "retry_in", wait)
		return nil
	}
	if !t.resumed {
		ds, err := buf.Resume(ctx, a.opts.Consumer, a.opts.BatchSize)
		if err != nil {
			return fail("taking back this consumer's own pending entries", err)
		}
		t.bo.reset()
		if len(ds) > 0 {
			a.resumed.Add(int64(len(ds)))
			log.Info("took back this consumer's own unacked entries", "entries", len(ds))
			t.next = time.Time{} // more may wait; the next round looks again
			return ds
		}
		t.resumed = true
	}
	ds, err := buf.Reclaim(ctx, a.opts.Consumer, a.opts.ClaimIdle, a.opts.BatchSize)
	if err != nil {
		return fail("reclaiming idle entries", err)
	}
	t.bo.reset()
	if len(ds) > 0 {
		a.reclaimed.Add(int64(len(ds)))
		log.Info("reclaimed entries from stalled consumers", "entries", len(ds))
	}
	if len(ds) < a.opts.BatchSize { // a full batch means more may wait: go again
		t.next = time.Now().Add(a.reclaimEvery())
	}
	return ds
}

// holder is the set of refs a loop holds (read, resumed or reclaimed, and not yet acked or
// abandoned), which keepFresh touches.
type holder struct {
	mu   sync.Mutex
	refs map[string]struct{}
}

func (h *holder) add(ds []survey.Delivery) {
	h.mu.Lock()
	for _, d := range ds {
		h.refs[d.Ref] = struct{}{}
	}
	h.mu.Unlock()
}

func (h *holder) remove(ds []survey.Delivery) {
	h.mu.Lock()
	for _, d := range ds {
		delete(h.refs, d.Ref)
	}
	h.mu.Unlock()
}

func (h *holder) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.refs))
	for r := range h.refs {
		out = append(out, r)
	}
	return out
}

// keepFresh touches the held entries every touchEvery until stop is called, so that a batch
// that takes long to fold (a slow database, a big backlog) is never mistaken for a dead
// worker's. It runs apart from the loop because the loop may be inside that long fold.
func (a *Aggregator) keepFresh(log *slog.Logger, buf survey.Buffer, h *holder) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		every := a.touchEvery()
		t := time.NewTicker(every)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			refs := h.list()
			if len(refs) == 0 {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), every)
			err := buf.Touch(ctx, a.opts.Consumer, refs)
			cancel()
			switch {
			case err != nil:
				a.errs.Add(1)
				a.reclaimErrs.Add(1)
				if !failing {
					log.Warn("touching the entries in hand failed; a peer may fold them again", "entries", len(refs), "err", err)
				}
				failing = true
			case failing:
				log.Info("touching the entries in hand works again")
				failing = false
			}
		}
	}()
	return func() { close(done); <-finished }
}

// process quarantines the undecodable deliveries, folds the rest and acks the whole batch, each
// step retried until it succeeds. It returns without acking when ctx is done and a step fails,
// leaving the entries pending for a reclaim.
//
// A response the store refuses outright (Fold answers ECodeInvalid: a value the database cannot
// hold; or ECodeConflict: its id is stored with another body) would block its batch forever if
// retried. Instead the batch is bisected — each half folded on its own, and a refused half split
// again — so that with one bad response in n, about 2·log₂ n folds find it; it is dead-lettered
// and everything else folded.
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
	var conflicts []survey.Delivery
	dups := 0
	for _, d := range ds {
		refs = append(refs, d.Ref)
		if d.Err != nil {
			bad = append(bad, poison{d, ReasonUndecodable + ": " + d.Err.Error()})
			continue
		}
		id := strings.ToLower(strings.TrimSpace(d.Response.ID))
		first, seen := byID[id]
		switch {
		case !survey.ValidUUID(id):
			bad = append(bad, poison{d, fmt.Sprintf("%s: response id %q is not a UUID", ReasonInvalidID, d.Response.ID)})
		case seen && first.Response.Hash != "" && d.Response.Hash != "" && first.Response.Hash != d.Response.Hash:
			// The same id with other content later in the batch: the first is folded, this one
			// set aside, as the store does across batches.
			conflicts = append(conflicts, d)
		case seen:
			// The same response twice in one batch (appended twice): the store would skip it
			// anyway; dropping it here keeps the multi-row insert free of repeated keys.
			dups++
		default:
			byID[id] = d
			rs = append(rs, d.Response)
		}
	}

	setAside := func(d survey.Delivery, reason string) bool {
		raw := d.Raw
		if raw == nil && d.Err == nil {
			raw, _ = survey.MarshalResponse(&d.Response)
		}
		source := name + "/" + d.Ref
		return a.retry(ctx, wctx, log, "dead-letter", nil, func(c context.Context) error {
			return a.store.Quarantine(c, source, raw, reason)
		}) == nil
	}
	for _, p := range bad {
		if !setAside(p.d, p.reason) {
			return
		}
		a.quarantined.Add(1)
		log.Warn("quarantined entry", "ref", p.d.Ref, "reason", p.reason, "bytes", len(p.d.Raw))
	}

	f := folder{a: a, ctx: ctx, wctx: wctx, log: log, deadLetter: func(r survey.Response, reason string) bool {
		d := byID[strings.ToLower(strings.TrimSpace(r.ID))]
		if !setAside(d, reason) {
			return false
		}
		a.deadLettered.Add(1)
		log.Warn("dead-lettered a response the store refused; its batch goes on", "ref", d.Ref, "id", r.ID, "reason", reason)
		return true
	}}
	for _, d := range conflicts {
		if !setAside(d, ReasonIDConflict+": id "+d.Response.ID+" appears twice in the batch with different content") {
			return
		}
		a.deadLettered.Add(1)
		log.Warn("dead-lettered a response whose id was reused for other content", "ref", d.Ref, "id", d.Response.ID)
	}
	if len(rs) > 0 && f.fold(rs, 0) != nil {
		return
	}
	if a.retry(ctx, wctx, log, "ack", nil, func(c context.Context) error { return buf.Ack(c, refs) }) != nil {
		// Folded but not acked: the entries come back by reclaim and fold as duplicates.
		return
	}
	a.folded.Add(int64(f.inserted))
	a.duplicates.Add(int64(dups + len(rs) - f.inserted - f.refused))
	a.batches.Add(1)
	a.lastFold.Store(time.Now().UnixNano())
	log.Debug("batch folded", "entries", len(ds), "inserted", f.inserted, "quarantined", len(bad), "dead_lettered", f.refused, "folds", f.folds)
}

// folder folds one batch, bisecting it around responses the store refuses.
type folder struct {
	a          *Aggregator
	ctx, wctx  context.Context
	log        *slog.Logger
	deadLetter func(r survey.Response, reason string) bool

	inserted, refused, folds int
}

// refusal reports whether err is the store refusing the data (never to succeed on retry), and
// the dead-letter reason to record.
func refusal(err error) (reason string, ok bool) {
	switch survey.ErrorCode(err) {
	case survey.ECodeInvalid:
		return ReasonRefused + ": " + err.Error(), true
	case survey.ECodeConflict:
		return ReasonIDConflict + ": " + err.Error(), true
	}
	return "", false
}

// fold folds rs, retrying outages until they pass (or shutdown: errShutdown). When the store
// refuses rs, a single response is dead-lettered and a longer slice is split in halves, each
// folded the same way.
func (f *folder) fold(rs []survey.Response, depth int) error {
	refused := func(err error) bool { _, ok := refusal(err); return ok }
	var conflicts []int
	err := f.a.retry(f.ctx, f.wctx, f.log, "fold", refused, func(c context.Context) error {
		f.folds++
		res, err := f.a.store.FoldResponses(c, rs, Delta)
		if err == nil {
			f.inserted += res.Inserted
			conflicts = res.Conflicts
		}
		return err
	})
	reason, isRefusal := refusal(err)
	switch {
	case err == nil:
		for _, i := range conflicts {
			if !f.deadLetter(rs[i], ReasonIDConflict+": id "+rs[i].ID+" is stored with different content") {
				return errShutdown
			}
			f.refused++
		}
		return nil
	case !isRefusal:
		return err
	case len(rs) == 1:
		if !f.deadLetter(rs[0], reason) {
			return errShutdown
		}
		f.refused++
		return nil
	}
	if depth == 0 {
		f.log.Warn("store refused a batch; bisecting it to set the refused responses aside", "err", err, "responses", len(rs))
	}
	mid := len(rs) / 2
	if err := f.fold(rs[:mid], depth+1); err != nil {
		return err
	}
	return f.fold(rs[mid:], depth+1)
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
