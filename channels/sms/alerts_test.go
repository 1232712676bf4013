package sms_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// New alerts reach the agency's admins who set an alert number — nobody else — once each, at
// most the cap a day per person, and never while resolved.
func TestAlertNotifier(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		other := survey.Agency{ProvinceID: e.agency.ProvinceID, Name: "ادارهٔ دیگر"}
		must(t, e.store.CreateAgency(ctx, &other))
		accounts := staff.New(e.store, staff.Options{Secret: []byte(strings.Repeat("k", 32)), Clock: e.clock})
		cli := survey.Principal{Role: survey.RoleProvinceAdmin, Name: "test"}
		person := func(login string, role survey.Role, agency survey.ID) survey.Principal {
			u, _, err := accounts.CreateUser(ctx, cli, staff.NewUser{Login: login, Name: login, Role: role, AgencyID: agency})
			must(t, err)
			return survey.Principal{Role: role, AgencyID: agency, UserID: u.ID}
		}
		admin := person("admin1", survey.RoleAgencyAdmin, e.agency.ID)
		viewer := person("viewer1", survey.RoleAgencyStaff, e.agency.ID)
		otherAdmin := person("admin2", survey.RoleAgencyAdmin, other.ID)
		silent := person("admin3", survey.RoleAgencyAdmin, e.agency.ID) // no number
		_ = silent
		phones := sms.NewAlertPhones(e.store, e.privacy, e.clock)
		for p, phone := range map[survey.Principal]string{admin: "۰۹۱۲ ۱۱۱ ۲۲۳۳", viewer: "09122223344", otherAdmin: "+98 913 333 4455"} {
			masked, err := phones.Set(ctx, p, phone)
			if err != nil || !strings.Contains(masked, "***") {
				t.Fatalf("set %v: %q, %v", p.UserID, masked, err)
			}
		}
		if got, err := phones.Get(ctx, admin); err != nil || got != "0912***2233" {
			t.Fatalf("get: %q, %v", got, err)
		}
		if _, err := phones.Set(ctx, admin, "021 1234 5678"); survey.ErrorCode(err) != survey.ECodeInvalid {
			t.Fatalf("a landline: %v", err)
		}
		if _, err := phones.Set(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.agency.ID}, "09121112233"); survey.ErrorCode(err) != survey.ECodeForbidden {
			t.Fatalf("a token: %v", err)
		}

		open := func(kind, subject, detail string) {
			t.Helper()
			if _, err := e.store.OpenAlert(ctx, survey.Alert{Kind: kind, AgencyID: e.agency.ID, Subject: subject, OpenedAt: e.clock.Now(), Detail: detail}); err != nil {
				t.Fatal(err)
			}
		}
		open("score_drop", "office:1", `{"office_name":"دفتر مرکزی"}`)
		n := sms.NewAlertNotifier(e.store, e.clock, e.log)
		if q, err := n.RunOnce(ctx); err != nil || q != 1 {
			t.Fatalf("first run queued %d, %v", q, err)
		}
		if q, err := n.RunOnce(ctx); err != nil || q != 0 {
			t.Fatalf("second run queued %d, %v", q, err)
		}
		msgs, err := e.store.RecentOutbox(ctx, 50)
		must(t, err)
		if len(msgs) != 1 || msgs[0].PhoneHash != e.privacy.Hash("+989121112233") || !strings.Contains(msgs[0].Text, "افت معنادار رضایت در دفتر مرکزی") ||
			!strings.HasSuffix(msgs[0].Text, sms.OptOutFooter) {
			t.Fatalf("outbox %+v", msgs)
		}
		if p, _ := sms.Parts(msgs[0].Text); p > sms.MaxParts {
			t.Fatalf("%d parts", p)
		}
		// A resolved alert is not sent; a flood is capped at AlertCap a day per person.
		open("kiosk_silent", "kiosk:9", "")
		if _, err := e.store.ResolveAlerts(ctx, "kiosk_silent", "kiosk:9", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			open("share_unhappy", fmt.Sprintf("office:%d", 10+i), "")
		}
		if q, err := n.RunOnce(ctx); err != nil || q != sms.AlertCap-1 {
			t.Fatalf("flood queued %d, %v; want %d", q, err, sms.AlertCap-1)
		}
		// A day later the cap has room again.
		e.clock.Advance(25 * time.Hour)
		open("score_below", "office:1", "")
		if q, err := n.RunOnce(ctx); err != nil || q != 1 {
			t.Fatalf("next day queued %d, %v", q, err)
		}
		if strings.Contains(e.logs.String(), "1112233") || strings.Contains(e.logs.String(), "3334455") {
			t.Fatal("a number in the logs")
		}
	})
}
