// Package cache keeps in memory, with bounded staleness, what every submission and survey page
// reads from the database — agencies, their offices, their active survey versions, published
// versions and the principals of bearer tokens — so that a PostgreSQL outage does not stop
// kiosks and citizens: while Redis takes the responses, intake can still validate them and the
// survey can still be shown, from what was read before the database went away.
//
// Staleness is bounded two ways. An entry younger than Options.Fresh is served as it is; an older
// one is served while a background refresh replaces it (so with a healthy database nothing served
// is much older than Fresh, and no request waits for the refresh); and when refreshes keep failing
// an entry is served until it is Options.MaxStale old, after which the database is asked directly
// and its error, if it still fails, is the answer. A refresh that finds the thing gone (a revoked
// token, a deleted agency) drops the entry at once. Errors are never cached: a token or agency
// the database does not know is asked about again every time.
//
// Warm loads every agency's data up front and Start repeats it in the background, so that even a
// lobby whose first submission comes during an outage finds its office and survey in memory.
// Tokens cannot be warmed (only their hashes are stored); a token first presented during an
// outage is answered 503 like before.
package cache

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Source is what the cache reads through to: the SQL store.
type Source interface {
	Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error)
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error)
	ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
	Version(ctx context.Context, surveyID survey.ID, version int) (survey.Version, error)
	Authenticate(ctx context.Context, token string) (survey.Principal, error)
}

// Options tunes a Catalog; zero values take the defaults.
type Options struct {
	// Fresh is how long an entry is served without a refresh (default 15s). It bounds how long a
	// revoked token keeps working, and how long a newly published survey version or a renamed
	// agency takes to show, while the database is healthy.
	Fresh time.Duration
	// MaxStale is how old an entry may get and still be served while the database fails
	// (default 10m): the longest outage kiosks ride out on cached tokens and catalog data.
	MaxStale time.Duration
	// RefreshEvery is how often Start warms every agency's data again (default 1m).
	RefreshEvery time.Duration
	// LoadTimeout bounds one background refresh or warm-up query (default 5s).
	LoadTimeout time.Duration
	// MaxEntries bounds each kind of entry (default 10,000); beyond it, entries too old to serve
	// go first, then arbitrary ones.
	MaxEntries int
	Clock      survey.Clock
	Logger     *slog.Logger
}

// Catalog is a cached Source. It is safe for concurrent use.
type Catalog struct {
	src  Source
	opts Options
	log  *slog.Logger

	agencies *table[survey.ID, survey.Agency]
	active   *table[survey.ID, survey.Version]
	// activeFor is the version an office offers on a channel (survey assignments).
	activeFor *table[activeKey, survey.Version]
	offices   *table[survey.ID, []survey.Office]
	versions  *table[versionKey, survey.Version]
	tokens    *table[[sha256.Size]byte, survey.Principal]

	warmed atomic.Int64 // unix nanos of the last complete Warm; 0 before
	stats  Stats
}

// Stats are the cache's counters, for metrics.
type Stats struct {
	Hits          atomic.Int64 // answers from a fresh entry
	StaleHits     atomic.Int64 // answers from an entry older than Fresh (a refresh was due or failing)
	Misses        atomic.Int64 // answers that had to wait for the database
	RefreshErrors atomic.Int64 // background refreshes and warm-ups that failed
}

type versionKey struct {
	survey  survey.ID
	version int
}

// New wraps src. Call Warm (and Start) to fill it before serving.
func New(src Source, opts Options) *Catalog {
	if opts.Fresh <= 0 {
		opts.Fresh = 15 * time.Second
	}
	if opts.MaxStale < opts.Fresh {
		opts.MaxStale = max(10*time.Minute, opts.Fresh)
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = time.Minute
	}
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = 5 * time.Second
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 10_000
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Catalog{src: src, opts: opts, log: opts.Logger.With("component", "cache")}
	c.agencies = newTable(c, "agency", false, src.Agency)
	c.active = newTable(c, "active_version", false, src.ActiveVersion)
	c.activeFor = newTable(c, "active_version_for", false, func(ctx context.Context, k activeKey) (survey.Version, error) {
		return src.ActiveVersionFor(ctx, k.agency, k.office, k.channel)
	})
	c.offices = newTable(c, "offices", false, src.Offices)
	c.versions = newTable(c, "version", true, func(ctx context.Context, k versionKey) (survey.Version, error) {
		return src.Version(ctx, k.survey, k.version)
	})
	c.tokens = newTable[[sha256.Size]byte, survey.Principal](c, "token", false, nil)
	return c
}

