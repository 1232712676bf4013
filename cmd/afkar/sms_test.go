package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
)

// withStdin sets the command's stdin to r for the rest of the test. Tests that use it must not be
// parallel.
func withStdin(t *testing.T, r io.Reader) {
	t.Helper()
	old := stdin
	stdin = r
	t.Cleanup(func() { stdin = old })
}

func TestSmsParseCommand(t *testing.T) {
	in := "۵ ممنون از همکاران\r\nلغو ۱۱\n\n3-4\nخوب نبود\n12\n4 ولی معطل شدم <b>&</b>"
	withStdin(t, strings.NewReader(in))
	var out, errb bytes.Buffer
	// No AFKAR_* configuration at all: the command needs none.
	if err := run(context.Background(), []string{"sms", "parse"}, envMap(nil), &out, &errb); err != nil {
		t.Fatalf("afkar sms parse: %v (stderr %s)", err, errb.String())
	}
	want := []sms.Reply{
		{Kind: sms.KindRating, Rating: 5, Comment: "ممنون از همکاران"},
		{Kind: sms.KindOptOut},
		{Kind: sms.KindNone},
		{Kind: sms.KindAmbiguous},
		{Kind: sms.KindRating, Rating: 2},
		{Kind: sms.KindResubscribe},
		{Kind: sms.KindRating, Rating: 4, Comment: "ولی معطل شدم <b>&</b>"},
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var got sms.Reply
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil || got != want[i] {
			t.Errorf("line %d = %s (%v), want %+v", i+1, line, err, want[i])
		}
	}
	if !strings.Contains(lines[6], "<b>&</b>") {
		t.Errorf("comment HTML-escaped: %s", lines[6])
	}
	if lines[1] != `{"kind":"optout"}` {
		t.Errorf("optout line = %s, want {\"kind\":\"optout\"}", lines[1])
	}
}

// TestSmsParseCommandStreams proves the command answers each line as it arrives, before its input
// ends, so it can sit in a pipe.
func TestSmsParseCommandStreams(t *testing.T) {
	pr, pw := io.Pipe()
	withStdin(t, pr)
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"sms", "parse"}, envMap(nil), &out, io.Discard) }()
	for i, line := range []string{"۴", "عالی بود", "stop"} {
		if _, err := io.WriteString(pw, line+"\n"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(out.String(), "\n") < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("no output for line %d (%q) while input stays open; got %q", i+1, line, out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "{\"kind\":\"rating\",\"rating\":4}\n{\"kind\":\"rating\",\"rating\":5}\n{\"kind\":\"optout\"}\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
}

func TestSmsParseCommandErrors(t *testing.T) {
	for _, args := range [][]string{{"sms"}, {"sms", "send"}, {"sms", "parse", "extra"}} {
		withStdin(t, strings.NewReader("5\n"))
		var out bytes.Buffer
		err := run(context.Background(), args, envMap(nil), &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "afkar sms parse") || out.Len() != 0 {
			t.Errorf("afkar %v: err %v, output %q; want the usage and no output", args, err, out.String())
		}
	}
	// A line longer than the bound is an error, after the lines before it were answered.
	withStdin(t, strings.NewReader("5\n"+strings.Repeat("x", maxReplyLine+1)+"\n"))
	var out bytes.Buffer
	err := run(context.Background(), []string{"sms", "parse"}, envMap(nil), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("over-long line: err %v", err)
	}
	if sc := bufio.NewScanner(&out); !sc.Scan() || sc.Text() != `{"kind":"rating","rating":5}` {
		t.Fatalf("the line before the long one was not answered: %q", out.String())
	}
	// The usage text lists the command.
	var help bytes.Buffer
	if err := run(context.Background(), []string{"help"}, envMap(nil), &help, io.Discard); err != nil || !strings.Contains(help.String(), "sms parse") {
		t.Fatalf("help does not mention sms parse: %v %q", err, help.String())
	}
}
