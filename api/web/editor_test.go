package web

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/afkar-gov/afkar/survey"
)

// TestParseHoursForm: spans in Persian or ASCII digits, separated by Persian or ASCII commas,
// with a hyphen or an en dash; holidays typed as ۱۴۰۵/۰۱/۰۱ or 1405-01-01 on lines or with
// spaces; a span without its two ends is reported for its day; and the form shows stored hours
// back Saturday first, in Persian digits.
func TestParseHoursForm(t *testing.T) {
	h, bad := ParseHoursForm(url.Values{
		"day_sat":  {"۰۷:۳۰-۱۲:۰۰، 13:00–16:00"},
		"day_fri":  {""},
		"day_mon":  {"هشت صبح"},
		"holidays": {"۱۴۰۵/۰۱/۰۱\r\n1405-01-13 ۱۴۰۵/۰۱/۱۴"},
	})
	if got := fmt.Sprint(h.Weekly); got != "[{sat 07:30 12:00} {sat 13:00 16:00}]" {
		t.Errorf("weekly %s", got)
	}
	if got := fmt.Sprint(h.Holidays); got != "[1405-01-01 1405-01-13 1405-01-14]" {
		t.Errorf("holidays %s", got)
	}
	if len(bad) != 1 || bad["weekly.mon"].MessageFA == "" || h.AlwaysOpen {
		t.Errorf("problems %+v", bad)
	}
	f := HoursFormOf(h)
	if f.Days[0].Key != "sat" || f.Days[0].Name != "شنبه" || f.Days[0].Spans != "۰۷:۳۰-۱۲:۰۰، ۱۳:۰۰-۱۶:۰۰" || f.Days[6].Key != "fri" {
		t.Errorf("form days %+v", f.Days)
	}
	if f.Holidays != "۱۴۰۵/۰۱/۰۱\n۱۴۰۵/۰۱/۱۳\n۱۴۰۵/۰۱/۱۴" {
		t.Errorf("form holidays %q", f.Holidays)
	}
	back, bad := ParseHoursForm(url.Values{"day_sat": {f.Days[0].Spans}, "holidays": {f.Holidays}})
	if len(bad) != 0 || fmt.Sprint(back.Weekly) != fmt.Sprint(h.Weekly) || fmt.Sprint(back.Holidays) != fmt.Sprint(h.Holidays) {
		t.Errorf("the form does not read back what it shows: %+v %+v", back, bad)
	}
}

// TestEditorActionApply: add makes a fresh id, moves at either end change nothing, remove out of
// range changes nothing.
func TestEditorActionApply(t *testing.T) {
	ids := func(d survey.Draft) string {
		s := ""
		for _, q := range d.Questions {
			s += q.ID + " "
		}
		return s
	}
	d := survey.Draft{Questions: []survey.Question{{ID: "q3"}, {ID: "a"}}}
	EditorAction{Kind: "add"}.Apply(&d)
	if got := ids(d); got != "q3 a q4 " {
		t.Errorf("add: %s", got)
	}
	for _, a := range []EditorAction{{Kind: "up", Index: 0}, {Kind: "down", Index: 2}, {Kind: "remove", Index: 3}, {Kind: "remove", Index: -1}, {Kind: "save"}} {
		a.Apply(&d)
		if got := ids(d); got != "q3 a q4 " {
			t.Errorf("%+v changed the order: %s", a, got)
		}
	}
	EditorAction{Kind: "down", Index: 0}.Apply(&d)
	EditorAction{Kind: "remove", Index: 2}.Apply(&d)
	if got := ids(d); got != "a q3 " {
		t.Errorf("down then remove: %s", got)
	}
}

// TestParseEditorFormConditions: a numeric condition in Persian digits, an "in" condition with
// Persian commas, a headline choice, and a condition value that is not a number reported beside
// its field.
func TestParseEditorFormConditions(t *testing.T) {
	d, a, bad := ParseEditorForm(url.Values{"n": {"۳"}, "action": {"down:1"},
		"q0.id": {"r"}, "q0.type": {"rating5"}, "q0.headline": {"no"},
		"q1.id": {"c"}, "q1.type": {"choice"}, "q1.options": {"x|ایکس\n\ny|وای\nتنها"}, "q1.if_id": {"r"}, "q1.if_op": {"lte"}, "q1.if_value": {"۲"},
		"q2.id": {"t"}, "q2.type": {"text"}, "q2.if_id": {"c"}, "q2.if_op": {"in"}, "q2.if_value": {"x، y"}})
	if a.Kind != "down" || a.Index != 1 || len(d.Questions) != 3 || d.SMS != nil {
		t.Fatalf("action %+v, %d questions, sms %+v", a, len(d.Questions), d.SMS)
	}
	if h := d.Questions[0].Headline; h == nil || *h {
		t.Errorf("headline %v", h)
	}
	if got := fmt.Sprint(d.Questions[1].Options); got != "[{x ایکس} {y وای} {تنها تنها}]" {
		t.Errorf("options %s", got)
	}
	if c := d.Questions[1].ShowIf; c == nil || c.QuestionID != "r" || c.Op != "lte" || c.Value != 2 {
		t.Errorf("numeric condition %+v", c)
	}
	if c := d.Questions[2].ShowIf; c == nil || fmt.Sprint(c.Values) != "[x y]" {
		t.Errorf("in condition %+v", c)
	}
	if len(bad) != 0 {
		t.Errorf("problems %+v", bad)
	}
	_, _, bad = ParseEditorForm(url.Values{"n": {"1"}, "q0.id": {"c"}, "q0.if_id": {"r"}, "q0.if_op": {"gte"}, "q0.if_value": {"زیاد"}})
	if bad["questions[0].show_if.value"].MessageFA == "" {
		t.Errorf("a condition value that is not a number is not reported: %+v", bad)
	}
}
