package redisbuffer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/buffertest"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
	"github.com/afkar-gov/afkar/survey/testenv"
)

func open(t *testing.T, opts redisbuffer.Options) (*redisbuffer.Buffer, *redis.Client) {
	t.Helper()
	c, prefix := redistest.Client(t)
	opts.Stream = prefix + "responses"
	return redisbuffer.New(c, opts), c
}

func responses(n int) []survey.Response {
	rs := make([]survey.Response, n)
	for i := range rs {
		rs[i] = buffertest.Response(i)
	}
	return rs
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, err error, code survey.Code) {
	t.Helper()
	if got := survey.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func refs(ds []survey.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Ref
	}
	return out
}

// TestMaxLen: a full stream refuses appends with ECodeUnavailable (intake then falls back to the
// SQL inbox) and keeps every unacked entry; acking makes room again.
func TestMaxLen(t *testing.T) {
	ctx := ctxT(t)
	b, c := open(t, redisbuffer.Options{MaxLen: 10})
	if err := b.Append(ctx, responses(10)); err != nil {
		t.Fatalf("Append below the limit: %v", err)
	}
	err := b.Append(ctx, responses(1))
	wantCode(t, err, survey.ECodeUnavailable)
	var se *survey.Error
	if !errors.As(err, &se) || se.MessageFA == "" {
		t.Fatalf("refusal %v lacks a Persian message", err)
	}
	if n := c.XLen(ctx, b.Stream()).Val(); n != 10 {
		t.Fatalf("XLEN = %d after a refused append, want 10 (nothing dropped, nothing added)", n)
	}
	ds, err := b.Read(ctx, "w1", 100, 50*time.Millisecond)
	if err != nil || len(ds) != 10 {
		t.Fatalf("Read = %d entries, %v; want all 10 kept", len(ds), err)
	}
	if err := b.Ack(ctx, refs(ds[:3])); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, responses(2)); err != nil {
		t.Fatalf("Append after acks made room: %v", err)
	}
	if n := c.XLen(ctx, b.Stream()).Val(); n != 9 {
		t.Fatalf("XLEN = %d, want 9", n)
	}
}

// TestAckDeletes: acked entries leave the stream, so its length is the backlog.
func TestAckDeletes(t *testing.T) {
	ctx := ctxT(t)
	b, c := open(t, redisbuffer.Options{})
	if err := b.Append(ctx, responses(5)); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Read(ctx, "w1", 10, 50*time.Millisecond)
	if err != nil || len(ds) != 5 {
		t.Fatalf("Read = %d, %v", len(ds), err)
	}
	if n := c.XLen(ctx, b.Stream()).Val(); n != 5 {
		t.Fatalf("XLEN = %d after Read, want 5 (reading does not delete)", n)
	}
	if err := b.Ack(ctx, []string{ds[0].Ref, ds[2].Ref, "not-an-id", "", ds[4].Ref}); err != nil {
		t.Fatalf("Ack with a malformed ref: %v", err)
	}
	left := c.XRange(ctx, b.Stream(), "-", "+").Val()
	if len(left) != 2 || left[0].ID != ds[1].Ref || left[1].ID != ds[3].Ref {
		t.Fatalf("stream holds %v, want only the unacked %s and %s", left, ds[1].Ref, ds[3].Ref)
	}
	if p := c.XPending(ctx, b.Stream(), redisbuffer.DefaultGroup).Val(); p.Count != 2 {
		t.Fatalf("XPENDING count = %d, want 2", p.Count)
	}
}

