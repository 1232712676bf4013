// Package redistest gives tests a client of the machine's Redis and a key prefix of their own, so
// tests run in parallel against one server and leave nothing behind, and a private redis-server
// (Server) for tests that kill, freeze or fill theirs.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/survey/testenv"
)

// DefaultURL is used when AFKAR_TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the test Redis URL from AFKAR_TEST_REDIS_URL or DefaultURL.
func URL() string {
	if u := os.Getenv("AFKAR_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Client returns a client of the test Redis and a unique key prefix ("afkartest:<random>:").
// Keys starting with the prefix are deleted and the client closed when the test ends. When Redis
// cannot be reached the test is skipped, or fails when CI=true, so CI never passes by skipping.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("redistest: AFKAR_TEST_REDIS_URL: %v", err)
	}
	opt.DialTimeout = time.Second
	opt.DialerRetries = 1
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		testenv.Missing(t, "redistest: Redis at "+opt.Addr+" is unreachable", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	prefix := "afkartest:" + hex.EncodeToString(rnd[:]) + ":"
	t.Cleanup(func() {
		defer c.Close()
		if err := DeletePrefix(context.Background(), c, prefix); err != nil {
			t.Errorf("redistest: cleanup of %s*: %v", prefix, err)
		}
	})
	return c, prefix
}

// DeletePrefix deletes every key starting with prefix (SCAN + DEL, never KEYS). The prefix must
// hold no glob characters.
func DeletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
