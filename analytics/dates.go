package analytics

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/afkar-gov/afkar/survey"
)

// jalaliYearLimit separates the calendars in ParseDay: Jalali years are around 1400 now and
// Gregorian years around 2025, so a year below 1700 can only be Jalali for any date Afkar stores.
const jalaliYearLimit = 1700

// ParseDay reads a day as people in Iran write it and returns midnight of that day in Tehran.
// It accepts the ISO Gregorian form "2025-11-15" and the Jalali form "1404-08-24" — a year below
// 1700 means Jalali — with "-" or "/" between the parts, one- or two-digit month and day, and
// Persian or Arabic-Indic digits ("۱۴۰۴/۰۸/۲۴"). Anything else is an ECodeInvalid *survey.Error:
// days that do not exist ("1404-12-30" in a common year, "2025-02-29"), and days whose Jalali
// year is not 0…1699 ("9999-12-31", anything from 2321-03-21 on), because their Jalali form
// would be missing or read back as Gregorian. So every day ParseDay returns has a FormatJalali
// form that ParseDay reads back to the same day.
func ParseDay(s string) (time.Time, error) {
	in := strings.TrimSpace(survey.NormalizeDigits(s))
	bad := func() (time.Time, error) {
		return time.Time{}, survey.Errorf(survey.ECodeInvalid,
			"تاریخ «%s» معتبر نیست؛ به شکل ۱۴۰۴-۰۸-۲۴ یا 2025-11-15 بنویسید.",
			"invalid date %q: use 1404-08-24 (Jalali) or 2025-11-15 (Gregorian)", s)
	}
	parts := strings.FieldsFunc(in, func(r rune) bool { return r == '-' || r == '/' })
	if len(parts) != 3 || strings.Count(in, "-")+strings.Count(in, "/") != 2 {
		return bad()
	}
	var n [3]int
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 || (i > 0 && len(p) > 2) || (i == 0 && len(p) != 4) {
			return bad()
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return bad()
			}
		}
		n[i], _ = strconv.Atoi(p)
	}
	y, m, d := n[0], n[1], n[2]
	if y < jalaliYearLimit {
		if !jalaali.IsValidDate(y, m, d) {
			return bad()
		}
		gy, gm, gd, err := jalaali.ToGregorian(y, jalaali.Month(m), d)
		if err != nil {
			return bad()
		}
		t := time.Date(gy, gm, gd, 0, 0, 0, 0, survey.Tehran)
		if !roundTrips(t) {
			return bad()
		}
		return t, nil
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, survey.Tehran)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return bad() // time.Date normalised an impossible day such as 2025-02-30
	}
	if !roundTrips(t) {
		return time.Time{}, survey.Errorf(survey.ECodeInvalid,
			"تاریخ «%s» خارج از بازه تقویم است.",
			"date %q is outside the supported calendar range", s)
	}
	return t, nil
}

// ParseDayParam is ParseDay for a query parameter named field ("from", "to"): its error names
// the parameter (field code invalid_date), so a client can point at it.
func ParseDayParam(raw, field string) (time.Time, error) {
	t, err := ParseDay(raw)
	if e, ok := err.(*survey.Error); ok {
		c := *e
		c.Fields = map[string]survey.FieldError{field: {Code: "invalid_date", Message: e.Message, MessageFA: e.MessageFA}}
		return t, &c
	}
	return t, err
}

// roundTrips reports whether the Gregorian day t has a Jalali form in years 0…1699 that converts
// back to t. Besides the range, this refuses the last Jalali year before some leap-cycle breaks
// (e.g. 1205 and 1630), where the converter's two directions disagree by a day.
func roundTrips(t time.Time) bool {
	jy, jm, jd, ok := JalaliDate(t)
	if !ok || jy < 0 || jy >= jalaliYearLimit {
		return false
	}
	gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), jd)
	return err == nil && gy == t.Year() && gm == t.Month() && gd == t.Day()
}

// FormatJalali writes the Tehran day holding t as a Jalali date, "1404-08-24", the form ParseDay
// reads back. A day without a Jalali date (see JalaliDate) gives "" rather than a panic; ParseDay
// never returns one.
func FormatJalali(t time.Time) string {
	jy, jm, jd, ok := JalaliDate(t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", jy, jm, jd)
}

// JalaliDate returns the Jalali year, month (1 = Farvardin) and day of the Tehran day holding t.
// ok is false outside the Jalali years −61…3177 that the converter covers (Gregorian about
// 560–3798).
func JalaliDate(t time.Time) (year, month, day int, ok bool) {
	t = t.In(survey.Tehran)
	jy, jm, jd, err := jalaali.ToJalaali(t.Year(), t.Month(), t.Day())
	if err != nil {
		return 0, 0, 0, false
	}
	return jy, int(jm), jd, true
}

// JalaliWeekStart returns Tehran midnight of the Saturday that starts the Iranian week holding t.
func JalaliWeekStart(t time.Time) time.Time {
	day := survey.TehranDay(t)
	back := (int(day.Weekday()) + 1) % 7 // Saturday 0, Sunday 1, …, Friday 6
	return time.Date(day.Year(), day.Month(), day.Day()-back, 0, 0, 0, 0, survey.Tehran)
}
