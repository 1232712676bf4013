package sqlstore_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/buffertest"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestInboxConformance holds the SQL inbox to the contract every buffer meets.
func TestInboxConformance(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		buffertest.Run(t, func(t *testing.T) survey.Buffer { return sqltest.Open(t, d).Inbox() })
	})
}

func TestInboxWakesOnAppend(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		in := sqltest.Open(t, d).Inbox()
		rs := newGen(20).responses(3)
		time.AfterFunc(200*time.Millisecond, func() {
			if err := in.Append(context.Background(), rs); err != nil {
				t.Errorf("Append: %v", err)
			}
		})
		start := time.Now()
		ds, err := in.Read(ctx, "c1", 10, 10*time.Second)
		if err != nil || len(ds) != 3 {
			t.Fatalf("Read = %d entries, %v", len(ds), err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("a blocked Read took %v to see an Append made after 200ms", el)
		}
	})
}

// TestInboxPollsOtherProcesses: rows appended through another Store (another process, as far
// as the in-process wake-up knows) reach a blocked reader by polling.
func TestInboxPollsOtherProcesses(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		url := sqltest.URL(t, d)
		reader := sqltest.OpenURL(t, url)
		if _, err := reader.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		writer := sqltest.OpenURL(t, url)
		time.AfterFunc(150*time.Millisecond, func() {
			if err := writer.Inbox().Append(context.Background(), newGen(21).responses(2)); err != nil {
				t.Errorf("Append: %v", err)
			}
		})
		start := time.Now()
		ds, err := reader.Inbox().Read(ctx, "c1", 10, 10*time.Second)
		if err != nil || len(ds) != 2 {
			t.Fatalf("Read = %d entries, %v", len(ds), err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("Read took %v", el)
		}
	})
}

func TestInboxDurable(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		url := sqltest.URL(t, d)
		first, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := first.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		rs := newGen(22).responses(50)
		if err := first.Inbox().Append(ctx, rs); err != nil {
			t.Fatal(err)
		}
		held, err := first.Inbox().Read(ctx, "dead-worker", 20, 0)
		if err != nil || len(held) != 20 {
			t.Fatalf("Read = %d, %v", len(held), err)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}

		again := sqltest.OpenURL(t, url)
		st, err := again.Inbox().Stats(ctx)
		if err != nil || st.Backlog != 50 || st.Pending != 20 {
			t.Fatalf("Stats after reopening = %+v, %v", st, err)
		}
		fresh, err := again.Inbox().Read(ctx, "c2", 100, 0)
		if err != nil || len(fresh) != 30 {
			t.Fatalf("Read after reopening = %d, %v; want the 30 never delivered", len(fresh), err)
		}
		back, err := again.Inbox().Reclaim(ctx, "c2", 0, 100)
		if err != nil || len(back) != 50 {
			t.Fatalf("Reclaim(minIdle 0) = %d, %v; want all 50 unacked", len(back), err)
		}
		got := map[string]bool{}
		for _, d := range back {
			got[d.Response.ID] = true
		}
		for _, r := range rs {
			if !got[r.ID] {
				t.Fatalf("response %s lost across a restart", r.ID)
			}
		}
	})
}

func TestInboxUndecodable(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		in := s.Inbox()
		good := newGen(23).responses(1)
		if err := in.Append(ctx, good); err != nil {
			t.Fatal(err)
		}
		raw := []byte("{\"id\": \x00\xff not json")
		if err := s.TestDB().Exec("INSERT INTO inbox (response_id, payload, created_us) VALUES (?, ?, ?)", "x", raw, time.Now().UnixMicro()).Error; err != nil {
			t.Fatal(err)
		}
		ds, err := in.Read(ctx, "c1", 10, 0)
		if err != nil || len(ds) != 2 {
			t.Fatalf("Read = %d, %v", len(ds), err)
		}
		if ds[0].Err != nil || ds[0].Response.ID != good[0].ID {
			t.Fatalf("good entry = %+v", ds[0])
		}
		if ds[1].Err == nil || string(ds[1].Raw) != string(raw) || ds[1].Response.ID != "" || ds[1].Ref == "" {
			t.Fatalf("undecodable entry = %+v", ds[1])
		}
		if err := in.Ack(ctx, []string{ds[1].Ref, "not-a-ref", "-1", "999999"}); err != nil {
			t.Fatalf("Ack with odd refs: %v", err)
		}
		if st, _ := in.Stats(ctx); st.Backlog != 1 {
			t.Fatalf("backlog %d after acking the bad entry, want 1", st.Backlog)
		}
	})
}

