package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

type statusPushReply struct {
	Status  string `json:"status"`
	Changed bool   `json:"changed"`
}

// statusPush posts one delivery status to the status push, as a form or as JSON.
func (e *replyEnv) statusPush(t *testing.T, secret string, asJSON bool, fields map[string]string) reply {
	t.Helper()
	path := "/api/v1/sms/kavenegar/status/" + secret
	if asJSON {
		b, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return e.request(t, "POST", path, "", "application/json", string(b))
	}
	v := url.Values{}
	for k, x := range fields {
		v.Set(k, x)
	}
	return e.request(t, "POST", path, "", "application/x-www-form-urlencoded", v.Encode())
}

// funnelToday is today's funnel totals of the tax agency.
func (e *replyEnv) funnelToday(t *testing.T) analytics.FunnelCounts {
	t.Helper()
	today := analytics.FormatJalali(e.clock.Now())
	var f analytics.Funnel
	e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel?from="+today+"&to="+today, e.f.taxStaff, nil).
		wantStatus(t, 200).json(t, &f)
	return f.Totals
}

func TestSMSStatusPush(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newReplyEnv(t, store, webhookSecret)
		ctx := context.Background()
		a := e.inviteSent(t, "09121111111")
		b := e.inviteSent(t, "09122222222")
		msg := func(inv survey.ID) string {
			ms, err := store.RecentOutbox(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.InvitationID == inv {
					return m.MessageID
				}
			}
			t.Fatalf("no message for invitation %d", inv)
			return ""
		}
		if c := e.funnelToday(t); c.Sent != 2 || c.Delivered != 0 {
			t.Fatalf("before: %+v", c)
		}

		// A wrong or extended secret is a plain 404 and changes nothing.
		e.statusPush(t, "wrong-secret-wrong-secret-000000", false, map[string]string{"messageid": msg(a), "status": "10"}).wantStatus(t, 404)
		e.statusPush(t, webhookSecret+"x", true, map[string]string{"messageid": msg(a), "status": "10"}).wantStatus(t, 404)
		if inv, _ := store.Invitation(ctx, a); inv.Status != survey.InvitationSent {
			t.Fatalf("a wrong secret moved %+v", inv)
		}

		// Delivered by a form push with names in any case; the same push again changes nothing.
		var r statusPushReply
		e.statusPush(t, webhookSecret, false, map[string]string{"MessageId": msg(a), "Status": "10"}).wantStatus(t, 200).json(t, &r)
		if !r.Changed {
			t.Fatalf("first push: %+v", r)
		}
		e.statusPush(t, webhookSecret, false, map[string]string{"messageid": msg(a), "status": "10"}).wantStatus(t, 200).json(t, &r)
		if r.Changed {
			t.Fatal("a repeated push changed something")
		}
		// Blocked by a JSON push (a numeric status): failed with its class, refunded.
		e.statusPush(t, webhookSecret, true, map[string]string{"MESSAGEID": msg(b), "status": "14"}).wantStatus(t, 200).json(t, &r)
		if !r.Changed {
			t.Fatal("json push ignored")
		}
		// A late report for a settled message, and an unknown id: 200, ignored.
		e.statusPush(t, webhookSecret, true, map[string]string{"messageid": msg(a), "status": "11"}).wantStatus(t, 200)
		e.statusPush(t, webhookSecret, false, map[string]string{"messageid": "424242", "status": "10"}).wantStatus(t, 200).json(t, &r)
		if r.Changed {
			t.Fatal("an unknown id changed something")
		}
		// Without messageid or a numeric status it is bad input.
		e.statusPush(t, webhookSecret, false, map[string]string{"status": "10"}).envelope(t, 422, "invalid")
		e.statusPush(t, webhookSecret, false, map[string]string{"messageid": msg(a), "status": "delivered"}).envelope(t, 422, "invalid")

		if inv, _ := store.Invitation(ctx, a); inv.Status != survey.InvitationDelivered {
			t.Fatalf("delivered invitation %+v", inv)
		}
		if inv, _ := store.Invitation(ctx, b); inv.Status != survey.InvitationFailed {
			t.Fatalf("blocked invitation %+v", inv)
		}
		c := e.funnelToday(t)
		if c.Sent != 2 || c.Delivered != 1 || c.Failed["blocked"] != 1 || c.Cost != 120 {
			t.Fatalf("funnel after the pushes: %+v", c)
		}
	})
}

func TestSMSStatusPushWithoutSecret(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newReplyEnv(t, store, "")
		for _, s := range []string{"", "x", webhookSecret} {
			e.statusPush(t, s, false, map[string]string{"messageid": "1", "status": "10"}).wantStatus(t, 404)
		}
	})
}
