package analytics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// Recovery: nothing an aggregator meets — a response the database refuses, a restart, a peer
// that dies or folds slowly, a reclaim that keeps failing, a Redis at its memory limit — may stop
// it counting, or make it count anything twice.

// countingStore counts Fold calls.
type countingStore struct {
	analytics.FoldStore
	folds atomic.Int64
}

func (c *countingStore) FoldResponses(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (survey.FoldResult, error) {
	c.folds.Add(1)
	return c.FoldStore.FoldResponses(ctx, rs, delta)
}

// A response PostgreSQL cannot store (a NUL byte in its source: SQLSTATE 22021), put straight
// into both buffers past intake, is dead-lettered with its raw bytes and reason, and every
// response around it — before and after it in the same stream — is counted. On SQLite the same
// bytes are storable and simply counted.
func TestAggregatorDeadLettersUnstorableResponse(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectPostgres, sqlstore.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			st, db := openStore(t, dialect)
			rb, _ := redisBuffer(t)
			inbox := st.Inbox()
			rs := genResponses(60, 21)
			poison := genResponses(2, 22)
			for i := range poison {
				poison[i].Source = "a\x00b"
			}
			appendAll(t, rb, rs[:20])
			appendAll(t, rb, poison[:1])
			appendAll(t, rb, rs[20:30])
			appendAll(t, inbox, rs[30:45])
			appendAll(t, inbox, poison[1:])
			appendAll(t, inbox, rs[45:])

			o := opts("poisoned")
			o.BatchSize = 64
			a := analytics.NewAggregator(st, []survey.Buffer{rb, inbox}, o)
			stop := runAggregator(t, a)
			eventually(t, 30*time.Second, "both buffers drained", func() bool {
				return backlog(t, rb).Backlog == 0 && backlog(t, inbox).Backlog == 0
			})
			stop()
			s := a.Stats()
			if dialect == sqlstore.DialectSQLite {
				checkTotals(t, st, append(append([]survey.Response{}, rs...), poison...))
				if s.DeadLettered != 0 || s.Folded != 62 {
					t.Errorf("stats = %+v, want all 62 folded on SQLite", s)
				}
				return
			}
			checkTotals(t, st, rs)
			if s.DeadLettered != 2 || s.Folded != 60 || s.Quarantined != 0 || s.Duplicates != 0 {
				t.Errorf("stats = %+v, want 60 folded and 2 dead-lettered", s)
			}
			var letters []struct {
				Source, Reason string
				Payload        []byte
			}
			if err := db.Raw(`SELECT source, reason, payload FROM dead_letters ORDER BY source`).Scan(&letters).Error; err != nil {
				t.Fatal(err)
			}
			if len(letters) != 2 {
				t.Fatalf("dead letters = %q, want 2", letters)
			}
			for i, l := range letters {
				want := []string{"inbox/", "redis/"}[i]
				r, err := survey.UnmarshalResponse(l.Payload)
				if !strings.HasPrefix(l.Source, want) || !strings.HasPrefix(l.Reason, analytics.ReasonRefused+": ") ||
					!strings.Contains(l.Reason, "22021") || err != nil || r.Source != "a\x00b" {
					t.Errorf("dead letter %d = source %q reason %q payload %q (%v)", i, l.Source, l.Reason, l.Payload, err)
				}
			}
		})
	}
}

