// Package sqltest gives tests a fresh, migrated sqlstore on a real database — a new PostgreSQL
// database on the server in AFKAR_TEST_DATABASE_URL, or a new SQLite file — and removes it when
// the test ends, so tests run in parallel and leave nothing behind. Without a reachable
// PostgreSQL server PostgreSQL tests are skipped, except under CI=true, where they fail.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/testenv"
)

// DefaultPostgresURL is the server tests use when AFKAR_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the dialects a suite should run on.
var Dialects = []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres}

// admin is one connection pool per test binary to the server's base database, used only to
// create and drop the per-test databases.
var admin struct {
	once sync.Once
	base *url.URL
	db   *sql.DB
	err  error
}

func adminDB() (*url.URL, *sql.DB, error) {
	admin.once.Do(func() {
		raw := os.Getenv("AFKAR_TEST_DATABASE_URL")
		if raw == "" {
			raw = DefaultPostgresURL
		}
		u, err := url.Parse(raw)
		if err != nil {
			admin.err = err
			return
		}
		q := u.Query()
		if q.Get("connect_timeout") == "" {
			q.Set("connect_timeout", "3")
		}
		u.RawQuery = q.Encode()
		gdb, err := gorm.Open(postgres.Open(u.String()), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			admin.err = err
			return
		}
		db, err := gdb.DB()
		if err != nil {
			admin.err = err
			return
		}
		db.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			admin.err = err
			return
		}
		admin.base, admin.db = u, db
	})
	return admin.base, admin.db, admin.err
}

// PostgresURL creates a uniquely named database on the test server and returns its URL; the
// database is dropped (WITH (FORCE), closing leftover connections) when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base, db, err := adminDB()
	if err != nil {
		testenv.Missing(t, "PostgreSQL is unreachable", err)
	}
	name := dbName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	q := u.Query()
	q.Del("connect_timeout")
	u.RawQuery = q.Encode()
	return u.String()
}

// dbName is "afkar_<test name>_<random>", at most 63 bytes of [a-z0-9_].
func dbName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	slug := b.String()
	if len(slug) > 36 {
		slug = slug[len(slug)-36:]
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("afkar_%s_%s", strings.Trim(slug, "_"), hex.EncodeToString(rnd[:]))
}

// SQLitePath returns the path of a database file in the test's temporary directory.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "afkar.db")
}

// URL returns a fresh, empty database URL for dialect "postgres" or "sqlite".
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case sqlstore.DialectPostgres:
		return PostgresURL(t)
	case sqlstore.DialectSQLite:
		return "sqlite://" + SQLitePath(t)
	}
	t.Fatalf("sqltest: unknown dialect %q", dialect)
	return ""
}

// Open returns a migrated store on a fresh database of the dialect, closed when the test ends.
func Open(t testing.TB, dialect string) *sqlstore.Store {
	t.Helper()
	s := OpenURL(t, URL(t, dialect))
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return s
}

// OpenURL opens a store on url without migrating it, closed when the test ends.
func OpenURL(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, url, sqlstore.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}
