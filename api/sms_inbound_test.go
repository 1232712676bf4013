package api_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

const webhookSecret = "a-long-webhook-secret-0123456789"

// replyEnv is the invitation API and Kavenegar's push over the real store, intake and the SMS
// channel's inbox (its processing loop running).
type replyEnv struct {
	*kioskEnv
	smsToken string
	inbox    *sms.Inbox
	privacy  *sms.Privacy
}

func newReplyEnv(t *testing.T, store *sqlstore.Store, secret string) *replyEnv {
	t.Helper()
	e := &replyEnv{kioskEnv: newKioskEnv(t, store, 0)}
	ctx := context.Background()
	var err error
	if e.smsToken, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleIntegration, AgencyID: e.f.tax.ID,
		Channel: survey.ChannelSMS, Name: "queue system"}); err != nil {
		t.Fatal(err)
	}
	if e.privacy, err = sms.NewPrivacy([]byte(strings.Repeat("s", 40))); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inv := sms.NewInviter(store, e.privacy, sms.InviteRules{}, e.clock, log)
	in := intake.New(store, store.Inbox(), nil, intake.Options{Stored: store, Clock: e.clock, Logger: log})
	t.Cleanup(in.Close)
	e.inbox = sms.NewInbox(store, in, e.privacy, sms.InboxOptions{Poll: 20 * time.Millisecond, Clock: e.clock, Logger: log})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.inbox.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	e.harness = start(t, api.Deps{Catalog: store, Auth: store, Invitations: inv, Intake: in,
		Scores: analytics.NewScores(store, store), SMSInbox: e.inbox, SMSWebhookSecret: secret,
		SMSDeliveries: sms.NewDeliveries(store, nil, e.clock, log),
		DevSMS:        sms.NewDev(store, e.privacy), Funnel: store,
		SMSReplies: sms.NewStaff(store, e.privacy), Logger: log})
	e.logs = logs
	return e
}

