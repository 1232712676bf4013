package sms_test

import (
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

var tehran, _ = time.LoadLocation("Asia/Tehran")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tehran)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestInviteQuietHours(t *testing.T) {
	q, err := sms.ParseQuietHours("22:00-08:00")
	if err != nil || q.String() != "22:00-08:00" {
		t.Fatal(q, err)
	}
	for _, c := range []struct {
		now, until string
	}{
		{"2026-03-01 21:59", ""},
		{"2026-03-01 22:00", "2026-03-02 08:00"},
		{"2026-03-01 23:30", "2026-03-02 08:00"},
		{"2026-03-02 00:00", "2026-03-02 08:00"},
		{"2026-03-02 07:59", "2026-03-02 08:00"},
		{"2026-03-02 08:00", ""},
		{"2026-03-02 12:00", ""},
	} {
		until, quiet := q.Until(at(c.now))
		if quiet != (c.until != "") || (quiet && !until.Equal(at(c.until))) {
			t.Errorf("%s: until %v quiet %v, want %q", c.now, until.In(tehran), quiet, c.until)
		}
	}
	day, _ := sms.ParseQuietHours("12:00-13:30")
	if _, quiet := day.Until(at("2026-03-01 13:29")); !quiet {
		t.Error("a span within one day")
	}
	if _, quiet := day.Until(at("2026-03-01 13:30")); quiet {
		t.Error("the end is not quiet")
	}
	none, err := sms.ParseQuietHours("")
	if err != nil || none.Enabled() {
		t.Fatal("empty disables")
	}
	if _, quiet := none.Until(at("2026-03-01 23:00")); quiet {
		t.Error("disabled quiet hours hold nothing")
	}
	for _, bad := range []string{"22-08", "22:00", "25:00-08:00", "08:00-08:00", "x"} {
		if _, err := sms.ParseQuietHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestInviteRulesDecide(t *testing.T) {
	q, _ := sms.ParseQuietHours(sms.DefaultQuietHours)
	r := sms.InviteRules{Quiet: q}
	noon := at("2026-03-01 12:00")
	past := func(d time.Duration) *time.Time { t := noon.Add(-d); return &t }
	for _, c := range []struct {
		name    string
		now     time.Time
		visited time.Time
		phone   survey.SMSPhone
		status  survey.InvitationStatus
		reason  string
		after   time.Time
	}{
		{"fresh", noon, noon.Add(-time.Hour), survey.SMSPhone{}, survey.InvitationQueued, "", noon},
		{"night", at("2026-03-01 23:00"), at("2026-03-01 21:00"), survey.SMSPhone{}, survey.InvitationHeld, "", at("2026-03-02 08:00")},
		{"opted out", noon, noon, survey.SMSPhone{OptedOutAt: past(time.Hour)}, survey.InvitationSkipped, sms.SkipOptedOut, time.Time{}},
		{"invalid", noon, noon, survey.SMSPhone{InvalidAt: past(time.Hour)}, survey.InvitationSkipped, sms.SkipInvalidNumber, time.Time{}},
		{"too old", noon, noon.Add(-49 * time.Hour), survey.SMSPhone{}, survey.InvitationSkipped, sms.SkipTooOld, time.Time{}},
		{"48h is in", noon, noon.Add(-48 * time.Hour), survey.SMSPhone{}, survey.InvitationQueued, "", noon},
		{"capped", noon, noon, survey.SMSPhone{LastInvitedAt: past(29 * 24 * time.Hour)}, survey.InvitationSkipped, sms.SkipFrequencyCap, time.Time{}},
		{"cap over", noon, noon, survey.SMSPhone{LastInvitedAt: past(30 * 24 * time.Hour)}, survey.InvitationQueued, "", noon},
	} {
		d := r.Decide(c.now, c.visited, c.phone)
		if d.Status != c.status || d.SkipReason != c.reason || (c.after.IsZero() != (d.SendAfter == nil)) ||
			(d.SendAfter != nil && !d.SendAfter.Equal(c.after)) {
			t.Errorf("%s: %+v (send after %v)", c.name, d, d.SendAfter)
		}
	}
}

func TestInviteParseVisitTimeAndIDs(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-03-01T10:30:00+03:30": at("2026-03-01 10:30"),
		"2026-03-01T07:00:00Z":      at("2026-03-01 10:30"),
		"2026-03-01 10:30":          at("2026-03-01 10:30"),
		"۲۰۲۶-۰۳-۰۱ ۱۰:۳۰":          at("2026-03-01 10:30"),
	} {
		if got, err := sms.ParseVisitTime(in); err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := sms.ParseVisitTime("دیروز"); err == nil {
		t.Error("words accepted")
	}
	if id, err := sms.ParseID("۱۲"); err != nil || id != 12 {
		t.Error(id, err)
	}
	a, b := sms.NewLocalID(), sms.NewLocalID()
	if a == b || len(a) < 10 {
		t.Errorf("local ids %s %s", a, b)
	}
}
