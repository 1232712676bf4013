package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// rawDB opens the test's database directly, to look at rows the store API does not expose (which
// ids are stored, which inbox rows a consumer holds). Reads only.
func rawDB(t *testing.T, dbURL string) *gorm.DB {
	t.Helper()
	var d gorm.Dialector
	if strings.HasPrefix(dbURL, "postgres") {
		d = postgres.Open(dbURL)
	} else {
		d = sqlite.Open(strings.TrimPrefix(dbURL, "sqlite://") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

// waitCounted waits until every response acknowledged so far is stored (and so counted: the
// fold stores and counts in one transaction) and returns how long after since that was. It
// gives up after a minute, failing the test.
func (e *expectation) waitCounted(t *testing.T, f fixture, since time.Time) time.Duration {
	t.Helper()
	db := rawDB(t, f.dbURL)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(25 * time.Millisecond) {
		missing, total, err := e.uncounted(db, f)
		if err == nil && missing == 0 {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged responses still not counted a minute on (last error %v)", missing, total, err)
		}
	}
}

// uncounted reports how many of the responses acknowledged so far are not stored yet, of how many.
func (e *expectation) uncounted(db *gorm.DB, f fixture) (missing, total int, err error) {
	e.mu.Lock()
	want := make(map[string]bool, len(e.acked))
	for id := range e.acked {
		want[id] = true
	}
	e.mu.Unlock()
	var ids []string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.WithContext(ctx).Raw("SELECT CAST(id AS TEXT) FROM responses WHERE agency_id = ?", f.agency).Scan(&ids).Error; err != nil {
		return len(want), len(want), err
	}
	missing = len(want)
	for _, id := range ids {
		if want[strings.ToLower(id)] {
			missing--
		}
	}
	return missing, len(want), nil
}

// inboxHeld returns a function counting the inbox rows a consumer holds (delivered, not acked).
func inboxHeld(t *testing.T, dbURL string) func(consumer string) int {
	db := rawDB(t, dbURL)
	return func(consumer string) int {
		var n int64
		if err := db.Raw("SELECT COUNT(*) FROM inbox WHERE consumer = ?", consumer).Scan(&n).Error; err != nil {
			t.Fatalf("inbox: %v", err)
		}
		return int(n)
	}
}

// consumerOf is the consumer name a command started with env uses in the buffers.
func consumerOf(t *testing.T, env map[string]string, command string) string {
	t.Helper()
	cfg, err := LoadConfig(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.ConsumerName(command)
}

// heldBy returns a function counting the entries a consumer holds unacked in the buffers env
// configures: the Redis stream (when there is one) and the inbox.
func heldBy(t *testing.T, env map[string]string, dbURL string) func(consumer string) int {
	inbox := inboxHeld(t, dbURL)
	url := env["AFKAR_REDIS_URL"]
	if url == "" {
		return inbox
	}
	stream := env["AFKAR_REDIS_PREFIX"] + "responses"
	return func(consumer string) int { return inbox(consumer) + redisHeld(t, url, stream, consumer) }
}

// redisHeld asks Redis how many entries of stream consumer holds unacknowledged.
func redisHeld(t *testing.T, url, stream, consumer string) int {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(opt.Addr, ":")
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "XPENDING", stream, "aggregator", "-", "+", "100000", consumer).Output()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	// Each pending entry is four lines: id, consumer, idle, deliveries.
	return len(strings.Fields(string(out))) / 4
}
