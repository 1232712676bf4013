package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
)

func TestRecentIDsForgetTheOldest(t *testing.T) {
	c := newRecentIDs(3)
	ids := []string{
		"0193a1d2-7c4e-7b3a-9f00-000000000001", "0193a1d2-7c4e-7b3a-9f00-000000000002",
		"0193a1d2-7c4e-7b3a-9f00-000000000003", "0193a1d2-7c4e-7b3a-9f00-000000000004",
	}
	const h1, h2 = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
	for _, id := range ids[:3] {
		c.put(id, h1)
	}
	c.put(ids[1], h2) // again: updated, not added
	if known, same := c.match(ids[1], h2); !known || !same {
		t.Fatal("updated id not matched")
	}
	c.put(ids[3], h1)
	if known, _ := c.match(ids[0], h1); known {
		t.Fatal("the oldest id was not forgotten")
	}
	for _, id := range ids[1:] {
		if known, _ := c.match(id, h1); !known {
			t.Fatalf("%s forgotten too early", id)
		}
	}
	if known, same := c.match(ids[3], h2); !known || same {
		t.Fatal("a different hash matched")
	}
	if known, _ := c.match("0193A1D2-7C4E-7B3A-9F00-000000000004", h1); !known {
		t.Fatal("upper-case hex is the same id")
	}
	c.put("not-a-uuid", h1)
	c.put(ids[0], "short")
	if len(c.m) != 3 || len(c.ring) != 3 {
		t.Fatalf("malformed entries stored: %d", len(c.m))
	}
}

// memCatalog serves one version and no offices.
type memCatalog struct{ v survey.Version }

func (m memCatalog) Version(context.Context, survey.ID, int) (survey.Version, error) { return m.v, nil }
func (m memCatalog) Offices(context.Context, survey.ID) ([]survey.Office, error)     { return nil, nil }

var benchVersion = survey.Version{SurveyID: 1, AgencyID: 1, Version: 1, Questions: []survey.Question{{ID: "q", Type: survey.TypeRating5, Required: true}}}

func rating(id, value string) *survey.Submission {
	return &survey.Submission{ID: id, AgencyID: 1, SurveyID: 1, SurveyVersion: 1,
		Answers: []survey.SubmittedAnswer{{QuestionID: "q", Value: json.RawMessage(value)}}}
}

// gate is an Appender (and a Stored) whose first call waits for release, so that a test can hold
// a stage busy while it queues submissions behind it; fail makes that first append fail.
type gate struct {
	release chan struct{}
	fail    bool

	mu      sync.Mutex
	calls   int
	lookups int
	got     [][]survey.Response
}

func (g *gate) Append(_ context.Context, rs []survey.Response) error {
	g.mu.Lock()
	g.calls++
	n := g.calls
	g.got = append(g.got, append([]survey.Response(nil), rs...))
	g.mu.Unlock()
	if n == 1 {
		<-g.release
		if g.fail {
			return errors.New("disk full")
		}
	}
	return nil
}

func (g *gate) ContentHashes(context.Context, []string) (map[string]string, error) {
	g.mu.Lock()
	g.lookups++
	n := g.lookups
	g.mu.Unlock()
	if n == 1 {
		<-g.release
	}
	return nil, nil
}

type result struct {
	rc  survey.Receipt
	err error
}

func submitAsync(in *Intake, s *survey.Submission) chan result {
	ch := make(chan result, 1)
	go func() {
		rc, err := in.Submit(context.Background(), survey.Origin{Channel: survey.ChannelWeb}, s)
		ch <- result{rc, err}
	}()
	return ch
}

// waitUntil polls cond, generously: the machine is shared.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A resend that arrives while the first is still being appended joins it: one append, a resend
// once the first is stored (or the first's error), and other content under the id is a 409 at
// once.
func TestResendWhileTheFirstIsAppended(t *testing.T) {
	for _, fail := range []bool{false, true} {
		g := &gate{release: make(chan struct{}), fail: fail}
		in := New(memCatalog{benchVersion}, g, nil, Options{})
		const id = "0193a1d2-7c4e-7b3a-9f00-0000000000aa"
		first := submitAsync(in, rating(id, "4"))
		waitUntil(t, "the first append started", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.calls == 1 })
		same := submitAsync(in, rating(id, `"۴"`))
		if r := <-submitAsync(in, rating(id, "5")); survey.ErrorCode(r.err) != survey.ECodeIDConflict {
			t.Fatalf("other content while the first is appended: %v, want id_conflict", r.err)
		}
		waitUntil(t, fmt.Sprintf("the resend joined the first (fail=%v)", fail), func() bool {
			in.inflightMu.Lock()
			defer in.inflightMu.Unlock()
			return len(in.inflight[id].followers) == 1
		})
		close(g.release)
		r1, r2 := <-first, <-same
		if fail {
			if survey.ErrorCode(r1.err) != survey.ECodeUnavailable || survey.ErrorCode(r2.err) != survey.ECodeUnavailable {
				t.Fatalf("a failed append: first %v, resend %v; want both unavailable", r1.err, r2.err)
			}
		} else if r1.err != nil || r1.rc.Resent || r2.err != nil || !r2.rc.Resent {
			t.Fatalf("first %+v %v, resend %+v %v", r1.rc, r1.err, r2.rc, r2.err)
		}
		in.Close()
		if len(g.got) != 1 || len(g.got[0]) != 1 {
			t.Fatalf("appends %v, want the id once", g.got)
		}
		if known, _ := in.recent.match(id, g.got[0][0].Hash); known == fail {
			t.Fatalf("remembered %v after an append that failed=%v", known, fail)
		}
		if len(in.inflight) != 0 {
			t.Fatalf("inflight not emptied: %v", in.inflight)
		}
	}
}

