package sms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// foldDays folds n citizens a day rating the headline v on each Tehran day from..to (inclusive).
func foldDays(t *testing.T, e *sendEnv, agency, office survey.ID, from, to time.Time, n, v int) {
	t.Helper()
	var rs []survey.Response
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		for i := range n {
			val := v
			if i%3 == 0 { // some spread, for an interval
				val = max(1, v-1)
			}
			at := time.Date(day.Year(), day.Month(), day.Day(), 9, i%60, 0, 0, survey.Tehran).UTC()
			rs = append(rs, survey.Response{ID: uuid.New().String(), AgencyID: agency, OfficeID: office, SurveyID: 1,
				SurveyVersion: 1, Channel: survey.ChannelKiosk, Source: "test", SubmittedAt: at, ReceivedAt: at,
				Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &val, Headline: true}}})
		}
	}
	if _, err := e.store.Fold(context.Background(), rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
}

// The weekly digest goes out on Saturday from 08:00 Tehran (not at 07:59, not after the day's
// window), one SMS to each person with an alert number — the agency's people their agency's
// index with interval, n and movement, province staff the province summary — none to someone
// without a number, not again on a second run or from a second sender (a restart, another
// replica); each fits its two parts and reaches the fake Kavenegar once. The monthly digest goes
// out on the 1st of the Jalali month.
func TestDigestSender(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		other := survey.Agency{ProvinceID: e.agency.ProvinceID, Name: "ادارهٔ کل راه و شهرسازی"}
		must(t, e.store.CreateAgency(ctx, &other))
		otherOffice := survey.Office{AgencyID: other.ID, Name: "دفتر راه"}
		must(t, e.store.CreateOffice(ctx, &otherOffice))
		accounts := staff.New(e.store, staff.Options{Secret: []byte(strings.Repeat("k", 32)), Clock: e.clock})
		cli := survey.Principal{Role: survey.RoleProvinceAdmin, Name: "test"}
		person := func(login string, role survey.Role, agency survey.ID) survey.Principal {
			u, _, err := accounts.CreateUser(ctx, cli, staff.NewUser{Login: login, Name: login, Role: role, AgencyID: agency})
			must(t, err)
			return survey.Principal{Role: role, AgencyID: agency, UserID: u.ID}
		}
		admin := person("admin1", survey.RoleAgencyAdmin, e.agency.ID)
		viewer := person("viewer1", survey.RoleAgencyStaff, e.agency.ID)
		prov := person("prov1", survey.RoleProvinceStaff, 0)
		person("silent1", survey.RoleAgencyAdmin, e.agency.ID) // no number: no digest
		phones := sms.NewAlertPhones(e.store, e.privacy, e.clock)
		for p, phone := range map[survey.Principal]string{admin: "09121112233", viewer: "09122223344", prov: "09133334455"} {
			if _, err := phones.Set(ctx, p, phone); err != nil {
				t.Fatal(err)
			}
		}

		// Saturday 7 Azar 1405 (28 Nov 2026): the week before is 30 Aban – 6 Azar; the agency
		// fell clearly from the week before it, the other agency stayed.
		sat := time.Date(2026, 11, 28, 0, 0, 0, 0, survey.Tehran)
		foldDays(t, e, e.agency.ID, e.office.ID, sat.AddDate(0, 0, -14), sat.AddDate(0, 0, -8), 20, 5)
		foldDays(t, e, e.agency.ID, e.office.ID, sat.AddDate(0, 0, -7), sat.AddDate(0, 0, -1), 20, 3)
		foldDays(t, e, other.ID, otherOffice.ID, sat.AddDate(0, 0, -14), sat.AddDate(0, 0, -1), 10, 4)

		digests := analytics.NewDigests(analytics.NewScores(e.store, e.store), e.store, e.store)
		d := sms.NewDigestSender(e.store, digests, e.clock, e.log)
		run := func(d *sms.DigestSender) int {
			t.Helper()
			n, err := d.RunOnce(ctx)
			must(t, err)
			return n
		}
		e.clock.Set(sat.Add(7*time.Hour + 59*time.Minute))
		if n := run(d); n != 0 {
			t.Fatalf("at 07:59 queued %d", n)
		}
		e.clock.Set(sat.Add(8*time.Hour + 30*time.Minute))
		if n := run(d); n != 3 {
			t.Fatalf("Saturday 08:30 queued %d, want 3", n)
		}
		if n := run(d); n != 0 {
			t.Fatalf("a second run queued %d", n)
		}
		if n := run(sms.NewDigestSender(e.store, digests, e.clock, e.log)); n != 0 {
			t.Fatalf("another replica queued %d", n)
		}

		s := e.sender(sms.SenderOptions{})
		must(t, s.Start(ctx))
		if n := e.runOnce(t, s); n != 3 {
			t.Fatalf("the sender handled %d", n)
		}
		sent := e.fake.Sent()
		if len(sent) != 3 {
			t.Fatalf("sent %+v", sent)
		}
		by := map[string]string{}
		for _, m := range sent {
			by[m.Receptor] = m.Text
			if p, _ := sms.Parts(m.Text); p > sms.MaxParts || !strings.HasSuffix(m.Text, sms.OptOutFooter) {
				t.Fatalf("%d parts or no footer: %q", p, m.Text)
			}
			if strings.ContainsAny(m.Text, "0123456789") {
				t.Fatalf("ASCII digits in %q", m.Text)
			}
		}
		agencyText, provText := by["09121112233"], by["09133334455"]
		t.Logf("agency: %s", agencyText)
		t.Logf("province: %s", provText)
		if by["09122223344"] != agencyText || !strings.Contains(agencyText, e.agency.Name) || !strings.Contains(agencyText, "هفتهٔ ۳۰ آبان ۱۴۰۵") ||
			!strings.Contains(agencyText, "شاخص") || !strings.Contains(agencyText, "۱۴۰ نفر") || !strings.Contains(agencyText, "کاهش روشن") {
			t.Fatalf("agency digest %q", agencyText)
		}
		if !strings.Contains(provText, "استان") || !strings.Contains(provText, "۲ دستگاه با پاسخ") || !strings.Contains(provText, "کاهش روشن: ۱") ||
			!strings.Contains(provText, "بیشترین کاهش: "+e.agency.Name) {
			t.Fatalf("province digest %q", provText)
		}

		// Later that evening, past the window: nothing; the next Saturday has its own digest.
		e.clock.Set(sat.Add(21 * time.Hour))
		if n := run(d); n != 0 {
			t.Fatalf("Saturday 21:00 queued %d", n)
		}
		// The 1st of Dey 1405 (22 Dec 2026, a Tuesday) 08:10: the monthly digest of Azar.
		e.clock.Set(time.Date(2026, 12, 22, 8, 10, 0, 0, survey.Tehran))
		if n := run(d); n != 3 {
			t.Fatalf("the 1st of the month queued %d, want 3", n)
		}
		if n := run(d); n != 0 {
			t.Fatalf("the month again queued %d", n)
		}
		msgs, err := e.store.RecentOutbox(ctx, 50)
		must(t, err)
		months := 0
		for _, m := range msgs {
			if strings.Contains(m.Text, "آذر ۱۴۰۵:") {
				months++
			}
		}
		if len(msgs) != 6 || months != 3 {
			t.Fatalf("outbox after the month: %d messages, %d of Azar", len(msgs), months)
		}
		e.noNumbers(t, "09121112233", "09122223344", "09133334455")
	})
}

