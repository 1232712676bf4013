// Package intake accepts citizens' submissions: it checks each against the origin the entry point
// vouches for (channel, principal and its scope), validates it against the exact survey version it
// answers, gives it an id, and hands it to the buffer — answering only once the buffer has made
// it durable. Appends are group-committed: whatever submissions are queued while the previous
// append is in flight go out together, which turns one Redis round trip or one SQLite fsync per
// response into one per batch without a fixed timer adding latency. When the primary buffer
// (Redis) fails — refuses, or does not answer within a short deadline — the batch goes to the
// fallback (the SQL inbox) so citizens keep getting answers, and later batches go straight there
// until a background probe finds the primary answering again; the aggregator drains both, and ids
// make the overlap harmless.
//
// A client-made id that was accepted before is answered without storing anything again: a
// resend of the same content is acknowledged as such (survey.Receipt.Resent), different content
// under the same id is refused with id_conflict. Intake looks in a bounded memory of recently
// accepted ids, then — once per batch, for the whole batch — in the stored responses. The lookup
// is a stage of its own in front of the group commit, so one batch is looked up while the
// previous one is appended and the round trip does not lengthen the commit cycle. What slips
// past both (two replicas, or the second body sent before the first was folded) is caught by the
// fold, which reports it (survey.FoldResult.Conflicts).
package intake

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
)

