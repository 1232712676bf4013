package main

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"

	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// The national seeder computes rollups in Go and COPYs them beside the raw rows; `afkar
// reaggregate` rebuilds them from those raw rows with the live fold. The two must be the same
// cells, byte for byte, or the seeded dashboards would show what no fold could produce.
func TestNationalSeedMatchesReaggregate(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectPostgres, sqlstore.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			n, args := "20000", []string{"--provinces", "2", "--agencies-per-province", "16", "--days", "120"}
			if dialect == sqlstore.DialectSQLite {
				n = "3000" // the fallback path: multi-row inserts
			}
			db := sqltest.URL(t, dialect)
			env := map[string]string{"AFKAR_DATABASE_URL": db, "AFKAR_DEMO": "0", "AFKAR_DATA_DIR": t.TempDir()}
			ctx := context.Background()
			var out, errb bytes.Buffer
			if err := run(ctx, append([]string{"demo", "--responses", n, "--seed", "7"}, args...), envMap(env), &out, &errb); err != nil {
				t.Fatalf("demo: %v\n%s", err, errb.String())
			}
			if !strings.Contains(out.String(), "seeded "+n+" responses for 32 agencies") {
				t.Fatalf("demo output: %s", out.String())
			}
			store := sqltest.OpenURL(t, db)
			seeded := dumpOf(t, store)
			if !strings.Contains(seeded, "# rollup_months") || strings.Count(seeded[strings.Index(seeded, "# rollup_months"):], "\n") < 100 {
				t.Fatal("the seed wrote (almost) no month rollups")
			}
			if drift, err := store.DerivedDrift(ctx); err != nil || drift != 0 {
				t.Fatalf("month rollups after the seed: %d cells differ from the days (%v)", drift, err)
			}
			if count, _ := store.ResponseCount(ctx, 0); count != atoi(n) {
				t.Fatalf("%d raw responses, want %s", count, n)
			}
			if strings.Count(seeded, "\n") < 1000 {
				t.Fatalf("only %d rollup lines:\n%s", strings.Count(seeded, "\n"), seeded)
			}
			out.Reset()
			if err := run(ctx, []string{"reaggregate"}, envMap(env), &out, &errb); err != nil {
				t.Fatalf("reaggregate: %v\n%s", err, errb.String())
			}
			if rebuilt := dumpOf(t, store); rebuilt != seeded {
				t.Fatalf("rollups differ after reaggregate: seeded %d bytes, rebuilt %d bytes\n%s", len(seeded), len(rebuilt), firstDiff(seeded, rebuilt))
			}
			// A second national seed refuses a database that holds data.
			if err := run(ctx, append([]string{"demo", "--responses", "10", "--national"}, args...), envMap(env), &out, &errb); err == nil {
				t.Fatal("a national seed on a non-empty database succeeded")
			}
		})
	}
}

func dumpOf(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.DumpRollups(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func atoi(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return "seeded:  " + al[i] + "\nrebuilt: " + bl[i]
		}
	}
	return "one is a prefix of the other"
}

// `afkar archive --before <Jalali day>` writes a gzip CSV of the older raw responses, removes
// them, and leaves the rollups — the scores — exactly as they were.
func TestArchiveCommand(t *testing.T) {
	for _, dialect := range []string{sqlstore.DialectPostgres, sqlstore.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			db := sqltest.URL(t, dialect)
			env := map[string]string{"AFKAR_DATABASE_URL": db, "AFKAR_DEMO": "0", "AFKAR_DATA_DIR": t.TempDir()}
			ctx := context.Background()
			var out, errb bytes.Buffer
			if err := run(ctx, []string{"demo", "--national", "--provinces", "1", "--agencies-per-province", "3", "--responses", "3000", "--days", "60", "--seed", "3"}, envMap(env), &out, &errb); err != nil {
				t.Fatalf("demo: %v\n%s", err, errb.String())
			}
			store := sqltest.OpenURL(t, db)
			before := dumpOf(t, store)
			cut := time.Now().In(survey.Tehran).AddDate(0, 0, -30)
			file := filepath.Join(t.TempDir(), "old.csv.gz")
			out.Reset()
			if err := run(ctx, []string{"archive", "--before", analytics.FormatJalali(cut), "--out", file}, envMap(env), &out, &errb); err != nil {
				t.Fatalf("archive: %v\n%s", err, errb.String())
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(zr).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			left, _ := store.ResponseCount(ctx, 0)
			archived := int64(len(recs) - 1)
			if archived < 500 || left < 500 || archived+left != 3000 {
				t.Fatalf("archived %d, left %d; want both ≥ 500 summing to 3000 (%s)", archived, left, out.String())
			}
			if !strings.Contains(out.String(), fmt.Sprintf("archived %d responses", archived)) {
				t.Fatalf("output: %s", out.String())
			}
			if after := dumpOf(t, store); after != before {
				t.Fatalf("archive changed the rollups:\n%s", firstDiff(before, after))
			}
			// The file is never overwritten.
			if err := run(ctx, []string{"archive", "--before", analytics.FormatJalali(cut), "--out", file}, envMap(env), &out, &errb); err == nil {
				t.Fatal("archive overwrote its file")
			}
		})
	}
}
