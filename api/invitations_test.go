package api_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// inviteEnv is the invitation API over the real store and the SMS channel's inviter.
type inviteEnv struct {
	*kioskEnv
	smsToken   string
	kioskToken string
}

func newInviteEnv(t *testing.T, store *sqlstore.Store) *inviteEnv {
	t.Helper()
	e := &inviteEnv{kioskEnv: newKioskEnv(t, store, 0)}
	ctx := context.Background()
	var err error
	if e.smsToken, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleIntegration, AgencyID: e.f.tax.ID,
		Channel: survey.ChannelSMS, Name: "queue system"}); err != nil {
		t.Fatal(err)
	}
	if e.kioskToken, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleIntegration, AgencyID: e.f.tax.ID,
		Channel: survey.ChannelKiosk}); err != nil {
		t.Fatal(err)
	}
	privacy, err := sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
	if err != nil {
		t.Fatal(err)
	}
	quiet, _ := sms.ParseQuietHours(sms.DefaultQuietHours)
	// The inviter and the server log into one buffer, so the test greps both.
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inv := sms.NewInviter(store, privacy, sms.InviteRules{Quiet: quiet}, e.clock, log)
	e.harness = start(t, api.Deps{Catalog: store, Auth: store, Invitations: inv, Logger: log})
	e.logs = logs
	return e
}

type inviteReply struct {
	Results []struct {
		Index  int                `json:"index"`
		ID     survey.ID          `json:"id"`
		Status string             `json:"status"`
		Reason string             `json:"reason"`
		Error  *survey.FieldError `json:"error"`
	} `json:"results"`
}

