package sms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kavenegar/kavenegar-go"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
)

const (
	receptor = "+989121234567"
	national = "09121234567"
	link     = "https://afkar.ir/s/Ab3dE5gH7jK9mN"
)

// newGateway returns a gateway on fake (debug logs captured) with the given timeout.
func newGateway(t *testing.T, fake *kavenegartest.Server, timeout time.Duration) (*sms.Kavenegar, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{} // calls are synchronous: they log on the test's goroutine
	g, err := sms.NewKavenegar(sms.KavenegarConfig{
		APIKey: fake.APIKey, Sender: kavenegartest.Line, BaseURL: fake.URL(), Timeout: timeout,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, logs
}

// quiet discards the logs of tests that do not look at them.
var quiet = slog.New(slog.DiscardHandler)

func invitation(t *testing.T, localID string) sms.Message {
	t.Helper()
	text, err := sms.ComposeInvitation(sms.Invitation{Agency: "سازمان ثبت احوال کشور", Link: link})
	if err != nil {
		t.Fatal(err)
	}
	return sms.Message{Receptor: receptor, Text: text, LocalID: localID}
}

func TestKavenegarSend(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	m := invitation(t, "1001")
	s, err := g.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 {
		t.Fatalf("fake has %d SMS, want 1", len(sent))
	}
	got := sent[0]
	if got.Receptor != national || got.Sender != kavenegartest.Line || got.Text != m.Text || !got.Hide || got.LocalID != "1001" {
		t.Errorf("fake received %+v", got)
	}
	if s.MessageID != got.MessageID || s.LocalID != "1001" || s.Status != sms.StatusQueued || s.Parts != 2 ||
		s.Cost != 2*kavenegartest.CostPerPart {
		t.Errorf("Sent = %+v, fake %+v", s, got)
	}
	if _, err := g.Send(context.Background(), sms.Message{Receptor: "+447911123456", Text: "hi", LocalID: "1002"}); err != nil {
		t.Errorf("foreign number: %v", err)
	}
	if got := fake.Sent()[1].Receptor; got != "00447911123456" {
		t.Errorf("foreign receptor sent as %q, want 00447911123456", got)
	}
}

func TestKavenegarErrorClasses(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		fail      *kavenegartest.Failure
		msg       sms.Message
		class     sms.ErrorClass
		code      int
		http      int
		uncertain bool
	}{
		{"409 busy", &kavenegartest.Failure{Status: 409}, sms.Message{}, sms.ClassRetry, 409, 409, false},
		{"500 with envelope", &kavenegartest.Failure{Status: 500}, sms.Message{}, sms.ClassRetry, 500, 500, true},
		{"502 proxy page", &kavenegartest.Failure{Body: "<html>Bad Gateway</html>"}, sms.Message{}, sms.ClassRetry, 0, 502, true},
		{"500 JSON without return (the SDK alone panics)", &kavenegartest.Failure{HTTPStatus: 500, Body: `{"error":"x"}`}, sms.Message{}, sms.ClassRetry, 0, 500, true},
		{"500 null body (the SDK alone panics)", &kavenegartest.Failure{HTTPStatus: 500, Body: `null`}, sms.Message{}, sms.ClassRetry, 0, 500, true},
		{"200 that is no envelope", &kavenegartest.Failure{HTTPStatus: 200, Body: `<html>portal</html>`}, sms.Message{}, sms.ClassRetry, 0, 200, true},
		{"404 page: wrong base URL", &kavenegartest.Failure{HTTPStatus: 404, Body: "not found"}, sms.Message{}, sms.ClassConfig, 0, 404, false},
		{"418 no credit", &kavenegartest.Failure{Status: 418}, sms.Message{}, sms.ClassPaused, 418, 418, false},
		{"418 on HTTP 200: trust return.status", &kavenegartest.Failure{Status: 418, HTTPStatus: 200}, sms.Message{}, sms.ClassPaused, 418, 200, false},
		{"401 account disabled", &kavenegartest.Failure{Status: 401}, sms.Message{}, sms.ClassPaused, 401, 401, false},
		{"407 IP", &kavenegartest.Failure{Status: 407}, sms.Message{}, sms.ClassConfig, 407, 407, false},
		{"416 IP", &kavenegartest.Failure{Status: 416}, sms.Message{}, sms.ClassConfig, 416, 416, false},
		{"422 characters", &kavenegartest.Failure{Status: 422}, sms.Message{}, sms.ClassInvalid, 422, 422, false},
		{"400 params", &kavenegartest.Failure{Status: 400}, sms.Message{}, sms.ClassInvalid, 400, 400, false},
		{"417 date", &kavenegartest.Failure{Status: 417}, sms.Message{}, sms.ClassInvalid, 417, 417, false},
		// Real validations of the fake, not programmed failures:
		{"411 receptor Kavenegar rejects", nil, sms.Message{Receptor: "+9891212345678"}, sms.ClassInvalidNumber, 411, 411, false},
		{"413 text too long", nil, sms.Message{Text: strings.Repeat("خیلی خوب ", 30)}, sms.ClassInvalid, 413, 413, false},
		// Refused before any call:
		{"not E.164", nil, sms.Message{Receptor: "09121234567"}, sms.ClassInvalidNumber, 0, 0, false},
		{"local id not digits", nil, sms.Message{LocalID: "abc"}, sms.ClassInvalid, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != nil {
				fake.FailNext(kavenegartest.Send, *tc.fail)
			}
			m := sms.Message{Receptor: receptor, Text: "ثبت احوال: از ۱ تا ۵؟\nلغو ۱۱", LocalID: "77"}
			if tc.msg.Receptor != "" {
				m.Receptor = tc.msg.Receptor
			}
			if tc.msg.Text != "" {
				m.Text = tc.msg.Text
			}
			if tc.msg.LocalID != "" {
				m.LocalID = tc.msg.LocalID
			}
			before := len(fake.Sent())
			_, err := g.Send(ctx, m)
			var se *sms.SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SendError", err)
			}
			if se.Class != tc.class || se.Code != tc.code || se.HTTPStatus != tc.http || se.Uncertain != tc.uncertain {
				t.Errorf("got class %v code %d http %d uncertain %v, want %v %d %d %v (%v)", se.Class, se.Code,
					se.HTTPStatus, se.Uncertain, tc.class, tc.code, tc.http, tc.uncertain, err)
			}
			if sms.ClassOf(err) != tc.class || sms.IsRetryable(err) != (tc.class == sms.ClassRetry) ||
				sms.IsPaused(err) != (tc.class == sms.ClassPaused) || sms.IsConfig(err) != (tc.class == sms.ClassConfig) ||
				sms.IsInvalidNumber(err) != (tc.class == sms.ClassInvalidNumber) {
				t.Errorf("helpers disagree with class %v", tc.class)
			}
			if len(fake.Sent()) != before {
				t.Errorf("a failed send reached the handset")
			}
		})
	}

	t.Run("412 wrong sender line", func(t *testing.T) {
		bad, err := sms.NewKavenegar(sms.KavenegarConfig{APIKey: fake.APIKey, Sender: "3000", BaseURL: fake.URL(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Send(ctx, sms.Message{Receptor: receptor, Text: "x", LocalID: "1"})
		if !sms.IsConfig(err) {
			t.Errorf("err = %v, want config", err)
		}
	})
	t.Run("403 wrong key", func(t *testing.T) {
		bad, err := sms.NewKavenegar(sms.KavenegarConfig{APIKey: "WRONG", Sender: kavenegartest.Line, BaseURL: fake.URL(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Send(ctx, sms.Message{Receptor: receptor, Text: "x", LocalID: "1"})
		if !sms.IsPaused(err) {
			t.Errorf("err = %v, want paused", err)
		}
		if err := bad.Check(ctx); !sms.IsPaused(err) {
			t.Errorf("Check with a wrong key = %v, want paused", err)
		}
	})
	t.Run("Check", func(t *testing.T) {
		if err := g.Check(ctx); err != nil {
			t.Errorf("Check = %v", err)
		}
		fake.FailNext(kavenegartest.AccountInfo, kavenegartest.Failure{Status: 416})
		if err := g.Check(ctx); !sms.IsConfig(err) {
			t.Errorf("Check with IP not allowed = %v, want config", err)
		}
	})
}

// The queue's loop, in small: the first attempt is Send, every later one Resend, the same
// local id throughout. Whatever fails in between (409, a proxy page, a timeout, a 500 after the
// SMS went out), the citizen gets exactly one SMS.
func TestKavenegarRetriesSendOnce(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	fake.FailNext(kavenegartest.Send,
		kavenegartest.Failure{Status: 409},
		kavenegartest.Failure{Body: "<html>502</html>"},
		kavenegartest.Failure{Delay: 5 * time.Second}, // timeout, nothing sent
		kavenegartest.Failure{Status: 500, Deliver: true},
	)
	m := invitation(t, "5005")
	var (
		s   sms.Sent
		err error
	)
	attempts := 0
	for ; attempts < 10; attempts++ {
		if attempts == 0 {
			s, err = g.Send(context.Background(), m)
		} else {
			s, err = sms.Resend(context.Background(), g, m)
		}
		if err == nil {
			break
		}
		if !sms.IsRetryable(err) {
			t.Fatalf("attempt %d: %v is not retryable", attempts+1, err)
		}
	}
	sent := fake.Sent()
	if len(sent) != 1 {
		t.Fatalf("the fake sent %d SMS, want exactly 1: %+v", len(sent), sent)
	}
	if attempts != 4 || fake.Calls(kavenegartest.Send) != 4 || fake.Calls(kavenegartest.StatusLocal) != 4 {
		t.Errorf("attempts %d, send calls %d, statuslocalmessageid calls %d; want 4 4 4", attempts,
			fake.Calls(kavenegartest.Send), fake.Calls(kavenegartest.StatusLocal))
	}
	if s.MessageID != sent[0].MessageID || s.LocalID != "5005" || s.Parts != 2 {
		t.Errorf("Sent = %+v, fake %+v", s, sent[0])
	}
}

// A plain retry with the same local id after a lost reply is answered with the first send.
func TestKavenegarRepeatedLocalIDNotSentAgain(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Status: 500, Deliver: true})
	m := invitation(t, "6006")
	if _, err := g.Send(context.Background(), m); !sms.IsRetryable(err) {
		t.Fatalf("first attempt: %v, want retryable", err)
	}
	s, err := g.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if sent := fake.Sent(); len(sent) != 1 || sent[0].MessageID != s.MessageID {
		t.Errorf("fake sent %+v, second answer %+v", sent, s)
	}
}

func TestKavenegarTimeoutThenStatusByLocalID(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	ctx := context.Background()
	fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Delay: 10 * time.Second, Deliver: true})
	m := invitation(t, "7007")
	start := time.Now()
	_, err := g.Send(ctx, m)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the call took %v: the timeout did not apply", took)
	}
	if !sms.IsRetryable(err) || !sms.IsUncertain(err) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a retryable, uncertain timeout", err)
	}
	d, err := g.StatusByLocalID(ctx, "7007")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sms.Resend(ctx, g, m)
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || fake.Calls(kavenegartest.Send) != 1 || d.MessageID != sent[0].MessageID ||
		s.MessageID != sent[0].MessageID || s.Status != sms.StatusQueued {
		t.Errorf("after the timeout: fake %+v (send calls %d), lookup %+v, Resend %+v", sent,
			fake.Calls(kavenegartest.Send), d, s)
	}
	if _, err := g.StatusByLocalID(ctx, "7008"); !errors.Is(err, sms.ErrNotFound) {
		t.Errorf("unknown local id: %v, want ErrNotFound", err)
	}

	// The caller's context bounds a call too, well before the client's own timeout.
	slow, _ := newGateway(t, fake, 30*time.Second)
	fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Delay: 10 * time.Second})
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = slow.Send(cctx, invitation(t, "7009"))
	if took := time.Since(start); took > 3*time.Second || !sms.IsRetryable(err) || !sms.IsUncertain(err) ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("context deadline: took %v, err %v", took, err)
	}
}

