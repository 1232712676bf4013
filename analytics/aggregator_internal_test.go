package analytics

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBackoffCapped(t *testing.T) {
	var b backoff
	var got []time.Duration
	for i := 0; i < 8; i++ {
		got = append(got, b.next(time.Second))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff = %v", got)
		}
	}
	b.reset()
	if d := b.next(time.Second); d != 100*time.Millisecond {
		t.Errorf("after reset: %v", d)
	}
}

func TestFlushContextOutlivesParentBriefly(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx, stop := flushContext(parent, 150*time.Millisecond)
	defer stop()
	cancel()
	time.Sleep(50 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("flush context ended with its parent")
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("flush context outlived its timeout")
	}

	// Without a shutdown it lives until stopped.
	ctx2, stop2 := flushContext(context.Background(), time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if ctx2.Err() != nil {
		t.Fatal("flush context ended without a shutdown")
	}
	stop2()
	if ctx2.Err() == nil {
		t.Fatal("stop did not end the flush context")
	}
}

func TestAggregatorDefaults(t *testing.T) {
	a := NewAggregator(nil, nil, AggregatorOptions{})
	o := a.opts
	if o.BatchSize != 500 || o.Block != time.Second || o.ClaimIdle != DefaultClaimIdle || o.FlushTimeout != 10*time.Second || o.Logger == nil {
		t.Errorf("defaults = %+v", o)
	}
	if parts := strings.Split(o.Consumer, "-"); len(parts) < 3 || len(parts[len(parts)-1]) != 8 {
		t.Errorf("consumer = %q, want hostname-pid-random", o.Consumer)
	}
	if b := NewAggregator(nil, nil, AggregatorOptions{}); b.Consumer() == a.Consumer() {
		t.Error("two aggregators got the same default consumer name")
	}
	if a.reclaimEvery() != time.Second || a.touchEvery() >= o.ClaimIdle/2 {
		t.Errorf("reclaim every %v, touch every %v for claim idle %v", a.reclaimEvery(), a.touchEvery(), o.ClaimIdle)
	}
	if err := a.Run(context.Background()); err == nil {
		t.Error("Run without buffers must fail")
	}
	if s := a.Stats(); !s.LastFold.IsZero() || s.Folded != 0 {
		t.Errorf("fresh stats = %+v", s)
	}
}
