package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/afkar-gov/afkar/survey"
)

// Month rollups (migration 0019). The day tables keep one cell per Tehran day, which a year-long
// score at national size pays for in tens of thousands of cells; rollup_months and
// rollup_value_months hold the same cells summed per Jalali month. A report period is split into
// the whole Jalali months it covers, read from the month tables, and the partial months at its
// two ends, read from the day tables: the sums are the same, the cells read far fewer.

// Calendar bounds of jalali_months (migration 0019): Jalali 1380-01 … 1450-12. Days outside are
// never summed into a month; a period reaches them through the day tables.
const (
	firstCalendarYear = 1380
	lastCalendarYear  = 1450
	calendarFirstDay  = "2001-03-21" // 1380-01-01
	calendarLastDay   = "2072-03-19" // 1450-12-29
	// unboundedFrom and unboundedTo stand for an empty "from" or "to" (no bound): every stored
	// day lies between them.
	unboundedFrom = "0000-01-01"
	unboundedTo   = "9999-12-31"
)

// monthOf returns the Jalali month key ("1405-08") of a Tehran day written YYYY-MM-DD, and false
// for a day the month tables do not cover (or that is not a day).
func monthOf(day string) (string, bool) {
	jy, jm, ok := jalaliMonthOfDay(day)
	if !ok || jy < firstCalendarYear || jy > lastCalendarYear {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d", jy, jm), true
}

func jalaliMonthOfDay(day string) (jy, jm int, ok bool) {
	t, err := time.Parse(survey.DayFormat, day)
	if err != nil {
		return 0, 0, false
	}
	y, m, _, err := jalaali.ToJalaali(t.Year(), t.Month(), t.Day())
	if err != nil {
		return 0, 0, false
	}
	return y, int(m), true
}

// monthBounds returns the first and last Tehran day of Jalali month jy-jm.
func monthBounds(jy, jm int) (first, last string) {
	gy, gm, gd, _ := jalaali.ToGregorian(jy, jalaali.Month(jm), 1)
	ny, nm := jy, jm+1
	if nm > 12 {
		ny, nm = jy+1, 1
	}
	ey, em, ed, _ := jalaali.ToGregorian(ny, jalaali.Month(nm), 1)
	start := time.Date(gy, gm, gd, 0, 0, 0, 0, time.UTC)
	end := time.Date(ey, em, ed, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return start.Format(survey.DayFormat), end.Format(survey.DayFormat)
}

// dayBefore and dayAfter step a YYYY-MM-DD day; both are only called on calendar days.
func dayBefore(day string) string { return stepDay(day, -1) }
func dayAfter(day string) string  { return stepDay(day, 1) }

func stepDay(day string, n int) string {
	t, err := time.Parse(survey.DayFormat, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(survey.DayFormat)
}

// periodParts is a report period split for reading: whole Jalali months MonthFrom…MonthTo from the
// month tables, and days LeadFrom…LeadTo and TailFrom…TailTo from the day tables, all inclusive.
// An empty From means that part reads nothing.
type periodParts struct {
	MonthFrom, MonthTo string
	LeadFrom, LeadTo   string
	TailFrom, TailTo   string
}

// splitPeriod splits the inclusive Tehran days from…to (an empty bound: unbounded) into
// periodParts. Every day of the period falls in exactly one part (TestSplitPeriod).
func splitPeriod(from, to string) periodParts {
	if from == "" {
		from = unboundedFrom
	}
	if to == "" {
		to = unboundedTo
	}
	if from > to {
		return periodParts{}
	}
	// The first whole month: the month of from when from is its first day, else the next one.
	var firstMonth, firstMonthStart string
	switch {
	case from <= calendarFirstDay:
		firstMonth, firstMonthStart = fmt.Sprintf("%04d-01", firstCalendarYear), calendarFirstDay
	case from > calendarLastDay:
		return periodParts{LeadFrom: from, LeadTo: to}
	default:
		jy, jm, ok := jalaliMonthOfDay(from)
		if !ok {
			return periodParts{LeadFrom: from, LeadTo: to}
		}
		if first, _ := monthBounds(jy, jm); first != from {
			if jm++; jm > 12 {
				jy, jm = jy+1, 1
			}
		}
		if jy > lastCalendarYear {
			return periodParts{LeadFrom: from, LeadTo: to}
		}
		firstMonth = fmt.Sprintf("%04d-%02d", jy, jm)
		firstMonthStart, _ = monthBounds(jy, jm)
	}
	// The last whole month: the month of to when to is its last day, else the one before.
	var lastMonth, lastMonthEnd string
	switch {
	case to >= calendarLastDay:
		lastMonth, lastMonthEnd = fmt.Sprintf("%04d-12", lastCalendarYear), calendarLastDay
	case to < calendarFirstDay:
		return periodParts{LeadFrom: from, LeadTo: to}
	default:
		jy, jm, ok := jalaliMonthOfDay(to)
		if !ok {
			return periodParts{LeadFrom: from, LeadTo: to}
		}
		if _, last := monthBounds(jy, jm); last != to {
			if jm--; jm < 1 {
				jy, jm = jy-1, 12
			}
		}
		if jy < firstCalendarYear {
			return periodParts{LeadFrom: from, LeadTo: to}
		}
		lastMonth = fmt.Sprintf("%04d-%02d", jy, jm)
		_, lastMonthEnd = monthBounds(jy, jm)
	}
	if firstMonth > lastMonth {
		return periodParts{LeadFrom: from, LeadTo: to}
	}
	p := periodParts{MonthFrom: firstMonth, MonthTo: lastMonth}
	if from < firstMonthStart {
		p.LeadFrom, p.LeadTo = from, dayBefore(firstMonthStart)
	}
	if to > lastMonthEnd {
		p.TailFrom, p.TailTo = dayAfter(lastMonthEnd), to
	}
	return p
}

// periodArgs binds a report filter to the named parameters of the month-aware reporting queries:
// agency and office as filterArgs does, and the period split by splitPeriod.
func periodArgs(f survey.RollupFilter) []any {
	p := splitPeriod(f.FromDay, f.ToDay)
	return []any{
		sql.Named("agency", int64(f.AgencyID)),
		sql.Named("office", int64(f.OfficeID)),
		sql.Named("m_from", p.MonthFrom),
		sql.Named("m_to", p.MonthTo),
		sql.Named("a_from", p.LeadFrom),
		sql.Named("a_to", p.LeadTo),
		sql.Named("b_from", p.TailFrom),
		sql.Named("b_to", p.TailTo),
	}
}