// outcome is "status/reason-or-error-code" per item, comma-separated.
func (r inviteReply) outcome() string {
	var parts []string
	for i, x := range r.Results {
		s := x.Status
		switch {
		case x.Error != nil:
			s += "/" + x.Error.Code
		case x.Reason != "":
			s += "/" + x.Reason
		}
		if x.Index != i || (x.ID == 0) != (x.Status == sms.ResultRejected) {
			s += "!"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func (e *inviteEnv) invite(t *testing.T, token string, body any) inviteReply {
	t.Helper()
	var r inviteReply
	e.send(t, "POST", "/api/v1/invitations", token, body).wantStatus(t, 200).json(t, &r)
	return r
}

func TestInvitationsAPI(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newInviteEnv(t, store)
		visit := kioskNow.Add(-time.Hour).Format(time.RFC3339)
		item := func(phone string, office survey.ID, visited string) map[string]any {
			return map[string]any{"phone": phone, "office_id": office, "visited_at": visited}
		}
		r := e.invite(t, e.smsToken, map[string]any{"items": []any{
			item("0912 123 4567", e.f.office.ID, visit),
			item("۰۹۱۲۷۶۵۴۳۲۱", e.f.office.ID, "۲۰۲۶-۱۲-۰۱ ۰۹:۳۰"),
			item("+989121234567", e.f.office.ID, visit), // the first number again: the cap
			item("12345", e.f.office.ID, visit),
			item("09130000000", e.regOffice.ID, visit), // another agency's office
			item("09130000001", e.f.office.ID, kioskNow.Add(time.Hour).Format(time.RFC3339)),
			item("09130000002", e.f.office.ID, kioskNow.Add(-49*time.Hour).Format(time.RFC3339)),
			map[string]any{"phone": "09130000003", "office_id": e.f.office.ID, "visited_at": visit, "via": "fax"},
			map[string]any{"phone": "09130000004", "office_id": e.f.office.ID, "visited_at": "yesterday"},
			map[string]any{"phone": "09130000005", "office_id": e.f.office.ID, "visited_at": visit, "via": "link", "service": "پرونده"},
		}})
		want := "queued,queued,skipped/frequency_cap,rejected/invalid_phone,rejected/unknown_office,rejected/visit_in_future," +
			"skipped/too_old,rejected/invalid_via,rejected/invalid_visited_at,queued"
		if got := r.outcome(); got != want {
			t.Fatalf("results\n got %s\nwant %s", got, want)
		}
		stored, err := store.Invitation(context.Background(), r.Results[9].ID)
		if err != nil || stored.Via != "link" || stored.Service != "پرونده" || stored.AgencyID != e.f.tax.ID || !stored.ExpiresAt.Equal(kioskNow.Add(72*time.Hour)) {
			t.Fatalf("stored %+v, %v", stored, err)
		}

		// The single form; at night it is held until 08:00 Tehran.
		e.clock.Set(time.Date(2026, 12, 1, 23, 0, 0, 0, survey.Tehran))
		r = e.invite(t, e.taxAdmin, item("09141111111", e.f.office.ID, kioskNow.Format(time.RFC3339)))
		if r.outcome() != "held" {
			t.Fatalf("night: %s", r.outcome())
		}
		held, _ := store.Invitation(context.Background(), r.Results[0].ID)
		if held.SendAfter == nil || !held.SendAfter.Equal(time.Date(2026, 12, 2, 8, 0, 0, 0, survey.Tehran)) {
			t.Fatalf("held until %v", held.SendAfter)
		}

		// Who may not invite: no token, a kiosk integration, agency staff (viewers), another
		// agency's admin (for this office: rejected per item).
		e.send(t, "POST", "/api/v1/invitations", "", item("09141111112", e.f.office.ID, visit)).envelope(t, 401, "unauthorized")
		e.send(t, "POST", "/api/v1/invitations", e.kioskToken, item("09141111112", e.f.office.ID, visit)).envelope(t, 403, "forbidden")
		e.send(t, "POST", "/api/v1/invitations", e.f.taxStaff, item("09141111112", e.f.office.ID, visit)).envelope(t, 403, "forbidden")
		if r = e.invite(t, e.regAdmin, item("09141111112", e.f.office.ID, visit)); r.outcome() != "rejected/unknown_office" {
			t.Fatalf("another agency's admin: %s", r.outcome())
		}
		// Bounds and bad bodies.
		e.send(t, "POST", "/api/v1/invitations", e.smsToken, map[string]any{"items": []any{}}).envelope(t, 422, "invalid")
		many := make([]any, sms.MaxInviteItems+1)
		for i := range many {
			many[i] = item("0912", 1, visit)
		}
		e.send(t, "POST", "/api/v1/invitations", e.smsToken, map[string]any{"items": many}).envelope(t, 422, "invalid")
		e.send(t, "POST", "/api/v1/invitations", e.smsToken, `{"phone":"0912","extra":1}`).wantStatus(t, 400)
		e.send(t, "POST", "/api/v1/invitations", e.smsToken, `[1]`).wantStatus(t, 400)

		// CSV: columns in any order, Persian digits, a byte-order mark; an unreadable office.
		csvBody := "\ufeffvisited_at,phone,office_id,service\n" +
			"۲۰۲۶-۱۲-۰۱ ۲۲:۱۰,۰۹۱۵۱۱۱۲۲۲۲,۱,تمدید\n" +
			visit + ",09151112223,x,\n" +
			visit + ",bad," + "1" + ",\n"
		csvBody = strings.Replace(csvBody, ",۱,", ","+persianID(e.f.office.ID)+",", 1)
		var cr inviteReply
		e.request(t, "POST", "/api/v1/invitations.csv", e.smsToken, "text/csv; charset=utf-8", csvBody).wantStatus(t, 200).json(t, &cr)
		if got := cr.outcome(); got != "held,rejected/unknown_office,rejected/invalid_phone" {
			t.Fatalf("csv: %s", got)
		}
		e.request(t, "POST", "/api/v1/invitations.csv", e.smsToken, "text/csv", "phone,visited_at\n0912,x\n").envelope(t, 422, "invalid")
		e.request(t, "POST", "/api/v1/invitations.csv", e.smsToken, "application/json", "{}").wantStatus(t, 415)

		// No number appears in the logs, in any form.
		logs := e.logs.String()
		for _, digits := range []string{"1234567", "7654321", "1111111", "1112222", "1112223", "0000001", "۱۲۳۴۵۶۷"} {
			if strings.Contains(logs, digits) {
				t.Fatalf("a phone number reached the logs:\n%s", logs)
			}
		}
		if !strings.Contains(logs, "invitation recorded") {
			t.Fatalf("the inviter's logs were not captured:\n%s", logs)
		}
	})
}

// persianID writes an id in Persian digits.
func persianID(id survey.ID) string {
	return strings.Map(func(r rune) rune { return '۰' + r - '0' }, strconv.FormatInt(int64(id), 10))
}
