package kiosk

import (
	"fmt"
	"slices"
	"time"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/afkar-gov/afkar/survey"
)

// Open reports whether an office with hours h is open at t, in Asia/Tehran: always when
// AlwaysOpen; otherwise never on one of its Jalali holidays, and on other days when t falls in
// one of the weekday's spans [open, close). h must be normalized (survey.OfficeHours.Normalized,
// as stored); spans it cannot read count as closed.
func Open(h survey.OfficeHours, t time.Time) bool {
	if h.AlwaysOpen {
		return true
	}
	lt := t.In(survey.Tehran)
	if len(h.Holidays) > 0 {
		if _, found := slices.BinarySearch(h.Holidays, jalaliDay(lt)); found {
			return false
		}
	}
	day := survey.HoursDay(lt.Weekday())
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	for _, s := range h.Weekly {
		if s.Day != day {
			continue
		}
		open, close, ok := s.SpanMinutes()
		if ok && sec >= open*60 && sec < close*60 {
			return true
		}
	}
	return false
}

// jalaliDay writes the Tehran day of t as a Jalali "YYYY-MM-DD", the form holidays are stored
// in; "" outside the calendar's range.
func jalaliDay(t time.Time) string {
	t = t.In(survey.Tehran)
	jy, jm, jd, err := jalaali.ToJalaali(t.Year(), t.Month(), t.Day())
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", jy, int(jm), jd)
}

// gregorianDay turns a holiday ("1405-01-01") into its Gregorian date, or false when the day does
// not exist in the Jalali calendar.
func gregorianDay(holiday string) (time.Time, bool) {
	y, m, d, ok := survey.JalaliDateParts(holiday)
	if !ok || !jalaali.IsValidDate(y, m, d) {
		return time.Time{}, false
	}
	gy, gm, gd, err := jalaali.ToGregorian(y, jalaali.Month(m), d)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(gy, gm, gd, 0, 0, 0, 0, survey.Tehran), true
}

// HolidayWindow is how far around now HolidaysGregorian looks: more than a year each way, so a
// tablet that stays offline for months still sleeps on the right days.
const HolidayWindow = 400 * 24 * time.Hour

// HolidaysGregorian lists h's holidays that fall within HolidayWindow of now as Gregorian dates
// ("2027-03-21"), sorted: what a tablet needs to decide offline whether its office is closed,
// without a Jalali calendar of its own.
func HolidaysGregorian(h survey.OfficeHours, now time.Time) []string {
	out := []string{}
	lo, hi := survey.TehranDay(now.Add(-HolidayWindow)), survey.TehranDay(now.Add(HolidayWindow))
	for _, s := range h.Holidays {
		g, ok := gregorianDay(s)
		if ok && !g.Before(lo) && !g.After(hi) {
			out = append(out, g.Format(survey.DayFormat))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckHours validates hours as an office may store them: survey.OfficeHours.Normalized, and
// every holiday a day of the Jalali calendar (Esfand 30 exists only in leap years). It returns
// the canonical form to store.
func CheckHours(h survey.OfficeHours) (survey.OfficeHours, error) {
	out, err := h.Normalized()
	if err != nil {
		return out, err
	}
	for i, d := range h.Holidays {
		if _, ok := gregorianDay(d); !ok {
			return out, survey.HolidayError(i)
		}
	}
	return out, nil
}
