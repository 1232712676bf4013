package analytics

import (
	"fmt"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

func TestParseDayForms(t *testing.T) {
	cases := map[string]string{
		"2025-11-15":       "2025-11-15",
		"1404-08-24":       "2025-11-15",
		"1404/08/24":       "2025-11-15",
		"1404/8/24":        "2025-11-15",
		"۱۴۰۴-۰۸-۲۴":       "2025-11-15",
		"۱۴۰۴/۰۸/۲۴":       "2025-11-15",
		"١٤٠٤-٠٨-٢٤":       "2025-11-15",
		" 2025/11/15 ":     "2025-11-15",
		"\u200f1404-08-24": "2025-11-15",
		"1403-01-01":       "2024-03-20", // Nowruz 1403
		"1404-01-01":       "2025-03-21", // Nowruz 1404
		"1399-01-01":       "2020-03-20",
		"1403-12-30":       "2025-03-20", // 1403 is a leap year
		"2024-02-29":       "2024-02-29",
		"1699-01-01":       "2320-03-21", // still Jalali
	}
	for in, want := range cases {
		got, err := ParseDay(in)
		if err != nil {
			t.Errorf("ParseDay(%q): %v", in, err)
			continue
		}
		if got.Location() != survey.Tehran || got.Hour() != 0 || got.Minute() != 0 || got.Second() != 0 {
			t.Errorf("ParseDay(%q) = %v, want Tehran midnight", in, got)
		}
		if s := got.Format(survey.DayFormat); s != want {
			t.Errorf("ParseDay(%q) = %s, want %s", in, s, want)
		}
	}
	// Tehran midnight is 20:30 UTC of the day before.
	got, _ := ParseDay("1404-08-24")
	if u := got.UTC(); u.Format(time.RFC3339) != "2025-11-14T20:30:00Z" {
		t.Errorf("UTC = %v", u)
	}
}

func TestParseDayInvalid(t *testing.T) {
	for _, in := range []string{
		"", "today", "2025-11", "2025-11-15-01", "2025-13-01", "2025-02-29", "2025-04-31",
		"1404-12-30", // 1404 is not a leap year
		"1404-13-01", "1404-00-10", "1404-07-31", "1404-08-32", "25-11-15", "2025-011-15",
		"2025-11-15T00:00:00Z", "2025--11-15", "2025/11-15x", "-2025-11-15", "2025-1a-15",
		"٢٠٢٥-١١-٣١",
		"9999-12-31", "3799-12-31", "۹۹۹۹-۰۱-۰۱", // no Jalali date: out of the calendar's range
		"2321-03-21", "3000-01-01", // Jalali year 1700 and later: the Jalali form would read as Gregorian
	} {
		_, err := ParseDay(in)
		if err == nil {
			t.Errorf("ParseDay(%q) accepted", in)
			continue
		}
		e, ok := err.(*survey.Error)
		if !ok || e.Code != survey.ECodeInvalid || e.MessageFA == "" || e.Message == "" {
			t.Errorf("ParseDay(%q) error = %#v, want *survey.Error invalid with fa+en", in, err)
		}
	}
}

func TestJalaliRoundTripDayByDay(t *testing.T) {
	// Noon, because before 2022 Tehran had daylight saving and some midnights did not exist
	// (time.Date moves them to 01:00); the day, not the instant, is what must round-trip.
	d := time.Date(1990, 1, 1, 12, 0, 0, 0, survey.Tehran)
	end := time.Date(2061, 1, 1, 0, 0, 0, 0, survey.Tehran)
	prevY, prevM, prevD, _ := JalaliDate(d.AddDate(0, 0, -1))
	days := 0
	for ; d.Before(end); d = d.AddDate(0, 0, 1) {
		j := FormatJalali(d)
		back, err := ParseDay(j)
		if err != nil {
			t.Fatalf("%s → %s: %v", d.Format(survey.DayFormat), j, err)
		}
		if !back.Equal(survey.TehranDay(d)) || back.Format(survey.DayFormat) != d.Format(survey.DayFormat) {
			t.Fatalf("%s → %s → %s", d.Format(survey.DayFormat), j, back.Format(survey.DayFormat))
		}
		// Consecutive Gregorian days are consecutive Jalali days.
		y, m, dd, ok := JalaliDate(d)
		if !ok {
			t.Fatalf("%s has no Jalali date", d.Format(survey.DayFormat))
		}
		switch {
		case y == prevY && m == prevM && dd == prevD+1:
		case y == prevY && m == prevM+1 && dd == 1:
		case y == prevY+1 && m == 1 && dd == 1 && prevM == 12:
			if prevD != 29 && prevD != 30 {
				t.Fatalf("year %d ended on Esfand %d", prevY, prevD)
			}
		default:
			t.Fatalf("%s: %d-%d-%d follows %d-%d-%d", d.Format(survey.DayFormat), y, m, dd, prevY, prevM, prevD)
		}
		prevY, prevM, prevD = y, m, dd
		days++
	}
	if days < 25000 {
		t.Fatalf("only %d days checked", days)
	}
}

func TestFormatJalali(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 11, 15, 12, 0, 0, 0, survey.Tehran), "1404-08-24"},
		{time.Date(2024, 3, 20, 0, 0, 0, 0, survey.Tehran), "1403-01-01"},
		{time.Date(2025, 3, 21, 0, 0, 0, 0, survey.Tehran), "1404-01-01"},
		// 21:00 UTC on 14 Nov is already 15 Nov (00:30) in Tehran.
		{time.Date(2025, 11, 14, 21, 0, 0, 0, time.UTC), "1404-08-24"},
		{time.Date(2025, 11, 14, 20, 0, 0, 0, time.UTC), "1404-08-23"},
	}
	for _, c := range cases {
		if got := FormatJalali(c.t); got != c.want {
			t.Errorf("FormatJalali(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

func TestJalaliWeekStart(t *testing.T) {
	// 2025-11-15 is a Saturday (Shanbe); the whole week to Friday 2025-11-21 starts there.
	sat := time.Date(2025, 11, 15, 0, 0, 0, 0, survey.Tehran)
	for i := 0; i < 7; i++ {
		in := sat.AddDate(0, 0, i).Add(23 * time.Hour)
		if got := JalaliWeekStart(in); !got.Equal(sat) || got.Location() != survey.Tehran {
			t.Errorf("JalaliWeekStart(%v) = %v, want %v", in, got, sat)
		}
	}
	if got := JalaliWeekStart(sat.Add(-time.Minute)); !got.Equal(sat.AddDate(0, 0, -7)) {
		t.Errorf("Friday 23:59 → %v, want previous Saturday", got)
	}
	// Friday evening in UTC that is already Saturday in Tehran.
	if got := JalaliWeekStart(time.Date(2025, 11, 14, 21, 0, 0, 0, time.UTC)); !got.Equal(sat) {
		t.Errorf("got %v, want %v", got, sat)
	}
	for d := time.Date(2020, 1, 1, 0, 0, 0, 0, survey.Tehran); d.Year() < 2022; d = d.AddDate(0, 0, 1) {
		ws := JalaliWeekStart(d)
		if ws.Weekday() != time.Saturday || d.Sub(ws) < 0 || d.Sub(ws) >= 7*24*time.Hour {
			t.Fatalf("JalaliWeekStart(%v) = %v", d, ws)
		}
	}
}

// Extreme days never panic: ParseDay refuses the ones without a Jalali date, and FormatJalali
// and JalaliDate report them instead of panicking. Every day ParseDay accepts formats.
func TestExtremeDates(t *testing.T) {
	var accepted, refused int
	check := func(in string) {
		t.Helper()
		d, err := ParseDay(in)
		if err != nil {
			if e, ok := err.(*survey.Error); !ok || e.Code != survey.ECodeInvalid || e.MessageFA == "" {
				t.Errorf("ParseDay(%q) error = %#v", in, err)
			}
			refused++
			return
		}
		accepted++
		j := FormatJalali(d)
		back, err := ParseDay(j)
		if j == "" || err != nil || !back.Equal(d) {
			t.Errorf("%q → %v → %q → %v, %v", in, d, j, back, err)
		}
	}
	for y := 0; y <= 9999; y += 7 {
		for _, md := range []string{"01-01", "03-20", "03-21", "06-31", "12-29", "12-30", "12-31"} {
			check(fmt.Sprintf("%04d-%s", y, md))
		}
	}
	for _, in := range []string{"0000-01-01", "1699-12-29", "1700-01-01", "2321-03-20", "2321-03-21", "3798-03-19", "3799-01-01", "9999-12-31"} {
		check(in)
	}
	if accepted < 1500 || refused < 5000 {
		t.Errorf("accepted %d, refused %d: the sweep did not reach both sides", accepted, refused)
	}
	for _, tm := range []time.Time{{}, time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(1_000_000, 6, 1, 0, 0, 0, 0, time.UTC), time.Unix(1<<40, 0)} {
		if got := FormatJalali(tm); got != "" {
			t.Errorf("FormatJalali(%v) = %q, want \"\" (no Jalali date)", tm, got)
		}
		if _, _, _, ok := JalaliDate(tm); ok {
			t.Errorf("JalaliDate(%v) ok", tm)
		}
	}
}
