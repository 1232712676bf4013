package survey

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OfficeHours says when an office serves citizens: a weekly timetable (several spans a day are
// allowed, for a lunch break or an afternoon shift) and Jalali holidays, or always open. Kiosks
// sleep outside these hours, and a press recorded while the office is closed is flagged
// (FlagAfterHours): nobody is being served, so nobody has an opinion of the service to give.
//
// Times are Asia/Tehran wall-clock times; holidays are Jalali dates ("1405-01-01"), because that
// is how offices publish them. This package only checks their form; turning them into Gregorian
// days and deciding "is it open at t" is the kiosk channel's (channels/kiosk.Open), which owns
// the Jalali calendar. An office that stores no hours has DefaultOfficeHours.
type OfficeHours struct {
	// AlwaysOpen ignores Weekly and Holidays: a 24-hour service, or an office that does not
	// want its kiosk to sleep.
	AlwaysOpen bool        `json:"always_open"`
	Weekly     []HoursSpan `json:"weekly"`
	Holidays   []string    `json:"holidays"`
}

// HoursSpan is one opening on one weekday: from Open up to (not including) Close, both "HH:MM"
// on the same day. Close may be "24:00", the end of the day.
type HoursSpan struct {
	Day   string `json:"day"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

// HoursDays are the weekday names of HoursSpan.Day, in the order of the Iranian week (it starts
// on Saturday; Friday is the weekly holiday).
var HoursDays = []string{"sat", "sun", "mon", "tue", "wed", "thu", "fri"}

// HoursDay is the HoursSpan.Day name of a Go weekday.
func HoursDay(d time.Weekday) string { return HoursDays[(int(d)+1)%7] }

// Limits on office hours: generous for any real timetable, small enough that evaluating them on
// every kiosk press stays trivial.
const (
	MaxHoursSpans = 28  // four spans a day
	MaxHolidays   = 400 // a year of holidays, with room for the next year's list
	// Jalali years a holiday may name: outside them a date is surely a typo.
	MinHolidayYear = 1300
	MaxHolidayYear = 1499
)

// DefaultOfficeHours is what an office without stored hours keeps: Saturday to Wednesday, 07:30
// to 14:30, the usual hours of Iranian government offices (Thursday varies by province and year,
// so it is left for each office to add).
func DefaultOfficeHours() OfficeHours {
	h := OfficeHours{Weekly: []HoursSpan{}, Holidays: []string{}}
	for _, d := range HoursDays[:5] {
		h.Weekly = append(h.Weekly, HoursSpan{Day: d, Open: "07:30", Close: "14:30"})
	}
	return h
}

// SpanMinutes returns the span's opening and closing times as minutes since midnight, or false
// when either is not a valid "HH:MM" (Close may be "24:00").
func (s HoursSpan) SpanMinutes() (open, close int, ok bool) {
	open, ok1 := clockMinutes(s.Open, false)
	close, ok2 := clockMinutes(s.Close, true)
	return open, close, ok1 && ok2
}

// clockMinutes reads "H:MM" or "HH:MM" (any digits); "24:00" only when endOfDay.
func clockMinutes(s string, endOfDay bool) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(NormalizeDigits(s)), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || h[0] == '+' || m[0] == '+' {
		return 0, false
	}
	if hh == 24 && mm == 0 && endOfDay {
		return 24 * 60, true
	}
	if hh > 23 {
		return 0, false
	}
	return hh*60 + mm, true
}

// JalaliDateParts reads a holiday "YYYY-MM-DD" (any digits, "/" or "-") and checks its form and
// range: a year MinHolidayYear…MaxHolidayYear, months 1–12, days up to 31 in the first six
// months and 30 in the others. Whether Esfand 30 exists in that year is for the Jalali calendar
// (channels/kiosk) to say.
func JalaliDateParts(s string) (y, m, d int, ok bool) {
	parts := strings.FieldsFunc(strings.TrimSpace(NormalizeDigits(s)), func(r rune) bool { return r == '-' || r == '/' })
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) > 2 || len(parts[2]) > 2 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, 0, 0, false
			}
		}
		n[i], _ = strconv.Atoi(p)
	}
	y, m, d = n[0], n[1], n[2]
	maxDay := 31
	if m > 6 {
		maxDay = 30
	}
	if y < MinHolidayYear || y > MaxHolidayYear || m < 1 || m > 12 || d < 1 || d > maxDay {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// Normalized checks h and returns it in canonical form: times "HH:MM", holidays "YYYY-MM-DD"
// (ASCII digits, sorted, without repeats), spans in week order, nil lists made empty. Problems
// are an ECodeInvalid error whose Fields name each one, e.g. "weekly[2].close" or
// "holidays[0]". Spans of one day must not overlap (touching is fine).
func (h OfficeHours) Normalized() (OfficeHours, error) {
	fe := &fieldErrors{}
	out := OfficeHours{AlwaysOpen: h.AlwaysOpen, Weekly: []HoursSpan{}, Holidays: []string{}}
	if len(h.Weekly) > MaxHoursSpans {
		fe.add("weekly", "too_many", FormatPersianDigits(fmt.Sprintf("حداکثر %d بازهٔ کاری در هفته پذیرفته می‌شود.", MaxHoursSpans)),
			fmt.Sprintf("at most %d spans a week", MaxHoursSpans))
	}
	if len(h.Holidays) > MaxHolidays {
		fe.add("holidays", "too_many", FormatPersianDigits(fmt.Sprintf("حداکثر %d روز تعطیل پذیرفته می‌شود.", MaxHolidays)),
			fmt.Sprintf("at most %d holidays", MaxHolidays))
	}
	if !fe.empty() {
		return out, hoursInvalid(fe)
	}
	type span struct {
		i           int
		day         int
		open, close int
	}
	var spans []span
	for i, s := range h.Weekly {
		p := "weekly[" + strconv.Itoa(i) + "]"
		day := slices.Index(HoursDays, strings.ToLower(strings.TrimSpace(s.Day)))
		if day < 0 {
			fe.add(p+".day", "invalid_day", "روز باید یکی از sat، sun، mon، tue، wed، thu یا fri باشد.", "day must be sat, sun, mon, tue, wed, thu or fri")
		}
		open, ok1 := clockMinutes(s.Open, false)
		if !ok1 {
			fe.add(p+".open", "invalid_time", "ساعت آغاز باید به شکل ۰۷:۳۰ باشد.", "open must be a time such as 07:30")
		}
		close, ok2 := clockMinutes(s.Close, true)
		if !ok2 {
			fe.add(p+".close", "invalid_time", "ساعت پایان باید به شکل ۱۴:۳۰ باشد (حداکثر ۲۴:۰۰).", "close must be a time such as 14:30 (24:00 at the latest)")
		}
		if ok1 && ok2 && open >= close {
			fe.add(p+".close", "close_before_open", "ساعت پایان باید پس از ساعت آغاز و در همان روز باشد.", "close must be after open, on the same day")
		}
		spans = append(spans, span{i, day, open, close})
	}
	if fe.empty() {
		slices.SortFunc(spans, func(a, b span) int {
			if a.day != b.day {
				return a.day - b.day
			}
			return a.open - b.open
		})
		for k, s := range spans {
			if k > 0 && spans[k-1].day == s.day && spans[k-1].close > s.open {
				fe.add("weekly["+strconv.Itoa(s.i)+"].open", "overlap", "این بازه با بازهٔ دیگری از همان روز هم‌پوشانی دارد.",
					"this span overlaps another span of the same day")
			}
			out.Weekly = append(out.Weekly, HoursSpan{Day: HoursDays[s.day], Open: formatClock(s.open), Close: formatClock(s.close)})
		}
	}
	for i, d := range h.Holidays {
		y, m, dd, ok := JalaliDateParts(d)
		if !ok {
			fe.add("holidays["+strconv.Itoa(i)+"]", "invalid_date",
				FormatPersianDigits(fmt.Sprintf("روز تعطیل باید تاریخ شمسی به شکل ۱۴۰۵-۰۱-۰۱ و میان سال %d و %d باشد.", MinHolidayYear, MaxHolidayYear)),
				fmt.Sprintf("a holiday is a Jalali date such as 1405-01-01, in the years %d–%d", MinHolidayYear, MaxHolidayYear))
			continue
		}
		out.Holidays = append(out.Holidays, fmt.Sprintf("%04d-%02d-%02d", y, m, dd))
	}
	if !fe.empty() {
		return OfficeHours{AlwaysOpen: h.AlwaysOpen, Weekly: []HoursSpan{}, Holidays: []string{}}, hoursInvalid(fe)
	}
	slices.Sort(out.Holidays)
	out.Holidays = slices.Compact(out.Holidays)
	return out, nil
}

func formatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

func hoursInvalid(fe *fieldErrors) error {
	return &Error{Code: ECodeInvalid, Message: "the office hours are not valid", MessageFA: "ساعات کاری معتبر نیست.", Fields: fe.m}
}

// HolidayError is the field error for a holiday that passes Normalized's form check but is not
// a day of the Jalali calendar (Esfand 30 of a common year); the kiosk channel, which knows the
// calendar, reports it with this.
func HolidayError(i int) error {
	fe := &fieldErrors{}
	fe.add("holidays["+strconv.Itoa(i)+"]", "no_such_day", "این روز در تقویم شمسی وجود ندارد.", "this day does not exist in the Jalali calendar")
	return hoursInvalid(fe)
}
