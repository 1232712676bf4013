package api

import (
	"math"
	"sync"
	"time"
)

// limiter is a per-key token bucket: each key (a client IP, or a bearer token in the limiter for
// tokens) holds up to perMinute tokens, refilled continuously at perMinute per minute, and each
// request takes one. A full bucket lets a burst of
// perMinute through, then one request every 60/perMinute seconds. It is written here rather than
// taken from echo's middleware package because that package pulls in golang.org/x/time, which
// the module does not otherwise need.
type limiter struct {
	mu        sync.Mutex
	capacity  float64
	perSecond float64
	buckets   map[string]*bucket
	lastSweep time.Time
	now       func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery is how often idle buckets are dropped, so memory follows the number of clients
// active in the last minute or so rather than every address ever seen.
const sweepEvery = time.Minute

// newLimiter returns a limiter of perMinute requests per key; now may be nil (the wall clock).
func newLimiter(perMinute int, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{
		capacity:  float64(perMinute),
		perSecond: float64(perMinute) / 60,
		buckets:   map[string]*bucket{},
		lastSweep: now(),
		now:       now,
	}
}

// allow takes a token for key. When none is left it reports how long until one will be.
func (l *limiter) allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.capacity, last: now}
		l.buckets[key] = b
	} else {
		b.refill(now, l)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	need := (1 - b.tokens) / l.perSecond // seconds; rounded up to whole milliseconds
	return false, time.Duration(math.Ceil(need*1000-1e-6)) * time.Millisecond
}

func (b *bucket) refill(now time.Time, l *limiter) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens += el * l.perSecond
		if b.tokens > l.capacity {
			b.tokens = l.capacity
		}
		b.last = now
	}
}

// sweep forgets buckets that have refilled completely: a new bucket would be identical.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		b.refill(now, l)
		if b.tokens >= l.capacity {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}
