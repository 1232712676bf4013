package survey_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

func TestDefaultOfficeHours(t *testing.T) {
	h := survey.DefaultOfficeHours()
	got, err := h.Normalized()
	if err != nil {
		t.Fatalf("the default hours are not valid: %v", err)
	}
	if !reflect.DeepEqual(got, h) {
		t.Fatalf("the default hours are not canonical:\n%+v\n%+v", got, h)
	}
	b, _ := json.Marshal(h)
	want := `{"always_open":false,"weekly":[{"day":"sat","open":"07:30","close":"14:30"},{"day":"sun","open":"07:30","close":"14:30"},` +
		`{"day":"mon","open":"07:30","close":"14:30"},{"day":"tue","open":"07:30","close":"14:30"},{"day":"wed","open":"07:30","close":"14:30"}],"holidays":[]}`
	if string(b) != want {
		t.Fatalf("default hours JSON\n got %s\nwant %s", b, want)
	}
}

func TestHoursDay(t *testing.T) {
	for d, want := range map[time.Weekday]string{time.Saturday: "sat", time.Sunday: "sun", time.Wednesday: "wed", time.Thursday: "thu", time.Friday: "fri"} {
		if got := survey.HoursDay(d); got != want {
			t.Errorf("HoursDay(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOfficeHoursNormalized(t *testing.T) {
	in := survey.OfficeHours{
		Weekly: []survey.HoursSpan{
			{Day: "SUN", Open: "16:00", Close: "24:00"},
			{Day: "sat", Open: "۷:۳۰", Close: "12:00"},
			{Day: "sun", Open: "08:00", Close: "16:00"}, // touches the afternoon span: allowed
		},
		Holidays: []string{"۱۴۰۵/۱/۱", "1405-01-13", "1405-01-01"},
	}
	got, err := in.Normalized()
	if err != nil {
		t.Fatal(err)
	}
	want := survey.OfficeHours{
		Weekly: []survey.HoursSpan{
			{Day: "sat", Open: "07:30", Close: "12:00"},
			{Day: "sun", Open: "08:00", Close: "16:00"},
			{Day: "sun", Open: "16:00", Close: "24:00"},
		},
		Holidays: []string{"1405-01-01", "1405-01-13"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("normalized\n got %+v\nwant %+v", got, want)
	}
	open, close, ok := got.Weekly[2].SpanMinutes()
	if !ok || open != 16*60 || close != 24*60 {
		t.Fatalf("SpanMinutes = %d, %d, %v", open, close, ok)
	}
	// Empty lists come back empty, not null, and always_open is kept.
	a, err := survey.OfficeHours{AlwaysOpen: true}.Normalized()
	if err != nil || !a.AlwaysOpen || a.Weekly == nil || a.Holidays == nil {
		t.Fatalf("always open: %+v, %v", a, err)
	}
}

func TestOfficeHoursInvalid(t *testing.T) {
	many := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	spans := make([]survey.HoursSpan, survey.MaxHoursSpans+1)
	for i := range spans {
		spans[i] = survey.HoursSpan{Day: "sat", Open: "07:00", Close: "08:00"}
	}
	for _, c := range []struct {
		name  string
		h     survey.OfficeHours
		field string
		code  string
	}{
		{"unknown day", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "monday", Open: "07:00", Close: "08:00"}}}, "weekly[0].day", "invalid_day"},
		{"bad open", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "7.30", Close: "08:00"}}}, "weekly[0].open", "invalid_time"},
		{"open 24:00", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "24:00", Close: "24:00"}}}, "weekly[0].open", "invalid_time"},
		{"minutes 60", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "07:60", Close: "08:00"}}}, "weekly[0].open", "invalid_time"},
		{"signed", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "+7:30", Close: "08:00"}}}, "weekly[0].open", "invalid_time"},
		{"close 25:00", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "07:00", Close: "25:00"}}}, "weekly[0].close", "invalid_time"},
		{"close before open", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "14:00", Close: "08:00"}}}, "weekly[0].close", "close_before_open"},
		{"empty span", survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "08:00", Close: "08:00"}}}, "weekly[0].close", "close_before_open"},
		{"overlap", survey.OfficeHours{Weekly: []survey.HoursSpan{
			{Day: "tue", Open: "07:00", Close: "12:00"}, {Day: "mon", Open: "07:00", Close: "12:00"}, {Day: "tue", Open: "11:59", Close: "13:00"},
		}}, "weekly[2].open", "overlap"},
		{"too many spans", survey.OfficeHours{Weekly: spans}, "weekly", "too_many"},
		{"holiday form", survey.OfficeHours{Holidays: []string{"1405-01-01", "21 March"}}, "holidays[1]", "invalid_date"},
		{"Gregorian holiday", survey.OfficeHours{Holidays: []string{"2026-03-21"}}, "holidays[0]", "invalid_date"},
		{"Mehr 31", survey.OfficeHours{Holidays: []string{"1405-07-31"}}, "holidays[0]", "invalid_date"},
		{"month 13", survey.OfficeHours{Holidays: []string{"1405-13-01"}}, "holidays[0]", "invalid_date"},
		{"too many holidays", survey.OfficeHours{Holidays: many(survey.MaxHolidays+1, "1405-01-01")}, "holidays", "too_many"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.h.Normalized()
			var e *survey.Error
			if !errors.As(err, &e) || e.Code != survey.ECodeInvalid || e.MessageFA == "" {
				t.Fatalf("error %v, want an invalid survey.Error", err)
			}
			f, ok := e.Fields[c.field]
			if !ok || f.Code != c.code || f.Message == "" || f.MessageFA == "" {
				t.Fatalf("fields %+v, want %s: %s", e.Fields, c.field, c.code)
			}
		})
	}
}

func TestJalaliDateParts(t *testing.T) {
	if y, m, d, ok := survey.JalaliDateParts("۱۴۰۴/۰۸/۲۴"); !ok || y != 1404 || m != 8 || d != 24 {
		t.Fatalf("Persian digits: %d %d %d %v", y, m, d, ok)
	}
	for _, bad := range []string{"", "1404-08", "14040-01-01", "1404-001-01", "1404-06-32", "1299-01-01", "1500-01-01", "1404-0a-01"} {
		if _, _, _, ok := survey.JalaliDateParts(bad); ok {
			t.Errorf("JalaliDateParts(%q) accepted", bad)
		}
	}
}

func TestHolidayError(t *testing.T) {
	var e *survey.Error
	if !errors.As(survey.HolidayError(3), &e) || e.Fields["holidays[3]"].Code != "no_such_day" {
		t.Fatalf("HolidayError: %+v", e)
	}
}

func TestPendingCode(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	for _, c := range []struct {
		k    survey.Kiosk
		want bool
	}{
		{survey.Kiosk{}, false},
		{survey.Kiosk{PairingCode: "ABCDEFGH", PairingExpiresAt: &later}, true},
		{survey.Kiosk{PairingCode: "ABCDEFGH", PairingExpiresAt: &now}, false},
		{survey.Kiosk{PairingCode: "ABCDEFGH", PairingExpiresAt: &earlier}, false},
		{survey.Kiosk{PairingCode: "ABCDEFGH", PairingExpiresAt: &later, PairingUsedAt: &earlier}, false},
	} {
		if code, ok := c.k.PendingCode(now); ok != c.want || (ok && code != "ABCDEFGH") {
			t.Errorf("%+v: PendingCode = %q, %v", c.k, code, ok)
		}
	}
}
