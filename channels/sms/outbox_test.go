package sms_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// The SQL store is what serve wires into the invitations and the sender.
var (
	_ sms.InviteStore = (*sqlstore.Store)(nil)
	_ sms.OutboxStore = (*sqlstore.Store)(nil)
)

// obNoon is 12:00 in Tehran, outside the default quiet hours.
var obNoon = time.Date(2026, 12, 1, 12, 0, 0, 0, survey.Tehran)

// lockedBuffer collects logs from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sendEnv is a store on one dialect with an agency and office, the inviter, the fake Kavenegar
// and a gateway on it, on one manual clock.
type sendEnv struct {
	store   *sqlstore.Store
	fake    *kavenegartest.Server
	gw      *sms.Kavenegar
	privacy *sms.Privacy
	clock   *survey.ManualClock
	inviter *sms.Inviter
	agency  survey.Agency
	office  survey.Office
	logs    *lockedBuffer
	log     *slog.Logger
}

func newSendEnv(t *testing.T, dialect string) *sendEnv {
	t.Helper()
	ctx := context.Background()
	e := &sendEnv{store: sqltest.Open(t, dialect), fake: kavenegartest.New(t), clock: survey.NewManualClock(obNoon), logs: &lockedBuffer{}}
	e.log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := survey.Province{Name: "استان"}
	must(t, e.store.CreateProvince(ctx, &p))
	e.agency = survey.Agency{ProvinceID: p.ID, Name: "ادارهٔ ثبت احوال"}
	must(t, e.store.CreateAgency(ctx, &e.agency))
	e.office = survey.Office{AgencyID: e.agency.ID, Name: "دفتر مرکزی"}
	must(t, e.store.CreateOffice(ctx, &e.office))
	var err error
	if e.privacy, err = sms.NewPrivacy([]byte(strings.Repeat("s", 40))); err != nil {
		t.Fatal(err)
	}
	q, _ := sms.ParseQuietHours(sms.DefaultQuietHours)
	e.inviter = sms.NewInviter(e.store, e.privacy, sms.InviteRules{Quiet: q}, e.clock, e.log)
	if e.gw, err = sms.NewKavenegar(sms.KavenegarConfig{APIKey: e.fake.APIKey, Sender: kavenegartest.Line,
		BaseURL: e.fake.URL(), Timeout: 300 * time.Millisecond, Logger: e.log}); err != nil {
		t.Fatal(err)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sender is a new sender (a process start) on the env's store and clock.
func (e *sendEnv) sender(opts sms.SenderOptions) *sms.Sender {
	return e.senderOn(e.store, e.gw, opts)
}

func (e *sendEnv) senderOn(store sms.OutboxStore, gw sms.Gateway, opts sms.SenderOptions) *sms.Sender {
	if opts.Rate == 0 {
		opts.Rate = 1000
	}
	opts.Clock, opts.Logger = e.clock, e.log
	if opts.Quiet == (sms.QuietHours{}) {
		opts.Quiet, _ = sms.ParseQuietHours(sms.DefaultQuietHours)
	}
	return sms.NewSender(store, gw, e.privacy, opts)
}

// invite records one invitation for phone (visited an hour ago) and returns its result.
func (e *sendEnv) invite(t *testing.T, phone, via string) sms.InviteResult {
	t.Helper()
	res, err := e.inviter.Invite(context.Background(), survey.Principal{Role: survey.RoleIntegration, AgencyID: e.agency.ID,
		Channel: survey.ChannelSMS}, []sms.InviteRequest{{Phone: phone, OfficeID: e.office.ID, Via: via,
		VisitedAt: e.clock.Now().Add(-time.Hour).Format(time.RFC3339)}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func (e *sendEnv) runOnce(t *testing.T, s *sms.Sender) int {
	t.Helper()
	n, err := s.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// outbox returns the invitation's outbox message.
func (e *sendEnv) outbox(t *testing.T, invitation survey.ID) survey.OutboxMessage {
	t.Helper()
	for id := survey.ID(1); id < 100; id++ {
		m, err := e.store.OutboxMessage(context.Background(), id)
		if err == nil && m.InvitationID == invitation {
			return m
		}
	}
	t.Fatalf("no outbox message for invitation %d", invitation)
	return survey.OutboxMessage{}
}

// noNumbers fails when any of the numbers' digits reached the logs.
func (e *sendEnv) noNumbers(t *testing.T, phones ...string) {
	t.Helper()
	logs := e.logs.String()
	for _, p := range phones {
		if strings.Contains(logs, p[len(p)-7:]) {
			t.Fatalf("number %s reached the logs:\n%s", sms.Mask(p), logs)
		}
	}
}

func eachSendDialect(t *testing.T, fn func(t *testing.T, e *sendEnv)) {
	t.Parallel()
	for _, d := range sqltest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newSendEnv(t, d))
		})
	}
}

func TestSMSSenderSendsAndRecords(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		a := e.invite(t, "09121234567", "sms")
		b := e.invite(t, "۰۹۱۳۷۶۵۴۳۲۱", "link")
		s := e.senderOn(e.store, e.gw, sms.SenderOptions{Link: sms.PlaceholderLink("https://afkar.example/")})
		must(t, s.Start(ctx))
		if n := e.runOnce(t, s); n != 2 {
			t.Fatalf("handled %d", n)
		}
		sent := e.fake.Sent()
		if len(sent) != 2 || sent[0].Receptor != "09121234567" || sent[1].Receptor != "09137654321" || !sent[0].Hide {
			t.Fatalf("sent %+v", sent)
		}
		if !strings.HasPrefix(sent[0].Text, e.agency.Name+": ") || !strings.HasSuffix(sent[0].Text, sms.OptOutFooter) ||
			strings.Contains(sent[0].Text, "/s/") || !strings.Contains(sent[1].Text, "https://afkar.example/s/…") {
			t.Fatalf("texts %q / %q", sent[0].Text, sent[1].Text)
		}
		m := e.outbox(t, a.ID)
		parts, _ := sms.Parts(sent[0].Text)
		if m.State != survey.OutboxSent || m.MessageID != sent[0].MessageID || m.LocalID != sent[0].LocalID || m.Parts != parts ||
			m.Cost != int64(parts)*kavenegartest.CostPerPart || m.Attempts != 1 || m.Text != sent[0].Text {
			t.Fatalf("recorded %+v", m)
		}
		if inv, _ := e.store.Invitation(ctx, b.ID); inv.Status != survey.InvitationSent {
			t.Fatalf("invitation %+v", inv)
		}
		if n := e.runOnce(t, s); n != 0 || len(e.fake.Sent()) != 2 {
			t.Fatal("nothing is due twice")
		}
		if s.Health(ctx) != nil {
			t.Fatal(s.Health(ctx))
		}
		e.noNumbers(t, "09121234567", "09137654321")
	})
}

