// Package intake accepts citizens' submissions: it checks each against the origin the entry point
// vouches for (channel, principal and its scope), validates it against the exact survey version it
// answers, gives it an id, and hands it to the buffer — answering only once the buffer has made
// it durable. Appends are group-committed: whatever submissions are queued while the previous
// append is in flight go out together, which turns one Redis round trip or one SQLite fsync per
// response into one per batch without a fixed timer adding latency. When the primary buffer
// (Redis) fails, the batch goes to the fallback (the SQL inbox) so citizens keep getting answers;
// the aggregator drains both, and ids make the overlap harmless.
//
// A client-made id that was accepted before is answered without storing anything again: a
// resend of the same content is acknowledged as such (survey.Receipt.Resent), different content
// under the same id is refused with id_conflict. Intake looks in a bounded memory of recently
// accepted ids, then — once per group commit, for the whole batch — in the stored responses.
// What slips past both (two replicas, or the second body sent before the first was folded) is
// caught by the fold, which reports it (survey.FoldResult.Conflicts).
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

// Catalog is what intake reads from storage: immutable versions (cached forever) and offices
// (cached briefly, since new offices appear).
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
	// AppendTimeout bounds one append to a buffer (default 5s).
	AppendTimeout time.Duration
	// PrimaryRetry is how long the primary is skipped after it failed (default 2s).
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
	// content hash (default 65536, about 4 MB); a resend among them needs no lookup.
	RecentIDs int
	Clock     survey.Clock
	Logger    *slog.Logger
}

