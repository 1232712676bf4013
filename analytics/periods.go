package analytics

import (
	"fmt"
	"time"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/afkar-gov/afkar/survey"
)

// Granularity is the length of the periods a trend is cut into. Every period is a run of whole
// Tehran days of the Jalali calendar, because that is how staff in Iran count time.
type Granularity string

// The granularities a trend can use.
const (
	ByDay     Granularity = "day"
	ByWeek    Granularity = "week"    // Saturday to Friday
	ByMonth   Granularity = "month"   // a Jalali month
	ByQuarter Granularity = "quarter" // a Jalali season: Farvardin–Khordad is spring, Q1
)

// Valid reports whether g is one of the four granularities.
func (g Granularity) Valid() bool {
	switch g {
	case ByDay, ByWeek, ByMonth, ByQuarter:
		return true
	}
	return false
}

// Period is one stretch of the trend axis: [Start, End) in Tehran, a Persian label for people
// and a stable ASCII key for machines (exports, URLs, joins).
//
// Start and End are the first instants of their Tehran days. That is midnight except on the
// days Iran's clocks jumped from 00:00 to 01:00 (Nowruz, until the daylight saving time was
// abolished after 2022, which Go's tzdata records), where the day starts at 01:00 +04:30 — so
// Periods never loses or double-counts an hour, and a day is not always 24 hours long.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Label is for people: «۱۲ آبان ۱۴۰۵», «هفتهٔ ۱۲ آبان ۱۴۰۵» (the week named by its Saturday),
	// «آبان ۱۴۰۵», «پاییز ۱۴۰۵».
	Label string `json:"label"`
	// Key is for machines: "1405-08-12", "1405-W33", "1405-08", "1405-Q3". Keys of one
	// granularity sort in time order as strings.
	Key string `json:"key"`
}

// JalaliMonthNames are the Persian names of the Jalali months, Farvardin first.
var JalaliMonthNames = [12]string{"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
	"مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"}

// JalaliSeasonNames are the Persian names of the seasons, which are the Jalali quarters:
// spring is Farvardin–Khordad.
var JalaliSeasonNames = [4]string{"بهار", "تابستان", "پاییز", "زمستان"}

// JalaliSeason returns the Jalali season (0 spring … 3 winter) of the Tehran day holding t, the
// quarter a period or an alert baseline belongs to. Outside the converter's range it returns 0.
func JalaliSeason(t time.Time) int {
	_, m, _, ok := JalaliDate(t)
	if !ok {
		return 0
	}
	return (m - 1) / 3
}

// HourOfWeek returns the hour of the Iranian week holding t in Tehran: Saturday 00:00–00:59 is 0,
// Friday 23:00–23:59 is 167. Alerts compare like hours with like through it.
func HourOfWeek(t time.Time) int {
	t = t.In(survey.Tehran)
	day := (int(t.Weekday()) + 1) % 7 // Saturday 0 … Friday 6
	return day*24 + t.Hour()
}

// tehranStart returns the first instant of the Jalali day jy-jm-jd in Tehran; jm and jd may be
// out of range by a little (month 13 is Farvardin of the next year, day 0 the previous day), as
// with time.Date.
func tehranStart(jy, jm, jd int) time.Time {
	for jm > 12 {
		jm -= 12
		jy++
	}
	for jm < 1 {
		jm += 12
		jy--
	}
	gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), 1)
	if err != nil {
		return time.Time{}
	}
	// time.Date gives the first instant of the day even where 00:00 did not exist (Go moves a
	// skipped wall time forward across the gap).
	return time.Date(gy, gm, gd+jd-1, 0, 0, 0, 0, survey.Tehran)
}

// firstWeekStart returns the Saturday that starts week 1 of Jalali year jy: the first Saturday
// on or after 1 Farvardin.
func firstWeekStart(jy int) time.Time {
	nowruz := tehranStart(jy, 1, 1)
	ahead := (6 - int(nowruz.Weekday()) + 7) % 7 // days until Saturday (time.Saturday == 6)
	return tehranStart(jy, 1, 1+ahead)
}

// PeriodOf returns the period of granularity g holding t. An unknown granularity is treated as
// a day. Weeks start on Saturday and belong to the Jalali year of their Saturday: week 1 is the
// first week whose Saturday is on or after Nowruz, so the days of Farvardin before that Saturday
// close the previous year's last week (52 or 53) — as ISO does, but anchored on the Saturday.
func PeriodOf(t time.Time, g Granularity) Period {
	jy, jm, jd, ok := JalaliDate(t)
	if !ok {
		return Period{}
	}
	fa := survey.FormatPersianDigits
	switch g {
	case ByWeek:
		start := JalaliWeekStart(t)
		sy, sm, sd, _ := JalaliDate(start)
		week := 1 + int(survey.TehranDay(start).Sub(firstWeekStart(sy)).Round(24*time.Hour)/(24*time.Hour))/7
		return Period{
			Start: tehranStart(sy, sm, sd),
			End:   tehranStart(sy, sm, sd+7),
			Label: fa(fmt.Sprintf("هفتهٔ %d %s %d", sd, JalaliMonthNames[sm-1], sy)),
			Key:   fmt.Sprintf("%04d-W%02d", sy, week),
		}
	case ByMonth:
		return Period{
			Start: tehranStart(jy, jm, 1),
			End:   tehranStart(jy, jm+1, 1),
			Label: fa(fmt.Sprintf("%s %d", JalaliMonthNames[jm-1], jy)),
			Key:   fmt.Sprintf("%04d-%02d", jy, jm),
		}
	case ByQuarter:
		q := (jm - 1) / 3
		return Period{
			Start: tehranStart(jy, 3*q+1, 1),
			End:   tehranStart(jy, 3*q+4, 1),
			Label: fa(fmt.Sprintf("%s %d", JalaliSeasonNames[q], jy)),
			Key:   fmt.Sprintf("%04d-Q%d", jy, q+1),
		}
	default:
		return Period{
			Start: tehranStart(jy, jm, jd),
			End:   tehranStart(jy, jm, jd+1),
			Label: fa(fmt.Sprintf("%d %s %d", jd, JalaliMonthNames[jm-1], jy)),
			Key:   fmt.Sprintf("%04d-%02d-%02d", jy, jm, jd),
		}
	}
}

// Periods returns the consecutive periods of granularity g that cover [from, to): the first
// holds from, the last holds the instant just before to. It is empty when to is not after from.
func Periods(from, to time.Time, g Granularity) []Period {
	var out []Period
	if !to.After(from) {
		return out
	}
	for p := PeriodOf(from, g); p.Start.Before(to); p = PeriodOf(p.End, g) {
		if !p.End.After(p.Start) {
			break // outside the calendar's range
		}
		out = append(out, p)
	}
	return out
}