func TestSMSSenderRetriesWithTheSameLocalID(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		a := e.invite(t, "09121234567", "sms")
		b := e.invite(t, "09121234568", "sms")
		// a: 409, then a 502 proxy page, then sent. b: the send happens but its answer is lost
		// (a timeout); the retry finds it by local id and sends nothing more.
		e.fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Status: 409}, kavenegartest.Failure{Deliver: true, Delay: 2 * time.Second})
		s := e.sender(sms.SenderOptions{Backoff: time.Minute})
		e.runOnce(t, s)
		ma, mb := e.outbox(t, a.ID), e.outbox(t, b.ID)
		if ma.State != survey.OutboxPending || ma.ErrorClass != "retry" || !ma.NextAttemptAt.Equal(e.clock.Now().Add(time.Minute).UTC()) ||
			mb.State != survey.OutboxPending || len(e.fake.Sent()) != 1 {
			t.Fatalf("after the failures: %+v / %+v / sent %d", ma, mb, len(e.fake.Sent()))
		}
		if n := e.runOnce(t, s); n != 0 {
			t.Fatal("retried before the backoff")
		}
		e.fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Body: "<html>bad gateway</html>"})
		e.clock.Advance(time.Minute)
		e.runOnce(t, s)
		if ma = e.outbox(t, a.ID); ma.State != survey.OutboxPending || ma.Attempts != 2 ||
			!ma.NextAttemptAt.Equal(e.clock.Now().Add(2*time.Minute).UTC()) {
			t.Fatalf("second failure: %+v (backoff doubles)", ma)
		}
		if mb = e.outbox(t, b.ID); mb.State != survey.OutboxSent || mb.MessageID != e.fake.Sent()[0].MessageID {
			t.Fatalf("the lost reply recovered: %+v", mb)
		}
		e.clock.Advance(2 * time.Minute)
		e.runOnce(t, s)
		sent := e.fake.Sent()
		if len(sent) != 2 || e.outbox(t, a.ID).State != survey.OutboxSent {
			t.Fatalf("sent %+v", sent)
		}
		for _, m := range sent {
			if m.LocalID != e.outbox(t, a.ID).LocalID && m.LocalID != e.outbox(t, b.ID).LocalID {
				t.Fatalf("a send with another local id: %+v", m)
			}
		}
		if e.fake.Calls(kavenegartest.StatusLocal) < 2 {
			t.Fatal("retries must look the message up by local id first")
		}
		e.noNumbers(t, "09121234567", "09121234568")
	})
}