// Catalog is what intake reads from storage: survey versions and agencies' offices. Intake keeps
// versions it has seen for good (a published version never changes), and remembers an office
// once it has seen it (offices are not deleted); an office it has not seen is looked up again at
// most every officeRecheck, so a new office is accepted within seconds. cmd/afkar hands it a
// cache (survey/cache) that also answers from memory while the database is down.
type Catalog interface {
	Version(ctx context.Context, surveyID survey.ID, version int) (survey.Version, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
}

// Appender is the write side of a survey.Buffer.
type Appender interface {
	Append(ctx context.Context, rs []survey.Response) error
}

// Stored tells which responses are already stored, so a resent id is answered without being
// appended again. The SQL store implements it.
type Stored interface {
	// ContentHashes returns the content hash (survey.Response.Hash) of each of ids that is
	// stored; ids not stored are absent. A response stored before hashes were kept has "".
	ContentHashes(ctx context.Context, ids []string) (map[string]string, error)
}

// Options tune an Intake; zero values take the defaults.
type Options struct {
	// MaxBatch bounds one group commit (default 512).
	MaxBatch int
	// AppendTimeout bounds one append to the fallback buffer, or to the primary when there is no
	// fallback (default 5s).
	AppendTimeout time.Duration
	// PrimaryTimeout bounds one append to the primary when there is a fallback (default 500ms).
	// A primary that hangs — a frozen Redis accepts connections and answers nothing — costs
	// the submissions of that one group commit at most this before they go to the fallback.
	PrimaryTimeout time.Duration
	// PrimaryRetry is how often a failed primary is probed (default 2s): appends go to the
	// fallback until a probe (the primary's Ping, bounded by PrimaryTimeout) succeeds, so no
	// citizen waits on a primary known to be down. A primary without Ping is simply tried again
	// after PrimaryRetry. Failed stored-id lookups pause for the same time.
	PrimaryRetry time.Duration
	// Flushers is how many appends may be in flight at once (default 1). One flusher that
	// drains the queue into each append already batches whatever arrived during the previous
	// append; a second measured no faster and split the batches.
	Flushers int
	// Stored is asked, once per batch, whether client-made ids are stored already; nil relies
	// on the recent-id memory alone (and on the fold to catch the rest).
	Stored Stored
	// LookupTimeout bounds one Stored lookup (default 1s). A lookup that fails or times out does
	// not fail the batch: it is appended unchecked, the fold still keeps the first response of an
	// id, and lookups are skipped for PrimaryRetry.
	LookupTimeout time.Duration
	// RecentIDs is how many client-made ids accepted by this process are remembered with their
	// content hash (default 32768, about 1.3 MB); a resend among them needs no lookup.
	RecentIDs int
	// FreshIDs spares the lookup for time-ordered ids (UUIDv7) that their client minted less
	// than this long ago (default 1s; negative looks up every id). Such an id was sent moments
	// after it was made, so only a resend within that moment can find it accepted — which the
	// recent-id memory answers on this replica. Measured: the lookup cost a fifth to a third of
	// the ingest rate when every submission carried a fresh client id; resends of older ids,
	// and ids of other forms, are still looked up. The cost of skipping: a resend that reached
	// another replica first within that moment is stored twice and the fold keeps the first.
	FreshIDs time.Duration
	Clock    survey.Clock
	Logger   *slog.Logger
}

// Intake validates and durably buffers submissions.
type Intake struct {
	cat      Catalog
	primary  Appender
	fallback Appender
	opts     Options
	log      *slog.Logger

	queue        chan *pending // validated responses for the next group commit
	checkQueue   chan *pending // client-made ids, to be checked before they join queue
	closing      chan struct{}
	checkClosing chan struct{}
	done         sync.WaitGroup // flushers
	checkDone    sync.WaitGroup // the checker
	mu           sync.RWMutex   // guards closed against concurrent Submit/Close
	closed       bool

	versions sync.Map // versionKey → survey.Version
	offices  sync.Map // survey.ID → officeEntry
	recent   *recentIDs

	// inflight holds the client-made ids the checker handed to the flushers and that are not
	// yet settled, so a resend arriving meanwhile joins the first instead of being stored
	// twice. inflightMu guards it and the followers of the pendings in it.
	inflightMu sync.Mutex
	inflight   map[string]*pending

	primaryDown      atomic.Bool  // the primary failed and has not answered a probe since
	primaryDownUntil atomic.Int64 // unix nanos; for a primary without Ping: when to try it again
	lookupDownUntil  atomic.Int64 // unix nanos

	stats Stats
}

// Stats are intake counters, read by metrics.
type Stats struct {
	Accepted         atomic.Int64 // responses durably appended and acknowledged
	Rejected         atomic.Int64 // submissions refused by validation
	Failed           atomic.Int64 // submissions that could not be stored anywhere (answered 503)
	FallbackAppends  atomic.Int64 // responses written to the fallback buffer
	Batches          atomic.Int64 // group commits
	PrimaryFailures  atomic.Int64 // appends to the primary that failed
	AppendNanosTotal atomic.Int64 // time spent in appends, for the mean batch latency
	Resent           atomic.Int64 // resends of an accepted id and content, answered without storing
	IDConflicts      atomic.Int64 // accepted ids sent again with other content (answered 409)
	LookupFailures   atomic.Int64 // failed Stored lookups (batches appended unchecked)
}

type versionKey struct {
	survey  survey.ID
	version int
}

type officeEntry struct {
	ids     map[survey.ID]bool
	fetched time.Time
}

// pending is one response on its way to a group commit. Whoever settles it (the checker or a
// flusher) fills in the outcome before it sends on done: check marks a client-made id; resent,
// a resend answered without storing; followers, the later pendings of the same id and content
// that share this one's fate (attached marks such a follower); same, the settled pending a
// follower takes its outcome from.
type pending struct {
	r         survey.Response
	check     bool
	resent    bool
	same      *pending
	attached  bool
	followers []*pending
	err       error
	done      chan error
}

// ErrClosed is returned for submissions that arrive after Close began.
var ErrClosed = survey.Errorf(survey.ECodeUnavailable, "سامانه در حال خاموش شدن است؛ لطفاً دوباره بفرستید.", "the server is shutting down; retry")

// New starts an Intake. fallback may be nil (embedded mode: the primary is the SQL inbox).
func New(cat Catalog, primary, fallback Appender, opts Options) *Intake {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.AppendTimeout <= 0 {
		opts.AppendTimeout = 5 * time.Second
	}
	if opts.PrimaryRetry <= 0 {
		opts.PrimaryRetry = 2 * time.Second
	}
	if opts.PrimaryTimeout <= 0 {
		opts.PrimaryTimeout = DefaultPrimaryTimeout
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 1
	}
	if opts.LookupTimeout <= 0 {
		opts.LookupTimeout = time.Second
	}
	if opts.RecentIDs <= 0 {
		opts.RecentIDs = 1 << 15
	}
	if opts.FreshIDs == 0 {
		opts.FreshIDs = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	in := &Intake{
		cat: cat, primary: primary, fallback: fallback, opts: opts, log: opts.Logger,
		queue:        make(chan *pending, opts.MaxBatch*4),
		checkQueue:   make(chan *pending, opts.MaxBatch*4),
		closing:      make(chan struct{}),
		checkClosing: make(chan struct{}),
		recent:       newRecentIDs(opts.RecentIDs),
		inflight:     make(map[string]*pending),
	}
	for i := 0; i < opts.Flushers; i++ {
		in.done.Add(1)
		go in.flushLoop()
	}
	in.checkDone.Add(1)
	go in.checkLoop()
	return in
}

// Stats exposes the counters.
func (in *Intake) Stats() *Stats { return &in.stats }

// ErrIDConflict answers a client-made id that was accepted before with different content. The
// first response stands; the client must send new answers under a new id.
func ErrIDConflict() error {
	const en = "this id was already used for a different response"
	const fa = "این شناسه پیش‌تر برای پاسخ دیگری به کار رفته است."
	return &survey.Error{Code: survey.ECodeIDConflict, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{"id": {Code: string(survey.ECodeIDConflict), Message: en, MessageFA: fa}}}
}

// Submit checks s against its origin, validates it and returns once the response is durable.
// The receipt carries the id to acknowledge. Submitting the same id with the same content again
// is safe: it is answered as a resend (Receipt.Resent) without being stored again — unless it
// reached another replica first, or the lookup failed, and then the fold drops the copy. The
// same id with other content is ErrIDConflict.
func (in *Intake) Submit(ctx context.Context, origin survey.Origin, s *survey.Submission) (survey.Receipt, error) {
	r, err := in.Validate(ctx, origin, s)
	if err != nil {
		return survey.Receipt{Response: r}, err
	}
	check := s.ID != "" // a server-made id is new by construction
	if check {
		if known, same := in.recent.match(r.ID, r.Hash); known {
			if !same {
				in.stats.IDConflicts.Add(1)
				return survey.Receipt{Response: r}, ErrIDConflict()
			}
			in.stats.Resent.Add(1)
			return survey.Receipt{Response: r, Resent: true}, nil
		}
	}
	p := &pending{r: r, check: check, done: make(chan error, 1)}
	q := in.queue
	if check {
		q = in.checkQueue
	}
	if err := in.enqueue(p, q); err != nil {
		return survey.Receipt{Response: r}, err
	}
	return survey.Receipt{Response: r, Resent: p.resent}, p.err
}

// Validate checks a submission against its origin (Origin.Apply: scope, channel), its version
// and the agency's offices, and assigns an id, without storing anything. s is not modified.
func (in *Intake) Validate(ctx context.Context, origin survey.Origin, s *survey.Submission) (survey.Response, error) {
	sub := *s
	if err := origin.Apply(&sub); err != nil {
		in.stats.Rejected.Add(1)
		return survey.Response{}, err
	}
	if err := sub.CheckKeys(); err != nil {
		in.stats.Rejected.Add(1)
		return survey.Response{}, err
	}
	v, err := in.version(ctx, sub.SurveyID, sub.SurveyVersion)
	if err != nil {
		if errors.Is(err, survey.ErrNotFound) {
			in.stats.Rejected.Add(1)
			return survey.Response{}, &survey.Error{Code: survey.ECodeInvalid,
				Message: "no such survey version", MessageFA: "این نسخه از پرسشنامه وجود ندارد.",
				Fields: map[string]survey.FieldError{"survey_version": {Code: "unknown_version", Message: "no such survey version", MessageFA: "این نسخه از پرسشنامه وجود ندارد."}}, Err: err}
		}
		return survey.Response{}, err
	}
	r, err := v.Validate(&sub, in.opts.Clock.Now())
	if err == nil && sub.OfficeID != 0 {
		ok, oerr := in.officeBelongs(ctx, sub.AgencyID, sub.OfficeID)
		if oerr != nil {
			return r, oerr
		}
		if !ok {
			err = &survey.Error{Code: survey.ECodeInvalid, Message: "the office does not belong to this agency",
				MessageFA: "این دفتر متعلق به این دستگاه نیست.",
				Fields:    map[string]survey.FieldError{"office_id": {Code: "unknown_office", Message: "the office does not belong to this agency", MessageFA: "این دفتر متعلق به این دستگاه نیست."}}}
		}
	}
	if err != nil {
		in.stats.Rejected.Add(1)
		return r, err
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	r.DeviceID, r.Flag = origin.DeviceID, origin.Flag
	return r, nil
}

// enqueue hands p to q — the group commit's queue, or the checker's in front of it — and waits
// for its outcome (p.err, p.resent). The wait does not end early when ctx ends: what was handed
// over is stored regardless, so a retry after a timeout is a harmless resend.
func (in *Intake) enqueue(p *pending, q chan *pending) error {
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return ErrClosed
	}
	q <- p
	in.mu.RUnlock()
	<-p.done
	return nil
}

// Close stops accepting submissions and waits until everything queued is durable: the checker
// drains first (it hands what it keeps to the flushers), then the flushers.
func (in *Intake) Close() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	close(in.checkClosing)
	in.mu.Unlock()
	in.checkDone.Wait()
	close(in.closing)
	in.done.Wait()
}

// batchLoop takes whatever q holds, up to MaxBatch, hands it to handle, and repeats; once
// closing is closed it handles what is left and returns. A batch is whatever arrived while the
// previous one was handled, so no timer adds latency.
func (in *Intake) batchLoop(q chan *pending, closing chan struct{}, handle func([]*pending)) {
	batch := make([]*pending, 0, in.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case p := <-q:
			batch = append(batch, p)
		case <-closing:
			for {
				select {
				case p := <-q:
					batch = append(batch, p)
					if len(batch) == in.opts.MaxBatch {
						handle(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						handle(batch)
					}
					return
				}
			}
		}
	drain:
		for len(batch) < in.opts.MaxBatch {
			select {
			case p := <-q:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		handle(batch)
	}
}

func (in *Intake) flushLoop() {
	defer in.done.Done()
	in.batchLoop(in.queue, in.closing, in.flush)
}

// checkLoop is the stage in front of the group commit for client-made ids: it settles each batch
// (checkBatch) and forwards what must be stored to the flushers.
func (in *Intake) checkLoop() {
	defer in.checkDone.Done()
	sc := &checkScratch{index: make(map[string]int, in.opts.MaxBatch), refs: make([]idRef, 0, in.opts.MaxBatch),
		lookup: make([]string, 0, in.opts.MaxBatch)}
	in.batchLoop(in.checkQueue, in.checkClosing, func(batch []*pending) { in.checkBatch(batch, sc) })
}

func (in *Intake) flush(batch []*pending) {
	rs := make([]survey.Response, 0, len(batch))
	for _, p := range batch {
		rs = append(rs, p.r)
	}
	start := time.Now()
	err := in.appendAnywhere(rs)
	in.stats.AppendNanosTotal.Add(int64(time.Since(start)))
	in.stats.Batches.Add(1)
	if err == nil {
		in.stats.Accepted.Add(int64(len(rs)))
	} else {
		in.stats.Failed.Add(int64(len(rs)))
	}
	// Remembered before leaving inflight, so a resend is always caught by one or the other;
	// once out of inflight, no follower can be added.
	checked := false
	for _, p := range batch {
		p.err = err
		if p.check {
			checked = true
			if err == nil {
				in.recent.put(p.r.ID, p.r.Hash)
			}
		}
	}
	if checked {
		in.inflightMu.Lock()
		for _, p := range batch {
			if p.check && in.inflight[p.r.ID] == p {
				delete(in.inflight, p.r.ID)
			}
		}
		in.inflightMu.Unlock()
	}
	for _, p := range batch {
		for _, f := range p.followers {
			in.follow(f, p)
		}
		p.done <- err
	}
}

// follow settles f, which shares the fate of p (same id and content): a resend once p is stored
// or was already, p's error otherwise.
func (in *Intake) follow(f, p *pending) {
	if f.err = p.err; f.err == nil {
		f.resent = true
		in.stats.Resent.Add(1)
	} else if survey.ErrorCode(f.err) == survey.ECodeIDConflict {
		in.stats.IDConflicts.Add(1)
	}
	f.done <- f.err
}

// checkScratch is the checker's reusable memory.
type checkScratch struct {
	index  map[string]int // id → refs
	refs   []idRef
	lookup []string
}

// idRef is what one check batch knows of one id: the first pending of it in the batch, and the
// content it was accepted with before, if it was — in flight (leader), remembered, or stored.
type idRef struct {
	first      *pending
	leader     *pending
	recent     bool
	recentHash uint64
	stored     bool
	hash       string // stored content hash; "" from before hashes were kept
}

// checkBatch settles the client-made ids of a batch before they are stored. Every pending of an
// id is compared with what the id was accepted with — by a pending still being appended, in the
// recent memory, or in the stored responses (asked once for the whole batch) — or, for a new id,
// with the first pending of it in the batch, which goes on to be stored: the same content is a
// resend that shares the accepted one's fate, other content is an id_conflict. The settled are
// answered now; the rest go on to the group commit.
func (in *Intake) checkBatch(batch []*pending, sc *checkScratch) {
	index, refs := sc.index, sc.refs[:0]
	clear(index)
	for _, p := range batch {
		if _, ok := index[p.r.ID]; !ok {
			index[p.r.ID] = len(refs)
			refs = append(refs, idRef{first: p})
		}
	}
	sc.refs = refs
	in.inflightMu.Lock()
	for i := range refs {
		refs[i].leader = in.inflight[refs[i].first.r.ID]
	}
	in.inflightMu.Unlock()
	lookup := sc.lookup[:0]
	now := time.Now()
	for i := range refs {
		r := &refs[i]
		if r.leader != nil {
			continue
		}
		if h, known := in.recent.get(r.first.r.ID); known { // accepted while waiting
			r.recent, r.recentHash = true, h
			continue
		}
		if !in.fresh(r.first.r.ID, now) {
			lookup = append(lookup, r.first.r.ID)
		}
	}
	sc.lookup = lookup
	for id, h := range in.lookupStored(lookup) {
		if i, ok := index[id]; ok {
			refs[i].stored, refs[i].hash = true, h
		}
	}

	// Followers are attached, and new ids entered in inflight, before any is forwarded: a
	// flusher reads them once it holds the pending.
	in.inflightMu.Lock()
	for _, p := range batch {
		r := &refs[index[p.r.ID]]
		switch {
		case r.leader != nil:
			switch {
			case p.r.Hash != r.leader.r.Hash:
				in.conflict(p)
			case in.inflight[p.r.ID] == r.leader:
				r.leader.followers = append(r.leader.followers, p)
				p.attached = true
			default: // settled by a flusher since: follow its outcome below
				p.same = r.leader
			}
		case r.recent:
			in.settle(p, !sameHash(r.recentHash, p.r.Hash))
		case r.stored:
			in.settle(p, r.hash != "" && r.hash != p.r.Hash)
		case p == r.first:
			in.inflight[p.r.ID] = p
		case p.r.Hash == r.first.r.Hash:
			r.first.followers = append(r.first.followers, p)
			p.attached = true
		default:
			in.conflict(p)
		}
	}
	in.inflightMu.Unlock()
	for _, p := range batch {
		switch {
		case p.attached:
		case p.same != nil:
			in.follow(p, p.same)
		case p.err != nil || p.resent:
			p.done <- p.err
		default:
			in.queue <- p
		}
	}
}

// fresh reports whether id is a UUIDv7 minted (by its client's clock) within FreshIDs before now,
// or up to MaxClockSkew after it; see Options.FreshIDs.
func (in *Intake) fresh(id string, now time.Time) bool {
	if in.opts.FreshIDs < 0 {
		return false
	}
	ms, ok := uuidV7Millis(id)
	if !ok {
		return false
	}
	age := now.UnixMilli() - ms
	return age <= in.opts.FreshIDs.Milliseconds() && age >= -survey.MaxClockSkew.Milliseconds()
}

// uuidV7Millis returns the Unix milliseconds at the front of a version-7 UUID in canonical form.
func uuidV7Millis(id string) (int64, bool) {
	if len(id) != 36 || id[14] != '7' {
		return 0, false
	}
	var ms int64
	for i := 0; i < 13; i++ {
		if i == 8 {
			continue // the dash
		}
		d, ok := hexDigit(id[i])
		if !ok {
			return 0, false
		}
		ms = ms<<4 | int64(d)
	}
	return ms, true
}

// lookupStored asks the stored responses which of ids are stored, and with what content hash. A
// failed lookup answers nothing: the batch is stored unchecked (the fold keeps the first response
// of each id) and lookups pause for PrimaryRetry.
func (in *Intake) lookupStored(ids []string) map[string]string {
	if len(ids) == 0 || in.opts.Stored == nil || time.Now().UnixNano() < in.lookupDownUntil.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.opts.LookupTimeout)
	stored, err := in.opts.Stored.ContentHashes(ctx, ids)
	cancel()
	if err != nil {
		in.stats.LookupFailures.Add(1)
		now := time.Now()
		if in.lookupDownUntil.Swap(now.Add(in.opts.PrimaryRetry).UnixNano()) < now.UnixNano() {
			in.log.Warn("looking up stored response ids failed; appending unchecked, the fold keeps the first of each id",
				"err", err, "retry_in", in.opts.PrimaryRetry)
		}
		return nil
	}
	return stored
}

// settle marks p, whose id was accepted before, as a resend or an id_conflict.
func (in *Intake) settle(p *pending, conflict bool) {
	if conflict {
		in.conflict(p)
		return
	}
	p.resent = true
	in.stats.Resent.Add(1)
}

func (in *Intake) conflict(p *pending) {
	p.err = ErrIDConflict()
	in.stats.IDConflicts.Add(1)
}

// DefaultPrimaryTimeout is Options.PrimaryTimeout's default: far above a healthy Redis append
// (a few milliseconds even for a full group commit), far below what a citizen notices.
const DefaultPrimaryTimeout = 500 * time.Millisecond

// pinger is the probe a primary may offer (survey.Buffer has it).
type pinger interface {
	Ping(ctx context.Context) error
}

// PrimaryUp reports whether appends currently go to the primary buffer (false while it is
// considered down and the fallback takes them).
func (in *Intake) PrimaryUp() bool { return in.fallback == nil || in.primaryUsable() }

func (in *Intake) primaryUsable() bool {
	if _, ok := in.primary.(pinger); ok {
		return !in.primaryDown.Load()
	}
	return time.Now().UnixNano() >= in.primaryDownUntil.Load()
}

// markPrimaryDown sends appends to the fallback from now on, and starts probing the primary.
func (in *Intake) markPrimaryDown(err error) {
	p, ok := in.primary.(pinger)
	if !ok {
		if in.primaryDownUntil.Swap(time.Now().Add(in.opts.PrimaryRetry).UnixNano()) < time.Now().UnixNano() {
			in.log.Warn("primary buffer failed; using the fallback inbox", "err", err, "retry_in", in.opts.PrimaryRetry)
		}
		return
	}
	if !in.primaryDown.CompareAndSwap(false, true) {
		return
	}
	in.log.Warn("primary buffer failed; using the fallback inbox until it answers again", "err", err, "probe_every", in.opts.PrimaryRetry)
	in.done.Add(1)
	go func() {
		defer in.done.Done()
		t := time.NewTicker(in.opts.PrimaryRetry)
		defer t.Stop()
		for {
			select {
			case <-in.closing:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), in.opts.PrimaryTimeout)
			err := p.Ping(ctx)
			cancel()
			if err == nil {
				in.primaryDown.Store(false)
				in.log.Info("primary buffer answers again; appending to it")
				return
			}
		}
	}()
}

// appendAnywhere writes to the primary unless it is down, else (or when it fails now) to the
// fallback. With a fallback, the primary gets PrimaryTimeout; the fallback, and a primary that
// is the only buffer, get AppendTimeout.
func (in *Intake) appendAnywhere(rs []survey.Response) error {
	var perr error
	if in.fallback == nil || in.primaryUsable() {
		timeout := in.opts.PrimaryTimeout
		if in.fallback == nil {
			timeout = in.opts.AppendTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		perr = in.primary.Append(ctx, rs)
		cancel()
		if perr == nil {
			return nil
		}
		in.stats.PrimaryFailures.Add(1)
		if in.fallback == nil {
			in.log.Error("buffer append failed", "responses", len(rs), "err", perr)
			return survey.Wrap(survey.ECodeUnavailable, perr, "ثبت پاسخ ممکن نشد؛ لطفاً دوباره بفرستید.", "the response could not be stored; retry")
		}
		in.markPrimaryDown(perr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.opts.AppendTimeout)
	defer cancel()
	if err := in.fallback.Append(ctx, rs); err != nil {
		in.log.Error("fallback append failed", "responses", len(rs), "err", err, "primary_err", perr)
		return survey.Wrap(survey.ECodeUnavailable, err, "ثبت پاسخ ممکن نشد؛ لطفاً دوباره بفرستید.", "the response could not be stored; retry")
	}
	in.stats.FallbackAppends.Add(int64(len(rs)))
	return nil
}

func (in *Intake) version(ctx context.Context, id survey.ID, n int) (survey.Version, error) {
	k := versionKey{id, n}
	if v, ok := in.versions.Load(k); ok {
		return v.(survey.Version), nil
	}
	v, err := in.cat.Version(ctx, id, n)
	if err != nil {
		return v, err
	}
	in.versions.Store(k, v)
	return v, nil
}

// officeRecheck is how long an agency's office list answers "no such office" before it is
// looked up again: a new office is accepted within this, and a stream of submissions naming a
// wrong office costs one lookup per agency per officeRecheck.
const officeRecheck = 10 * time.Second

// officeBelongs reports whether office is one of agency's. An office seen once is remembered for
// good (offices are not deleted).
func (in *Intake) officeBelongs(ctx context.Context, agency, office survey.ID) (bool, error) {
	if e, ok := in.offices.Load(agency); ok {
		oe := e.(officeEntry)
		if oe.ids[office] {
			return true, nil
		}
		if time.Since(oe.fetched) < officeRecheck {
			return false, nil
		}
	}
	list, err := in.cat.Offices(ctx, agency)
	if err != nil {
		return false, err
	}
	oe := officeEntry{ids: make(map[survey.ID]bool, len(list)), fetched: time.Now()}
	for _, o := range list {
		oe.ids[o.ID] = true
	}
	in.offices.Store(agency, oe)
	return oe.ids[office], nil
}

// NewID returns a time-ordered UUIDv7, so ids assigned by the server keep storage indexes
// append-mostly (random v4 keys slowed inserts by 40% once the index outgrew the cache).
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
