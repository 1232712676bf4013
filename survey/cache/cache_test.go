package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/cache"
)

// source is an in-memory catalog whose database can be "down"; it counts the questions it gets.
type source struct {
	mu       sync.Mutex
	down     bool
	agencies map[survey.ID]survey.Agency
	offices  map[survey.ID][]survey.Office
	active   map[survey.ID]survey.Version
	tokens   map[string]survey.Principal
	calls    atomic.Int64
}

var errDown = survey.Wrap(survey.ECodeUnavailable, errors.New("connection refused"), "پایگاه داده در دسترس نیست.", "the database is unreachable")

func newSource() *source {
	v := survey.Version{SurveyID: 10, AgencyID: 1, Version: 2, Title: "v2"}
	return &source{
		agencies: map[survey.ID]survey.Agency{1: {ID: 1, Name: "الف"}, 2: {ID: 2, Name: "ب"}},
		offices:  map[survey.ID][]survey.Office{1: {{ID: 5, AgencyID: 1, Name: "دفتر"}}, 2: {}},
		active:   map[survey.ID]survey.Version{1: v},
		tokens:   map[string]survey.Principal{"tok-kiosk-0000000": {Role: survey.RoleIntegration, AgencyID: 1, Name: "kiosk"}},
	}
}

func (s *source) check() error {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errDown
	}
	return nil
}

func (s *source) setDown(d bool) { s.mu.Lock(); s.down = d; s.mu.Unlock() }

