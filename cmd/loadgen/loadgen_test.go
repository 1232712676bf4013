package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
)

// A backlog that saws between folds but drains back to empty keeps up; one whose troughs rise
// does not, even when a straight line through a sawtooth would say otherwise.
func TestTrendTroughs(t *testing.T) {
	t0 := time.Unix(0, 0)
	saw := func(rise float64) []sample {
		var ss []sample
		for i := 0; i < 60; i++ {
			b := float64(i%10) * 5000 // fills for 10 s, then empties
			if i >= 50 {
				b += 20000 // a peak at the end drags a fitted line upwards
			}
			b += rise * float64(i)
			if i%10 == 0 {
				b = rise * float64(i) // the trough
			}
			ss = append(ss, sample{at: t0.Add(time.Duration(i) * time.Second), backlog: b, folded: float64(i) * 10000})
		}
		return ss
	}
	keeps := trend(saw(0))
	if !keeps.flat(10000, 0.01) {
		t.Errorf("a backlog draining to empty every 10 s is not flat: %+v", keeps)
	}
	if keeps.slope <= 100 {
		t.Errorf("fitted slope %.0f: the test's sawtooth should mislead a straight line", keeps.slope)
	}
	if keeps.foldRate < 9999 || keeps.foldRate > 10001 {
		t.Errorf("fold rate %.0f, want 10000", keeps.foldRate)
	}
	behind := trend(saw(500))
	if behind.flat(10000, 0.01) || behind.growth < 400 {
		t.Errorf("troughs rising 500/s called flat: %+v", behind)
	}
	if trend(nil).flat(1, 1) || trend(saw(0)[:1]).flat(1, 1) {
		t.Error("fewer than two samples cannot show a flat backlog")
	}
}

func TestReadStatus(t *testing.T) {
	in := "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"id\":1}" +
		"HTTP/1.1 422 Unprocessable Entity\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n" +
		"HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
	rd := bufio.NewReader(strings.NewReader(in))
	for _, want := range []struct {
		code  int
		close bool
	}{{202, false}, {422, false}, {429, true}} {
		code, closeAfter, err := readStatus(rd)
		if err != nil || code != want.code || closeAfter != want.close {
			t.Fatalf("got %d close=%v err=%v, want %d close=%v", code, closeAfter, err, want.code, want.close)
		}
	}
	if _, _, err := readStatus(rd); err == nil {
		t.Error("reading past the last response did not fail")
	}
}

// A probe that never became visible ranks slower than every visible one: it cannot improve a
// percentile, and enough of them push the p95 out of reach.
func TestProbePercentiles(t *testing.T) {
	var p probeResult
	for i := 1; i <= 95; i++ {
		p.lags = append(p.lags, time.Duration(i)*time.Millisecond)
	}
	p.failures = 5
	if d, ok := p.pct(0.95); ok || d != probeLimit {
		t.Errorf("p95 with 5%% failures = %v, %v; want the failures' limit", d, ok)
	}
	if d, ok := p.pct(0.5); !ok || d != 51*time.Millisecond {
		t.Errorf("p50 = %v, %v; want 51ms counted over all 100 probes", d, ok)
	}
	p.refused = map[string]int{"503": 2}
	if p.total() != 102 || !strings.Contains(p.String(), "2 not acknowledged (503 ×2)") {
		t.Errorf("total %d, %q", p.total(), p.String())
	}
}

// Every request a worker sends is a whole, valid submission with a fresh UUIDv7.
func TestWorkerIDs(t *testing.T) {
	now := time.Now().UTC()
	sub := survey.Submission{ID: idPlaceholder, AgencyID: 3, SurveyID: 4, SurveyVersion: 1, Channel: survey.ChannelKiosk, SubmittedAt: &now,
		Answers: []survey.SubmittedAnswer{{QuestionID: "overall", Value: json.RawMessage("4")}}}
	l := startLoad("http://127.0.0.1:1", []prepared{prepare(sub, "tok")}, 2, 0)
	l.stop()
	seen := map[string]bool{}
	for _, w := range l.workers {
		for n := 0; n < 1000; n++ {
			req := w.next(n)
			head, body, ok := bytes.Cut(req, []byte("\r\n\r\n"))
			if !ok || !bytes.Contains(head, []byte("Authorization: Bearer tok\r\n")) || !bytes.Contains(head, []byte("Content-Type: application/json")) {
				t.Fatalf("request head %q", head)
			}
			dec, err := survey.DecodeSubmission(body)
			if err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			u, err := uuid.Parse(dec.ID)
			if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 || !survey.ValidUUID(dec.ID) {
				t.Fatalf("id %q: version %d, err %v", dec.ID, u.Version(), err)
			}
			if seen[dec.ID] {
				t.Fatalf("id %s sent twice", dec.ID)
			}
			seen[dec.ID] = true
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 16943.4: "16,943", -1234567: "-1,234,567"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
