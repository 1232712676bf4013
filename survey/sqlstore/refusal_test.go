package sqlstore_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// The aggregator sets a response aside only when the store says the data itself is refused
// (ECodeInvalid); everything else is retried for ever. These tests pin that line on both
// dialects: data exceptions and constraint violations are invalid, a broken statement is
// internal, and a closed or unreachable database is unavailable.
func TestStorageErrorsClassified(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		st := sqltest.Open(t, dialect)
		exec := func(q string, args ...any) error {
			return st.TestWrite(func(db *gorm.DB) error { return db.Exec(q, args...).Error })
		}
		// A NOT NULL violation (PostgreSQL 23502, SQLite SQLITE_CONSTRAINT_NOTNULL).
		wantCode(t, exec("INSERT INTO dead_letters (source, reason, payload) VALUES (NULL, 'r', ?)", []byte("x")), survey.ECodeInvalid)
		// A unique violation stays a conflict, not a data refusal.
		dup := func() error {
			return exec("INSERT INTO inbox (seq, response_id, payload, created_us) VALUES (424242, 'x', ?, 1)", []byte("x"))
		}
		if err := dup(); err != nil {
			t.Fatalf("first insert: %v", err)
		}
		wantCode(t, dup(), survey.ECodeConflict)
		// A statement the database cannot run is a bug: internal, retried, never data.
		wantCode(t, exec("SELEC 1"), survey.ECodeInternal)
		if dialect == sqlstore.DialectPostgres {
			// Class 22: a NUL byte in text (22021) and an integer out of range (22003).
			se := wantCode(t, exec("INSERT INTO dead_letters (source, reason, payload) VALUES (?, 'r', ?)", "a\x00b", []byte("x")), survey.ECodeInvalid)
			if !strings.Contains(se.Error(), "22021") {
				t.Errorf("NUL refusal %v does not name its SQLSTATE", se)
			}
			wantCode(t, exec("SELECT CAST(? AS INTEGER)", int64(1)<<40), survey.ECodeInvalid)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		wantCode(t, exec("SELECT 1"), survey.ECodeUnavailable)
	})
}

// A response PostgreSQL cannot store (a NUL byte in its source) makes the whole fold an
// ECodeInvalid refusal that stores nothing, so the caller can bisect the batch; SQLite stores
// the same bytes as they are.
func TestFoldRefusesUnstorableResponse(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		st := sqltest.Open(t, dialect)
		rs := newGen(11).responses(3)
		rs[1].Source = "a\x00b"
		n, err := st.Fold(testCtx(t), rs, testDelta)
		if dialect == sqlstore.DialectSQLite {
			if err != nil || n != 3 {
				t.Fatalf("SQLite Fold = %d, %v; want all 3 stored", n, err)
			}
			return
		}
		wantCode(t, err, survey.ECodeInvalid)
		if c, err := st.ResponseCount(testCtx(t), 0); err != nil || c != 0 {
			t.Fatalf("after a refused fold %d responses are stored (%v); want none", c, err)
		}
		if n := fold(t, st, []survey.Response{rs[0], rs[2]}); n != 2 {
			t.Fatalf("the other two folded %d", n)
		}
	})
}

// Quarantine stores whatever it is given — NUL bytes and invalid UTF-8 in the payload, the
// source or the reason — because the entry it keeps is usually the one that failed for that.
func TestQuarantineStoresPoison(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		st := sqltest.Open(t, dialect)
		raw := []byte("{\"source\":\"a\\u0000b\"}\x00\xff")
		long := strings.Repeat("ب", 3000)
		if err := st.Quarantine(testCtx(t), "redis/1-0\x00", raw, "refused: a\x00b \xff "+long); err != nil {
			t.Fatalf("Quarantine: %v", err)
		}
		var rows []struct {
			Source, Reason string
			Payload        []byte
		}
		if err := st.TestDB().Raw("SELECT source, reason, payload FROM dead_letters").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || string(rows[0].Payload) != string(raw) || rows[0].Source != `redis/1-0\0` ||
			!strings.HasPrefix(rows[0].Reason, `refused: a\0b `+"\uFFFD") || len(rows[0].Reason) > 2100 {
			t.Fatalf("dead letter = %q", rows)
		}
	})
}
