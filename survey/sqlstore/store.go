// Package sqlstore keeps Afkar's data in SQL: the catalog (provinces, agencies, offices, surveys
// and their immutable versions), raw responses, the additive rollups dashboards read, API tokens,
// dead letters, and the SQL inbox — the durable buffer of the embedded deployment and the
// fallback while Redis is down.
//
// One code base serves PostgreSQL (production) and SQLite (the single-file embedded default).
// GORM does the plain CRUD; everything that aggregates, upserts or claims is visible SQL run
// through GORM's Raw/Exec and written to mean the same thing on both dialects, and the test
// suite runs every test on both. The schema is owned by versioned migrations embedded per
// dialect (migrations/<dialect>/NNNN_name.sql), never by GORM's AutoMigrate, so a DBA can read
// exactly what runs and a binary can refuse to serve on a schema it does not know.
package sqlstore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/afkar-gov/afkar/survey"
)

// Dialect names returned by Store.Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// DefaultSQLitePath is where the embedded database lives when no URL is configured.
const DefaultSQLitePath = "./data/afkar.db"

// maxParams bounds the bind parameters of one statement. SQLite allows 32766 and PostgreSQL
// 65535; staying below 30000 keeps one statement valid on both, and multi-row statements are
// chunked to fit.
const maxParams = 30000

// Options tunes a Store. The zero value is fine.
type Options struct {
	// Logger receives migration and slow-path messages; nil means slog.Default().
	Logger *slog.Logger
	// MaxOpenConns caps the connection pool; 0 picks a dialect default (PostgreSQL 16, SQLite 8).
	MaxOpenConns int
}

// Store is the SQL implementation of survey.Catalog plus the fold, report, token and inbox
// operations the rest of Afkar needs. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	log     *slog.Logger
	// wlock serialises writers on SQLite (nil on PostgreSQL). SQLite has one writer at a time
	// anyway; queueing in Go instead of in SQLite's busy handler (which sleeps and retries)
	// keeps group commits and folds flowing without "database is locked" errors or stalls.
	wlock chan struct{}
	inbox *Inbox
}

// Open connects to the database named by rawURL and checks it answers. It does not migrate:
// call Migrate (`afkar migrate`) or CheckSchema before serving.
//
// "postgres://…" and "postgresql://…" select PostgreSQL. "sqlite://PATH", "file:PATH", a bare
// path, or "" (meaning ./data/afkar.db) select SQLite; the parent directory is created, and the
// file is opened in WAL mode with synchronous=FULL (a commit is on disk when it returns),
// foreign keys on, a 10 s busy timeout and immediate write transactions.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{log: log}
	cfg := &gorm.Config{
		SkipDefaultTransaction: true, // every write path opens its own transaction when it needs one
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		dialector gorm.Dialector
		maxOpen   = opts.MaxOpenConns
	)
	lower := strings.ToLower(rawURL)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		s.dialect = DialectPostgres
		dsn, err := postgresDSN(rawURL)
		if err != nil {
			return nil, err
		}
		dialector = postgres.Open(dsn)
		if maxOpen <= 0 {
			maxOpen = 16
		}
	} else {
		s.dialect = DialectSQLite
		dsn, err := sqliteDSN(rawURL)
		if err != nil {
			return nil, err
		}
		dialector = sqlite.Open(dsn)
		if maxOpen <= 0 {
			maxOpen = 8
		}
		s.wlock = make(chan struct{}, 1)
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, unavailable(err, "پایگاه داده در دسترس نیست.", "cannot open the database")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, internal(err)
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s.db = db
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	s.inbox = newInbox(s)
	return s, nil
}