func TestSMSSenderGivesUp(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		a := e.invite(t, "09121234567", "sms")
		s := e.sender(sms.SenderOptions{Backoff: time.Second, MaxAttempts: 2})
		e.fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Status: 500}, kavenegartest.Failure{Status: 500})
		e.runOnce(t, s)
		e.clock.Advance(time.Second)
		e.runOnce(t, s)
		if m := e.outbox(t, a.ID); m.State != survey.OutboxFailed || m.ErrorClass != "retry" || len(e.fake.Sent()) != 0 {
			t.Fatalf("after max attempts: %+v", m)
		}
		if inv, _ := e.store.Invitation(context.Background(), a.ID); inv.Status != survey.InvitationFailed {
			t.Fatalf("invitation %+v", inv)
		}
	})
}

func TestSMSSenderInvalidNumber(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		a := e.invite(t, "09121234567", "sms")
		e.fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Status: 411})
		s := e.sender(sms.SenderOptions{})
		e.runOnce(t, s)
		if m := e.outbox(t, a.ID); m.State != survey.OutboxFailed || m.ErrorClass != "invalid_number" {
			t.Fatalf("after 411: %+v", m)
		}
		ph, err := e.store.SMSPhone(ctx, e.privacy.Hash("+989121234567"))
		if err != nil || ph.InvalidAt == nil {
			t.Fatalf("number not marked invalid: %+v %v", ph, err)
		}
		// Never texted again: a later invitation (past the cap) is skipped.
		e.clock.Advance(31 * 24 * time.Hour)
		if r := e.invite(t, "09121234567", "sms"); r.Status != sms.ResultSkipped || r.Reason != sms.SkipInvalidNumber {
			t.Fatalf("later invitation %+v", r)
		}
		e.noNumbers(t, "09121234567")
	})
}

func TestSMSSenderPausesAndAlerts(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		a := e.invite(t, "09121234567", "sms")
		b := e.invite(t, "09121234568", "sms")
		e.fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Status: 418})
		s := e.sender(sms.SenderOptions{})
		e.runOnce(t, s)
		if s.Paused() == nil || s.Health(ctx) == nil || !strings.Contains(s.Health(ctx).Error(), "paused") {
			t.Fatalf("not paused: %v", s.Health(ctx))
		}
		if m := e.outbox(t, a.ID); m.State != survey.OutboxPaused {
			t.Fatalf("paused message %+v", m)
		}
		if m := e.outbox(t, b.ID); m.State != survey.OutboxPending {
			t.Fatalf("the rest stay queued: %+v", m)
		}
		alerts, err := e.store.Alerts(ctx, e.agency.ID, true)
		if err != nil || len(alerts) != 1 || alerts[0].Kind != sms.AlertSMSPaused {
			t.Fatalf("alerts %+v %v", alerts, err)
		}
		e.clock.Advance(time.Hour)
		if n := e.runOnce(t, s); n != 0 || len(e.fake.Sent()) != 0 {
			t.Fatal("a paused sender sends nothing")
		}
		// A restart (after the operator topped up the account) resumes.
		s2 := e.sender(sms.SenderOptions{})
		must(t, s2.Start(ctx))
		if n := e.runOnce(t, s2); n != 2 || len(e.fake.Sent()) != 2 || s2.Health(ctx) != nil {
			t.Fatalf("after restart: handled %d, sent %d, %v", n, len(e.fake.Sent()), s2.Health(ctx))
		}
	})
}

func TestSMSSenderConfigError(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		// A wrong key is found at start (account/info answers 403).
		bad, err := sms.NewKavenegar(sms.KavenegarConfig{APIKey: "WRONG", Sender: kavenegartest.Line, BaseURL: e.fake.URL(), Logger: e.log})
		must(t, err)
		s := e.senderOn(e.store, bad, sms.SenderOptions{})
		must(t, s.Start(ctx))
		if s.Health(ctx) == nil {
			t.Fatal("a wrong key must show in Health")
		}
		// A wrong sender line (412) shows at the first send; the message waits.
		a := e.invite(t, "09121234567", "sms")
		e.fake.FailNext(kavenegartest.Send, kavenegartest.Failure{Status: 412})
		s = e.sender(sms.SenderOptions{})
		must(t, s.Start(ctx))
		if s.Health(ctx) != nil {
			t.Fatalf("good configuration: %v", s.Health(ctx))
		}
		e.runOnce(t, s)
		if err := s.Health(ctx); err == nil || !strings.Contains(err.Error(), "configuration") {
			t.Fatalf("412 not reported: %v", err)
		}
		if m := e.outbox(t, a.ID); m.State != survey.OutboxPending || m.ErrorClass != "config" {
			t.Fatalf("message after 412: %+v", m)
		}
	})
}

