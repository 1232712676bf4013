// Package intake accepts citizens' submissions: it validates each against the exact survey version
// it answers, gives it an id, and hands it to the buffer — answering only once the buffer has made
// it durable. Appends are group-committed: whatever submissions are queued while the previous
// append is in flight go out together, which turns one Redis round trip or one SQLite fsync per
// response into one per batch without a fixed timer adding latency. When the primary buffer
// (Redis) fails — refuses, or does not answer within a short deadline — the batch goes to the
// fallback (the SQL inbox) so citizens keep getting answers, and later batches go straight there
// until a background probe finds the primary answering again; the aggregator drains both, and ids
// make the overlap harmless.
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
	// after PrimaryRetry.
	PrimaryRetry time.Duration
	// Flushers is how many appends may be in flight at once (default 1). One flusher that
	// drains the queue into each append already batches whatever arrived during the previous
	// append; a second measured no faster and split the batches.
	Flushers int
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

	queue   chan *pending
	closing chan struct{}
	done    sync.WaitGroup
	mu      sync.RWMutex // guards closed against concurrent Submit/Close
	closed  bool

	versions sync.Map // versionKey → survey.Version
	offices  sync.Map // survey.ID → officeEntry

	primaryDown      atomic.Bool  // the primary failed and has not answered a probe since
	primaryDownUntil atomic.Int64 // unix nanos; for a primary without Ping: when to try it again

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
}

type versionKey struct {
	survey  survey.ID
	version int
}

type officeEntry struct {
	ids     map[survey.ID]bool
	fetched time.Time
}

type pending struct {
	r    survey.Response
	done chan error
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
	if opts.PrimaryTimeout <= 0 {
		opts.PrimaryTimeout = DefaultPrimaryTimeout
	}
	if opts.PrimaryRetry <= 0 {
		opts.PrimaryRetry = 2 * time.Second
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 1
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
	}
	for i := 0; i < opts.Flushers; i++ {
		in.done.Add(1)
		go in.flushLoop()
	}
	return in
}

// Stats exposes the counters.
func (in *Intake) Stats() *Stats { return &in.stats }

// Submit validates s and returns once the response is durable. The returned response carries the
// id to acknowledge. Submitting the same id again is safe: it is stored again in the buffer and
// dropped by the aggregator, never counted twice.
func (in *Intake) Submit(ctx context.Context, s *survey.Submission) (survey.Response, error) {
	r, err := in.Validate(ctx, s)
	if err != nil {
		return r, err
	}
	if err := in.Append(ctx, []survey.Response{r}); err != nil {
		return r, err
	}
	return r, nil
}

// Validate checks a submission against its version and the agency's offices and assigns an id,
// without storing anything.
func (in *Intake) Validate(ctx context.Context, s *survey.Submission) (survey.Response, error) {
	if s.SurveyID == 0 || s.SurveyVersion <= 0 {
		in.stats.Rejected.Add(1)
		return survey.Response{}, &survey.Error{Code: survey.ECodeInvalid,
			Message: "survey_id and survey_version are required", MessageFA: "شناسه و نسخه پرسشنامه لازم است.",
			Fields: map[string]survey.FieldError{"survey_id": {Code: "required", Message: "survey_id and survey_version are required", MessageFA: "شناسه و نسخه پرسشنامه لازم است."}}}
	}
	v, err := in.version(ctx, s.SurveyID, s.SurveyVersion)
	if err != nil {
		if errors.Is(err, survey.ErrNotFound) {
			in.stats.Rejected.Add(1)
			return survey.Response{}, &survey.Error{Code: survey.ECodeInvalid,
				Message: "no such survey version", MessageFA: "این نسخه از پرسشنامه وجود ندارد.",
				Fields: map[string]survey.FieldError{"survey_version": {Code: "unknown_version", Message: "no such survey version", MessageFA: "این نسخه از پرسشنامه وجود ندارد."}}, Err: err}
		}
		return survey.Response{}, err
	}
	r, err := v.Validate(s, in.opts.Clock.Now())
	if err == nil && s.OfficeID != 0 {
		ok, oerr := in.officeBelongs(ctx, s.AgencyID, s.OfficeID)
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

// Append queues validated responses for the next group commit and waits until they are durable
// (or every buffer failed). The wait does not end early when ctx ends: what was handed over is
// stored regardless, so a retry after a timeout is a harmless duplicate.
func (in *Intake) Append(ctx context.Context, rs []survey.Response) error {
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return ErrClosed
	}
	ps := make([]*pending, len(rs))
	for i := range rs {
		ps[i] = &pending{r: rs[i], done: make(chan error, 1)}
		in.queue <- ps[i]
	}
	in.mu.RUnlock()
	var first error
	for _, p := range ps {
		if err := <-p.done; err != nil && first == nil {
			first = err
		}
	}
	return first
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

func (in *Intake) flushLoop() {
	defer in.done.Done()
	batch := make([]*pending, 0, in.opts.MaxBatch)
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
						in.flush(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						in.flush(batch)
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
		in.flush(batch)
	}
}

func (in *Intake) flush(batch []*pending) {
	rs := make([]survey.Response, len(batch))
	for i, p := range batch {
		rs[i] = p.r
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
	for _, p := range batch {
		p.done <- err
	}
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
