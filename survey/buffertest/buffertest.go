// Package buffertest is the conformance suite every survey.Buffer passes. Intake and the
// aggregator rely on the buffer contract (durable all-or-none appends, one consumer per entry,
// re-delivery only after a consumer went quiet, idempotent acks) rather than on one
// implementation, so the Redis stream and the SQL inbox are held to the same behaviour here.
// Implementations call Run from their own tests with a function that opens a fresh, empty buffer.
package buffertest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
)

// Timings of the suite. They are short so a whole run stays within a few seconds per buffer, and
// long enough that a loaded CI machine does not turn them into flakes.
const (
	// block is the wait of Reads in the suite. Entries are always appended before they are
	// read, so it only bounds how long "nothing left" takes to establish.
	block   = 50 * time.Millisecond
	minIdle = 200 * time.Millisecond
)

// Run runs the conformance suite against the buffers open returns. Each subtest calls open with
// its own *testing.T for a fresh, empty buffer (cleanup belongs to open, via t.Cleanup).
// Subtests run one after another, never in parallel, because buffers may share one database.
func Run(t *testing.T, open func(t *testing.T) survey.Buffer) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b survey.Buffer)
	}{
		{"Ping", testPing},
		{"AppendRead", testAppendRead},
		{"ReadEmpty", testReadEmpty},
		{"ReadCancel", testReadCancel},
		{"ExclusiveDelivery", testExclusiveDelivery},
		{"Ack", testAck},
		{"Reclaim", testReclaim},
		{"ReclaimAcked", testReclaimAcked},
		{"Resume", testResume},
		{"Touch", testTouch},
		{"BatchOrder", testBatchOrder},
		{"BatchAllOrNone", testBatchAllOrNone},
		{"ConcurrentAppendThenConsume", func(t *testing.T, b survey.Buffer) { testConcurrent(t, b, false) }},
		{"ConcurrentAppendWhileConsume", func(t *testing.T, b survey.Buffer) { testConcurrent(t, b, true) }},
		{"Stats", testStats},
		{"DefaultMax", testDefaultMax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			if b == nil {
				t.Fatal("open returned a nil buffer")
			}
			tc.fn(t, b)
		})
	}
}

// base is the fixed visit time of generated responses; whole seconds keep every storage exact.
var base = time.Date(2025, 11, 15, 6, 30, 0, 0, time.UTC)

// Response returns a valid, distinct response for tests: a fresh time-ordered UUID, one of three
// agencies, all three channels in turn, a 1–5 rating, a yes/no and now and then a Persian comment
// (so encodings are exercised beyond ASCII).
func Response(i int) survey.Response {
	if i < 0 {
		i = -i
	}
	rating := 1 + i%5
	yes := i % 2
	ch := survey.Channels[i%len(survey.Channels)]
	r := survey.Response{
		ID:            uuid.Must(uuid.NewV7()).String(),
		AgencyID:      survey.ID(1 + i%3),
		OfficeID:      survey.ID(i % 2 * 10),
		SurveyID:      survey.ID(100 + i%3),
		SurveyVersion: 1,
		Channel:       ch,
		Source:        fmt.Sprintf("buffertest-%d", i),
		SubmittedAt:   base.Add(time.Duration(i) * time.Minute),
		ReceivedAt:    base.Add(time.Duration(i)*time.Minute + 3*time.Second),
		Answers: []survey.Answer{
			{QuestionID: "q1", Type: survey.TypeRating5, Number: &rating},
			{QuestionID: "q2", Type: survey.TypeYesNo, Number: &yes},
		},
	}
	if rating <= 2 {
		r.Answers = append(r.Answers, survey.Answer{QuestionID: "why", Type: survey.TypeChoice, Choices: []string{"slow", "rude"}})
	}
	if i%4 == 0 {
		r.Answers = append(r.Answers, survey.Answer{QuestionID: "comment", Type: survey.TypeText,
			Text: fmt.Sprintf("برخورد کارمند «خوب» بود ۱۲ — پاسخ %d", i)})
	}
	return r
}

