package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// TestFunnel counts invitations in different states over real HTTP on both dialects: one answered
// by SMS, one by its link, one opted out, one failed, one skipped and one still queued.
func TestFunnel(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newReplyEnv(t, store, webhookSecret)
		ctx := context.Background()

		e.inviteSent(t, "09121111111")
		if in, _ := e.reply(t, map[string]string{"from": "09121111111", "message": "۵ عالی بود", "messageid": "f1"}); in.Outcome != survey.InboundScored {
			t.Fatalf("sms answer: %s", in.Outcome)
		}
		link := e.inviteSent(t, "09122222222")
		if err := store.LinkAnswered(ctx, link, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := store.LinkAnswered(ctx, link, e.clock.Now()); err != nil { // a second answer changes nothing
			t.Fatal(err)
		}
		e.inviteSent(t, "09123333333")
		e.reply(t, map[string]string{"from": "09123333333", "message": "لغو", "messageid": "f3"})

		var r inviteReply
		e.send(t, "POST", "/api/v1/invitations", e.smsToken, map[string]any{"items": []map[string]any{
			{"phone": "09124444444", "office_id": e.f.office.ID, "visited_at": e.clock.Now().Add(-time.Hour).Format(time.RFC3339)},
			{"phone": "09123333333", "office_id": e.f.office.ID, "visited_at": e.clock.Now().Add(-time.Hour).Format(time.RFC3339)},
			{"phone": "09125555555", "office_id": e.f.office.ID, "visited_at": e.clock.Now().Add(-time.Hour).Format(time.RFC3339)},
		}}).wantStatus(t, 200).json(t, &r)
		if got := r.outcome(); got != "queued,skipped/opted_out,queued" {
			t.Fatalf("invitations: %s", got)
		}
		due, err := store.DueOutbox(ctx, e.clock.Now().Add(time.Minute), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range due {
			if m.InvitationID == r.Results[0].ID {
				if err := store.FailOutbox(ctx, m.ID, "invalid_number", true, e.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
		}

		today := analytics.FormatJalali(e.clock.Now())
		var f analytics.Funnel
		e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel?from="+today+"&to="+today, e.f.taxStaff, nil).
			wantStatus(t, 200).json(t, &f)
		if f.AgencyID != e.f.tax.ID || f.From != "2026-12-01" || f.To != "2026-12-01" || len(f.Days) != 1 {
			t.Fatalf("funnel: %+v", f)
		}
		d := f.Days[0]
		if d.Day != "2026-12-01" || d.DayJalali != "1405-09-10" || d.OfficeID != e.f.office.ID {
			t.Fatalf("day: %+v", d)
		}
		c := d.FunnelCounts
		if c.Invitations != 6 || c.Held != 0 || c.Skipped["opted_out"] != 1 || len(c.Skipped) != 1 || c.Sent != 3 ||
			c.Failed["invalid_number"] != 1 || len(c.Failed) != 1 || c.AnsweredSMS != 1 || c.AnsweredLink != 1 ||
			c.OptOuts != 1 || c.Parts != 6 || c.Cost != 360 {
			t.Fatalf("counts: %+v", c)
		}
		if f.Totals.Invitations != 6 || f.Totals.AnsweredSMS != 1 {
			t.Fatalf("totals: %+v", f.Totals)
		}

		// Another day (ISO) is empty; a bad date, from after to, another agency and no token are refused.
		var empty analytics.Funnel
		e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel?from=2026-11-01&to=2026-11-30", e.f.province, nil).
			wantStatus(t, 200).json(t, &empty)
		if len(empty.Days) != 0 || empty.Totals.Invitations != 0 {
			t.Fatalf("November: %+v", empty)
		}
		e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel?from=1405-13-01", e.f.taxStaff, nil).envelope(t, 422, "invalid")
		e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel?from=2026-12-02&to=2026-12-01", e.f.taxStaff, nil).envelope(t, 422, "invalid")
		e.send(t, "GET", "/api/v1/agencies/"+e.f.registry.ID.String()+"/funnel", e.f.taxStaff, nil).envelope(t, 404, "not_found")
		e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel", "", nil).wantStatus(t, 401)
		if body := e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/funnel", e.f.taxStaff, nil).body; strings.Contains(string(body), "0912") {
			t.Fatalf("a number in the funnel: %s", body)
		}

		// Staff see the replies to their invitations with masked numbers, never in full.
		path := "/api/v1/agencies/" + e.f.tax.ID.String() + "/sms/inbound?from=" + today + "&to=2026-12-01"
		raw := e.send(t, "GET", path, e.f.taxStaff, nil).wantStatus(t, 200)
		for _, full := range []string{"09121111111", "9121111111", "+98912"} {
			if strings.Contains(string(raw.body), full) {
				t.Fatalf("a full number in %s", raw.body)
			}
		}
		var ib struct{ Messages []sms.StaffInbound }
		raw.json(t, &ib)
		if len(ib.Messages) != 1 || ib.Messages[0].Phone != "0912***1111" || ib.Messages[0].Text != "۵ عالی بود" ||
			ib.Messages[0].Kind != "rating" || ib.Messages[0].Outcome != "scored" || !strings.Contains(ib.Messages[0].ReceivedJalali, "آذر ۱۴۰۵") {
			t.Fatalf("inbound: %s", raw.body)
		}
		e.send(t, "GET", "/api/v1/agencies/"+e.f.registry.ID.String()+"/sms/inbound", e.f.taxStaff, nil).envelope(t, 404, "not_found")
		var other struct{ Messages []any }
		e.send(t, "GET", "/api/v1/agencies/"+e.f.tax.ID.String()+"/sms/inbound?from=2026-11-01&to=2026-11-30", e.f.taxStaff, nil).
			wantStatus(t, 200).json(t, &other)
		if len(other.Messages) != 0 {
			t.Fatalf("November replies: %+v", other)
		}
	})
}