// inviteSent records an invitation for phone at the tax office and marks its SMS sent, as the
// sender would; it returns the invitation's id.
func (e *replyEnv) inviteSent(t *testing.T, phone string) survey.ID {
	t.Helper()
	var r inviteReply
	e.send(t, "POST", "/api/v1/invitations", e.smsToken, map[string]any{"phone": phone, "office_id": e.f.office.ID,
		"visited_at": e.clock.Now().Add(-time.Hour).Format(time.RFC3339)}).wantStatus(t, 200).json(t, &r)
	if len(r.Results) != 1 || r.Results[0].Status != "queued" {
		t.Fatalf("invitation: %+v", r)
	}
	ctx := context.Background()
	due, err := e.store.DueOutbox(ctx, e.clock.Now().Add(time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range due {
		if m.InvitationID == r.Results[0].ID {
			if err := e.store.OutboxSent(ctx, m.ID, "m"+m.LocalID, 1, 120, 2, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r.Results[0].ID
}

// push posts one reply to the webhook as a form, the way Kavenegar does.
func (e *replyEnv) push(t *testing.T, secret string, fields map[string]string) reply {
	t.Helper()
	v := url.Values{}
	for k, x := range fields {
		v.Set(k, x)
	}
	return e.request(t, "POST", "/api/v1/sms/kavenegar/inbound/"+secret, "", "application/x-www-form-urlencoded", v.Encode())
}

// processed waits until the inbound message id is processed and returns it.
func (e *replyEnv) processed(t *testing.T, id survey.ID) survey.SMSInbound {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, err := e.store.InboundMessage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if in.ProcessedAt != nil {
			return in
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbound %d not processed in time", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type pushReply struct {
	ID        survey.ID `json:"id"`
	Duplicate bool      `json:"duplicate"`
}

func (e *replyEnv) reply(t *testing.T, fields map[string]string) (survey.SMSInbound, bool) {
	t.Helper()
	var pr pushReply
	e.push(t, webhookSecret, fields).wantStatus(t, 200).json(t, &pr)
	return e.processed(t, pr.ID), pr.Duplicate
}

func TestSMSInboundPush(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newReplyEnv(t, store, webhookSecret)
		ctx := context.Background()
		const phone = "09121234567"

		// A wrong secret, or none, is a plain 404 and stores nothing.
		e.push(t, "wrong-secret-wrong-secret-000000", map[string]string{"from": phone, "message": "5"}).wantStatus(t, 404)
		e.push(t, webhookSecret+"x", map[string]string{"from": phone, "message": "5"}).wantStatus(t, 404)
		if got, _ := store.RecentInbound(ctx, 10); len(got) != 0 {
			t.Fatalf("a refused push stored %d messages", len(got))
		}
		e.push(t, webhookSecret, map[string]string{"message": "5"}).envelope(t, 422, "invalid")

		// A reply without an invitation is kept as a comment.
		in, _ := e.reply(t, map[string]string{"from": phone, "message": "عالی بود", "messageid": "100"})
		if in.Outcome != survey.InboundNoInvitation || in.Comment != "عالی بود" || in.ResponseID != "" {
			t.Fatalf("no invitation: %+v", in)
		}

		// Invited, then a rating (field names in any case, Persian digit): one response, origin sms.
		invID := e.inviteSent(t, phone)
		in, dup := e.reply(t, map[string]string{"From": "+989121234567", "MESSAGE": "۲ خیلی معطل شدم", "MessageId": "101", "to": "10004346"})
		if dup || in.Outcome != survey.InboundScored || in.Rating != 2 || in.InvitationID != invID || in.Comment != "خیلی معطل شدم" ||
			in.Line != "10004346" || !survey.ValidUUID(in.ResponseID) {
			t.Fatalf("scored: dup %v, %+v", dup, in)
		}
		// The same push again: the same row, no second response.
		var pr pushReply
		e.push(t, webhookSecret, map[string]string{"from": phone, "message": "۲ خیلی معطل شدم", "messageid": "101"}).
			wantStatus(t, 200).json(t, &pr)
		if !pr.Duplicate || pr.ID != in.ID {
			t.Fatalf("repeated push: %+v, want duplicate of %d", pr, in.ID)
		}
		// A second rating for the answered invitation is a comment.
		in2, _ := e.reply(t, map[string]string{"from": phone, "message": "5", "messageid": "102"})
		if in2.Outcome != survey.InboundAnsweredBefore || in2.ResponseID != "" {
			t.Fatalf("second rating: %+v", in2)
		}
		e.drain(t)
		var bySMS []survey.Response
		for _, r := range e.responses {
			if r.Channel == survey.ChannelSMS {
				bySMS = append(bySMS, r)
			}
		}
		if len(bySMS) != 1 || bySMS[0].ID != in.ResponseID || bySMS[0].OfficeID != e.f.office.ID || len(bySMS[0].Answers) != 1 ||
			bySMS[0].Answers[0].QuestionID != "q1" || bySMS[0].Answers[0].Number == nil || *bySMS[0].Answers[0].Number != 2 {
			t.Fatalf("sms responses: %+v", bySMS)
		}

		// Processing the same message again (a crash before its outcome was recorded) submits the
		// same response id: intake answers it as a resend, nothing new is buffered.
		if _, err := e.inbox.ProcessPending(ctx); err != nil {
			t.Fatal(err)
		}

		// Ambiguous: one clarifying SMS per invitation, never two.
		other := "09351112233"
		inv2 := e.inviteSent(t, other)
		a1, _ := e.reply(t, map[string]string{"from": other, "message": "5 و 2"})
		e.clock.Advance(2 * time.Minute) // no message id: the minute is part of the dedupe key
		a2, _ := e.reply(t, map[string]string{"from": other, "message": "5 و 2"})
		if a1.Outcome != survey.InboundClarify || a2.Outcome != survey.InboundAmbiguous || a1.InvitationID != inv2 || a1.ID == a2.ID {
			t.Fatalf("ambiguous: %+v / %+v", a1, a2)
		}
		due, err := store.DueOutbox(ctx, e.clock.Now().Add(time.Minute), 100)
		if err != nil {
			t.Fatal(err)
		}
		clarify := 0
		for _, m := range due {
			if m.Text == sms.ClarifyText && m.PhoneHash == e.privacy.Hash("+989351112233") {
				clarify++
			}
		}
		if clarify != 1 {
			t.Fatalf("%d clarifying SMS queued, want 1", clarify)
		}
		// Then a clear rating still counts.
		if s, _ := e.reply(t, map[string]string{"from": other, "message": "4"}); s.Outcome != survey.InboundScored || s.Rating != 4 {
			t.Fatalf("after clarification: %+v", s)
		}

		// Late: after the reply window the rating is a comment.
		late := "09190001122"
		e.inviteSent(t, late)
		e.clock.Advance(sms.DefaultReplyWindow + time.Minute)
		if s, _ := e.reply(t, map[string]string{"from": late, "message": "5"}); s.Outcome != survey.InboundLate || s.Comment != "5" {
			t.Fatalf("late: %+v", s)
		}

		// Opt-out, then a new invitation is skipped; 12 re-subscribes.
		if s, _ := e.reply(t, map[string]string{"from": late, "message": "لغو"}); s.Outcome != survey.InboundOptedOut {
			t.Fatalf("opt-out: %+v", s)
		}
		e.clock.Advance(31 * 24 * time.Hour) // past the frequency cap
		var r inviteReply
		e.send(t, "POST", "/api/v1/invitations", e.smsToken, map[string]any{"phone": late, "office_id": e.f.office.ID,
			"visited_at": e.clock.Now().Format(time.RFC3339)}).wantStatus(t, 200).json(t, &r)
		if r.outcome() != "skipped/opted_out" {
			t.Fatalf("after opt-out: %s", r.outcome())
		}
		if s, _ := e.reply(t, map[string]string{"from": late, "message": "۱۲"}); s.Outcome != survey.InboundResubscribed {
			t.Fatalf("resubscribe: %+v", s)
		}
		if p, err := store.SMSPhone(ctx, e.privacy.Hash("+989190001122")); err != nil || p.OptedOutAt != nil {
			t.Fatalf("after 12: %+v, %v", p, err)
		}

		// JSON bodies are read too.
		var jr pushReply
		e.request(t, "POST", "/api/v1/sms/kavenegar/inbound/"+webhookSecret, "", "application/json",
			`{"From":"09121234567","Message":"سلام","MessageID":555}`).wantStatus(t, 200).json(t, &jr)
		if m := e.processed(t, jr.ID); m.MessageID != "555" || m.Outcome != survey.InboundLate {
			t.Fatalf("json push: %+v", m)
		}

		// No number in any log line.
		for _, p := range []string{"9121234567", "9351112233", "9190001122"} {
			if strings.Contains(e.logs.String(), p) {
				t.Fatalf("a phone number is in the logs:\n%s", e.logs.String())
			}
		}
	})
}

func TestSMSInboundPushWithoutSecret(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newReplyEnv(t, store, "")
		for _, s := range []string{"", "x", webhookSecret} {
			e.push(t, s, map[string]string{"from": "09121234567", "message": "5"}).wantStatus(t, 404)
		}
	})
}

func TestDevSMSPage(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newReplyEnv(t, store, "")
		e.inviteSent(t, "09121234567")
		page := e.get(t, "/dev/sms", "").wantStatus(t, 200)
		if !strings.Contains(string(page.body), "0912***4567") || !strings.Contains(string(page.body), "پیامک‌های فرستاده") {
			t.Fatalf("page:\n%s", page.body)
		}
		form := url.Values{"from": {"۰۹۱۲ ۱۲۳ ۴۵۶۷"}, "message": {"۵"}}
		r := e.request(t, "POST", "/dev/sms", "", "application/x-www-form-urlencoded", form.Encode())
		if r.status != 200 || !strings.Contains(string(r.body), "data-incoming") { // 303 to the page, followed
			t.Fatalf("reply: %d %s", r.status, r.body)
		}
		e.request(t, "POST", "/dev/sms", "", "application/x-www-form-urlencoded", url.Values{"from": {"123"}, "message": {"5"}}.Encode()).
			envelope(t, 422, "invalid")
		all, err := store.RecentInbound(context.Background(), 5)
		if err != nil || len(all) != 1 {
			t.Fatalf("inbound: %d, %v", len(all), err)
		}
		if in := e.processed(t, all[0].ID); in.Outcome != survey.InboundScored || in.Rating != 5 {
			t.Fatalf("simulated reply: %+v", in)
		}
		page = e.get(t, "/dev/sms", "").wantStatus(t, 200)
		if !strings.Contains(string(page.body), string(survey.InboundScored)) || strings.Contains(string(page.body), "9121234567") {
			t.Fatalf("page after the reply:\n%s", page.body)
		}
		// Without the development view (PostgreSQL, Redis) there is no such page.
		h := start(t, api.Deps{Catalog: store, Auth: store, SMSInbox: e.inbox})
		h.get(t, "/dev/sms", "").wantStatus(t, 404)
	})
}
