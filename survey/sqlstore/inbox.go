package sqlstore

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// Inbox is the SQL implementation of survey.Buffer: a table of encoded responses that intake
// appends to and aggregator workers claim, fold and delete. It is the buffer of the embedded
// deployment and the fallback of the Redis one, so it lives in the same database as everything
// else and needs nothing more to run.
//
// A row is undelivered (consumer NULL), then delivered to one consumer (consumer and
// delivered_us set), then deleted by Ack. Its seq, formatted as a decimal string, is the Ref.
type Inbox struct {
	s *Store

	mu   sync.Mutex
	wake chan struct{} // closed and replaced by every Append: wakes blocked Reads in this process
}

var _ survey.Buffer = (*Inbox)(nil)

// inboxPoll is how often a blocked Read looks for rows appended by other processes; rows
// appended in this process wake it at once.
const inboxPoll = 25 * time.Millisecond

func newInbox(s *Store) *Inbox { return &Inbox{s: s, wake: make(chan struct{})} }

func (in *Inbox) waiter() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.wake
}

func (in *Inbox) signal() {
	in.mu.Lock()
	close(in.wake)
	in.wake = make(chan struct{})
	in.mu.Unlock()
}

// appendInboxSQL adds encoded responses to the inbox. It always uses VALUES lists (bytea
// arrays would cost more than they save at intake's batch sizes), with response_id first:
// GORM expands a []byte right after "(" into one parameter per byte.
var appendInboxSQL = bulkStatement{
	head:    "INSERT INTO inbox (response_id, payload, created_us)",
	pgTypes: []string{"text", "bytea", "bigint"},
	values:  true,
}

// Append stores the responses in one transaction, all or none, and returns once it is
// committed — on SQLite with synchronous=FULL that means on disk. It is intake's group commit:
// the caller gathers concurrent submissions into one call, so one fsync covers many citizens.
func (in *Inbox) Append(ctx context.Context, rs []survey.Response) error {
	if len(rs) == 0 {
		return nil
	}
	payloads := make([][]byte, len(rs))
	for i := range rs {
		b, err := survey.MarshalResponse(&rs[i])
		if err != nil {
			return survey.Wrap(survey.ECodeInvalid, err, "پاسخ کدگذاری نشد.", "cannot encode the response")
		}
		payloads[i] = b
	}
	now := time.Now().UnixMicro()
	err := in.s.tx(ctx, func(tx *gorm.DB) error {
		return appendInboxSQL.run(tx, in.s.dialect, len(rs), func(i int, w *bulkRow) {
			w.Text(rs[i].ID)
			w.Bytes(payloads[i])
			w.Int(now)
		}, nil)
	})
	if err != nil {
		return err
	}
	in.signal()
	return nil
}