// Bisecting finds a refused response in about 2·log₂ n folds, not n: a batch of 64 with one
// refused response takes 1 + 2·6 = 13.
func TestAggregatorBisectsRefusedBatch(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	rs := genResponses(64, 23)
	rs[37].Source = "poison"
	if err := rb.Append(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{FoldStore: refusingStore{st}}
	o := opts("bisector")
	o.BatchSize = 64
	a := analytics.NewAggregator(cs, []survey.Buffer{rb}, o)
	stop := runAggregator(t, a)
	eventually(t, 30*time.Second, "stream drained", func() bool { return backlog(t, rb).Backlog == 0 })
	stop()
	if s := a.Stats(); s.DeadLettered != 1 || s.Folded != 63 || s.Batches != 1 {
		t.Errorf("stats = %+v, want one batch: 63 folded, 1 dead-lettered", s)
	}
	if n := cs.folds.Load(); n != 13 {
		t.Errorf("%d folds to find one refused response in 64; want 13", n)
	}
	checkTotals(t, st, append(append([]survey.Response{}, rs[:37]...), rs[38:]...))
}

// A worker restarted under the same consumer name takes its predecessor's unacked entries back
// at once, from both buffers: with a one-hour claim idle nothing would ever reclaim them.
func TestAggregatorResumesOwnPending(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	inbox := st.Inbox()
	ctx := context.Background()
	rs := genResponses(100, 24)
	appendAll(t, rb, rs[:50])
	appendAll(t, inbox, rs[50:])
	// The predecessor read a batch from each buffer and was killed before folding it.
	for _, b := range []survey.Buffer{rb, inbox} {
		if ds, err := b.Read(ctx, "host-serve-1", 30, time.Second); err != nil || len(ds) != 30 {
			t.Fatalf("predecessor's read from %s: %d, %v", b.Name(), len(ds), err)
		}
	}
	o := opts("host-serve-1")
	o.ClaimIdle = time.Hour
	a := analytics.NewAggregator(st, []survey.Buffer{rb, inbox}, o)
	start := time.Now()
	stop := runAggregator(t, a)
	eventually(t, 20*time.Second, "every response folded", func() bool { return responseCount(t, st) == 100 })
	took := time.Since(start)
	eventually(t, 10*time.Second, "buffers drained", func() bool {
		return backlog(t, rb).Backlog == 0 && backlog(t, inbox).Backlog == 0
	})
	stop()
	if s := a.Stats(); s.Resumed != 60 || s.Reclaimed != 0 || s.Folded != 100 {
		t.Errorf("stats = %+v, want 60 resumed, none reclaimed, 100 folded", s)
	}
	checkTotals(t, st, rs)
	t.Logf("predecessor's 60 entries and 40 new ones folded %v after start", took.Round(time.Millisecond))
}

// A batch that takes several claim-idle periods to fold stays with its worker: the worker keeps
// it fresh, so a live peer never reclaims (and re-folds) it.
func TestAggregatorKeepsLongFoldFresh(t *testing.T) {
	for _, name := range []string{"redis", "inbox"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t, sqlstore.DialectPostgres)
			var buf survey.Buffer = st.Inbox()
			if name == "redis" {
				buf, _ = redisBuffer(t)
			}
			rs := genResponses(50, 25)
			appendAll(t, buf, rs)
			const idle = time.Second
			slow := &blockingStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
			so := opts("slow")
			so.ClaimIdle = idle
			a := analytics.NewAggregator(slow, []survey.Buffer{buf}, so)
			stopA := runAggregator(t, a)
			<-slow.entered
			po := opts("peer")
			po.ClaimIdle = idle
			b := analytics.NewAggregator(st, []survey.Buffer{buf}, po)
			stopB := runAggregator(t, b)
			time.Sleep(4 * idle) // the fold hangs for four claim-idle periods
			if s := b.Stats(); s.Reclaimed != 0 || s.Folded != 0 {
				t.Fatalf("the peer took a batch that was still being folded: %+v", s)
			}
			close(slow.release)
			eventually(t, 20*time.Second, "all folded", func() bool { return responseCount(t, st) == 50 })
			stopA()
			stopB()
			if sa, sb := a.Stats(), b.Stats(); sa.Folded != 50 || sb.Reclaimed != 0 || sa.Duplicates+sb.Duplicates != 0 {
				t.Errorf("slow %+v, peer %+v; want the slow worker to fold all 50, nothing reclaimed or re-folded", sa, sb)
			}
			checkTotals(t, st, rs)
		})
	}
}

