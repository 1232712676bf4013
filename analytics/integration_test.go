package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// The aggregator's guarantees only mean something against the real buffers and the real store,
// so every test here runs on the machine's PostgreSQL (and SQLite) and Redis.

const (
	testAgency = survey.ID(7)
	claimIdle  = 300 * time.Millisecond
)

// genResponses makes n distinct valid responses of testAgency over a few Tehran days and all
// channels (nps only off SMS, as validation would require).
func genResponses(n int, seed uint64) []survey.Response {
	rng := rand.New(rand.NewPCG(seed, 7))
	at := time.Date(2025, 11, 12, 8, 0, 0, 0, survey.Tehran)
	out := make([]survey.Response, n)
	for i := range out {
		ch := survey.Channels[rng.IntN(len(survey.Channels))]
		rating := 1 + rng.IntN(5)
		yes := rng.IntN(2)
		r := survey.Response{
			ID: uuid.NewString(), AgencyID: testAgency, OfficeID: survey.ID(10 + rng.IntN(2)),
			SurveyID: 3, SurveyVersion: 1 + rng.IntN(2), Channel: ch,
			SubmittedAt: at.Add(time.Duration(rng.IntN(4*24*3600)) * time.Second),
			ReceivedAt:  at.Add(5 * 24 * time.Hour),
			Answers: []survey.Answer{
				{QuestionID: "q1", Type: survey.TypeRating5, Number: &rating, Headline: true},
				{QuestionID: "q3", Type: survey.TypeYesNo, Number: &yes},
			},
		}
		if ch != survey.ChannelSMS {
			nps := rng.IntN(11)
			r.Answers = append(r.Answers, survey.Answer{QuestionID: "q2", Type: survey.TypeNPS, Number: &nps, Headline: true})
		}
		if rng.IntN(3) == 0 {
			r.Answers = append(r.Answers, survey.Answer{QuestionID: "q4", Type: survey.TypeChoice, Choices: []string{"a", "c"}[:1+rng.IntN(2)]})
		}
		out[i] = r
	}
	return out
}