// One id three times in one check batch: the first goes on, a second with its content shares its
// fate, other content is id_conflict; one lookup serves the batch.
func TestSameIDTwiceInOneCheck(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	in := New(memCatalog{benchVersion}, g, nil, Options{Stored: g})
	defer in.Close()
	blocker := submitAsync(in, rating("0193a1d2-7c4e-7b3a-9f00-0000000000b0", "3"))
	waitUntil(t, "the first lookup started", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.lookups == 1 })
	const id = "0193a1d2-7c4e-7b3a-9f00-0000000000bb"
	first := submitAsync(in, rating(id, "4"))
	waitUntil(t, "1 queued", func() bool { return len(in.checkQueue) == 1 })
	same := submitAsync(in, rating(id, `"۴"`))
	waitUntil(t, "2 queued", func() bool { return len(in.checkQueue) == 2 })
	other := submitAsync(in, rating(id, "5"))
	waitUntil(t, "3 queued", func() bool { return len(in.checkQueue) == 3 })
	close(g.release)
	if r := <-blocker; r.err != nil {
		t.Fatal(r.err)
	}
	r1, r2, r3 := <-first, <-same, <-other
	if r1.err != nil || r1.rc.Resent || r2.err != nil || !r2.rc.Resent || survey.ErrorCode(r3.err) != survey.ECodeIDConflict {
		t.Fatalf("first %+v %v, same %+v %v, other %v", r1.rc, r1.err, r2.rc, r2.err, r3.err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	stored := 0
	for _, rs := range g.got {
		for _, r := range rs {
			if r.ID == id {
				stored++
			}
		}
	}
	if stored != 1 || g.lookups != 2 {
		t.Fatalf("id appended %d times with %d lookups; want once, 2 lookups", stored, g.lookups)
	}
}

// countingStored records the ids it is asked about and knows none.
type countingStored struct {
	mu    sync.Mutex
	asked []string
}

func (c *countingStored) ContentHashes(_ context.Context, ids []string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, ids...)
	return nil, nil
}

// Ids minted moments ago by their client (UUIDv7) are not looked up: they cannot have been
// accepted before except moments ago, which the memory answers. Older ids, ids of other forms,
// and everything with FreshIDs < 0 are.
func TestFreshIDsAreNotLookedUp(t *testing.T) {
	v7 := func(at time.Time) string {
		id, err := uuid.NewV7()
		if err != nil {
			t.Fatal(err)
		}
		ms := at.UnixMilli()
		for i := 0; i < 6; i++ {
			id[i] = byte(ms >> (40 - 8*i))
		}
		return id.String()
	}
	now := time.Now()
	fresh, old, future, random := v7(now), v7(now.Add(-time.Minute)), v7(now.Add(time.Hour)), uuid.NewString()
	if ms, ok := uuidV7Millis(fresh); !ok || ms != now.UnixMilli() {
		t.Fatalf("uuidV7Millis(%s) = %d, %v", fresh, ms, ok)
	}
	for _, freshFor := range []time.Duration{0, -1} {
		st := &countingStored{}
		in := New(memCatalog{benchVersion}, discardAppender{}, nil, Options{Stored: st, FreshIDs: freshFor})
		for _, id := range []string{fresh, old, future, random} {
			if _, err := in.Submit(context.Background(), survey.Origin{Channel: survey.ChannelWeb}, rating(id, "3")); err != nil {
				t.Fatal(err)
			}
		}
		in.Close()
		want := []string{old, future, random}
		if freshFor < 0 {
			want = []string{fresh, old, future, random}
		}
		if !slices.Equal(st.asked, want) {
			t.Errorf("FreshIDs %v: looked up %v, want %v", freshFor, st.asked, want)
		}
	}
}

type discardAppender struct{}

func (discardAppender) Append(context.Context, []survey.Response) error { return nil }