// TestInboxConsumersNeverShare: many consumers claiming at once never receive the same row.
func TestInboxConsumersNeverShare(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		in := sqltest.Open(t, d).Inbox()
		const total = 3000
		g := newGen(24)
		for range total / 500 {
			if err := in.Append(ctx, g.responses(500)); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[string]string{}
			errs []error
			wg   sync.WaitGroup
		)
		for c := range 6 {
			name := "c" + itoa(c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ds, err := in.Read(ctx, name, 37, 100*time.Millisecond)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						if other, dup := seen[d.Ref]; dup {
							errs = append(errs, errors.New("ref "+d.Ref+" went to "+other+" and "+name))
						}
						seen[d.Ref] = name
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if len(seen) != total {
			t.Fatalf("consumers got %d distinct rows, want %d", len(seen), total)
		}
	})
}

// TestSQLiteConcurrentWriters: intake appends and aggregator folds, from two Stores on one file
// (a server and a separate `afkar` command) and several goroutines each, without "database is
// locked" errors.
func TestSQLiteConcurrentWriters(t *testing.T) {
	ctx := testCtx(t)
	url := sqltest.URL(t, sqlstore.DialectSQLite)
	a := sqltest.OpenURL(t, url)
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := sqltest.OpenURL(t, url)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	report := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	var folded []survey.Response
	for w := range 8 {
		s := []*sqlstore.Store{a, b}[w%2]
		g := newGen(uint64(30 + w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				rs := g.responses(50)
				if w%2 == 0 {
					report(s.Inbox().Append(ctx, rs))
				} else {
					_, err := s.Fold(ctx, rs, testDelta)
					report(err)
					mu.Lock()
					folded = append(folded, rs...)
					mu.Unlock()
				}
				ds, err := s.Inbox().Read(ctx, "c"+itoa(w), 20, 0)
				report(err)
				refs := make([]string, len(ds))
				for i := range ds {
					refs[i] = ds[i].Ref
				}
				report(s.Inbox().Ack(ctx, refs))
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	if n, err := a.ResponseCount(ctx, 0); err != nil || n != int64(len(folded)) {
		t.Fatalf("ResponseCount = %d, %v; want %d", n, err, len(folded))
	}
	checkTotals(t, b, folded, survey.RollupFilter{})
}

func TestInboxReadOrder(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		in := sqltest.Open(t, d).Inbox()
		rs := newGen(25).responses(150)
		if err := in.Append(ctx, rs); err != nil {
			t.Fatal(err)
		}
		ds, err := in.Read(ctx, "c1", 1000, 0)
		if err != nil || len(ds) != 150 {
			t.Fatalf("Read = %d, %v", len(ds), err)
		}
		if !sort.SliceIsSorted(ds, func(i, j int) bool {
			return len(ds[i].Ref) < len(ds[j].Ref) || len(ds[i].Ref) == len(ds[j].Ref) && ds[i].Ref < ds[j].Ref
		}) {
			t.Fatal("deliveries are not in ref order")
		}
		for i := range rs {
			if ds[i].Response.ID != rs[i].ID || !ds[i].Response.SubmittedAt.Equal(rs[i].SubmittedAt) || len(ds[i].Response.Answers) != len(rs[i].Answers) {
				t.Fatalf("delivery %d = %+v, want %+v", i, ds[i].Response, rs[i])
			}
		}
	})
}
