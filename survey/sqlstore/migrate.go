package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// migrationFiles holds the schema, one directory per dialect. Files are named NNNN_name.sql;
// NNNN is the version. Both dialects must know the same versions (checked at start-up), and a
// released file is never edited: a change is a new file.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations maps a dialect to its migrations in version order.
var migrations = loadMigrations()

func loadMigrations() map[string][]migration {
	out := map[string][]migration{}
	for _, d := range []string{DialectPostgres, DialectSQLite} {
		dir := "migrations/" + d
		entries, err := fs.ReadDir(migrationFiles, dir)
		if err != nil {
			panic(err)
		}
		for _, e := range entries {
			num, _, ok := strings.Cut(e.Name(), "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
				panic(fmt.Sprintf("sqlstore: migration %s/%s is not named NNNN_name.sql", dir, e.Name()))
			}
			b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
			if err != nil {
				panic(err)
			}
			out[d] = append(out[d], migration{version: v, name: e.Name(), sql: string(b)})
		}
		sort.Slice(out[d], func(i, j int) bool { return out[d][i].version < out[d][j].version })
		for i := 1; i < len(out[d]); i++ {
			if out[d][i].version == out[d][i-1].version {
				panic(fmt.Sprintf("sqlstore: two %s migrations with version %d", d, out[d][i].version))
			}
		}
	}
	pg, lite := out[DialectPostgres], out[DialectSQLite]
	if len(pg) != len(lite) {
		panic("sqlstore: postgres and sqlite migrations differ in number")
	}
	for i := range pg {
		if pg[i].version != lite[i].version {
			panic(fmt.Sprintf("sqlstore: migration versions differ: postgres %d, sqlite %d", pg[i].version, lite[i].version))
		}
	}
	return out
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int {
	ms := migrations[DialectPostgres]
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrateLockKey is the PostgreSQL advisory lock that makes concurrent `afkar migrate` runs
// (two pods starting at once) take turns.
const migrateLockKey = 0x61666b6172 // "afkar"

// Migrate applies the migrations the database lacks, each in its own transaction together with
// its schema_migrations row, and returns how many it applied. Running it again applies nothing.
// It refuses to touch a database whose schema is newer than this binary.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	if err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.migrateLock(tx); err != nil {
			return err
		}
		ts := "TIMESTAMPTZ"
		if s.dialect == DialectSQLite {
			ts = "TIMESTAMP"
		}
		return tx.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at " + ts + " NOT NULL)").Error
	}); err != nil {
		return 0, err
	}
	have, err := s.appliedVersions(ctx)
	if err != nil {
		return 0, err
	}
	if err := aheadError(have); err != nil {
		return 0, err
	}
	for _, m := range migrations[s.dialect] {
		if have[m.version] {
			continue
		}
		done := false
		start := time.Now()
		err := s.tx(ctx, func(tx *gorm.DB) error {
			if err := s.migrateLock(tx); err != nil {
				return err
			}
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 { // another process applied it meanwhile
				return nil
			}
			// Straight to the driver: GORM would read '?' and '@' in the file as placeholders.
			if _, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			done = true
			return tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.version, utc(time.Now())).Error
		})
		if err != nil {
			return applied, err
		}
		if done {
			applied++
			s.log.Info("schema migration applied", "dialect", s.dialect, "migration", m.name, "took", time.Since(start))
		}
	}
	return applied, nil
}

func (s *Store) migrateLock(tx *gorm.DB) error {
	if s.dialect != DialectPostgres {
		return nil // the SQLite write transaction is already exclusive
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(migrateLockKey)).Error
}

// CheckSchema tells whether this binary may serve on the database: nil when every migration it
// knows is applied, an ECodeSchemaBehind error (run `afkar migrate`) when some are missing, and
// an ECodeConflict error when the database carries versions this binary does not know (it is
// older than the schema: upgrade it).
func (s *Store) CheckSchema(ctx context.Context) error {
	have, err := s.appliedVersions(ctx)
	if err != nil {
		return err
	}
	if err := aheadError(have); err != nil {
		return err
	}
	missing := 0
	for _, m := range migrations[s.dialect] {
		if !have[m.version] {
			missing++
		}
	}
	if missing > 0 {
		return survey.Errorf(survey.ECodeSchemaBehind,
			"طرح پایگاه داده به‌روز نیست (%d از %d مهاجرت اجرا نشده است)؛ فرمان `afkar migrate` را اجرا کنید.",
			"the database schema is behind (%d of %d migrations not applied): run `afkar migrate`",
			missing, len(migrations[s.dialect]))
	}
	return nil
}

// appliedVersions reads schema_migrations; a database without it has no versions.
func (s *Store) appliedVersions(ctx context.Context) (map[int]bool, error) {
	db := s.read(ctx)
	exists := "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
	if s.dialect == DialectSQLite {
		exists = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	}
	var n int64
	if err := db.Raw(exists).Scan(&n).Error; err != nil {
		return nil, s.dbError(err)
	}
	if n == 0 {
		return map[int]bool{}, nil
	}
	var vs []int
	if err := db.Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&vs).Error; err != nil {
		return nil, s.dbError(err)
	}
	have := make(map[int]bool, len(vs))
	for _, v := range vs {
		have[v] = true
	}
	return have, nil
}

func aheadError(have map[int]bool) error {
	latest, newest := LatestVersion(), 0
	for v := range have {
		if v > newest {
			newest = v
		}
	}
	if newest > latest {
		return survey.Errorf(survey.ECodeConflict,
			"طرح پایگاه داده (نسخه %d) از این نسخهٔ افکار (نسخه %d) جدیدتر است؛ افکار را به‌روز کنید.",
			"the database schema (version %d) is newer than this afkar binary knows (version %d): upgrade afkar",
			newest, latest)
	}
	return nil
}