// Intake validates and durably buffers submissions.
type Intake struct {
	cat      Catalog
	primary  Appender
	fallback Appender
	opts     Options
	log      *slog.Logger

	queue   chan *pending
	closing chan struct{}
	done    sync.WaitGroup
	mu      sync.RWMutex // guards closed against concurrent Submit/Close
	closed  bool

	versions sync.Map // versionKey → survey.Version
	offices  sync.Map // survey.ID → officeEntry
	recent   *recentIDs

	primaryDownUntil atomic.Int64 // unix nanos
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

// pending is one response waiting for a group commit. The flusher fills in the outcome before it
// sends on done: check marks a client-made id to look up; resent, a resend answered without
// storing; same, an earlier pending of the same batch with the same id and content, whose fate
// this one shares.
type pending struct {
	r      survey.Response
	check  bool
	resent bool
	same   *pending
	err    error
	done   chan error
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
	if opts.Flushers <= 0 {
		opts.Flushers = 1
	}
	if opts.LookupTimeout <= 0 {
		opts.LookupTimeout = time.Second
	}
	if opts.RecentIDs <= 0 {
		opts.RecentIDs = 1 << 16
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	in := &Intake{
		cat: cat, primary: primary, fallback: fallback, opts: opts, log: opts.Logger,
		queue:   make(chan *pending, opts.MaxBatch*4),
		closing: make(chan struct{}),
		recent:  newRecentIDs(opts.RecentIDs),
	}
	for i := 0; i < opts.Flushers; i++ {
		in.done.Add(1)
		go in.flushLoop()
	}
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
// is safe: it is answered as a resend (Receipt.Resent) and stored at most once more in the
// buffer, where the aggregator drops it; the same id with other content is ErrIDConflict.
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
	if err := in.enqueue(p); err != nil {
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
	return r, nil
}

// enqueue hands p to the next group commit and waits for its outcome (p.err, p.resent). The wait
// does not end early when ctx ends: what was handed over is stored regardless, so a retry after
// a timeout is a harmless resend.
func (in *Intake) enqueue(p *pending) error {
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return ErrClosed
	}
	in.queue <- p
	in.mu.RUnlock()
	<-p.done
	return nil
}

// Close stops accepting submissions and waits until everything queued is durable.
func (in *Intake) Close() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	close(in.closing)
	in.mu.Unlock()
	in.done.Wait()
}

// flushScratch is one flusher's reusable memory for settling a batch's ids.
type flushScratch struct {
	first  map[string]*pending
	lookup []string
}

func (in *Intake) flushLoop() {
	defer in.done.Done()
	batch := make([]*pending, 0, in.opts.MaxBatch)
	sc := &flushScratch{first: make(map[string]*pending, in.opts.MaxBatch), lookup: make([]string, 0, in.opts.MaxBatch)}
	for {
		batch = batch[:0]
		select {
		case p := <-in.queue:
			batch = append(batch, p)
		case <-in.closing:
			// Drain what is left, then stop.
			for {
				select {
				case p := <-in.queue:
					batch = append(batch, p)
					if len(batch) == in.opts.MaxBatch {
						in.flush(batch, sc)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						in.flush(batch, sc)
					}
					return
				}
			}
		}
	drain:
		for len(batch) < in.opts.MaxBatch {
			select {
			case p := <-in.queue:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		in.flush(batch, sc)
	}
}

func (in *Intake) flush(batch []*pending, sc *flushScratch) {
	in.resolveIDs(batch, sc)
	rs := make([]survey.Response, 0, len(batch))
	for _, p := range batch {
		if p.err == nil && !p.resent && p.same == nil {
			rs = append(rs, p.r)
		}
	}
	var err error
	if len(rs) > 0 {
		start := time.Now()
		err = in.appendAnywhere(rs)
		in.stats.AppendNanosTotal.Add(int64(time.Since(start)))
		in.stats.Batches.Add(1)
		if err == nil {
			in.stats.Accepted.Add(int64(len(rs)))
		} else {
			in.stats.Failed.Add(int64(len(rs)))
		}
	}
	for _, p := range batch {
		if p.same == nil && p.err == nil && !p.resent {
			p.err = err
			if err == nil && p.check {
				in.recent.put(p.r.ID, p.r.Hash)
			}
		}
	}
	// A second pending of an id in this batch, with the first's content, shares its fate: a
	// resend once the first is stored (or was already), the first's error otherwise.
	for _, p := range batch {
		if p.same != nil {
			if p.err = p.same.err; p.err == nil {
				p.resent = true
				in.stats.Resent.Add(1)
			} else if survey.ErrorCode(p.err) == survey.ECodeIDConflict {
				in.stats.IDConflicts.Add(1)
			}
		}
		p.done <- p.err
	}
}

// resolveIDs settles the client-made ids of a batch before it is appended: a second pending of
// the same id in the batch shares the first's fate (same content) or is an id_conflict; an id
// remembered or stored already is a resend or an id_conflict. The stored responses are asked
// once for the whole batch. Whatever is left is appended.
func (in *Intake) resolveIDs(batch []*pending, sc *flushScratch) {
	first := sc.first
	clear(first)
	lookup := sc.lookup[:0]
	for _, p := range batch {
		if !p.check {
			continue
		}
		if f, dup := first[p.r.ID]; dup {
			if f.r.Hash == p.r.Hash {
				p.same = f
			} else {
				in.conflict(p)
			}
			continue
		}
		first[p.r.ID] = p
		if known, same := in.recent.match(p.r.ID, p.r.Hash); known { // accepted while p waited
			in.settle(p, !same)
			continue
		}
		lookup = append(lookup, p.r.ID)
	}
	sc.lookup = lookup
	if len(lookup) == 0 || in.opts.Stored == nil || time.Now().UnixNano() < in.lookupDownUntil.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.opts.LookupTimeout)
	stored, err := in.opts.Stored.ContentHashes(ctx, lookup)
	cancel()
	if err != nil {
		in.stats.LookupFailures.Add(1)
		now := time.Now()
		if in.lookupDownUntil.Swap(now.Add(in.opts.PrimaryRetry).UnixNano()) < now.UnixNano() {
			in.log.Warn("looking up stored response ids failed; appending unchecked, the fold keeps the first of each id",
				"err", err, "retry_in", in.opts.PrimaryRetry)
		}
		return
	}
	for _, id := range lookup {
		if h, ok := stored[id]; ok {
			p := first[id]
			in.settle(p, h != "" && h != p.r.Hash)
		}
	}
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

// appendAnywhere writes to the primary unless it failed recently, else to the fallback.
func (in *Intake) appendAnywhere(rs []survey.Response) error {
	now := time.Now().UnixNano()
	var perr error
	if in.fallback == nil || now >= in.primaryDownUntil.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), in.opts.AppendTimeout)
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
		if in.primaryDownUntil.Swap(time.Now().Add(in.opts.PrimaryRetry).UnixNano()) < now {
			in.log.Warn("primary buffer failed; using the fallback inbox", "err", perr, "retry_in", in.opts.PrimaryRetry)
		}
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

const officeTTL = time.Minute

func (in *Intake) officeBelongs(ctx context.Context, agency, office survey.ID) (bool, error) {
	if e, ok := in.offices.Load(agency); ok {
		oe := e.(officeEntry)
		if oe.ids[office] {
			return true, nil
		}
		if time.Since(oe.fetched) < officeTTL/6 {
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