// Stats exposes the counters.
func (c *Catalog) Stats() *Stats { return &c.stats }

// Agencies lists the agencies p may see, from the database every time: staff dashboards are not
// what must survive an outage.
func (c *Catalog) Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error) {
	return c.src.Agencies(ctx, p)
}

// Agency returns the agency, cached.
func (c *Catalog) Agency(ctx context.Context, id survey.ID) (survey.Agency, error) {
	return c.agencies.get(ctx, id)
}

// ActiveVersion returns the agency's active survey version, cached: a newly published version
// is offered within Fresh.
func (c *Catalog) ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error) {
	return c.active.get(ctx, agencyID)
}

// activeKey names the version an office offers on a channel.
type activeKey struct {
	agency, office survey.ID
	channel        survey.Channel
}

// ActiveVersionFor returns the version an agency's office offers on a channel (the most
// specific survey assignment, else the agency's active survey), cached like ActiveVersion: a
// new assignment or a newly published version is offered within Fresh.
func (c *Catalog) ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error) {
	return c.activeFor.get(ctx, activeKey{agencyID, officeID, ch})
}

// Offices returns the agency's offices, cached. The slice is shared: callers must not change it.
func (c *Catalog) Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error) {
	return c.offices.get(ctx, agencyID)
}

// Version returns a published version. Versions never change, so one read is kept for good.
func (c *Catalog) Version(ctx context.Context, surveyID survey.ID, version int) (survey.Version, error) {
	return c.versions.get(ctx, versionKey{surveyID, version})
}

// Authenticate returns a token's principal, cached under the token's SHA-256 (the cache holds
// no usable secret). A revoked token stops working within Fresh while the database answers,
// within MaxStale while it does not; an unknown token is asked about every time.
func (c *Catalog) Authenticate(ctx context.Context, token string) (survey.Principal, error) {
	return c.tokens.getWith(ctx, sha256.Sum256([]byte(token)), func(ctx context.Context, _ [sha256.Size]byte) (survey.Principal, error) {
		return c.src.Authenticate(ctx, token)
	})
}

// Warm loads every agency with its offices and active version (and that version) into the
// cache. It returns the first error but keeps going past it, so one broken agency does not leave
// the others cold; Ready turns true after the first Warm without errors.
func (c *Catalog) Warm(ctx context.Context) error {
	as, err := c.src.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceAdmin, Name: "cache"})
	if err != nil {
		return err
	}
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, a := range as {
		c.agencies.put(a.ID, a)
		os, err := c.src.Offices(ctx, a.ID)
		keep(err)
		if err == nil {
			c.offices.put(a.ID, os)
		}
		v, err := c.src.ActiveVersion(ctx, a.ID)
		switch {
		case err == nil:
			c.active.put(a.ID, v)
			c.versions.put(versionKey{v.SurveyID, v.Version}, v)
		case survey.ErrorCode(err) == survey.ECodeNotFound:
			c.active.drop(a.ID) // no active survey (any more)
		default:
			keep(err)
		}
	}
	if first == nil {
		c.warmed.Store(c.opts.Clock.Now().UnixNano())
	}
	return first
}

// Ready reports whether a Warm has completed: intake and the survey page can then work from
// memory if the database goes away.
func (c *Catalog) Ready() bool { return c.warmed.Load() != 0 }