// postgresDSN adds pgx settings the store relies on unless the operator set them.
// default_query_exec_mode=exec sends each statement in one round trip without preparing it:
// folds build multi-row statements whose length varies with every batch, and caching a
// prepared statement per length would cost an extra round trip each and churn the cache.
func postgresDSN(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", survey.Wrap(survey.ECodeInvalid, err, "نشانی پایگاه داده نامعتبر است.", "invalid database URL")
	}
	q := u.Query()
	if q.Get("default_query_exec_mode") == "" {
		q.Set("default_query_exec_mode", "exec")
	}
	// Every read of the store is small (a period's cells of one agency, or the headline cells of
	// all of them): starting parallel workers cost more than it saved — at national size a
	// 90-day score's queries did ~7 ms of work and waited ~70 ms for their Gather to start on a
	// busy 2-core server. The operator can still ask for workers in the URL.
	if q.Get("max_parallel_workers_per_gather") == "" {
		q.Set("max_parallel_workers_per_gather", "0")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// sqliteDSN turns the configured location into a go-sqlite DSN with the pragmas the store
// needs, keeping any query parameters the operator added.
func sqliteDSN(raw string) (string, error) {
	path := raw
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		if len(path) >= len(p) && strings.EqualFold(path[:len(p)], p) {
			path = path[len(p):]
			break
		}
	}
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		path = DefaultSQLitePath
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return "", survey.Wrap(survey.ECodeUnavailable, err, "پوشه پایگاه داده ساخته نشد.", "cannot create the database directory")
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", survey.Wrap(survey.ECodeInvalid, err, "نشانی پایگاه داده نامعتبر است.", "invalid database URL")
	}
	// busy_timeout first, so that the others wait instead of failing on a busy file.
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"}
	q["_pragma"] = append(pragmas, q["_pragma"]...)
	if q.Get("_txlock") == "" {
		// BEGIN IMMEDIATE takes the write lock up front. A deferred transaction that reads and
		// then writes cannot wait for a concurrent writer in WAL mode and fails at once with
		// "database is locked"; an immediate one waits in the busy handler.
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode(), nil
}

// Dialect reports "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return internal(err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return unavailable(err, "پایگاه داده پاسخ نمی‌دهد.", "the database does not answer")
	}
	return nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Inbox returns the SQL buffer stored in this database. Every call returns the same value, so
// Append wakes readers in this process at once.
func (s *Store) Inbox() *Inbox { return s.inbox }

// lockWrite waits for the SQLite write slot (a no-op on PostgreSQL, whose row locks suffice).
func (s *Store) lockWrite(ctx context.Context) (unlock func(), err error) {
	if s.wlock == nil {
		return func() {}, nil
	}
	select {
	case s.wlock <- struct{}{}:
		return func() { <-s.wlock }, nil
	case <-ctx.Done():
		return nil, unavailable(ctx.Err(), "مهلت نوشتن در پایگاه داده تمام شد.", "gave up waiting to write to the database")
	}
}

// tx runs fn in one transaction holding the write slot, and translates its error.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	unlock, err := s.lockWrite(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return s.dbError(s.retryBusy(ctx, func() error { return s.db.WithContext(ctx).Transaction(fn) }))
}

