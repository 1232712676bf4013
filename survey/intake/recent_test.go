package intake

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

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

// gate is an Appender whose first append waits for release, so that the test can queue a
// batch behind it; fail makes the second append fail.
type gate struct {
	release chan struct{}
	fail    bool

	mu    sync.Mutex
	calls int
	got   [][]survey.Response
}

func (g *gate) Append(_ context.Context, rs []survey.Response) error {
	g.mu.Lock()
	g.calls++
	n := g.calls
	g.got = append(g.got, append([]survey.Response(nil), rs...))
	g.mu.Unlock()
	if n == 1 {
		<-g.release
	}
	if n == 2 && g.fail {
		return errors.New("disk full")
	}
	return nil
}

// One id three times in one group commit: the first is appended, a second with its content
// shares its fate (a resend once stored, its error if not), other content is id_conflict.
func TestSameIDTwiceInOneBatch(t *testing.T) {
	for _, fail := range []bool{false, true} {
		g := &gate{release: make(chan struct{}), fail: fail}
		v := survey.Version{SurveyID: 1, AgencyID: 1, Version: 1, Questions: []survey.Question{{ID: "q", Type: survey.TypeRating5, Required: true}}}
		in := New(memCatalog{v}, g, nil, Options{})
		origin := survey.Origin{Channel: survey.ChannelWeb}
		sub := func(id, value string) *survey.Submission {
			return &survey.Submission{ID: id, AgencyID: 1, SurveyID: 1, SurveyVersion: 1,
				Answers: []survey.SubmittedAnswer{{QuestionID: "q", Value: json.RawMessage(value)}}}
		}
		type result struct {
			rc  survey.Receipt
			err error
		}
		submit := func(s *survey.Submission) chan result {
			ch := make(chan result, 1)
			go func() {
				rc, err := in.Submit(context.Background(), origin, s)
				ch <- result{rc, err}
			}()
			return ch
		}
		waitQueued := func(n int) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for len(in.queue) < n {
				if time.Now().After(deadline) {
					t.Fatalf("queue holds %d, want %d", len(in.queue), n)
				}
				time.Sleep(time.Millisecond)
			}
		}
		blocker := submit(sub("", "3"))
		deadline := time.Now().Add(30 * time.Second)
		for { // the flusher holds the blocker's batch in Append
			g.mu.Lock()
			n := g.calls
			g.mu.Unlock()
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("first append never started")
			}
			time.Sleep(time.Millisecond)
		}
		const id = "0193a1d2-7c4e-7b3a-9f00-0000000000aa"
		first := submit(sub(id, "4"))
		waitQueued(1)
		same := submit(sub(id, `"۴"`))
		waitQueued(2)
		other := submit(sub(id, "5"))
		waitQueued(3)
		close(g.release)

		if r := <-blocker; r.err != nil {
			t.Fatal(r.err)
		}
		r1, r2, r3 := <-first, <-same, <-other
		if survey.ErrorCode(r3.err) != survey.ECodeIDConflict {
			t.Fatalf("other content in the batch: %v, want id_conflict", r3.err)
		}
		if fail {
			if survey.ErrorCode(r1.err) != survey.ECodeUnavailable || survey.ErrorCode(r2.err) != survey.ECodeUnavailable {
				t.Fatalf("a failed append: first %v, same %v; want both unavailable", r1.err, r2.err)
			}
		} else if r1.err != nil || r1.rc.Resent || r2.err != nil || !r2.rc.Resent {
			t.Fatalf("first %+v %v, same %+v %v", r1.rc, r1.err, r2.rc, r2.err)
		}
		in.Close()
		if len(g.got) != 2 || len(g.got[1]) != 1 || g.got[1][0].ID != id {
			t.Fatalf("appends %v, want the id once in the second", g.got)
		}
		if known, _ := in.recent.match(id, g.got[1][0].Hash); known == fail {
			t.Fatalf("remembered %v after an append that failed=%v", known, fail)
		}
	}
}
