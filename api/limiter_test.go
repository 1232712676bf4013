package api

import (
	"testing"
	"time"
)

// TestLimiterRefillsAndForgets drives the bucket with a fake clock: a burst of perMinute, then one
// request per 60/perMinute seconds, an accurate Retry-After, and idle clients forgotten.
func TestLimiterRefillsAndForgets(t *testing.T) {
	now := time.Date(2025, 11, 15, 9, 0, 0, 0, time.UTC)
	l := newLimiter(6, func() time.Time { return now }) // one token every 10s
	for i := 0; i < 6; i++ {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("7th request: ok=%v wait=%v, want refused for 10s", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another client shares a's bucket")
	}
	now = now.Add(4 * time.Second)
	if ok, wait := l.allow("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: ok=%v wait=%v, want refused for 6s", ok, wait)
	}
	now = now.Add(6 * time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("not refilled after 10s")
	}
	if ok, _ := l.allow("a"); ok {
		t.Fatal("refilled more than one token in 10s")
	}
	now = now.Add(2 * time.Minute)
	l.allow("c") // triggers the sweep
	if _, kept := l.buckets["a"]; kept {
		t.Fatal("idle full bucket not forgotten")
	}
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets after sweep, want 1", len(l.buckets))
	}
}