// responses returns n responses numbered from first.
func responses(first, n int) []survey.Response {
	rs := make([]survey.Response, n)
	for i := range rs {
		rs[i] = Response(first + i)
	}
	return rs
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func encode(t *testing.T, r survey.Response) []byte {
	t.Helper()
	b, err := survey.MarshalResponse(&r)
	if err != nil {
		t.Fatalf("MarshalResponse: %v", err)
	}
	return b
}

func mustAppend(t *testing.T, ctx context.Context, b survey.Buffer, rs []survey.Response) {
	t.Helper()
	if err := b.Append(ctx, rs); err != nil {
		t.Fatalf("Append(%d): %v", len(rs), err)
	}
}

func mustRead(t *testing.T, ctx context.Context, b survey.Buffer, consumer string, max int) []survey.Delivery {
	t.Helper()
	ds, err := b.Read(ctx, consumer, max, block)
	if err != nil {
		t.Fatalf("Read(%s, %d): %v", consumer, max, err)
	}
	if len(ds) > max {
		t.Fatalf("Read(%s, max %d) returned %d entries", consumer, max, len(ds))
	}
	checkDeliveries(t, ds)
	return ds
}

// readAll reads as consumer until a Read comes back empty.
func readAll(t *testing.T, ctx context.Context, b survey.Buffer, consumer string, max int) []survey.Delivery {
	t.Helper()
	var all []survey.Delivery
	for i := 0; ; i++ {
		ds := mustRead(t, ctx, b, consumer, max)
		if len(ds) == 0 {
			return all
		}
		all = append(all, ds...)
		if i > 10000 {
			t.Fatal("readAll: the buffer never runs dry")
		}
	}
}

func mustReclaim(t *testing.T, ctx context.Context, b survey.Buffer, consumer string, max int) []survey.Delivery {
	t.Helper()
	return mustReclaimIdle(t, ctx, b, consumer, minIdle, max)
}

// mustReclaimIdle is mustReclaim with its own idle threshold.
func mustReclaimIdle(t *testing.T, ctx context.Context, b survey.Buffer, consumer string, idle time.Duration, max int) []survey.Delivery {
	t.Helper()
	ds, err := b.Reclaim(ctx, consumer, idle, max)
	if err != nil {
		t.Fatalf("Reclaim(%s, %v, %d): %v", consumer, idle, max, err)
	}
	if len(ds) > max {
		t.Fatalf("Reclaim(%s, max %d) returned %d entries", consumer, max, len(ds))
	}
	checkDeliveries(t, ds)
	return ds
}

func mustAck(t *testing.T, ctx context.Context, b survey.Buffer, ds []survey.Delivery) {
	t.Helper()
	if err := b.Ack(ctx, refs(ds)); err != nil {
		t.Fatalf("Ack(%d): %v", len(ds), err)
	}
}

func mustStats(t *testing.T, ctx context.Context, b survey.Buffer) survey.BufferStats {
	t.Helper()
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// checkDeliveries asserts every delivery is decodable and carries a ref.
func checkDeliveries(t *testing.T, ds []survey.Delivery) {
	t.Helper()
	for _, d := range ds {
		if d.Ref == "" {
			t.Fatalf("delivery of %q has an empty Ref", d.Response.ID)
		}
		if d.Err != nil {
			t.Fatalf("delivery %s failed to decode: %v (raw %q)", d.Ref, d.Err, d.Raw)
		}
		if d.Response.ID == "" {
			t.Fatalf("delivery %s has a response without id", d.Ref)
		}
	}
}

func refs(ds []survey.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Ref
	}
	return out
}

func ids(ds []survey.Delivery) map[string]bool {
	m := make(map[string]bool, len(ds))
	for _, d := range ds {
		m[d.Response.ID] = true
	}
	return m
}

func wantStats(t *testing.T, ctx context.Context, b survey.Buffer, pending, backlog int64) survey.BufferStats {
	t.Helper()
	st := mustStats(t, ctx, b)
	if st.Pending != pending || st.Backlog != backlog {
		t.Fatalf("Stats = pending %d backlog %d, want pending %d backlog %d", st.Pending, st.Backlog, pending, backlog)
	}
	return st
}

func testPing(t *testing.T, b survey.Buffer) {
	if err := b.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testAppendRead: what goes in comes out, byte for byte after re-encoding, in append order, and
// Read never hands out more than max.
func testAppendRead(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	in := responses(0, 12)
	mustAppend(t, ctx, b, in[:5])
	mustAppend(t, ctx, b, in[5:6])
	mustAppend(t, ctx, b, in[6:])
	mustAppend(t, ctx, b, nil) // an empty batch is a no-op, not an error

	first := mustRead(t, ctx, b, "c1", 3)
	if len(first) == 0 {
		t.Fatal("Read returned nothing after Append")
	}
	got := append(first, readAll(t, ctx, b, "c1", 100)...)
	if len(got) != len(in) {
		t.Fatalf("read %d entries, appended %d", len(got), len(in))
	}
	seenRefs := map[string]bool{}
	for i, d := range got {
		if seenRefs[d.Ref] {
			t.Fatalf("ref %s delivered twice", d.Ref)
		}
		seenRefs[d.Ref] = true
		want, have := encode(t, in[i]), encode(t, d.Response)
		if !bytes.Equal(want, have) {
			t.Fatalf("entry %d differs after the round trip:\n got %s\nwant %s", i, have, want)
		}
	}
}

// testReadEmpty: an empty buffer makes Read wait about block and return no entries and no error.
func testReadEmpty(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	const wait = 300 * time.Millisecond
	start := time.Now()
	ds, err := b.Read(ctx, "c1", 10, wait)
	el := time.Since(start)
	if err != nil {
		t.Fatalf("Read on empty buffer: %v", err)
	}
	if len(ds) != 0 {
		t.Fatalf("Read on empty buffer returned %d entries", len(ds))
	}
	if el > wait+time.Second {
		t.Fatalf("Read on empty buffer took %v, block was %v", el, wait)
	}
	if el < wait/3 {
		t.Fatalf("Read on empty buffer returned after %v, it should wait about %v (consumers would spin)", el, wait)
	}
}

// testReadCancel: a cancelled context ends a blocking Read promptly, so workers shut down fast.
func testReadCancel(t *testing.T, b survey.Buffer) {
	if err := b.Ping(ctxT(t)); err != nil { // make sure lazy setup (groups, tables) is done
		t.Fatalf("Ping: %v", err)
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	ds, err := b.Read(ctx, "c1", 10, 10*time.Second)
	el := time.Since(start)
	if el > 2*time.Second {
		t.Fatalf("Read took %v after its context was cancelled at 100ms (block 10s)", el)
	}
	if err == nil && len(ds) != 0 {
		t.Fatalf("cancelled Read on an empty buffer returned %d entries", len(ds))
	}

	// An already expired deadline fails or returns nothing, quickly.
	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	<-dctx.Done()
	start = time.Now()
	if ds, err := b.Read(dctx, "c1", 10, 5*time.Second); err == nil && len(ds) != 0 {
		t.Fatalf("Read with an expired context returned %d entries", len(ds))
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Read with an expired context took %v", el)
	}
}

// testExclusiveDelivery: Read hands each entry to one consumer only.
func testExclusiveDelivery(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	in := responses(0, 20)
	mustAppend(t, ctx, b, in)

	a := mustRead(t, ctx, b, "c1", 10)
	if len(a) == 0 {
		t.Fatal("c1 read nothing")
	}
	c := readAll(t, ctx, b, "c2", 100)
	if again := mustRead(t, ctx, b, "c1", 100); len(again) != 0 {
		a = append(a, again...)
		t.Fatalf("c1 got %d entries after c2 drained the buffer", len(again))
	}
	seen := ids(a)
	for _, d := range c {
		if seen[d.Response.ID] {
			t.Fatalf("response %s delivered to both c1 and c2", d.Response.ID)
		}
		seen[d.Response.ID] = true
	}
	if len(seen) != len(in) || len(a)+len(c) != len(in) {
		t.Fatalf("c1 got %d and c2 got %d entries (%d distinct), appended %d", len(a), len(c), len(seen), len(in))
	}
	for _, r := range in {
		if !seen[r.ID] {
			t.Fatalf("response %s never delivered", r.ID)
		}
	}
	wantStats(t, ctx, b, int64(len(in)), int64(len(in)))
}

// testAck: acked entries leave the backlog and are never delivered again; acks may be repeated.
func testAck(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	mustAppend(t, ctx, b, responses(0, 5))
	ds := readAll(t, ctx, b, "c1", 100)
	if len(ds) != 5 {
		t.Fatalf("read %d entries, want 5", len(ds))
	}
	wantStats(t, ctx, b, 5, 5)

	mustAck(t, ctx, b, ds[:2])
	wantStats(t, ctx, b, 3, 3)
	mustAck(t, ctx, b, ds)
	wantStats(t, ctx, b, 0, 0)

	mustAck(t, ctx, b, ds) // retried ack
	if err := b.Ack(ctx, nil); err != nil {
		t.Fatalf("Ack(nil): %v", err)
	}
	wantStats(t, ctx, b, 0, 0)
	if st := mustStats(t, ctx, b); st.OldestAge != 0 {
		t.Fatalf("OldestAge = %v on an empty buffer, want 0", st.OldestAge)
	}
	if got := mustRead(t, ctx, b, "c2", 100); len(got) != 0 {
		t.Fatalf("Read returned %d acked entries", len(got))
	}
}

// testReclaim: an entry left unacked moves to another consumer only after minIdle, is not handed
// back to its first consumer by Read, and a reclaim resets the idle time (no ping-pong). The
// "not yet" checks use thresholds far longer than any pause of a loaded machine, so the test
// never depends on how fast it runs.
func testReclaim(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	in := responses(0, 5)
	mustAppend(t, ctx, b, in)
	held := mustRead(t, ctx, b, "c1", 100) // one Read: readAll's final empty Read would eat minIdle
	if len(held) != 5 {
		t.Fatalf("c1 read %d entries in one Read, want 5", len(held))
	}
	if got := mustReclaimIdle(t, ctx, b, "c2", time.Hour, 100); len(got) != 0 {
		t.Fatalf("Reclaim took %d entries idle for less than an hour with a one-hour threshold", len(got))
	}
	const held2 = 2 * time.Second
	time.Sleep(held2)

	part := mustReclaim(t, ctx, b, "c2", 2)
	if len(part) == 0 {
		t.Fatal("Reclaim after minIdle returned nothing")
	}
	rest := mustReclaim(t, ctx, b, "c2", 100)
	got := append(part, rest...)
	if len(got) != len(in) {
		t.Fatalf("c2 reclaimed %d entries, want %d", len(got), len(in))
	}
	gotIDs := ids(got)
	for _, r := range in {
		if !gotIDs[r.ID] {
			t.Fatalf("response %s not reclaimed", r.ID)
		}
	}
	for _, d := range got {
		want, have := encode(t, in[indexOf(in, d.Response.ID)]), encode(t, d.Response)
		if !bytes.Equal(want, have) {
			t.Fatalf("reclaimed entry differs:\n got %s\nwant %s", have, want)
		}
	}
	// The entries have been idle for held2 since c1's Read but only a moment since c2's
	// Reclaim: a threshold of half of held2 tells whether the reclaim reset the idle time.
	if again := mustReclaimIdle(t, ctx, b, "c2", held2/2, 100); len(again) != 0 {
		t.Fatalf("a second Reclaim right away returned %d entries, idle time was not reset", len(again))
	}
	if back := mustReclaimIdle(t, ctx, b, "c1", held2/2, 100); len(back) != 0 {
		t.Fatalf("c1 reclaimed %d entries right after c2 took them", len(back))
	}
	if back := mustRead(t, ctx, b, "c1", 100); len(back) != 0 {
		t.Fatalf("Read gave c1 %d entries that were reclaimed by c2", len(back))
	}
	wantStats(t, ctx, b, 5, 5)
	mustAck(t, ctx, b, got)
	wantStats(t, ctx, b, 0, 0)
}

func indexOf(rs []survey.Response, id string) int {
	for i, r := range rs {
		if r.ID == id {
			return i
		}
	}
	panic("unknown id " + id)
}

// testReclaimAcked: acked entries are never reclaimed, however long they were held.
func testReclaimAcked(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	mustAppend(t, ctx, b, responses(0, 4))
	ds := readAll(t, ctx, b, "c1", 100)
	if len(ds) != 4 {
		t.Fatalf("read %d, want 4", len(ds))
	}
	mustAck(t, ctx, b, ds[:3])
	time.Sleep(minIdle + 100*time.Millisecond)
	got := mustReclaim(t, ctx, b, "c2", 100)
	if len(got) != 1 || got[0].Response.ID != ds[3].Response.ID {
		t.Fatalf("Reclaim returned %d entries, want only the one unacked (%s)", len(got), ds[3].Response.ID)
	}
	mustAck(t, ctx, b, got)
	time.Sleep(minIdle + 100*time.Millisecond)
	if got := mustReclaim(t, ctx, b, "c3", 100); len(got) != 0 {
		t.Fatalf("Reclaim returned %d acked entries", len(got))
	}
}

// testResume: a consumer gets back exactly its own unacked entries (a restarted process under
// the same name), oldest first, at most max at a time, with their idle time reset; another
// consumer's entries and acked ones are never part of it.
func testResume(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	in := responses(0, 6)
	mustAppend(t, ctx, b, in)
	mine := mustRead(t, ctx, b, "c1", 4)
	theirs := mustRead(t, ctx, b, "c2", 100)
	if len(mine) != 4 || len(theirs) != 2 {
		t.Fatalf("c1 read %d (want 4), c2 read %d (want 2)", len(mine), len(theirs))
	}
	if got := mustResume(t, ctx, b, "nobody", 100); len(got) != 0 {
		t.Fatalf("Resume for a consumer that holds nothing returned %d entries", len(got))
	}
	const idle = 2 * time.Second
	time.Sleep(idle)

	first := mustResume(t, ctx, b, "c1", 3)
	if len(first) != 3 {
		t.Fatalf("Resume(c1, max 3) returned %d entries", len(first))
	}
	all := mustResume(t, ctx, b, "c1", 100)
	if len(all) != len(mine) {
		t.Fatalf("Resume(c1) returned %d entries, c1 holds %d", len(all), len(mine))
	}
	for i := range mine {
		if all[i].Ref != mine[i].Ref || all[i].Response.ID != mine[i].Response.ID {
			t.Fatalf("Resume entry %d is %s (%s), want %s (%s): not c1's entries in order",
				i, all[i].Ref, all[i].Response.ID, mine[i].Ref, mine[i].Response.ID)
		}
		if i < len(first) && first[i].Ref != mine[i].Ref {
			t.Fatalf("Resume(max 3) entry %d is %s, want the oldest, %s", i, first[i].Ref, mine[i].Ref)
		}
		if !bytes.Equal(encode(t, all[i].Response), encode(t, in[i])) {
			t.Fatalf("resumed entry %d differs from what was appended", i)
		}
	}
	// c1's entries were idle for idle until Resume, c2's still are: a reclaim with half that
	// threshold takes only c2's, so Resume reset the idle time.
	taken := mustReclaimIdle(t, ctx, b, "c3", idle/2, 100)
	if len(taken) != len(theirs) || !ids(taken)[theirs[0].Response.ID] || !ids(taken)[theirs[1].Response.ID] {
		t.Fatalf("Reclaim after Resume took %d entries, want only c2's %d", len(taken), len(theirs))
	}
	mustAck(t, ctx, b, all)
	if got := mustResume(t, ctx, b, "c1", 100); len(got) != 0 {
		t.Fatalf("Resume returned %d entries after they were acked", len(got))
	}
	if got := mustResume(t, ctx, b, "c2", 100); len(got) != 0 {
		t.Fatalf("Resume(c2) returned %d entries that c3 reclaimed", len(got))
	}
	mustAck(t, ctx, b, taken)
	wantStats(t, ctx, b, 0, 0)
}

// testTouch: touching held entries keeps them from being reclaimed; touching entries the caller
// does not hold neither takes them back nor keeps them from their idle holder's reclaim; acked
// and unknown refs are no error.
func testTouch(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	in := responses(0, 4)
	mustAppend(t, ctx, b, in)
	held := mustRead(t, ctx, b, "c1", 100)
	if len(held) != 4 {
		t.Fatalf("c1 read %d entries, want 4", len(held))
	}
	const idle = 2 * time.Second
	time.Sleep(idle)
	if err := b.Touch(ctx, "c1", refs(held[:2])); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	taken := mustReclaimIdle(t, ctx, b, "c2", idle/2, 100)
	if len(taken) != 2 || !ids(taken)[held[2].Response.ID] || !ids(taken)[held[3].Response.ID] {
		t.Fatalf("Reclaim after touching 2 of 4 took %d entries, want the 2 untouched", len(taken))
	}

	time.Sleep(idle)
	// c1 touches everything: c2's two are not c1's any more and must stay with c2, untouched.
	if err := b.Touch(ctx, "c1", refs(held)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if got := mustResume(t, ctx, b, "c1", 100); len(got) != 2 || !ids(got)[held[0].Response.ID] {
		t.Fatalf("c1 holds %d entries after touching entries c2 took, want its own 2", len(got))
	}
	// Resume reset c1's two; c2's were last claimed idle ago and not refreshed by c1's touch.
	again := mustReclaimIdle(t, ctx, b, "c3", idle/2, 100)
	if len(again) != 2 || !ids(again)[held[2].Response.ID] || !ids(again)[held[3].Response.ID] {
		t.Fatalf("Reclaim took %d entries, want c2's 2 (a non-holder's touch must not refresh them)", len(again))
	}

	mustAck(t, ctx, b, held)
	if err := b.Touch(ctx, "c1", refs(held)); err != nil {
		t.Fatalf("Touch of acked entries: %v", err)
	}
	if err := b.Touch(ctx, "c1", []string{"no-such-ref", "", "0-0", "999999999"}); err != nil {
		t.Fatalf("Touch of unknown refs: %v", err)
	}
	if err := b.Touch(ctx, "c1", nil); err != nil {
		t.Fatalf("Touch(nil): %v", err)
	}
	wantStats(t, ctx, b, 0, 0)
}

func mustResume(t *testing.T, ctx context.Context, b survey.Buffer, consumer string, max int) []survey.Delivery {
	t.Helper()
	ds, err := b.Resume(ctx, consumer, max)
	if err != nil {
		t.Fatalf("Resume(%s, %d): %v", consumer, max, err)
	}
	if ds == nil {
		t.Fatalf("Resume(%s) returned a nil slice; want an empty one", consumer)
	}
	if len(ds) > max {
		t.Fatalf("Resume(%s, max %d) returned %d entries", consumer, max, len(ds))
	}
	checkDeliveries(t, ds)
	return ds
}

// testBatchOrder: a batch of 500 lands whole and a single consumer sees append order.
func testBatchOrder(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	in := responses(0, 500)
	mustAppend(t, ctx, b, in)
	wantStats(t, ctx, b, 0, 500)
	got := readAll(t, ctx, b, "c1", 128)
	if len(got) != len(in) {
		t.Fatalf("read %d, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i].Response.ID != in[i].ID {
			t.Fatalf("entry %d is %s, want %s: order not preserved", i, got[i].Response.ID, in[i].ID)
		}
	}
	mustAck(t, ctx, b, got)
	wantStats(t, ctx, b, 0, 0)
}

// testBatchAllOrNone: an Append cut short by its context leaves all or none of its batch behind;
// one that reports success left all of it.
func testBatchAllOrNone(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Append(cancelled, responses(0, 500)); err == nil {
		wantStats(t, ctx, b, 0, 500)
		t.Log("Append with a cancelled context succeeded; all 500 stored")
		return
	}
	wantStats(t, ctx, b, 0, 0)

	// Cut an Append off while it runs: whatever happens, never a part of the batch.
	var stored int64
	for i, d := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond} {
		tctx, tcancel := context.WithTimeout(context.Background(), d)
		err := b.Append(tctx, responses(1000*(i+1), 500))
		tcancel()
		st := mustStats(t, ctx, b)
		switch {
		case st.Backlog == stored:
			if err == nil {
				t.Fatalf("Append(timeout %v) returned nil but stored nothing", d)
			}
		case st.Backlog == stored+500:
			stored += 500
		default:
			t.Fatalf("Append(timeout %v, err %v) left %d of 500 entries", d, err, st.Backlog-stored)
		}
	}
}

// testConcurrent: 8 appenders × 200 responses and two consumers reading and acking; every
// response is delivered exactly once. When overlap is set the consumers run while appends are
// still going on (the production shape), otherwise they start after the last append.
func testConcurrent(t *testing.T, b survey.Buffer, overlap bool) {
	ctx := ctxT(t)
	const appenders, perAppender = 8, 200
	const total = appenders * perAppender
	sizes := []int{1, 2, 5, 12} // batch sizes cycled by each appender; they sum to 20

	all := make(map[string]bool, total)
	batches := make([][][]survey.Response, appenders)
	for g := range batches {
		rs := responses(g*perAppender, perAppender)
		for _, r := range rs {
			all[r.ID] = true
		}
		for i, k := 0, 0; i < len(rs); k++ {
			n := min(sizes[k%len(sizes)], len(rs)-i)
			batches[g] = append(batches[g], rs[i:i+n])
			i += n
		}
	}

	var appendWG sync.WaitGroup
	appendErr := make(chan error, appenders)
	appended := make(chan struct{})
	startAppends := func() {
		for g := range appenders {
			appendWG.Add(1)
			go func() {
				defer appendWG.Done()
				for _, batch := range batches[g] {
					if err := b.Append(ctx, batch); err != nil {
						appendErr <- fmt.Errorf("appender %d: %w", g, err)
						return
					}
				}
			}()
		}
		go func() { appendWG.Wait(); close(appended) }()
	}

	var (
		mu      sync.Mutex
		seen    = make(map[string]string, total) // response id → consumer
		dupe    error
		perCons = map[string]int{}
	)
	consume := func(name string) error {
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			ds, err := b.Read(ctx, name, 50, 100*time.Millisecond)
			if err != nil {
				return fmt.Errorf("%s Read: %w", name, err)
			}
			mu.Lock()
			for _, d := range ds {
				if d.Err != nil {
					mu.Unlock()
					return fmt.Errorf("%s: undecodable entry %s: %v", name, d.Ref, d.Err)
				}
				if other, ok := seen[d.Response.ID]; ok && dupe == nil {
					dupe = fmt.Errorf("response %s delivered to %s and again to %s", d.Response.ID, other, name)
				}
				seen[d.Response.ID] = name
				perCons[name]++
			}
			done := len(seen) >= total
			mu.Unlock()
			if len(ds) > 0 {
				if err := b.Ack(ctx, refs(ds)); err != nil {
					return fmt.Errorf("%s Ack: %w", name, err)
				}
				continue
			}
			select {
			case <-appended:
				if done {
					return nil
				}
			default:
			}
		}
		return fmt.Errorf("%s: gave up after 15s", name)
	}

	if !overlap {
		startAppends()
		<-appended
	}
	var consWG sync.WaitGroup
	consErr := make(chan error, 2)
	for _, name := range []string{"c1", "c2"} {
		consWG.Add(1)
		go func() {
			defer consWG.Done()
			if err := consume(name); err != nil {
				consErr <- err
			}
		}()
	}
	if overlap {
		startAppends()
	}
	consWG.Wait()
	<-appended
	close(appendErr)
	close(consErr)
	for err := range appendErr {
		t.Error(err)
	}
	for err := range consErr {
		t.Error(err)
	}
	if dupe != nil {
		t.Error(dupe)
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(seen) != total {
		t.Fatalf("consumers saw %d distinct responses, appended %d", len(seen), total)
	}
	for id := range all {
		if _, ok := seen[id]; !ok {
			t.Fatalf("response %s lost", id)
		}
	}
	t.Logf("c1 consumed %d, c2 consumed %d", perCons["c1"], perCons["c2"])
	wantStats(t, ctx, b, 0, 0)
}

// testStats: pending counts delivered-but-unacked entries, backlog all unacked ones, and the
// oldest age grows with the oldest unacked entry.
func testStats(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	st := wantStats(t, ctx, b, 0, 0)
	if st.OldestAge != 0 {
		t.Fatalf("OldestAge = %v on an empty buffer, want 0", st.OldestAge)
	}
	mustAppend(t, ctx, b, responses(0, 3))
	time.Sleep(400 * time.Millisecond)
	mustAppend(t, ctx, b, responses(3, 2))
	st = wantStats(t, ctx, b, 0, 5)
	if st.OldestAge < 350*time.Millisecond || st.OldestAge > time.Minute {
		t.Fatalf("OldestAge = %v, want about 400ms (the first append)", st.OldestAge)
	}
	ds := mustRead(t, ctx, b, "c1", 3)
	if len(ds) != 3 {
		t.Fatalf("read %d, want 3", len(ds))
	}
	wantStats(t, ctx, b, 3, 5)
	mustAck(t, ctx, b, ds)
	st = wantStats(t, ctx, b, 0, 2)
	// The oldest left is from the second append, a moment ago: the age must have dropped.
	if st.OldestAge < 0 || st.OldestAge >= 300*time.Millisecond {
		t.Fatalf("OldestAge = %v after acking the first append, want the age of the second (well under 300ms)", st.OldestAge)
	}
	rest := readAll(t, ctx, b, "c2", 10)
	mustAck(t, ctx, b, rest)
	st = wantStats(t, ctx, b, 0, 0)
	if st.OldestAge != 0 {
		t.Fatalf("OldestAge = %v on a drained buffer, want 0", st.OldestAge)
	}
}

// testDefaultMax: the buffer has a name, and max <= 0 means survey.DefaultReadMax in Read and in
// Reclaim alike, whatever the buffer.
func testDefaultMax(t *testing.T, b survey.Buffer) {
	ctx := ctxT(t)
	if b.Name() == "" {
		t.Fatal("Name() is empty")
	}
	extra := 20
	mustAppend(t, ctx, b, responses(0, survey.DefaultReadMax+extra))
	first, err := b.Read(ctx, "c1", 0, block)
	if err != nil {
		t.Fatalf("Read(max 0): %v", err)
	}
	if len(first) != survey.DefaultReadMax {
		t.Fatalf("Read(max 0) returned %d entries, want DefaultReadMax = %d", len(first), survey.DefaultReadMax)
	}
	rest, err := b.Read(ctx, "c1", -1, block)
	if err != nil {
		t.Fatalf("Read(max -1): %v", err)
	}
	if len(rest) != extra {
		t.Fatalf("Read(max -1) returned %d entries, want the remaining %d", len(rest), extra)
	}
	time.Sleep(minIdle + 100*time.Millisecond)
	taken, err := b.Reclaim(ctx, "c2", minIdle, 0)
	if err != nil {
		t.Fatalf("Reclaim(max 0): %v", err)
	}
	if len(taken) != survey.DefaultReadMax {
		t.Fatalf("Reclaim(max 0) returned %d entries, want DefaultReadMax = %d", len(taken), survey.DefaultReadMax)
	}
	mustAck(t, ctx, b, append(first, rest...))
	wantStats(t, ctx, b, 0, 0)
}