// TestUndecodable: an entry that is not a response is delivered with Err and Raw, not skipped
// and not fatal to the rest of the batch, and can be acked away.
func TestUndecodable(t *testing.T) {
	ctx := ctxT(t)
	b, c := open(t, redisbuffer.Options{})
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	good := responses(1)
	if err := b.Append(ctx, good); err != nil {
		t.Fatal(err)
	}
	c.XAdd(ctx, &redis.XAddArgs{Stream: b.Stream(), Values: []any{"r", "{not json"}})
	c.XAdd(ctx, &redis.XAddArgs{Stream: b.Stream(), Values: []any{"other", "x"}})
	c.XAdd(ctx, &redis.XAddArgs{Stream: b.Stream(), Values: []any{"r", `{"agency_id":1}`}}) // no id

	ds, err := b.Read(ctx, "w1", 10, 50*time.Millisecond)
	if err != nil || len(ds) != 4 {
		t.Fatalf("Read = %d, %v; want 4", len(ds), err)
	}
	if ds[0].Err != nil || ds[0].Response.ID != good[0].ID {
		t.Fatalf("good entry: %+v", ds[0])
	}
	for i, want := range []string{"{not json", `{"other":"x"}`, `{"agency_id":1}`} {
		d := ds[i+1]
		if d.Err == nil || string(d.Raw) != want || d.Response.ID != "" {
			t.Fatalf("bad entry %d: Err %v Raw %q, want an error and raw %q", i, d.Err, d.Raw, want)
		}
	}
	if err := b.Ack(ctx, refs(ds)); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Stats(ctx); err != nil || st.Backlog != 0 || st.Pending != 0 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
}

