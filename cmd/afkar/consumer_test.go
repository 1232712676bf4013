package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The aggregator's consumer name is what lets a restarted process take its predecessor's batch
// back at once: it must be the same for the same deployment unit, and differ between units.
func TestConsumerNameStable(t *testing.T) {
	load := func(env map[string]string) *Config {
		t.Helper()
		c, err := LoadConfig(envMap(env))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := load(map[string]string{"AFKAR_DATA_DIR": "/srv/afkar/data"})
	again := load(map[string]string{"AFKAR_DATA_DIR": "/srv/afkar/data"})
	other := load(map[string]string{"AFKAR_DATA_DIR": "/srv/afkar2/data"})
	pg := load(map[string]string{"AFKAR_DATA_DIR": "/srv/afkar/data", "AFKAR_DATABASE_URL": "postgres://db/afkar", "AFKAR_REDIS_URL": "redis://r:6379/0"})
	host, _ := os.Hostname()
	if n := a.ConsumerName("serve"); n != again.ConsumerName("serve") || !strings.HasPrefix(n, host+"-serve-") {
		t.Errorf("consumer name %q not stable or not host-serve-…", n)
	}
	if a.ConsumerName("serve") == a.ConsumerName("worker") {
		t.Error("serve and worker on one host share a consumer name")
	}
	if a.ConsumerName("serve") == other.ConsumerName("serve") || a.ConsumerName("serve") == pg.ConsumerName("serve") {
		t.Error("different data directories or databases share a consumer name")
	}
	set := load(map[string]string{"AFKAR_CONSUMER": "kiosk-gw-1"})
	if set.ConsumerName("serve") != "kiosk-gw-1" || set.ConsumerName("worker") != "kiosk-gw-1" {
		t.Error("AFKAR_CONSUMER does not win")
	}
	if a.ClaimIdle != 5*time.Second || a.RedisTimeout != 500*time.Millisecond || a.CacheMaxStale != 10*time.Minute {
		t.Errorf("recovery defaults: claim idle %v, redis append timeout %v, cache max stale %v", a.ClaimIdle, a.RedisTimeout, a.CacheMaxStale)
	}
	if _, err := LoadConfig(envMap(map[string]string{"AFKAR_REDIS_APPEND_TIMEOUT": "1ms", "AFKAR_CACHE_MAX_STALE": "5s"})); err == nil ||
		!strings.Contains(err.Error(), "AFKAR_REDIS_APPEND_TIMEOUT") || !strings.Contains(err.Error(), "AFKAR_CACHE_MAX_STALE") {
		t.Errorf("out-of-range recovery settings accepted: %v", err)
	}
}