// fixedDigests is a DigestSource with set texts (the digests' figures are TestDigestSender's).
type fixedDigests struct{ texts []string }

func (f fixedDigests) PeriodStart(period string, at time.Time) time.Time {
	return analytics.PeriodOf(at, analytics.Granularity(period)).Start
}

func (f fixedDigests) DigestTexts(context.Context, survey.Principal, string, time.Time) (string, []string, error) {
	return "k", f.texts, nil
}

// A digest text too long for two parts gives way to the first shorter variant that fits; when
// none fits nothing is queued rather than a third part.
func TestDigestSenderFitsParts(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		accounts := staff.New(e.store, staff.Options{Secret: []byte(strings.Repeat("k", 32)), Clock: e.clock})
		u, _, err := accounts.CreateUser(ctx, survey.Principal{Role: survey.RoleProvinceAdmin, Name: "test"},
			staff.NewUser{Login: "admin1", Name: "admin1", Role: survey.RoleAgencyAdmin, AgencyID: e.agency.ID})
		must(t, err)
		_, err = sms.NewAlertPhones(e.store, e.privacy, e.clock).Set(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.agency.ID, UserID: u.ID}, "09121112233")
		must(t, err)
		long, short := strings.Repeat("گزارش ", 40), "افکار — گزارش کوتاه."
		if p, _ := sms.Parts(long); p <= sms.MaxParts {
			t.Fatalf("the long text has only %d parts", p)
		}
		e.clock.Set(time.Date(2026, 11, 28, 9, 0, 0, 0, survey.Tehran)) // a Saturday
		if n, err := sms.NewDigestSender(e.store, fixedDigests{[]string{long, long}}, e.clock, e.log).RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("nothing fits: queued %d, %v", n, err)
		}
		if n, err := sms.NewDigestSender(e.store, fixedDigests{[]string{long, short}}, e.clock, e.log).RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("a short variant: queued %d, %v", n, err)
		}
		msgs, err := e.store.RecentOutbox(ctx, 5)
		must(t, err)
		if len(msgs) != 1 || msgs[0].Text != short+"\n"+sms.OptOutFooter || msgs[0].Parts != 1 {
			t.Fatalf("outbox %+v", msgs)
		}
	})
}