func TestKavenegarStatus(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	ctx := context.Background()
	want := []sms.DeliveryStatus{sms.StatusDelivered, sms.StatusUndelivered, sms.StatusBlocked, sms.StatusSent, sms.StatusQueued}
	var ids []string
	for i, st := range want {
		s, err := g.Send(ctx, sms.Message{Receptor: receptor, Text: "تست", LocalID: strconv.Itoa(100 + i)})
		if err != nil {
			t.Fatal(err)
		}
		if st != sms.StatusQueued && !fake.SetStatus(s.MessageID, int(st)) {
			t.Fatal("SetStatus: unknown id")
		}
		ids = append(ids, s.MessageID)
	}
	ds, err := g.Status(ctx, append(ids, "123"))
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, sms.StatusUnknown)
	if len(ds) != len(want) {
		t.Fatalf("Status = %+v", ds)
	}
	for i, d := range ds {
		if d.Status != want[i] || (i < len(ids) && d.MessageID != ids[i]) {
			t.Errorf("entry %d = %+v, want %v", i, d, want[i])
		}
	}
	if !sms.StatusDelivered.Final() || !sms.StatusBlocked.Final() || sms.StatusQueued.Final() || sms.StatusSent.Final() {
		t.Error("Final is wrong")
	}
	if d, err := g.StatusByLocalID(ctx, "100"); err != nil || d.Status != sms.StatusDelivered {
		t.Errorf("StatusByLocalID after delivery = %+v, %v", d, err)
	}

	// More than 500 ids go in batches of 500, each a comma list.
	many := make([]string, 501)
	for i := range many {
		many[i] = strconv.Itoa(900000 + i)
	}
	calls := fake.Calls(kavenegartest.Status)
	ds, err = g.Status(ctx, many)
	if err != nil || len(ds) != 501 || fake.Calls(kavenegartest.Status)-calls != 2 {
		t.Errorf("501 ids: %d entries, %d calls, %v", len(ds), fake.Calls(kavenegartest.Status)-calls, err)
	}
}