// WarmedAt is when the last complete Warm finished (zero before the first).
func (c *Catalog) WarmedAt() time.Time {
	if ns := c.warmed.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Start warms the cache every RefreshEvery until ctx is done — every 2 s while it has never been
// warmed, since readiness waits for that — logging failures (once per run of failures) rather
// than returning them.
func (c *Catalog) Start(ctx context.Context) {
	go func() {
		failing := false
		for {
			wait := c.opts.RefreshEvery
			if !c.Ready() {
				wait = min(wait, 2*time.Second)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wctx, cancel := context.WithTimeout(ctx, c.opts.LoadTimeout*4)
			err := c.Warm(wctx)
			cancel()
			switch {
			case err != nil && ctx.Err() == nil:
				c.stats.RefreshErrors.Add(1)
				if !failing {
					c.log.Warn("refreshing the catalog cache failed; serving what it holds", "err", err, "max_stale", c.opts.MaxStale)
				}
				failing = true
			case err == nil && failing:
				c.log.Info("catalog cache refreshed again")
				failing = false
			}
		}
	}()
}

// table is one kind of cached value.
type table[K comparable, V any] struct {
	c         *Catalog
	name      string
	immutable bool // values never change: an entry never goes stale
	load      func(ctx context.Context, k K) (V, error)

	mu sync.Mutex
	m  map[K]*entry[V]
}

type entry[V any] struct {
	v          V
	at         time.Time // when v was read from the database
	refreshing bool
	retryAt    time.Time // after a failed refresh: not before
}

func newTable[K comparable, V any](c *Catalog, name string, immutable bool, load func(context.Context, K) (V, error)) *table[K, V] {
	return &table[K, V]{c: c, name: name, immutable: immutable, load: load, m: map[K]*entry[V]{}}
}

func (t *table[K, V]) get(ctx context.Context, k K) (V, error) { return t.getWith(ctx, k, t.load) }

// getWith answers k from the table when it may (see the package comment), else from load.
func (t *table[K, V]) getWith(ctx context.Context, k K, load func(context.Context, K) (V, error)) (V, error) {
	now := t.c.opts.Clock.Now()
	t.mu.Lock()
	if e, ok := t.m[k]; ok {
		age := now.Sub(e.at)
		switch {
		case t.immutable || age < t.c.opts.Fresh:
			v := e.v
			t.mu.Unlock()
			t.c.stats.Hits.Add(1)
			return v, nil
		case age < t.c.opts.MaxStale:
			if !e.refreshing && !now.Before(e.retryAt) {
				e.refreshing = true
				go t.refresh(k, load)
			}
			v := e.v
			t.mu.Unlock()
			t.c.stats.StaleHits.Add(1)
			return v, nil
		}
	}
	t.mu.Unlock()
	t.c.stats.Misses.Add(1)
	v, err := load(ctx, k)
	if err != nil {
		return v, err
	}
	t.put(k, v)
	return v, nil
}

// refresh reloads k in the background. A definitive answer that k is gone drops the entry; a
// failure of the database keeps it (to be served until MaxStale) and holds the next attempt back
// a little, so an outage is not hammered by one refresh per request.
func (t *table[K, V]) refresh(k K, load func(context.Context, K) (V, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), t.c.opts.LoadTimeout)
	defer cancel()
	v, err := load(ctx, k)
	if err == nil {
		t.put(k, v)
		return
	}
	if gone(err) {
		t.drop(k)
		return
	}
	t.c.stats.RefreshErrors.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[k]; ok {
		e.refreshing = false
		e.retryAt = t.c.opts.Clock.Now().Add(min(t.c.opts.Fresh, time.Second))
	}
}

// gone reports whether err says the thing itself does not exist (or is refused), as opposed to
// the database failing to answer.
func gone(err error) bool {
	switch survey.ErrorCode(err) {
	case survey.ECodeNotFound, survey.ECodeUnauthorized, survey.ECodeForbidden, survey.ECodeInvalid:
		return true
	}
	return errors.Is(err, survey.ErrNotFound)
}

func (t *table[K, V]) put(k K, v V) {
	now := t.c.opts.Clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[k]; !ok && len(t.m) >= t.c.opts.MaxEntries {
		t.evict(now)
	}
	t.m[k] = &entry[V]{v: v, at: now}
}

func (t *table[K, V]) drop(k K) {
	t.mu.Lock()
	delete(t.m, k)
	t.mu.Unlock()
}

// evict makes room for one entry: those too old to serve go first, else an arbitrary one.
func (t *table[K, V]) evict(now time.Time) {
	for k, e := range t.m {
		if !t.immutable && now.Sub(e.at) >= t.c.opts.MaxStale {
			delete(t.m, k)
		}
	}
	for k := range t.m {
		if len(t.m) < t.c.opts.MaxEntries {
			return
		}
		delete(t.m, k)
	}
}