// Read claims up to max rows never delivered before for consumer, oldest first, waiting up to
// block for the first. On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED, so concurrent
// consumers never receive the same row and never wait for each other; on SQLite claims are
// serialised by the single writer. It returns an empty slice when nothing arrives in time, and
// the context's error when ctx ends first.
func (in *Inbox) Read(ctx context.Context, consumer string, max int, block time.Duration) ([]survey.Delivery, error) {
	if max <= 0 {
		max = survey.DefaultReadMax
	}
	deadline := time.Now().Add(block)
	for {
		wake := in.waiter() // before looking, so an Append in between is not missed
		ds, err := in.claimNew(ctx, consumer, max)
		if err != nil || len(ds) > 0 {
			return ds, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return []survey.Delivery{}, nil
		}
		t := time.NewTimer(min(left, inboxPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return []survey.Delivery{}, ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (in *Inbox) skipLocked() string {
	if in.s.dialect == DialectPostgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// claimNew hands undelivered rows to consumer.
func (in *Inbox) claimNew(ctx context.Context, consumer string, max int) ([]survey.Delivery, error) {
	// A cheap look without the write slot first: idle consumers poll, and on SQLite a claim
	// that finds nothing would still queue behind intake's writes.
	var seqs []int64
	if err := in.s.read(ctx).Raw("SELECT seq FROM inbox WHERE consumer IS NULL ORDER BY seq LIMIT 1").Scan(&seqs).Error; err != nil {
		return nil, in.s.dbError(err)
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	q := "UPDATE inbox SET consumer = ?, delivered_us = ?, deliveries = deliveries + 1" +
		" WHERE seq IN (SELECT seq FROM inbox WHERE consumer IS NULL ORDER BY seq LIMIT ?" + in.skipLocked() + ")" +
		" RETURNING seq, payload"
	return in.claim(ctx, q, consumer, time.Now().UnixMicro(), max)
}

// Reclaim moves to consumer up to max rows that some consumer (itself included) has held for
// at least minIdle without acking — it crashed or hangs — and returns them, oldest first.
func (in *Inbox) Reclaim(ctx context.Context, consumer string, minIdle time.Duration, max int) ([]survey.Delivery, error) {
	if max <= 0 {
		max = survey.DefaultReadMax
	}
	now := time.Now()
	cutoff := now.Add(-minIdle).UnixMicro()
	q := "UPDATE inbox SET consumer = ?, delivered_us = ?, deliveries = deliveries + 1" +
		" WHERE seq IN (SELECT seq FROM inbox WHERE consumer IS NOT NULL AND delivered_us <= ? ORDER BY seq LIMIT ?" + in.skipLocked() + ")" +
		" RETURNING seq, payload"
	ds, err := in.claim(ctx, q, consumer, now.UnixMicro(), cutoff, max)
	if ds == nil && err == nil {
		ds = []survey.Delivery{}
	}
	return ds, err
}

// Resume hands consumer again the rows delivered to it and never acked (its predecessor's
// batch, after a restart under the same name), oldest first, and resets their idle time.
func (in *Inbox) Resume(ctx context.Context, consumer string, max int) ([]survey.Delivery, error) {
	if max <= 0 {
		max = survey.DefaultReadMax
	}
	q := "UPDATE inbox SET delivered_us = ?, deliveries = deliveries + 1" +
		" WHERE seq IN (SELECT seq FROM inbox WHERE consumer = ? ORDER BY seq LIMIT ?" + in.skipLocked() + ")" +
		" RETURNING seq, payload"
	ds, err := in.claim(ctx, q, time.Now().UnixMicro(), consumer, max)
	if ds == nil && err == nil {
		ds = []survey.Delivery{}
	}
	return ds, err
}

// Touch resets the idle time (delivered_us) of the rows of refs that consumer holds; rows held
// by another consumer, or gone, are left alone.
func (in *Inbox) Touch(ctx context.Context, consumer string, refs []string) error {
	seqs := inboxSeqs(refs)
	if len(seqs) == 0 {
		return nil
	}
	per := in.paramsPerStatement() - 2
	now := time.Now().UnixMicro()
	return in.s.write(ctx, func(db *gorm.DB) error {
		for start := 0; start < len(seqs); start += per {
			chunk := seqs[start:min(start+per, len(seqs))]
			args := append([]any{now, consumer}, chunk...)
			q := "UPDATE inbox SET delivered_us = ? WHERE consumer = ? AND seq IN (" + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
			if err := db.Exec(q, args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// inboxSeqs keeps the refs that are inbox row numbers.
func inboxSeqs(refs []string) []any {
	seqs := make([]any, 0, len(refs))
	for _, r := range refs {
		if n, err := strconv.ParseInt(r, 10, 64); err == nil && n > 0 {
			seqs = append(seqs, n)
		}
	}
	return seqs
}

// paramsPerStatement is how many bind parameters one statement may carry on this dialect.
func (in *Inbox) paramsPerStatement() int {
	if in.s.dialect == DialectSQLite {
		return sqliteParams
	}
	return maxParams
}

func (in *Inbox) claim(ctx context.Context, q string, args ...any) (out []survey.Delivery, err error) {
	err = in.s.write(ctx, func(db *gorm.DB) (err error) {
		rows, err := db.Raw(q, args...).Rows()
		if err != nil {
			return err
		}
		defer closeRows(rows, &err)
		for rows.Next() {
			var (
				seq     int64
				payload []byte
			)
			if err := rows.Scan(&seq, &payload); err != nil {
				return err
			}
			out = append(out, decodeDelivery(seq, payload))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return refLess(out[i].Ref, out[j].Ref) })
	return out, nil
}

func decodeDelivery(seq int64, payload []byte) survey.Delivery {
	d := survey.Delivery{Ref: strconv.FormatInt(seq, 10), Raw: payload}
	r, err := survey.UnmarshalResponse(payload)
	if err != nil {
		d.Err = survey.Wrap(survey.ECodeBadRequest, err, "محتوای صندوق خوانده نشد.", "undecodable inbox entry")
		return d
	}
	d.Response = r
	return d
}

func refLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Ack deletes the rows; refs that are unknown, already acked or not inbox refs at all are
// ignored, so acks may be retried.
func (in *Inbox) Ack(ctx context.Context, refs []string) error {
	seqs := inboxSeqs(refs)
	if len(seqs) == 0 {
		return nil
	}
	per := in.paramsPerStatement()
	return in.s.write(ctx, func(db *gorm.DB) error {
		for start := 0; start < len(seqs); start += per {
			chunk := seqs[start:min(start+per, len(seqs))]
			q := "DELETE FROM inbox WHERE seq IN (" + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
			if err := db.Exec(q, chunk...).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// Stats reports delivered-but-unacked rows (Pending), all unacked rows (Backlog) and the age
// of the oldest (the aggregation lag).
func (in *Inbox) Stats(ctx context.Context) (survey.BufferStats, error) {
	var (
		backlog, pending, oldest sql.NullInt64
	)
	row := in.s.read(ctx).Raw("SELECT COUNT(*), SUM(CASE WHEN consumer IS NULL THEN 0 ELSE 1 END), MIN(created_us) FROM inbox").Row()
	if err := row.Scan(&backlog, &pending, &oldest); err != nil {
		return survey.BufferStats{}, in.s.dbError(err)
	}
	st := survey.BufferStats{Backlog: backlog.Int64, Pending: pending.Int64}
	if oldest.Valid {
		st.OldestAge = max(time.Since(time.UnixMicro(oldest.Int64)), 0)
	}
	return st, nil
}

// Name implements survey.Buffer.
func (in *Inbox) Name() string { return "inbox" }

// Ping checks the database holding the inbox answers.
func (in *Inbox) Ping(ctx context.Context) error { return in.s.Ping(ctx) }