// failingReclaim is a buffer whose Resume, Reclaim and Touch always fail (as XAUTOCLAIM did on a
// full Redis) while Read and Ack work.
type failingReclaim struct {
	survey.Buffer
	calls atomic.Int64
}

var errReclaim = survey.Wrap(survey.ECodeUnavailable, errors.New("OOM command not allowed"), "صف در دسترس نیست.", "injected reclaim failure")

func (f *failingReclaim) Resume(context.Context, string, int) ([]survey.Delivery, error) {
	f.calls.Add(1)
	return nil, errReclaim
}

func (f *failingReclaim) Reclaim(context.Context, string, time.Duration, int) ([]survey.Delivery, error) {
	f.calls.Add(1)
	return nil, errReclaim
}

func (f *failingReclaim) Touch(context.Context, string, []string) error { return errReclaim }

// Reading and acking never wait on a failing reclaim: everything is folded from Read while every
// resume and reclaim fails, and the failures are counted.
func TestAggregatorReadsWhileReclaimFails(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	rs := genResponses(200, 26)
	appendAll(t, rb, rs)
	fb := &failingReclaim{Buffer: rb}
	a := analytics.NewAggregator(st, []survey.Buffer{fb}, opts("reader"))
	stop := runAggregator(t, a)
	eventually(t, 30*time.Second, "all folded while reclaims fail", func() bool { return responseCount(t, st) == 200 })
	eventually(t, 10*time.Second, "stream drained", func() bool { return backlog(t, rb).Backlog == 0 })
	stop()
	s := a.Stats()
	if s.ReclaimErrors == 0 || fb.calls.Load() == 0 || s.Errors < s.ReclaimErrors || s.Folded != 200 {
		t.Errorf("stats = %+v after %d failing reclaims", s, fb.calls.Load())
	}
	checkTotals(t, st, rs)
}

