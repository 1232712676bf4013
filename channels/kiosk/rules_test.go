package kiosk_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
)

// tehran builds a Tehran wall-clock time.
func tehran(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, survey.Tehran)
}

func TestOpen(t *testing.T) {
	h, err := kiosk.CheckHours(survey.OfficeHours{
		Weekly: []survey.HoursSpan{
			{Day: "sat", Open: "07:30", Close: "12:00"},
			{Day: "sat", Open: "16:00", Close: "24:00"},
			{Day: "wed", Open: "07:30", Close: "14:30"},
		},
		// Nowruz 1406 is Sunday 21 March 2027; 1405-09-14 is Saturday 5 December 2026.
		Holidays: []string{"1406-01-01", "1405-09-14"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{tehran(2026, 11, 28, 7, 29, 59), false}, // Saturday, a second before opening
		{tehran(2026, 11, 28, 7, 30, 0), true},
		{tehran(2026, 11, 28, 11, 59, 59), true},
		{tehran(2026, 11, 28, 12, 0, 0), false}, // closing time is closed
		{tehran(2026, 11, 28, 15, 0, 0), false}, // lunch
		{tehran(2026, 11, 28, 23, 59, 59), true},
		{tehran(2026, 11, 29, 0, 0, 0), false},                // Sunday: no spans
		{tehran(2026, 12, 2, 14, 29, 0), true},                // Wednesday
		{tehran(2026, 12, 3, 9, 0, 0), false},                 // Thursday
		{tehran(2026, 12, 5, 9, 0, 0), false},                 // a Saturday holiday
		{tehran(2026, 12, 12, 9, 0, 0), true},                 // the next Saturday
		{tehran(2027, 3, 27, 9, 0, 0), true},                  // Saturday 1406-01-07
		{tehran(2027, 3, 21, 9, 0, 0), false},                 // Nowruz (a Sunday anyway)
		{time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC), true}, // 07:30 in Tehran, given in UTC
		{time.Date(2026, 11, 28, 3, 59, 0, 0, time.UTC), false},
	} {
		if got := kiosk.Open(h, c.at); got != c.want {
			t.Errorf("Open(%s) = %v, want %v", c.at.In(survey.Tehran).Format("Mon 2006-01-02 15:04:05"), got, c.want)
		}
	}
	if !kiosk.Open(survey.OfficeHours{AlwaysOpen: true, Holidays: []string{"1405-09-14"}}, tehran(2026, 12, 5, 3, 0, 0)) {
		t.Error("always open is closed")
	}
	if kiosk.Open(survey.OfficeHours{}, tehran(2026, 12, 6, 9, 0, 0)) {
		t.Error("no hours at all is open")
	}
	def := survey.DefaultOfficeHours()
	if !kiosk.Open(def, tehran(2026, 12, 2, 10, 0, 0)) || kiosk.Open(def, tehran(2026, 12, 3, 10, 0, 0)) || kiosk.Open(def, tehran(2026, 12, 4, 10, 0, 0)) {
		t.Error("default hours: open Wednesday, closed Thursday and Friday")
	}
}

func TestCheckHours(t *testing.T) {
	// 1403 is a Jalali leap year, 1404 is not: Esfand 30 exists only in the first.
	if _, err := kiosk.CheckHours(survey.OfficeHours{Holidays: []string{"1403-12-30"}}); err != nil {
		t.Fatalf("Esfand 30 of a leap year: %v", err)
	}
	_, err := kiosk.CheckHours(survey.OfficeHours{Holidays: []string{"1405-01-01", "1404-12-30"}})
	if se, ok := err.(*survey.Error); !ok || se.Fields["holidays[1]"].Code != "no_such_day" {
		t.Fatalf("Esfand 30 of a common year: %v", err)
	}
	if _, err := kiosk.CheckHours(survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "xx"}}}); survey.ErrorCode(err) != survey.ECodeInvalid {
		t.Fatalf("bad span: %v", err)
	}
}

func TestHolidaysGregorian(t *testing.T) {
	h := survey.OfficeHours{Holidays: []string{"1399-01-01", "1404-01-01", "1405-01-01", "1405-01-13", "1406-01-01", "1407-01-01"}}
	got := kiosk.HolidaysGregorian(h, tehran(2026, 12, 1, 12, 0, 0))
	// Nowruz 1405 = 2026-03-21, Sizdah-be-dar = 2026-04-02, Nowruz 1406 = 2027-03-21; 1404 (2025-03-21)
	// and 1407 (2028-03-20) are more than 400 days away.
	want := []string{"2026-03-21", "2026-04-02", "2027-03-21"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("HolidaysGregorian = %v, want %v", got, want)
	}
	if got := kiosk.HolidaysGregorian(survey.OfficeHours{}, time.Now()); got == nil || len(got) != 0 {
		t.Fatalf("no holidays: %#v", got)
	}
}

func TestPairingCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c, err := kiosk.NewPairingCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != kiosk.CodeLength || strings.Trim(c, kiosk.CodeAlphabet) != "" {
			t.Fatalf("code %q is not %d characters of the alphabet", c, kiosk.CodeLength)
		}
		if n, ok := kiosk.NormalizeCode(c); !ok || n != c {
			t.Fatalf("NormalizeCode(%q) = %q, %v", c, n, ok)
		}
		seen[c] = true
	}
	if len(seen) < 1999 {
		t.Fatalf("only %d distinct codes in 2000", len(seen))
	}
	for in, want := range map[string]string{
		"ABCD-EFGH":                   "ABCDEFGH",
		"abcd efgh":                   "ABCDEFGH",
		" k7m9–p2q3 ":                 "K7M9P2Q3", // an en dash, as phones type it
		"K۷M۹-P۲Q۳":                   "K7M9P2Q3", // Persian digits
		"K٧M٩P٢Q٣":                    "K7M9P2Q3", // Arabic-Indic digits
		"\u200fK7M9\u200cP2Q3":        "K7M9P2Q3", // a direction mark and a ZWNJ
		kiosk.DisplayCode("K7M9P2Q3"): "K7M9P2Q3",
	} {
		if got, ok := kiosk.NormalizeCode(in); !ok || got != want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABCDEFGI", "ABCDEFGO", "ABCDEFGL", "ABCDEFG1", "ABCDEFGک"} {
		if _, ok := kiosk.NormalizeCode(bad); ok {
			t.Errorf("NormalizeCode(%q) accepted", bad)
		}
	}
	if kiosk.DisplayCode("K7M9P2Q3") != "K7M9-P2Q3" {
		t.Error("DisplayCode")
	}
}

func TestDeviceTokens(t *testing.T) {
	a, err := kiosk.NewDeviceToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := kiosk.NewDeviceToken()
	if a == b || !strings.HasPrefix(a, kiosk.TokenPrefix) || len(a) != len(kiosk.TokenPrefix)+43 {
		t.Fatalf("tokens %q, %q", a, b)
	}
	sum := sha256.Sum256([]byte(a))
	if kiosk.HashToken(a) != hex.EncodeToString(sum[:]) {
		t.Fatal("HashToken is not the hex SHA-256")
	}
}

func TestSkew(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		sent      time.Time
		skew      time.Duration
		corrected bool
	}{
		{now, 0, false},
		{now.Add(-2 * time.Minute), 2 * time.Minute, false}, // at the tolerance: untouched
		{now.Add(-2*time.Minute - time.Millisecond), 2*time.Minute + time.Millisecond, true},
		{now.Add(90 * time.Second), -90 * time.Second, false},
		{now.Add(-3 * time.Hour), 3 * time.Hour, true},
		{now.AddDate(2, 0, 0), now.Sub(now.AddDate(2, 0, 0)), true}, // two years ahead
		// Clocks beyond a time.Duration's reach (±292 years): the skew saturates, and is still
		// beyond the tolerance (the absolute value of the most negative Duration overflows).
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), math.MinInt64, true},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64, true},
	} {
		skew, corrected := kiosk.Skew(now, c.sent, 2*time.Minute)
		if skew != c.skew || corrected != c.corrected {
			t.Errorf("Skew(sent %s) = %v, %v; want %v, %v", c.sent, skew, corrected, c.skew, c.corrected)
		}
	}
}

func TestParseBurst(t *testing.T) {
	for in, want := range map[string]kiosk.Burst{"10/60s": {10, time.Minute}, " 20 / 2m ": {20, 2 * time.Minute}, "1/1s": {1, time.Second}} {
		got, err := kiosk.ParseBurst(in)
		if err != nil || got != want {
			t.Errorf("ParseBurst(%q) = %v, %v", in, got, err)
		}
		if back, _ := kiosk.ParseBurst(got.String()); back != got {
			t.Errorf("String %q does not read back", got.String())
		}
	}
	for _, bad := range []string{"", "10", "10/", "/60s", "0/60s", "-1/60s", "10/0s", "10/500ms", "10/25h", "x/60s", "10/60"} {
		if _, err := kiosk.ParseBurst(bad); err == nil {
			t.Errorf("ParseBurst(%q) accepted", bad)
		}
	}
}

// presses builds presses at the given offsets (seconds) from base, ids p<offset>.
func presses(base time.Time, secs ...float64) []kiosk.Press {
	out := make([]kiosk.Press, len(secs))
	for i, s := range secs {
		out[i] = kiosk.Press{ID: fmt.Sprintf("p%v", s), At: base.Add(time.Duration(s * float64(time.Second)))}
	}
	return out
}