// checkTotals compares the store's reports for testAgency with those of the shared in-memory
// store after folding want exactly once: the oracle is the in-memory store, not a copy of its
// arithmetic.
func checkTotals(t *testing.T, st *sqlstore.Store, want []survey.Response) {
	t.Helper()
	ctx := context.Background()
	if n, err := st.ResponseCount(ctx, testAgency); err != nil || n != int64(len(want)) {
		t.Errorf("ResponseCount = %d, %v; want %d", n, err, len(want))
	}
	oracle := inmem.New()
	if _, err := oracle.Fold(ctx, want, analytics.Delta); err != nil {
		t.Fatal(err)
	}
	f := survey.RollupFilter{AgencyID: testAgency}
	got, err := st.RollupTotals(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	wantTot, _ := oracle.RollupTotals(ctx, f)
	if fmt.Sprint(got) != fmt.Sprint(wantTot) {
		t.Errorf("rollup totals:\n got  %v\n want %v", got, wantTot)
	}
	gotHist, err := st.HistogramTotals(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	wantHist, _ := oracle.HistogramTotals(ctx, f)
	if fmt.Sprint(gotHist) != fmt.Sprint(wantHist) {
		t.Errorf("histogram totals:\n got  %v\n want %v", gotHist, wantHist)
	}
}

func redisBuffer(t *testing.T) (*redisbuffer.Buffer, *redis.Client) {
	t.Helper()
	c, prefix := redistest.Client(t)
	return redisbuffer.New(c, redisbuffer.Options{Stream: prefix + "responses"}), c
}

// openStore returns a migrated store on a fresh database and, for PostgreSQL, a GORM handle on
// the same database so tests can look at tables the store API does not expose.
func openStore(t *testing.T, dialect string) (*sqlstore.Store, *gorm.DB) {
	t.Helper()
	if dialect != sqlstore.DialectPostgres {
		return sqltest.Open(t, dialect), nil
	}
	url := sqltest.PostgresURL(t)
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := gorm.Open(postgres.Open(url), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { _ = sqlDB.Close() })
	return st, db
}

func appendAll(t *testing.T, b survey.Buffer, rs []survey.Response) {
	t.Helper()
	for len(rs) > 0 {
		n := min(len(rs), 40)
		if err := b.Append(context.Background(), rs[:n]); err != nil {
			t.Fatalf("append: %v", err)
		}
		rs = rs[n:]
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func backlog(t *testing.T, b survey.Buffer) survey.BufferStats {
	t.Helper()
	s, err := b.Stats(context.Background())
	if err != nil {
		t.Fatalf("buffer stats: %v", err)
	}
	return s
}

func responseCount(t *testing.T, st *sqlstore.Store) int64 {
	t.Helper()
	n, err := st.ResponseCount(context.Background(), testAgency)
	if err != nil {
		t.Fatalf("ResponseCount: %v", err)
	}
	return n
}

// runAggregator starts a.Run and returns a stop function that cancels it and checks it returned
// nil in time.
func runAggregator(t *testing.T, a *analytics.Aggregator) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func opts(consumer string) analytics.AggregatorOptions {
	return analytics.AggregatorOptions{Consumer: consumer, BatchSize: 50, Block: 100 * time.Millisecond, ClaimIdle: claimIdle,
		Logger: slog.New(slog.DiscardHandler)}
}

// (a) Responses appended twice, and to both buffers, are counted exactly once.
func TestAggregatorExactlyOnceAcrossBuffers(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectPostgres, sqlstore.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t, dialect)
			rb, _ := redisBuffer(t)
			inbox := st.Inbox()
			rs := genResponses(300, 1)
			appendAll(t, rb, rs[:200])
			appendAll(t, rb, rs[:20])     // intake retried: the same ids again
			appendAll(t, inbox, rs[150:]) // fell back to the inbox mid-way; 150–199 in both
			deliveries := int64(200 + 20 + 150)

			a := analytics.NewAggregator(st, []survey.Buffer{rb, inbox}, opts("worker-a"))
			stop := runAggregator(t, a)
			eventually(t, 30*time.Second, "all entries acked", func() bool {
				s := a.Stats()
				return s.Folded+s.Duplicates == deliveries
			})
			stop()
			checkTotals(t, st, rs)
			s := a.Stats()
			if s.Folded != 300 || s.Duplicates != deliveries-300 || s.Quarantined != 0 || s.LastFold.IsZero() || s.Batches < 8 {
				t.Errorf("stats = %+v", s)
			}
			for _, b := range []survey.Buffer{rb, inbox} {
				if bs := backlog(t, b); bs.Backlog != 0 || bs.Pending != 0 {
					t.Errorf("%T backlog after run: %+v", b, bs)
				}
			}
		})
	}
}