// An aggregator started while Redis sits at its maxmemory (noeviction: XADD, XGROUP CREATE and
// MULTI refused) drains it — its own restarted batch, a dead peer's and the rest — and appends
// work again afterwards.
func TestAggregatorDrainsFullRedis(t *testing.T) {
	srv := redistest.StartServer(t, "--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
	st, _ := openStore(t, sqlstore.DialectPostgres)
	ctx := context.Background()
	filler, err := redisbuffer.Open(srv.URL(), redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	if err := filler.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var rs []survey.Response
	for i := uint64(0); ; i++ {
		batch := genResponses(100, 1000+i)
		if err := filler.Append(ctx, batch); err != nil {
			if !strings.Contains(err.Error(), "OOM") {
				t.Fatalf("append failed, not for memory: %v", err)
			}
			break
		}
		rs = append(rs, batch...)
		if i > 1000 {
			t.Fatal("Redis never filled up")
		}
	}
	for _, c := range []string{"dead-peer", "restarted"} {
		if ds, err := filler.Read(ctx, c, 40, time.Second); err != nil || len(ds) != 40 {
			t.Fatalf("%s read: %d, %v", c, len(ds), err)
		}
	}
	rb, err := redisbuffer.Open(srv.URL(), redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	o := opts("restarted")
	o.BatchSize = 500
	a := analytics.NewAggregator(st, []survey.Buffer{rb}, o)
	start := time.Now()
	stop := runAggregator(t, a)
	eventually(t, 60*time.Second, "the full Redis drained into the store", func() bool {
		return responseCount(t, st) == int64(len(rs))
	})
	t.Logf("%d responses in a full Redis counted %v after the aggregator started", len(rs), time.Since(start).Round(time.Millisecond))
	eventually(t, 10*time.Second, "stream empty", func() bool { return backlog(t, rb).Backlog == 0 })
	stop()
	if s := a.Stats(); s.Resumed != 40 || s.Reclaimed != 40 {
		t.Errorf("stats = %+v, want 40 resumed and 40 reclaimed", s)
	}
	if err := rb.Append(ctx, genResponses(10, 99)); err != nil {
		t.Errorf("append after draining: %v", err)
	}
	checkTotals(t, st, rs)
}

// Two live workers configured with the same consumer name (two processes on one host with one
// configuration) are safe: each may resume, and fold again, what the other holds, and the
// idempotent fold still counts every response exactly once.
func TestAggregatorSharedConsumerName(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectPostgres)
	rb, _ := redisBuffer(t)
	inbox := st.Inbox()
	rs := genResponses(600, 27)
	appendAll(t, rb, rs[:400])
	appendAll(t, inbox, rs[300:])
	var as []*analytics.Aggregator
	for range 2 {
		a := analytics.NewAggregator(st, []survey.Buffer{rb, inbox}, opts("same-name"))
		as = append(as, a)
		runAggregator(t, a)
	}
	eventually(t, 30*time.Second, "everything folded", func() bool { return responseCount(t, st) == 600 })
	eventually(t, 10*time.Second, "buffers drained", func() bool {
		return backlog(t, rb).Backlog == 0 && backlog(t, inbox).Backlog == 0
	})
	s0, s1 := as[0].Stats(), as[1].Stats()
	if s0.Folded+s1.Folded != 600 {
		t.Errorf("folded %d + %d, want 600 exactly", s0.Folded, s1.Folded)
	}
	checkTotals(t, st, rs)
}

// An id reused for different content that slipped past intake (two replicas, or a second body
// sent before the first was folded) is not dropped silently: the fold keeps the first, and the
// aggregator dead-letters the other with reason id_conflict — whether the two meet in one batch
// or the second comes in a later one. A true resend is a duplicate.
func TestAggregatorDeadLettersIDConflicts(t *testing.T) {
	st, _ := openStore(t, sqlstore.DialectSQLite)
	for _, batch := range []int{10, 100} { // 10: the second body comes in a later batch
		for _, name := range []string{"sqlite", "inmem"} {
			t.Run(fmt.Sprintf("%s/batch%d", name, batch), func(t *testing.T) {
				mem := inmem.New()
				fs := analytics.FoldStore(st)
				if name == "inmem" {
					fs = mem
				}
				inbox := st.Inbox()
				rs := genResponses(10, 41)
				for i := range rs {
					rs[i].ID = intake.NewID()
					rs[i].Hash = fmt.Sprintf("%032x", i)
				}
				other := rs[3]
				other.Hash = strings.Repeat("f", 32) // same id, different content
				resend := rs[5]                      // same id, same content
				if err := inbox.Append(context.Background(), rs); err != nil {
					t.Fatal(err)
				}
				if err := inbox.Append(context.Background(), []survey.Response{other, resend}); err != nil {
					t.Fatal(err)
				}
				o := opts(fmt.Sprintf("conflicts-%s-%d", name, batch))
				o.BatchSize = batch
				a := analytics.NewAggregator(fs, []survey.Buffer{inbox}, o)
				stop := runAggregator(t, a)
				eventually(t, 30*time.Second, "inbox drained", func() bool { return backlog(t, inbox).Backlog == 0 })
				stop()
				if s := a.Stats(); s.Folded != 10 || s.DeadLettered != 1 || s.Duplicates != 1 {
					t.Errorf("stats = %+v, want 10 folded, 1 dead-lettered (the other body), 1 duplicate (the resend)", s)
				}
				if name == "inmem" {
					dl := mem.DeadLetters()
					if len(dl) != 1 || !strings.HasPrefix(dl[0].Reason, analytics.ReasonIDConflict) || !bytes.Contains(dl[0].Raw, []byte(other.Hash)) {
						t.Errorf("dead letters = %+v, want the other body with reason id_conflict", dl)
					}
				}
			})
		}
	}
}
