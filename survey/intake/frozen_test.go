package intake_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
)

// TestFrozenPrimary freezes Redis (SIGSTOP: connections stay open, nothing answers) under a
// steady stream of appends. Every append must still be acknowledged, none may wait much longer
// than the primary's short deadline, and once Redis thaws, appends go back to it and every
// acknowledged response is in one buffer or the other.
func TestFrozenPrimary(t *testing.T) {
	srv := redistest.StartServer(t)
	f := newFixture(t)
	rb, err := redisbuffer.Open(srv.URL(), redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	inbox := f.store.Inbox()
	in := intake.New(f.store, rb, inbox, intake.Options{PrimaryRetry: 200 * time.Millisecond})
	defer in.Close()

	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		latencies []time.Duration
		failures  []error
		n         int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				n++
				rating := 1 + n%5
				mu.Unlock()
				start := time.Now()
				rc, err := in.Submit(context.Background(), f.kiosk(), f.sub("", rating))
				el := time.Since(start)
				mu.Lock()
				latencies = append(latencies, el)
				if err != nil {
					failures = append(failures, err)
				} else {
					acked[rc.Response.ID] = true
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	srv.Freeze()
	frozenAt := time.Now()
	time.Sleep(3 * time.Second)
	srv.Thaw()
	thawed := time.Now()
	for !in.PrimaryUp() {
		if time.Since(thawed) > 10*time.Second {
			t.Fatal("intake never went back to Redis after it thawed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	backAfter := time.Since(thawed)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	if len(failures) > 0 {
		t.Fatalf("%d appends failed while Redis was frozen, first: %v", len(failures), failures[0])
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	worst := latencies[len(latencies)-1]
	p99 := latencies[len(latencies)*99/100]
	t.Logf("%d appends over a %v freeze: p99 %v, worst %v; %d to the fallback; back on Redis %v after thaw",
		len(latencies), thawed.Sub(frozenAt).Round(time.Millisecond), p99, worst, in.Stats().FallbackAppends.Load(), backAfter.Round(time.Millisecond))
	// The bound: the primary's 500ms deadline plus an SQLite commit, with room for a loaded
	// machine. Before the deadline existed, a frozen Redis held appends for 5s at a time.
	if worst > 2*time.Second {
		t.Errorf("an append waited %v while Redis was frozen", worst)
	}
	if in.Stats().FallbackAppends.Load() == 0 {
		t.Error("nothing went to the fallback while Redis was frozen")
	}
	before := in.Stats().FallbackAppends.Load()
	rc, err := in.Submit(context.Background(), f.kiosk(), f.sub("", 4))
	if err != nil {
		t.Fatal(err)
	}
	if in.Stats().FallbackAppends.Load() != before {
		t.Error("after the thaw and a successful probe an append still went to the fallback")
	}
	acked[rc.Response.ID] = true

	seen := drain(t, inbox)
	for id := range drain(t, rb) {
		seen[id]++
	}
	for id := range acked {
		if seen[id] == 0 {
			t.Fatalf("acknowledged response %s is in neither buffer", id)
		}
	}
}