// TestDeadConsumer: a worker that read entries and died leaves them pending; another worker does
// not get them by Read, takes them over with XAUTOCLAIM after the idle time, and entries deleted
// behind the group's back are skipped.
func TestDeadConsumer(t *testing.T) {
	ctx := ctxT(t)
	b, c := open(t, redisbuffer.Options{})
	in := responses(30)
	if err := b.Append(ctx, in); err != nil {
		t.Fatal(err)
	}
	held, err := b.Read(ctx, "w1", 100, 50*time.Millisecond)
	if err != nil || len(held) != 30 {
		t.Fatalf("w1 Read = %d, %v", len(held), err)
	}
	// w1 "dies" here. Someone trims five entries without acking them (not that Afkar does).
	deleted := map[string]bool{}
	for _, d := range held[10:15] {
		c.XDel(ctx, b.Stream(), d.Ref)
		deleted[d.Ref] = true
	}
	if ds, err := b.Read(ctx, "w2", 100, 50*time.Millisecond); err != nil || len(ds) != 0 {
		t.Fatalf("w2 Read = %d, %v; want nothing (all entries are w1's)", len(ds), err)
	}
	if ds, err := b.Reclaim(ctx, "w2", time.Second, 100); err != nil || len(ds) != 0 {
		t.Fatalf("Reclaim before the idle time = %d, %v", len(ds), err)
	}
	time.Sleep(250 * time.Millisecond)
	first, err := b.Reclaim(ctx, "w2", 200*time.Millisecond, 7)
	if err != nil || len(first) != 7 {
		t.Fatalf("Reclaim(max 7) = %d, %v", len(first), err)
	}
	rest, err := b.Reclaim(ctx, "w2", 200*time.Millisecond, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := append(first, rest...)
	if len(got) != 25 {
		t.Fatalf("reclaimed %d entries, want the 25 not deleted", len(got))
	}
	for _, d := range got {
		if d.Err != nil || deleted[d.Ref] {
			t.Fatalf("reclaimed %s: err %v, deleted %v", d.Ref, d.Err, deleted[d.Ref])
		}
	}
	p := c.XPending(ctx, b.Stream(), redisbuffer.DefaultGroup).Val()
	if p.Count != 25 || p.Consumers["w2"] != 25 || p.Consumers["w1"] != 0 {
		t.Fatalf("XPENDING = %+v, want all 25 with w2", p)
	}
	if err := b.Ack(ctx, refs(got)); err != nil {
		t.Fatal(err)
	}
	if n := c.XLen(ctx, b.Stream()).Val(); n != 0 {
		t.Fatalf("XLEN = %d, want 0", n)
	}
}

// TestGroupRecreated: when the stream and group vanish (a Redis restart without persistence, a
// FLUSHDB), the next call recreates the group and later appends are read.
func TestGroupRecreated(t *testing.T) {
	ctx := ctxT(t)
	b, c := open(t, redisbuffer.Options{})
	if err := b.Append(ctx, responses(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(ctx, "w1", 10, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.Del(ctx, b.Stream())
	if err := b.Append(ctx, responses(3)); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Read(ctx, "w1", 10, 50*time.Millisecond)
	if err != nil || len(ds) != 3 {
		t.Fatalf("Read after the group vanished = %d, %v; want the 3 appended since", len(ds), err)
	}
	c.Del(ctx, b.Stream())
	if _, err := b.Stats(ctx); err != nil {
		t.Fatalf("Stats after the group vanished: %v", err)
	}
	c.Del(ctx, b.Stream())
	if _, err := b.Reclaim(ctx, "w1", 0, 10); err != nil {
		t.Fatalf("Reclaim after the group vanished: %v", err)
	}
}

// TestReadHonoursDeadline: a Read whose context ends before its block returns empty, without
// error, just before the deadline.
func TestReadHonoursDeadline(t *testing.T) {
	b, _ := open(t, redisbuffer.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	ds, err := b.Read(ctx, "w1", 10, 5*time.Second)
	if err != nil || len(ds) != 0 {
		t.Fatalf("Read = %d, %v", len(ds), err)
	}
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Fatalf("Read took %v with a 300ms deadline", el)
	}
}

// TestDeadRedis: with nothing listening, every call fails fast with ECodeUnavailable, and Read
// reports the failure rather than an empty result.
func TestDeadRedis(t *testing.T) {
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", testenv.FreePort(t))
	b, err := redisbuffer.Open(url, redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		start := time.Now()
		err := b.Append(ctx, responses(1))
		if el := time.Since(start); el > time.Second {
			t.Fatalf("Append against a dead Redis took %v", el)
		}
		wantCode(t, err, survey.ECodeUnavailable)
	}
	start := time.Now()
	_, err = b.Read(ctx, "w1", 10, 100*time.Millisecond)
	wantCode(t, err, survey.ECodeUnavailable)
	wantCode(t, b.Ping(ctx), survey.ECodeUnavailable)
	_, err = b.Stats(ctx)
	wantCode(t, err, survey.ECodeUnavailable)
	wantCode(t, b.Ack(ctx, []string{"1-1"}), survey.ECodeUnavailable)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Read, Ping, Stats and Ack against a dead Redis took %v", el)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := redisbuffer.Open("http://nope", redisbuffer.Options{})
	wantCode(t, err, survey.ECodeInvalid)
}

// TestRedisRestart: the same *Buffer fails fast while its Redis is dead and works again, without
// being reopened, once Redis is back on the same port.
func TestRedisRestart(t *testing.T) {
	srv := redistest.StartServer(t)
	b, err := redisbuffer.Open(srv.URL(), redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := ctxT(t)
	if err := b.Append(ctx, responses(3)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if ds, err := b.Read(ctx, "w1", 10, 50*time.Millisecond); err != nil || len(ds) != 3 {
		t.Fatalf("Read = %d, %v", len(ds), err)
	}

	srv.Kill()
	for i := 0; i < 3; i++ {
		start := time.Now()
		err := b.Append(ctx, responses(1))
		if el := time.Since(start); el > time.Second {
			t.Fatalf("Append after SIGKILL took %v", el)
		}
		wantCode(t, err, survey.ECodeUnavailable)
	}
	_, err = b.Read(ctx, "w1", 10, 50*time.Millisecond)
	wantCode(t, err, survey.ECodeUnavailable)

	srv.Start()
	in := responses(2)
	var last error
	back := time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if last = b.Append(ctx, in); last == nil {
			break
		}
	}
	if last != nil {
		t.Fatalf("Append still failing 10s after Redis came back: %v", last)
	}
	t.Logf("Append works again %v after the restart", time.Since(back).Round(time.Millisecond))
	// The restarted Redis lost the group (no persistence): Read recreates it and sees the new
	// entries.
	ds, err := b.Read(ctx, "w1", 10, 100*time.Millisecond)
	if err != nil || len(ds) != 2 || ds[0].Response.ID != in[0].ID || ds[1].Response.ID != in[1].ID {
		t.Fatalf("Read after restart = %d, %v", len(ds), err)
	}
	if err := b.Ack(ctx, refs(ds)); err != nil {
		t.Fatal(err)
	}
}

// TestFullRedisDrains: a Redis at its maxmemory with noeviction refuses XADD — and XGROUP CREATE
// and every command queued in a MULTI. A Buffer made after Redis filled up (a worker started or
// restarted then) must still read, resume, touch, reclaim and ack, because acking is what frees
// the memory; once drained, appends work again.
func TestFullRedisDrains(t *testing.T) {
	srv := redistest.StartServer(t, "--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
	ctx := ctxT(t)
	filler, err := redisbuffer.Open(srv.URL(), redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	if err := filler.Ping(ctx); err != nil { // the group exists before Redis fills, as in production
		t.Fatal(err)
	}
	appended := 0
	for i := 0; ; i++ {
		err := filler.Append(ctx, responses(50))
		if err != nil {
			wantCode(t, err, survey.ECodeUnavailable)
			if !strings.Contains(err.Error(), "OOM") {
				t.Fatalf("Append failed, but not for memory: %v", err)
			}
			break
		}
		appended += 50
		if i > 5000 {
			t.Fatal("Redis never filled up")
		}
	}
	dead, err := filler.Read(ctx, "dead", 20, 100*time.Millisecond)
	if err != nil || len(dead) != 20 {
		t.Fatalf("dead consumer's Read = %d, %v", len(dead), err)
	}
	mine, err := filler.Read(ctx, "w1", 20, 100*time.Millisecond)
	if err != nil || len(mine) != 20 {
		t.Fatalf("w1's Read = %d, %v", len(mine), err)
	}
	t.Logf("Redis full after %d responses", appended)

	b, err := redisbuffer.Open(srv.URL(), redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping on a full Redis whose group exists: %v", err)
	}
	resumed, err := b.Resume(ctx, "w1", 100)
	if err != nil || len(resumed) != len(mine) || resumed[0].Ref != mine[0].Ref {
		t.Fatalf("Resume on a full Redis = %d, %v; want w1's %d", len(resumed), err, len(mine))
	}
	time.Sleep(300 * time.Millisecond)
	if err := b.Touch(ctx, "w1", refs(resumed)); err != nil {
		t.Fatalf("Touch on a full Redis: %v", err)
	}
	reclaimed, err := b.Reclaim(ctx, "w1", 200*time.Millisecond, 100)
	if err != nil || len(reclaimed) != len(dead) {
		t.Fatalf("Reclaim on a full Redis = %d, %v; want the dead consumer's %d", len(reclaimed), err, len(dead))
	}
	if err := b.Ack(ctx, append(refs(resumed), refs(reclaimed)...)); err != nil {
		t.Fatalf("Ack on a full Redis: %v", err)
	}
	drained := len(resumed) + len(reclaimed)
	for {
		ds, err := b.Read(ctx, "w1", 500, 50*time.Millisecond)
		if err != nil {
			t.Fatalf("Read on a full Redis after %d drained: %v", drained, err)
		}
		if len(ds) == 0 {
			break
		}
		if err := b.Ack(ctx, refs(ds)); err != nil {
			t.Fatalf("Ack on a full Redis after %d drained: %v", drained, err)
		}
		drained += len(ds)
	}
	if drained != appended {
		t.Fatalf("drained %d of %d", drained, appended)
	}
	if st, err := b.Stats(ctx); err != nil || st.Backlog != 0 || st.Pending != 0 {
		t.Fatalf("Stats after draining = %+v, %v", st, err)
	}
	if err := b.Append(ctx, responses(50)); err != nil {
		t.Fatalf("Append after draining: %v", err)
	}
}

// TestResumeSkipsDeletedEntries: an entry deleted from the stream while still pending (trimmed by
// an operator, say) comes back from XREADGROUP … 0 without fields; Resume acks it instead of
// handing out an empty, "undecodable" delivery.
func TestResumeSkipsDeletedEntries(t *testing.T) {
	ctx := ctxT(t)
	b, c := open(t, redisbuffer.Options{})
	if err := b.Append(ctx, responses(3)); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Read(ctx, "w1", 10, 100*time.Millisecond)
	if err != nil || len(ds) != 3 {
		t.Fatalf("Read = %d, %v", len(ds), err)
	}
	if err := c.XDel(ctx, b.Stream(), ds[1].Ref).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := b.Resume(ctx, "w1", 10)
	if err != nil || len(got) != 2 || got[0].Ref != ds[0].Ref || got[1].Ref != ds[2].Ref {
		t.Fatalf("Resume = %v, %v; want the two entries still in the stream", got, err)
	}
	if n, err := c.XPending(ctx, b.Stream(), redisbuffer.DefaultGroup).Result(); err != nil || n.Count != 2 {
		t.Fatalf("pending after Resume = %+v, %v; want the deleted entry acked", n, err)
	}
}