func TestDecide(t *testing.T) {
	open := kiosk.Rules{Hours: survey.OfficeHours{AlwaysOpen: true}, MinInterval: 4 * time.Second, Burst: kiosk.Burst{N: 3, Window: 60 * time.Second}}
	base := tehran(2026, 12, 1, 10, 0, 0) // a Tuesday morning
	const (
		I = survey.FlagInterval
		B = survey.FlagBurst
		H = survey.FlagAfterHours
	)
	for _, c := range []struct {
		name     string
		rules    kiosk.Rules
		recorded []kiosk.Press
		fresh    []kiosk.Press
		want     []survey.Flag
	}{
		{"spaced presses", open, nil, presses(base, 0, 5, 30), []survey.Flag{"", "", ""}},
		{"interval is strict", open, nil, presses(base, 0, 4, 7.999), []survey.Flag{"", "", I}},
		{"equal times", open, nil, []kiosk.Press{{ID: "a", At: base}, {ID: "b", At: base}}, []survey.Flag{"", I}},
		{"burst: the fourth in a minute", open, nil, presses(base, 0, 10, 20, 30, 71), []survey.Flag{"", "", "", B, ""}},
		{"flagged presses stay in the burst window", open, nil, presses(base, 0, 10, 20, 30, 61), []survey.Flag{"", "", "", B, B}},
		{"burst window is (t−60s, t]", open, nil, presses(base, 0, 10, 20, 60), []survey.Flag{"", "", "", ""}},
		{"flagged presses count for the burst", open, nil, presses(base, 0, 2, 10, 20), []survey.Flag{"", I, "", B}},
		{"interval wins over burst", open, nil, presses(base, 0, 10, 20, 22), []survey.Flag{"", "", "", I}},
		{"recorded presses count", open, presses(base, 0, 10), presses(base, 12, 20), []survey.Flag{I, B}},
		{"a resend keeps its flag", open, []kiosk.Press{{ID: "p0", At: base, Flag: I}, {ID: "p5", At: base.Add(5 * time.Second), Flag: B}},
			presses(base, 0, 5, 30), []survey.Flag{I, B, ""}},
		{"an id twice in one batch", open, nil, []kiosk.Press{{ID: "a", At: base}, {ID: "b", At: base.Add(2 * time.Second)}, {ID: "b", At: base.Add(2 * time.Second)}},
			[]survey.Flag{"", I, I}},
		{"arrival order does not matter", open, nil, presses(base, 30, 20, 0, 10), []survey.Flag{B, "", "", ""}},
		{"out of order: a late batch before recorded presses", open, presses(base, 10, 20), presses(base, 8, 1, -30),
			[]survey.Flag{I, "", ""}},
		{"after hours first", kiosk.Rules{Hours: survey.DefaultOfficeHours(), MinInterval: 4 * time.Second, Burst: kiosk.Burst{N: 1, Window: time.Hour}},
			nil, []kiosk.Press{{ID: "night", At: tehran(2026, 12, 1, 22, 0, 0)}, {ID: "day", At: base}, {ID: "day2", At: base.Add(time.Second)}},
			[]survey.Flag{H, "", I}},
		{"rules off", kiosk.Rules{Hours: survey.OfficeHours{AlwaysOpen: true}}, nil, presses(base, 0, 0.1, 0.2), []survey.Flag{"", "", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.rules.Decide(c.recorded, c.fresh)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Decide = %q, want %q", got, c.want)
			}
			// Pure: the same presses in give the same flags out.
			if again := c.rules.Decide(c.recorded, c.fresh); !reflect.DeepEqual(again, got) {
				t.Fatalf("second Decide = %q, first %q", again, got)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	paired := ago(24 * time.Hour)
	for _, c := range []struct {
		name string
		k    survey.Kiosk
		open bool
		want kiosk.Status
	}{
		{"never paired", survey.Kiosk{}, true, kiosk.StatusUnpaired},
		{"revoked, closed office", survey.Kiosk{LastSeenAt: ago(0)}, false, kiosk.StatusUnpaired},
		{"closed office", survey.Kiosk{Paired: true, PairedAt: paired, LastSeenAt: ago(time.Hour)}, false, kiosk.StatusSleeping},
		{"just seen", survey.Kiosk{Paired: true, PairedAt: paired, LastSeenAt: ago(0)}, true, kiosk.StatusOnline},
		{"150 s", survey.Kiosk{Paired: true, PairedAt: paired, LastSeenAt: ago(150 * time.Second)}, true, kiosk.StatusOnline},
		{"151 s", survey.Kiosk{Paired: true, PairedAt: paired, LastSeenAt: ago(151 * time.Second)}, true, kiosk.StatusStale},
		{"15 min", survey.Kiosk{Paired: true, PairedAt: paired, LastSeenAt: ago(15 * time.Minute)}, true, kiosk.StatusStale},
		{"15 min 1 s", survey.Kiosk{Paired: true, PairedAt: paired, LastSeenAt: ago(15*time.Minute + time.Second)}, true, kiosk.StatusOffline},
		{"never seen", survey.Kiosk{Paired: true, PairedAt: ago(time.Second)}, true, kiosk.StatusOffline},
		{"not seen since re-pairing", survey.Kiosk{Paired: true, PairedAt: ago(time.Second), LastSeenAt: ago(time.Minute)}, true, kiosk.StatusOffline},
		{"seen after re-pairing", survey.Kiosk{Paired: true, PairedAt: ago(time.Minute), LastSeenAt: ago(time.Second)}, true, kiosk.StatusOnline},
	} {
		if got := kiosk.StatusOf(c.k, c.open, now); got != c.want {
			t.Errorf("%s: StatusOf = %s, want %s", c.name, got, c.want)
		}
	}
}