func TestSMSSenderQuietHoursAndOptOut(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		e.clock.Set(time.Date(2026, 12, 1, 23, 0, 0, 0, survey.Tehran))
		a := e.invite(t, "09121234567", "sms")
		b := e.invite(t, "09121234568", "sms")
		if a.Status != sms.ResultHeld {
			t.Fatalf("at night: %+v", a)
		}
		// b's citizen opts out before the morning.
		must(t, e.store.SetOptOut(ctx, e.privacy.Hash("+989121234568"), []byte{0}, ptr(e.clock.Now()), e.clock.Now()))
		s := e.sender(sms.SenderOptions{})
		for _, at := range []time.Time{time.Date(2026, 12, 2, 1, 0, 0, 0, survey.Tehran), time.Date(2026, 12, 2, 7, 59, 0, 0, survey.Tehran)} {
			e.clock.Set(at)
			if n := e.runOnce(t, s); n != 0 {
				t.Fatalf("sent in quiet hours at %v", at)
			}
		}
		e.clock.Set(time.Date(2026, 12, 2, 8, 0, 0, 0, survey.Tehran))
		e.runOnce(t, s)
		if sent := e.fake.Sent(); len(sent) != 1 || sent[0].Receptor != "09121234567" {
			t.Fatalf("morning: %+v", sent)
		}
		if inv, _ := e.store.Invitation(ctx, b.ID); inv.Status != survey.InvitationSkipped || inv.SkipReason != sms.SkipOptedOut {
			t.Fatalf("opted out meanwhile: %+v", inv)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// crashingStore loses the record of a send: the process "dies" between the gateway's answer and
// the store's update.
type crashingStore struct {
	*sqlstore.Store
}

var errCrash = errors.New("crash")

func (crashingStore) OutboxSent(context.Context, survey.ID, string, int, int64, int, time.Time) error {
	return errCrash
}

func TestSMSSenderCrashBetweenSendAndRecord(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		a := e.invite(t, "09121234567", "sms")
		s := e.senderOn(crashingStore{e.store}, e.gw, sms.SenderOptions{Lease: time.Minute})
		if _, err := s.RunOnce(context.Background()); !errors.Is(err, errCrash) {
			t.Fatalf("run: %v", err)
		}
		if len(e.fake.Sent()) != 1 {
			t.Fatal("the fake must have accepted the send")
		}
		m := e.outbox(t, a.ID)
		if m.State != survey.OutboxSending || m.Attempts != 1 || m.MessageID != "" {
			t.Fatalf("after the crash: %+v", m)
		}
		// The restarted process waits out the claim's lease, then asks by local id: no second SMS.
		s2 := e.sender(sms.SenderOptions{Lease: time.Minute})
		must(t, s2.Start(context.Background()))
		if n := e.runOnce(t, s2); n != 0 {
			t.Fatal("taken within the lease")
		}
		e.clock.Advance(time.Minute)
		if n := e.runOnce(t, s2); n != 1 {
			t.Fatalf("handled %d after the lease", n)
		}
		sent := e.fake.Sent()
		m = e.outbox(t, a.ID)
		if len(sent) != 1 || m.State != survey.OutboxSent || m.MessageID != sent[0].MessageID || m.Attempts != 2 {
			t.Fatalf("after restart: sent %d, %+v", len(sent), m)
		}
		if e.fake.Calls(kavenegartest.Send) != 1 {
			t.Fatalf("the restart called send again (%d calls)", e.fake.Calls(kavenegartest.Send))
		}
	})
}

func TestSMSSenderThrottles(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		for i := range 5 {
			e.invite(t, "0912123456"+string(rune('0'+i)), "sms")
		}
		s := e.sender(sms.SenderOptions{Rate: 20})
		start := time.Now()
		if n := e.runOnce(t, s); n != 5 {
			t.Fatalf("handled %d", n)
		}
		// Five sends at 20 a second: the last waits four intervals (200 ms) after the first.
		if took := time.Since(start); took < 200*time.Millisecond || len(e.fake.Sent()) != 5 {
			t.Fatalf("5 sends at 20/s took %v", took)
		}
	})
}