func (s *source) Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []survey.Agency{}
	for _, id := range []survey.ID{1, 2} {
		if a, ok := s.agencies[id]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *source) Agency(ctx context.Context, id survey.ID) (survey.Agency, error) {
	if err := s.check(); err != nil {
		return survey.Agency{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agencies[id]
	if !ok {
		return a, survey.ErrNotFound
	}
	return a, nil
}

func (s *source) ActiveVersion(ctx context.Context, id survey.ID) (survey.Version, error) {
	if err := s.check(); err != nil {
		return survey.Version{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.active[id]
	if !ok {
		return v, survey.ErrNotFound
	}
	return v, nil
}

// ActiveVersionFor knows no assignments: the agency's active version.
func (s *source) ActiveVersionFor(ctx context.Context, id, _ survey.ID, _ survey.Channel) (survey.Version, error) {
	return s.ActiveVersion(ctx, id)
}

func (s *source) Offices(ctx context.Context, id survey.ID) ([]survey.Office, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offices[id], nil
}

func (s *source) Version(ctx context.Context, surveyID survey.ID, n int) (survey.Version, error) {
	if err := s.check(); err != nil {
		return survey.Version{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.active {
		if v.SurveyID == surveyID && v.Version == n {
			return v, nil
		}
	}
	return survey.Version{}, survey.ErrNotFound
}

func (s *source) Authenticate(ctx context.Context, token string) (survey.Principal, error) {
	if err := s.check(); err != nil {
		return survey.Principal{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.tokens[token]
	if !ok {
		return p, survey.Errorf(survey.ECodeUnauthorized, "توکن نامعتبر است.", "invalid token")
	}
	return p, nil
}

// clock is a settable survey.Clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const (
	fresh    = 15 * time.Second
	maxStale = 10 * time.Minute
)

func newCache(t *testing.T) (*cache.Catalog, *source, *clock) {
	t.Helper()
	src := newSource()
	clk := &clock{t: time.Date(2025, 11, 15, 8, 0, 0, 0, time.UTC)}
	c := cache.New(src, cache.Options{Fresh: fresh, MaxStale: maxStale, Clock: clk})
	if c.Ready() {
		t.Fatal("Ready before Warm")
	}
	if err := c.Warm(context.Background()); err != nil {
		t.Fatalf("Warm: %v", err)
	}
	if !c.Ready() {
		t.Fatal("not Ready after Warm")
	}
	return c, src, clk
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// What Warm loaded is answered with the database down: the agency, its offices, its active
// version and that version by number — what intake and the survey page need.
func TestWarmedDataAnswersWithoutDatabase(t *testing.T) {
	c, src, _ := newCache(t)
	src.setDown(true)
	ctx := context.Background()
	calls := src.calls.Load()
	if a, err := c.Agency(ctx, 1); err != nil || a.Name != "الف" {
		t.Errorf("Agency = %+v, %v", a, err)
	}
	if os, err := c.Offices(ctx, 1); err != nil || len(os) != 1 || os[0].ID != 5 {
		t.Errorf("Offices = %+v, %v", os, err)
	}
	if os, err := c.Offices(ctx, 2); err != nil || len(os) != 0 {
		t.Errorf("Offices of an agency without offices = %+v, %v", os, err)
	}
	if v, err := c.ActiveVersion(ctx, 1); err != nil || v.Version != 2 {
		t.Errorf("ActiveVersion = %+v, %v", v, err)
	}
	if v, err := c.Version(ctx, 10, 2); err != nil || v.Title != "v2" {
		t.Errorf("Version = %+v, %v", v, err)
	}
	if n := src.calls.Load(); n != calls {
		t.Errorf("fresh entries asked the database %d times", n-calls)
	}
	// Not cached: agency 2 has no active survey, and tokens cannot be warmed.
	if _, err := c.ActiveVersion(ctx, 2); survey.ErrorCode(err) != survey.ECodeUnavailable {
		t.Errorf("ActiveVersion of an agency without a survey, database down = %v; want unavailable", err)
	}
	if _, err := c.Authenticate(ctx, "tok-kiosk-0000000"); survey.ErrorCode(err) != survey.ECodeUnavailable {
		t.Errorf("Authenticate of a token never seen, database down = %v; want unavailable", err)
	}
}

// Past Fresh an entry is still answered at once, and a background refresh brings the change.
func TestStaleAnsweredWhileRefreshing(t *testing.T) {
	c, src, clk := newCache(t)
	ctx := context.Background()
	src.mu.Lock()
	src.agencies[1] = survey.Agency{ID: 1, Name: "الف نو"}
	src.mu.Unlock()
	if a, _ := c.Agency(ctx, 1); a.Name != "الف" {
		t.Fatalf("a fresh entry was not served: %q", a.Name)
	}
	clk.advance(fresh + time.Second)
	if a, err := c.Agency(ctx, 1); err != nil || a.Name != "الف" {
		t.Fatalf("a stale entry was not served at once: %+v, %v", a, err)
	}
	eventually(t, "the refresh", func() bool { a, _ := c.Agency(ctx, 1); return a.Name == "الف نو" })
	if c.Stats().StaleHits.Load() == 0 {
		t.Error("stale answers are not counted")
	}
}

// While the database fails, entries are served until MaxStale; then its error is the answer, and
// the database is not asked once per request in between.
func TestStaleBoundedByMaxStale(t *testing.T) {
	c, src, clk := newCache(t)
	ctx := context.Background()
	if _, err := c.Authenticate(ctx, "tok-kiosk-0000000"); err != nil {
		t.Fatal(err)
	}
	src.setDown(true)
	clk.advance(maxStale - time.Minute)
	calls := src.calls.Load()
	for range 50 {
		if p, err := c.Authenticate(ctx, "tok-kiosk-0000000"); err != nil || p.Name != "kiosk" {
			t.Fatalf("Authenticate during the outage = %+v, %v", p, err)
		}
		if os, err := c.Offices(ctx, 1); err != nil || len(os) != 1 {
			t.Fatalf("Offices during the outage = %+v, %v", os, err)
		}
	}
	eventually(t, "failed refreshes counted", func() bool { return c.Stats().RefreshErrors.Load() >= 2 })
	if n := src.calls.Load() - calls; n > 4 {
		t.Errorf("100 answers during the outage asked the database %d times; want one refresh per entry", n)
	}
	clk.advance(2 * time.Minute)
	if _, err := c.Authenticate(ctx, "tok-kiosk-0000000"); survey.ErrorCode(err) != survey.ECodeUnavailable {
		t.Errorf("Authenticate past MaxStale = %v; want the database's error", err)
	}
	if _, err := c.Version(ctx, 10, 2); err != nil {
		t.Errorf("a published version is immutable and kept: %v", err)
	}
	src.setDown(false)
	if p, err := c.Authenticate(ctx, "tok-kiosk-0000000"); err != nil || p.Name != "kiosk" {
		t.Errorf("Authenticate after the outage = %+v, %v", p, err)
	}
}

// A refresh that finds a token revoked drops it: it is refused from then on. Unknown tokens are
// never cached.
func TestRevokedTokenDropped(t *testing.T) {
	c, src, clk := newCache(t)
	ctx := context.Background()
	if _, err := c.Authenticate(ctx, "tok-kiosk-0000000"); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	delete(src.tokens, "tok-kiosk-0000000")
	src.mu.Unlock()
	if _, err := c.Authenticate(ctx, "tok-kiosk-0000000"); err != nil {
		t.Fatalf("within Fresh the cached principal answers: %v", err)
	}
	clk.advance(fresh)
	eventually(t, "the revoked token refused", func() bool {
		_, err := c.Authenticate(ctx, "tok-kiosk-0000000")
		return survey.ErrorCode(err) == survey.ECodeUnauthorized
	})
	calls := src.calls.Load()
	for range 3 {
		if _, err := c.Authenticate(ctx, "unknown-token-000"); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("unknown token = %v", err)
		}
	}
	if n := src.calls.Load() - calls; n != 3 {
		t.Errorf("3 unknown-token lookups asked the database %d times; errors must not be cached", n)
	}
}

// A failed Warm leaves the cache as it was and not Ready if it never was; Warm drops an active
// version that was withdrawn; MaxEntries bounds the table.
func TestWarmAndBounds(t *testing.T) {
	src := newSource()
	src.setDown(true)
	clk := &clock{t: time.Now()}
	c := cache.New(src, cache.Options{Clock: clk, MaxEntries: 3})
	if err := c.Warm(context.Background()); err == nil || c.Ready() {
		t.Fatalf("Warm with the database down = %v, Ready %v", err, c.Ready())
	}
	src.setDown(false)
	if err := c.Warm(context.Background()); err != nil || !c.Ready() || c.WarmedAt().IsZero() {
		t.Fatalf("Warm = %v, Ready %v", err, c.Ready())
	}
	src.mu.Lock()
	delete(src.active, 1)
	src.mu.Unlock()
	if err := c.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.setDown(true)
	if _, err := c.ActiveVersion(context.Background(), 1); survey.ErrorCode(err) != survey.ECodeUnavailable {
		t.Errorf("a withdrawn active version is still served: %v", err)
	}
	src.setDown(false)
	src.mu.Lock()
	for i := survey.ID(3); i < 10; i++ {
		src.agencies[i] = survey.Agency{ID: i}
	}
	src.mu.Unlock()
	for i := survey.ID(3); i < 10; i++ {
		if _, err := c.Agency(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	src.setDown(true)
	cached := 0
	for i := survey.ID(1); i < 10; i++ {
		if _, err := c.Agency(context.Background(), i); err == nil {
			cached++
		}
	}
	if cached != 3 {
		t.Errorf("%d agencies cached with MaxEntries 3", cached)
	}
}

// Start keeps trying a cache that never warmed every couple of seconds (readiness waits for it),
// not once per RefreshEvery.
func TestStartWarmsSoonAfterAFailure(t *testing.T) {
	src := newSource()
	src.setDown(true)
	c := cache.New(src, cache.Options{RefreshEvery: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Warm(ctx); err == nil {
		t.Fatal("Warm with the database down succeeded")
	}
	c.Start(ctx)
	src.setDown(false)
	eventually(t, "a warm-up after the database came back", c.Ready)
}