// write runs one autocommitted statement (or a few independent ones) holding the write slot.
func (s *Store) write(ctx context.Context, fn func(db *gorm.DB) error) error {
	unlock, err := s.lockWrite(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return s.dbError(s.retryBusy(ctx, func() error { return fn(s.db.WithContext(ctx)) }))
}

// busyRetryFor bounds how long a write keeps retrying a SQLite file that another process holds.
const busyRetryFor = time.Minute

// retryBusy reruns a write that SQLite refused as busy. Within one process the write slot already
// serialises writers; another process on the same file (`afkar demo`, `afkar reaggregate` beside
// `afkar serve`) can still hold the lock past the busy timeout, because SQLite's busy handler is
// not fair between connections. Write transactions begin IMMEDIATE, so a busy one changed nothing
// and is safe to run again. Retries stop when ctx ends or after busyRetryFor. PostgreSQL
// errors are never retried here.
func (s *Store) retryBusy(ctx context.Context, run func() error) error {
	err := run()
	if s.dialect != DialectSQLite {
		return err
	}
	deadline := time.Now().Add(busyRetryFor)
	for attempt := 1; err != nil && sqlClass(err) == classBusy && time.Now().Before(deadline); attempt++ {
		wait := time.Duration(min(attempt, 10)) * 10 * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		s.log.Warn("sqlite busy; retrying the write", "attempt", attempt, "err", err)
		err = run()
	}
	return err
}

// read returns a handle for queries that need no write slot.
func (s *Store) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// dbError translates storage errors into *survey.Error at the package boundary: missing rows
// become not-found, unique violations conflicts, foreign-key violations and other refusals of the
// data itself (see classData) invalid input, a busy or unreachable database unavailable,
// anything else internal. An error that already is a *survey.Error passes through.
//
// The split between ECodeInvalid and the rest is what the aggregator relies on: an invalid
// answer means "this data will never be stored, whenever you retry" and lets it set the
// offending response aside, while unavailable and internal ones are retried for ever.
func (s *Store) dbError(err error) error {
	if err == nil {
		return nil
	}
	var se *survey.Error
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return survey.Wrap(survey.ECodeNotFound, err, "پیدا نشد.", "not found")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return unavailable(err, "درخواست پیش از پایان لغو شد.", "the operation was cancelled")
	}
	switch sqlClass(err) {
	case classUnique:
		return survey.Wrap(survey.ECodeConflict, err, "این مورد پیش‌تر ثبت شده است.", "already exists")
	case classForeignKey:
		return survey.Wrap(survey.ECodeInvalid, err, "به موردی اشاره شده که وجود ندارد.", "refers to something that does not exist")
	case classData:
		return survey.Wrap(survey.ECodeInvalid, err, "پایگاه داده این داده را نمی‌پذیرد.", "the database refuses this data")
	case classBusy:
		return unavailable(err, "پایگاه داده مشغول است؛ دوباره تلاش کنید.", "the database is busy; retry")
	case classOther:
		return internal(err)
	}
	// No SQL error at all: the connection failed.
	return unavailable(err, "پایگاه داده در دسترس نیست.", "the database is unreachable")
}

type errClass int

const (
	classNone errClass = iota
	classUnique
	classForeignKey
	classBusy
	classData // the values themselves are refused: retrying the same data fails the same way
	classOther
)

// sqlClass classifies driver errors by interface, so that this package needs no driver imports
// beyond GORM's dialectors: pgconn.PgError has SQLState(), go-sqlite's Error has Code().
//
// Data refusals are PostgreSQL's class 22 (data exception: a NUL byte in text, a value out of
// range, a malformed literal), class 23 other than unique violations (not-null, check,
// exclusion), and 54000 (a value too large for an index row); SQLite's constraint failures other
// than unique ones, "too big" and datatype mismatch. Everything else that carries an SQL state
// is internal, and errors without one (a dropped connection) are an outage.
func sqlClass(err error) errClass {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		state := pg.SQLState()
		switch state {
		case "23505":
			return classUnique
		case "23503":
			return classForeignKey
		case "40001", "40P01", "55P03", "57P01", "57P03", "53300":
			return classBusy
		case "54000":
			return classData
		}
		if strings.HasPrefix(state, "22") || strings.HasPrefix(state, "23") {
			return classData
		}
		return classOther
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		switch lite.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return classUnique
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return classForeignKey
		}
		switch lite.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return classBusy
		case 18, 19, 20: // SQLITE_TOOBIG, SQLITE_CONSTRAINT (check, not null, …), SQLITE_MISMATCH
			return classData
		}
		return classOther
	}
	return classNone
}

func unavailable(err error, fa, en string) error {
	return survey.Wrap(survey.ECodeUnavailable, err, fa, en)
}

func internal(err error) error {
	return survey.Wrap(survey.ECodeInternal, err, "خطای داخلی پایگاه داده.", "internal database error")
}

func notFound(fa, en string) error {
	return &survey.Error{Code: survey.ECodeNotFound, Message: en, MessageFA: fa}
}

// closeRows closes rows and keeps the first error.
func closeRows(c io.Closer, err *error) {
	if cerr := c.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

// utc normalises a time for storage: UTC, microseconds (PostgreSQL's precision), so that what
// is read back equals what was written on both dialects.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// placeholders writes "(?,?,…),(?,…)" for rows×cols bind parameters.
func placeholders(b *strings.Builder, rows, cols int) {
	row := "(" + strings.Repeat("?,", cols-1) + "?)"
	b.Grow(rows * (len(row) + 1))
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
}