func TestKavenegarReceive(t *testing.T) {
	fake := kavenegartest.New(t)
	g, _ := newGateway(t, fake, time.Second)
	ctx := context.Background()
	id1 := fake.Inject(national, "۵ عالی بود")
	fake.Inject("09351234567", "لغو")
	in, err := g.Receive(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || in[0].MessageID != id1 || in[0].From != national || in[0].Text != "۵ عالی بود" ||
		in[0].To != kavenegartest.Line || in[0].At.IsZero() || in[1].Text != "لغو" {
		t.Fatalf("Receive = %+v", in)
	}
	if again, err := g.Receive(ctx, kavenegartest.Line); err != nil || len(again) != 0 {
		t.Errorf("read messages came back: %+v, %v", again, err)
	}
	fake.Inject(national, "4")
	if in, err := g.Receive(ctx, ""); err != nil || len(in) != 1 || in[0].Text != "4" {
		t.Errorf("new message: %+v, %v", in, err)
	}

	// Why the wrapper does not call the SDK's Receive: asked for unread (isread=false) it
	// sends isread=1 and gets the already-read messages.
	fake.Inject(national, "3")
	c := kavenegar.NewClient(fake.APIKey)
	c.BaseClient = &http.Client{Timeout: time.Second}
	c.BaseURL, _ = c.BaseURL.Parse(fake.URL())
	bare := kavenegar.NewWithClient(c)
	got, err := bare.Message.Receive(kavenegartest.Line, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("the SDK bug is gone? Receive(line, false) returned %d messages, want the 3 read ones", len(got))
	}
	if in, err := g.Receive(ctx, ""); err != nil || len(in) != 1 || in[0].Text != "3" {
		t.Errorf("unread after the SDK call: %+v, %v", in, err)
	}
}

// No failure may put the API key (or the citizen's number) into a log line or an error
// string: the key sits in the URL path, and a bare *url.Error prints the URL.
func TestKavenegarNeverLeaksKey(t *testing.T) {
	fake := kavenegartest.New(t)
	g, logs := newGateway(t, fake, time.Second)
	ctx := context.Background()
	var errs []error
	record := func(err error) {
		if err == nil {
			t.Error("want a failure")
			return
		}
		errs = append(errs, err)
	}
	m := invitation(t, "9009")
	_, err := g.Send(ctx, m) // a success, logged at debug
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(kavenegartest.Send,
		kavenegartest.Failure{Delay: 5 * time.Second},
		kavenegartest.Failure{Status: 500},
		kavenegartest.Failure{Body: "<html>" + fake.APIKey + " 502</html>"}, // a proxy echoing the URL
		kavenegartest.Failure{Status: 411},
	)
	for range 4 {
		_, err := g.Send(ctx, m)
		record(err)
	}
	fake.FailNext(kavenegartest.StatusLocal, kavenegartest.Failure{Delay: 5 * time.Second})
	_, err = g.StatusByLocalID(ctx, "9009")
	record(err)
	fake.FailNext(kavenegartest.Receive, kavenegartest.Failure{Status: 503})
	_, err = g.Receive(ctx, "")
	record(err)

	// Connection refused: a server that is gone.
	gone := httptest.NewServer(nil)
	goneURL := gone.URL + "/"
	gone.Close()
	refused, err := sms.NewKavenegar(sms.KavenegarConfig{APIKey: fake.APIKey, Sender: kavenegartest.Line,
		BaseURL: goneURL, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = refused.Send(ctx, m)
	record(err)
	if sms.IsUncertain(err) || !sms.IsRetryable(err) {
		t.Errorf("connection refused: %v, want retryable and certain (nothing sent)", err)
	}

	// The test can fail: the SDK alone does put the key in its error.
	c := kavenegar.NewClient(fake.APIKey)
	c.BaseURL, _ = c.BaseURL.Parse(goneURL)
	_, sdkErr := kavenegar.NewWithClient(c).Message.Send(kavenegartest.Line, []string{national}, "x", nil)
	if sdkErr == nil || !strings.Contains(sdkErr.Error(), fake.APIKey) {
		t.Fatalf("expected the bare SDK error to contain the key, got %v", sdkErr)
	}

	out := logs.String()
	if strings.Count(out, "kavenegar call failed") != len(errs) {
		t.Errorf("want one warning per failure (%d):\n%s", len(errs), out)
	}
	for _, secret := range []string{fake.APIKey, strings.TrimPrefix(national, "0")} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %q:\n%s", secret, out)
		}
		for _, err := range errs {
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				for _, s := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
					if strings.Contains(s, secret) {
						t.Errorf("an error contains %q: %s", secret, s)
					}
				}
			}
		}
	}
}

func TestNewKavenegarConfig(t *testing.T) {
	for _, cfg := range []sms.KavenegarConfig{
		{Sender: "1000"},
		{APIKey: "k", Sender: ""},
		{APIKey: "a/b", Sender: "1000"},
		{APIKey: "k", Sender: "1000", BaseURL: "ftp://x"},
		{APIKey: "k", Sender: "1000", BaseURL: "::"},
	} {
		if _, err := sms.NewKavenegar(cfg); err == nil {
			t.Errorf("%+v: want an error", cfg)
		} else if cfg.APIKey != "" && strings.Contains(err.Error(), cfg.APIKey+"/") {
			t.Errorf("error shows the key: %v", err)
		}
	}
}