// blockingStore wraps the real store; its Fold signals entered and then waits for release (or,
// if release is nil, for its context to end).
type blockingStore struct {
	*sqlstore.Store
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingStore) FoldResponses(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (survey.FoldResult, error) {
	b.once.Do(func() { close(b.entered) })
	if b.release == nil {
		<-ctx.Done()
		return survey.FoldResult{}, ctx.Err()
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return survey.FoldResult{}, ctx.Err()
	}
	return b.Store.FoldResponses(ctx, rs, delta)
}

// (b) A worker dies holding entries; another takes them over after ClaimIdle and the totals are
// still exact.
func TestAggregatorReclaimsFromDeadWorkers(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	ctx := context.Background()
	rs := genResponses(500, 2)
	appendAll(t, rb, rs)

	// A consumer that reads a batch and vanishes.
	dead, err := rb.Read(ctx, "dead", 40, time.Second)
	if err != nil || len(dead) != 40 {
		t.Fatalf("dead read: %d, %v", len(dead), err)
	}
	// A worker killed mid-fold: its store hangs, then it is cancelled with a short flush window.
	hung := &blockingStore{Store: st, entered: make(chan struct{})}
	vo := opts("victim")
	vo.FlushTimeout = 50 * time.Millisecond
	victim := analytics.NewAggregator(hung, []survey.Buffer{rb}, vo)
	stopVictim := runAggregator(t, victim)
	select {
	case <-hung.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("victim never folded")
	}

	// Two healthy workers share the stream.
	a := analytics.NewAggregator(st, []survey.Buffer{rb}, opts("worker-a"))
	b := analytics.NewAggregator(st, []survey.Buffer{rb}, opts("worker-b"))
	stopA, stopB := runAggregator(t, a), runAggregator(t, b)
	stopVictim()
	if s := victim.Stats(); s.Batches != 0 || s.Folded != 0 {
		t.Errorf("victim acked something: %+v", s)
	}

	eventually(t, 30*time.Second, "all responses folded", func() bool { return responseCount(t, st) == 500 })
	eventually(t, 10*time.Second, "stream drained", func() bool { return backlog(t, rb).Backlog == 0 })
	stopA()
	stopB()
	checkTotals(t, st, rs)
	sa, sb := a.Stats(), b.Stats()
	if sa.Folded+sb.Folded != 500 {
		t.Errorf("folded %d + %d, want 500", sa.Folded, sb.Folded)
	}
	if sa.Reclaimed+sb.Reclaimed < 40+50 {
		t.Errorf("reclaimed %d + %d, want ≥ 90 (dead 40 + victim's batch of 50)", sa.Reclaimed, sb.Reclaimed)
	}
	if sa.Folded == 0 || sb.Folded == 0 {
		t.Logf("one worker did all the work: a=%+v b=%+v", sa, sb)
	}
}

// (c) Cancelling Run while a batch is being folded still folds and acks that batch; a batch whose
// fold keeps failing at shutdown is left pending, and a later worker folds it.
func TestAggregatorShutdownFlushesBatch(t *testing.T) {
	type bufferCase struct {
		name string
		open func(t *testing.T, st *sqlstore.Store) survey.Buffer
	}
	for _, bc := range []bufferCase{
		{"inbox", func(t *testing.T, st *sqlstore.Store) survey.Buffer { return st.Inbox() }},
		{"redis", func(t *testing.T, st *sqlstore.Store) survey.Buffer { b, _ := redisBuffer(t); return b }},
	} {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t, sqlstore.DialectPostgres)
			buf := bc.open(t, st)
			rs := genResponses(120, 3)
			appendAll(t, buf, rs)

			slow := &blockingStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
			o := opts("flusher")
			o.BatchSize = 30
			a := analytics.NewAggregator(slow, []survey.Buffer{buf}, o)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			<-slow.entered
			cancel() // shutdown arrives while the first batch is in the store
			time.Sleep(100 * time.Millisecond)
			close(slow.release)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run = %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Run did not return")
			}
			// The batch in hand is folded and acked; so is the next one if it had already been
			// prefetched while the first was folding.
			first := responseCount(t, st)
			if first != 30 && first != 60 {
				t.Errorf("stored %d responses, want the 30 of the batch in hand (60 with a prefetched batch)", first)
			}
			if s := a.Stats(); s.Folded != first || s.Batches != first/30 {
				t.Errorf("stats = %+v, want %d batch(es) of 30", s, first/30)
			}
			if bs := backlog(t, buf); bs.Pending != 0 || bs.Backlog != 120-first {
				t.Errorf("buffer after shutdown = %+v, want nothing pending and %d waiting", bs, 120-first)
			}

			// A store failing at shutdown: the batch stays pending, nothing is acked or lost.
			failing := &failingStore{Store: st, failures: 1 << 30}
			f := analytics.NewAggregator(failing, []survey.Buffer{buf}, o)
			fctx, fcancel := context.WithCancel(context.Background())
			fdone := make(chan error, 1)
			go func() { fdone <- f.Run(fctx) }()
			eventually(t, 10*time.Second, "a failed fold", func() bool { return failing.calls.Load() >= 2 })
			fcancel()
			if err := <-fdone; err != nil {
				t.Fatalf("Run = %v", err)
			}
			if s := f.Stats(); s.Batches != 0 || s.Errors < 2 {
				t.Errorf("failing worker stats = %+v", s)
			}
			// The batch in hand stays pending, and so does the next one if it was already
			// prefetched (read while the first was folding).
			held := backlog(t, buf).Pending
			if bs := backlog(t, buf); (bs.Pending != 30 && bs.Pending != 60) || bs.Backlog != 120-first {
				t.Errorf("after failed shutdown = %+v, want 30 (or 60 with a prefetched batch) pending of %d", bs, 120-first)
			}

			// The next worker reclaims the abandoned batch and folds everything exactly once.
			g := analytics.NewAggregator(st, []survey.Buffer{buf}, opts("next"))
			stop := runAggregator(t, g)
			eventually(t, 30*time.Second, "everything folded", func() bool { return responseCount(t, st) == 120 })
			eventually(t, 10*time.Second, "buffer drained", func() bool { return backlog(t, buf).Backlog == 0 })
			stop()
			if s := g.Stats(); s.Reclaimed != held || s.Folded != 120-first {
				t.Errorf("next worker stats = %+v, want %d reclaimed, %d folded", s, held, 120-first)
			}
			checkTotals(t, st, rs)
		})
	}
}

