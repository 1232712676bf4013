package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Multi-row statements. Folding writes hundreds of responses and thousands of rollup cells per
// transaction, so each table gets one visible statement per chunk of rows instead of one per
// row. The statement text differs per dialect only in how the rows are passed:
//
//   - SQLite: INSERT … VALUES (?,…),(?,…) … in chunks of at most sqliteParams parameters. The
//     driver looks each parameter up by a linear scan, so binding costs grow with the square
//     of the parameters in one statement; small chunks keep it linear and cost nothing else in
//     an in-process database.
//   - PostgreSQL: INSERT … SELECT * FROM unnest(CAST(? AS bigint[]), CAST(? AS text[]), …) with
//     one array literal per column. The server then parses a dozen parameters instead of tens
//     of thousands, which makes large upserts several times faster than VALUES lists; rows are
//     still inserted in array order, so lock order stays sorted.
//
// The ON CONFLICT clauses — the part that makes folding idempotent and additive — are the same.

// sqliteParams bounds the parameters of one SQLite statement (see above). Measured with
// BenchmarkFold/sqlite/live (batches of 500, ~3,900 cells) once full chunks reuse one prepared
// statement: 990 → 5,500/s, 400 → 5,550/s, 200 → 5,840/s, 100 → 5,560/s (2026-12-02).
const sqliteParams = 200

// pgBulkRows bounds the rows of one PostgreSQL array statement, to keep statements a few MB.
const pgBulkRows = 20_000

// bulkStatement describes one multi-row INSERT.
type bulkStatement struct {
	head    string   // "INSERT INTO t (a, b, c)"
	pgTypes []string // PostgreSQL array element type per column: bigint, integer, text, uuid, timestamptz
	tail    string   // " ON CONFLICT …" and RETURNING
	values  bool     // always VALUES lists (a column PostgreSQL arrays cannot carry cheaply, e.g. bytea)
}

// bulkRow receives one row's values, column by column, in the order of the statement.
type bulkRow struct {
	arrays bool
	col    int
	rows   int
	cols   []strings.Builder // PostgreSQL: one array literal per column
	args   []any             // VALUES: the flattened parameters
}

func (w *bulkRow) next() *strings.Builder {
	b := &w.cols[w.col]
	if w.rows > 0 {
		b.WriteByte(',')
	}
	w.col++
	return b
}

// Int adds an integer column.
func (w *bulkRow) Int(v int64) {
	if !w.arrays {
		w.args = append(w.args, v)
		return
	}
	b := w.next()
	b.WriteString(strconv.FormatInt(v, 10))
}

// Text adds a text (or uuid) column.
func (w *bulkRow) Text(s string) {
	if !w.arrays {
		w.args = append(w.args, s)
		return
	}
	quoteArrayElem(w.next(), s)
}

// Time adds a timestamp column, in UTC.
func (w *bulkRow) Time(t time.Time) {
	t = utc(t)
	if !w.arrays {
		w.args = append(w.args, t)
		return
	}
	quoteArrayElem(w.next(), t.Format(time.RFC3339Nano))
}

// Bytes adds a binary column; only statements with values set may use it.
func (w *bulkRow) Bytes(b []byte) {
	if w.arrays {
		panic("sqlstore: bytes in a PostgreSQL array statement")
	}
	w.args = append(w.args, b)
}

// quoteArrayElem writes s as a double-quoted element of a PostgreSQL array literal.
func quoteArrayElem(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// run executes the statement over n rows, filled in by row(i, w), in chunks. With scan set, the
// statement returns rows (RETURNING) and scan reads each result set.
func (st *bulkStatement) run(tx *gorm.DB, dialect string, n int, row func(i int, w *bulkRow), scan func(*sql.Rows) error) error {
	arrays := dialect == DialectPostgres && !st.values
	ncols := len(st.pgTypes)
	per := pgBulkRows
	switch {
	case dialect == DialectSQLite:
		per = sqliteParams / ncols
	case !arrays:
		per = maxParams / ncols
	}
	w := &bulkRow{arrays: arrays}
	if arrays {
		w.cols = make([]strings.Builder, ncols)
	}
	// Every full chunk of a VALUES statement has the same text: it is prepared once and reused,
	// since SQLite otherwise parses each chunk's text anew (a quarter of a fold's CPU).
	var full *sql.Stmt
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		reuse := !arrays && n > per && end-start == per
		w.rows, w.col, w.args = 0, 0, w.args[:0]
		if arrays {
			for i := range w.cols {
				w.cols[i].Reset()
				w.cols[i].WriteByte('{')
			}
		}
		for i := start; i < end; i++ {
			row(i, w)
			w.col = 0
			w.rows++
		}
		var q strings.Builder
		switch {
		case reuse && full != nil: // the text is prepared already
		case arrays:
			q.WriteString(st.head)
			q.WriteString(" SELECT * FROM unnest(")
			w.args = w.args[:0]
			for i, typ := range st.pgTypes {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("CAST(? AS " + typ + "[])")
				w.cols[i].WriteByte('}')
				w.args = append(w.args, w.cols[i].String())
			}
			q.WriteString(")")
			q.WriteString(st.tail)
		default:
			q.WriteString(st.head)
			q.WriteString(" VALUES ")
			placeholders(&q, end-start, ncols)
			q.WriteString(st.tail)
		}
		if reuse && full == nil {
			stmt, err := tx.Statement.ConnPool.PrepareContext(ctx, q.String())
			if err != nil {
				return err
			}
			full = stmt
		}
		if scan == nil {
			var err error
			if reuse {
				_, err = full.ExecContext(ctx, w.args...)
			} else {
				err = tx.Exec(q.String(), w.args...).Error
			}
			if err != nil {
				return err
			}
			continue
		}
		var rows *sql.Rows
		var err error
		if reuse {
			rows, err = full.QueryContext(ctx, w.args...)
		} else {
			rows, err = tx.Raw(q.String(), w.args...).Rows()
		}
		if err != nil {
			return err
		}
		err = scan(rows)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