// failingStore fails the first failures Folds with an unavailable error, then folds for real.
type failingStore struct {
	*sqlstore.Store
	failures int64
	calls    atomic.Int64
}

func (f *failingStore) FoldResponses(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (survey.FoldResult, error) {
	if f.calls.Add(1) <= f.failures {
		return survey.FoldResult{}, survey.Wrap(survey.ECodeUnavailable, errors.New("injected"), "پایگاه داده در دسترس نیست.", "database unavailable")
	}
	return f.Store.FoldResponses(ctx, rs, delta)
}

// A failing store is retried with backoff until it recovers; nothing is acked before the fold
// and nothing is dropped.
func TestAggregatorRetriesFailedFolds(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	rs := genResponses(80, 4)
	appendAll(t, rb, rs)
	fs := &failingStore{Store: st, failures: 3}
	a := analytics.NewAggregator(fs, []survey.Buffer{rb}, opts("retrier"))
	stop := runAggregator(t, a)
	eventually(t, 30*time.Second, "all folded", func() bool { return responseCount(t, st) == 80 })
	eventually(t, 10*time.Second, "stream drained", func() bool { return backlog(t, rb).Backlog == 0 })
	stop()
	s := a.Stats()
	if s.Errors != 3 || s.Folded != 80 || s.Duplicates != 0 {
		t.Errorf("stats = %+v, want 3 errors and 80 folded", s)
	}
	checkTotals(t, st, rs)
}

// (d) Entries that cannot be decoded are quarantined once and acked, never looped on.
func TestAggregatorQuarantinesUndecodable(t *testing.T) {
	st, db := openStore(t, sqlstore.DialectPostgres)
	rb, rc := redisBuffer(t)
	inbox := st.Inbox()
	ctx := context.Background()
	rs := genResponses(30, 5)
	appendAll(t, rb, rs[:10])
	if err := rc.XAdd(ctx, &redis.XAddArgs{Stream: rb.Stream(), Values: map[string]any{"r": "{not json"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.XAdd(ctx, &redis.XAddArgs{Stream: rb.Stream(), Values: map[string]any{"other": "x"}}).Err(); err != nil {
		t.Fatal(err)
	}
	appendAll(t, rb, rs[10:20])
	appendAll(t, inbox, rs[20:])
	// A corrupt inbox row, as a disk or a bug might leave one.
	if err := db.Exec(`INSERT INTO inbox (response_id, payload, created_us) VALUES (?, ?, ?)`,
		"corrupt", []byte(`{"id":`), time.Now().UnixMicro()).Error; err != nil {
		t.Fatal(err)
	}

	a := analytics.NewAggregator(st, []survey.Buffer{rb, inbox}, opts("q"))
	stop := runAggregator(t, a)
	eventually(t, 30*time.Second, "valid responses folded", func() bool { return responseCount(t, st) == 30 })
	eventually(t, 10*time.Second, "bad entries quarantined", func() bool { return a.Stats().Quarantined == 3 })
	eventually(t, 10*time.Second, "buffers drained", func() bool {
		return backlog(t, rb).Backlog == 0 && backlog(t, inbox).Backlog == 0
	})
	// Several reclaim rounds later nothing has come back.
	time.Sleep(3 * claimIdle)
	stop()
	s := a.Stats()
	if s.Quarantined != 3 || s.Folded != 30 || s.Reclaimed != 0 {
		t.Errorf("stats = %+v, want 3 quarantined, 30 folded, nothing reclaimed", s)
	}
	var letters []struct {
		Source  string
		Reason  string
		Payload []byte
	}
	if err := db.Raw(`SELECT source, reason, payload FROM dead_letters ORDER BY id`).Scan(&letters).Error; err != nil {
		t.Fatal(err)
	}
	if len(letters) != 3 {
		t.Fatalf("dead letters = %+v, want 3", letters)
	}
	payloads := map[string]bool{}
	for _, l := range letters {
		payloads[string(l.Payload)] = true
		if l.Source == "" || l.Reason == "" {
			t.Errorf("dead letter without source or reason: %+v", l)
		}
	}
	if !payloads["{not json"] || !payloads[`{"id":`] {
		t.Errorf("dead letter payloads = %v", payloads)
	}
	checkTotals(t, st, rs)
}

// Scores read through the real store's rollup queries give the same numbers as the responses.
func TestScoreOnRealStore(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectPostgres, sqlstore.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t, dialect)
			ctx := context.Background()
			prov := survey.Province{Name: "استان آزمایشی"}
			if err := st.CreateProvince(ctx, &prov); err != nil {
				t.Fatal(err)
			}
			ag := survey.Agency{ProvinceID: prov.ID, Name: "اداره کل مالیات"}
			other := survey.Agency{ProvinceID: prov.ID, Name: "ثبت احوال"}
			for _, a := range []*survey.Agency{&ag, &other} {
				if err := st.CreateAgency(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			sv := survey.Survey{AgencyID: ag.ID, Title: "رضایت"}
			if err := st.CreateSurvey(ctx, &sv); err != nil {
				t.Fatal(err)
			}
			v := survey.Version{SurveyID: sv.ID, AgencyID: ag.ID, Title: "رضایت", Questions: []survey.Question{
				{ID: "q1", Type: survey.TypeRating5, Title: "کیفیت کار", Required: true},
				{ID: "q2", Type: survey.TypeNPS, Title: "توصیه"},
				{ID: "q3", Type: survey.TypeYesNo, Title: "کارتان انجام شد؟"},
			}}
			if err := st.PublishVersion(ctx, &v); err != nil {
				t.Fatal(err)
			}

			// Responses on 2025-11-12…15 (Tehran) plus some on the 16th, outside the period.
			rs := genResponses(200, 6)
			var ratings, sum, satisfied, promoters, detractors, npsN, inPeriod int64
			byChannel := map[survey.Channel]int64{}
			for i := range rs {
				r := &rs[i]
				r.AgencyID, r.SurveyID, r.SurveyVersion = ag.ID, sv.ID, v.Version
				keep := r.Answers[:0]
				for _, a := range r.Answers {
					if a.QuestionID != "q4" {
						keep = append(keep, a)
					}
				}
				r.Answers = keep
				if i%10 == 0 {
					r.SubmittedAt = time.Date(2025, 11, 16, 12, 0, 0, 0, survey.Tehran)
				}
				if r.Day().Format(survey.DayFormat) > "2025-11-15" {
					continue
				}
				inPeriod++
				byChannel[r.Channel]++
				for _, a := range r.Answers {
					switch a.QuestionID {
					case "q1":
						ratings++
						sum += int64(*a.Number)
						if *a.Number >= 4 {
							satisfied++
						}
					case "q2":
						npsN++
						if *a.Number >= 9 {
							promoters++
						} else if *a.Number <= 6 {
							detractors++
						}
					}
				}
			}
			if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
				t.Fatal(err)
			}

			scores := analytics.NewScores(st, st)
			sc, err := scores.Score(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: ag.ID}, ag.ID, analytics.ScoreQuery{From: "1404-08-21", To: "۱۴۰۴/۰۸/۲۴"})
			if err != nil {
				t.Fatal(err)
			}
			if sc.Responses != inPeriod || sc.Ratings != ratings || sc.AgencyName != ag.Name || *sc.From != "2025-11-12" || sc.To != "2025-11-15" {
				t.Errorf("score header = responses %d ratings %d %q %v %s; want %d %d", sc.Responses, sc.Ratings, sc.AgencyName, *sc.From, sc.To, inPeriod, ratings)
			}
			if sc.Mean == nil || *sc.Mean != float64(sum)/float64(ratings) {
				t.Errorf("mean = %v, want %v", deref(sc.Mean), float64(sum)/float64(ratings))
			}
			if sc.CSAT == nil || *sc.CSAT != float64(satisfied)/float64(ratings) {
				t.Errorf("csat = %v, want %v", deref(sc.CSAT), float64(satisfied)/float64(ratings))
			}
			wantNPS := 100 * (float64(promoters) - float64(detractors)) / float64(npsN)
			if sc.NPS == nil || sc.NPS.N != npsN || *sc.NPS.Score-wantNPS > 1e-9 || wantNPS-*sc.NPS.Score > 1e-9 {
				t.Errorf("nps = %+v, want %v over %d", sc.NPS, wantNPS, npsN)
			}
			if len(sc.ByQuestion) != 3 || sc.ByQuestion[0].Title != "کیفیت کار" || sc.ByQuestion[0].N != ratings {
				t.Errorf("by_question = %+v", sc.ByQuestion)
			}
			var chTotal int64
			for _, c := range sc.ByChannel {
				if c.Responses != byChannel[c.Channel] {
					t.Errorf("channel %s: %d responses, want %d", c.Channel, c.Responses, byChannel[c.Channel])
				}
				chTotal += c.Responses
			}
			if chTotal != inPeriod {
				t.Errorf("channels sum to %d, want %d", chTotal, inPeriod)
			}

			// Tenancy on the real catalog: another agency's staff and a missing agency look alike.
			_, forbidden := scores.Score(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: other.ID}, ag.ID, analytics.ScoreQuery{})
			_, missing := scores.Score(ctx, survey.Principal{Role: survey.RoleProvinceStaff}, 999999, analytics.ScoreQuery{})
			if survey.ErrorCode(forbidden) != survey.ECodeNotFound || survey.ErrorCode(missing) != survey.ECodeNotFound ||
				forbidden.Error() != missing.Error() {
				t.Errorf("forbidden = %v, missing = %v; want the same not-found", forbidden, missing)
			}
			// An agency with no survey published scores empty, not an error.
			if sc, err := scores.Score(ctx, survey.Principal{Role: survey.RoleProvinceAdmin}, other.ID, analytics.ScoreQuery{}); err != nil || sc.Responses != 0 {
				t.Errorf("agency without survey: %+v, %v", sc, err)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// refusingStore refuses, as the real store does for ids that are not UUIDs, any batch holding a
// response whose Source is "poison".
type refusingStore struct{ *sqlstore.Store }

func (s refusingStore) FoldResponses(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (survey.FoldResult, error) {
	for _, r := range rs {
		if r.Source == "poison" {
			return survey.FoldResult{}, survey.Errorf(survey.ECodeInvalid, "پاسخ نامعتبر است.", "response %s is invalid", r.ID)
		}
	}
	return s.Store.FoldResponses(ctx, rs, delta)
}

// Decodable responses the store refuses (a bad id, or anything it answers ECodeInvalid for) are
// quarantined one by one while the rest of their batch is folded.
func TestAggregatorQuarantinesRefusedResponses(t *testing.T) {
	st, db := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	rs := genResponses(40, 7)
	badID := genResponses(1, 8)[0]
	badID.ID = "not-a-uuid"
	poisoned := genResponses(1, 9)[0]
	poisoned.Source = "poison"
	appendAll(t, rb, rs[:20])
	appendAll(t, rb, []survey.Response{badID, poisoned})
	appendAll(t, rb, rs[20:])

	a := analytics.NewAggregator(refusingStore{st}, []survey.Buffer{rb}, opts("r"))
	stop := runAggregator(t, a)
	eventually(t, 30*time.Second, "stream drained", func() bool { return backlog(t, rb).Backlog == 0 })
	time.Sleep(2 * claimIdle)
	stop()
	if s := a.Stats(); s.Quarantined != 1 || s.DeadLettered != 1 || s.Folded != 40 || s.Duplicates != 0 {
		t.Errorf("stats = %+v, want 1 quarantined (bad id), 1 dead-lettered (refused), 40 folded, no duplicates", s)
	}
	checkTotals(t, st, rs)
	var reasons []string
	if err := db.Raw(`SELECT reason FROM dead_letters ORDER BY id`).Scan(&reasons).Error; err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 || !strings.HasPrefix(reasons[0], analytics.ReasonInvalidID+":") || !strings.HasPrefix(reasons[1], analytics.ReasonRefused+":") {
		t.Errorf("dead letters = %q, want an invalid id and a refusal", reasons)
	}
}
