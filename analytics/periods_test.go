package analytics

import (
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// teh is a Tehran wall-clock time.
func teh(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, survey.Tehran)
}

func checkPeriod(t *testing.T, got Period, start, end time.Time, label, key string) {
	t.Helper()
	if !got.Start.Equal(start) || !got.End.Equal(end) || got.Label != label || got.Key != key {
		t.Errorf("got %s…%s %q %q; want %s…%s %q %q", got.Start, got.End, got.Label, got.Key,
			start, end, label, key)
	}
}

func TestPeriodWeekStartsSaturday(t *testing.T) {
	// 2025-11-14 is a Friday (23 Aban 1404), 2025-11-15 a Saturday (24 Aban 1404).
	fri := PeriodOf(teh(2025, 11, 14, 23, 59), ByWeek)
	sat := PeriodOf(teh(2025, 11, 15, 0, 0), ByWeek)
	// Week 1 of 1404 starts on the first Saturday on or after Nowruz (Friday 2025-03-21):
	// 2025-03-22. 2025-11-15 is 238 days = 34 weeks later, so it starts week 35.
	checkPeriod(t, sat, teh(2025, 11, 15, 0, 0), teh(2025, 11, 22, 0, 0), "هفتهٔ ۲۴ آبان ۱۴۰۴", "1404-W35")
	checkPeriod(t, fri, teh(2025, 11, 8, 0, 0), teh(2025, 11, 15, 0, 0), "هفتهٔ ۱۷ آبان ۱۴۰۴", "1404-W34")
	// The same instant given in UTC: Friday 20:29 UTC is Saturday 00:59 in Tehran.
	if got := PeriodOf(time.Date(2025, 11, 14, 20, 59, 0, 0, time.UTC), ByWeek); got.Key != "1404-W35" {
		t.Errorf("UTC instant in Tehran Saturday: got %s", got.Key)
	}
	if got := PeriodOf(time.Date(2025, 11, 14, 20, 29, 0, 0, time.UTC), ByWeek); got.Key != "1404-W34" {
		t.Errorf("UTC instant in Tehran Friday: got %s", got.Key)
	}
}

func TestPeriodWeekAcrossNowruz(t *testing.T) {
	// Nowruz 1404 is Friday 2025-03-21: that day closes the week of Saturday 25 Esfand 1403,
	// which belongs to 1403. Week 1 of 1403 started Saturday 2024-03-23 (Nowruz 1403 was a
	// Wednesday); 2025-03-15 is 357 days = 51 weeks later: week 52.
	checkPeriod(t, PeriodOf(teh(2025, 3, 21, 12, 0), ByWeek), teh(2025, 3, 15, 0, 0), teh(2025, 3, 22, 0, 0),
		"هفتهٔ ۲۵ اسفند ۱۴۰۳", "1403-W52")
	checkPeriod(t, PeriodOf(teh(2025, 3, 22, 0, 0), ByWeek), teh(2025, 3, 22, 0, 0), teh(2025, 3, 29, 0, 0),
		"هفتهٔ ۲ فروردین ۱۴۰۴", "1404-W01")
	// Nowruz 1405 is a Saturday (2026-03-21): week 1 starts on Nowruz itself.
	checkPeriod(t, PeriodOf(teh(2026, 3, 21, 0, 0), ByWeek), teh(2026, 3, 21, 0, 0), teh(2026, 3, 28, 0, 0),
		"هفتهٔ ۱ فروردین ۱۴۰۵", "1405-W01")
	if got := PeriodOf(teh(2026, 3, 20, 23, 0), ByWeek).Key; got != "1404-W52" {
		t.Errorf("last week of 1404: got %s", got)
	}
}

func TestPeriodNowruzAndLeapEsfand(t *testing.T) {
	// 1403 is a leap year: 30 Esfand 1403 is 2025-03-20, the eve of Nowruz 1404.
	eve := teh(2025, 3, 20, 23, 0)
	checkPeriod(t, PeriodOf(eve, ByDay), teh(2025, 3, 20, 0, 0), teh(2025, 3, 21, 0, 0), "۳۰ اسفند ۱۴۰۳", "1403-12-30")
	checkPeriod(t, PeriodOf(eve, ByMonth), teh(2025, 2, 19, 0, 0), teh(2025, 3, 21, 0, 0), "اسفند ۱۴۰۳", "1403-12")
	checkPeriod(t, PeriodOf(eve, ByQuarter), teh(2024, 12, 21, 0, 0), teh(2025, 3, 21, 0, 0), "زمستان ۱۴۰۳", "1403-Q4")
	nowruz := teh(2025, 3, 21, 0, 0)
	checkPeriod(t, PeriodOf(nowruz, ByDay), nowruz, teh(2025, 3, 22, 0, 0), "۱ فروردین ۱۴۰۴", "1404-01-01")
	checkPeriod(t, PeriodOf(nowruz, ByMonth), nowruz, teh(2025, 4, 21, 0, 0), "فروردین ۱۴۰۴", "1404-01")
	checkPeriod(t, PeriodOf(nowruz, ByQuarter), nowruz, teh(2025, 6, 22, 0, 0), "بهار ۱۴۰۴", "1404-Q1")
	// 1404 is a common year: Esfand has 29 days, 2026-02-20 … 2026-03-20.
	checkPeriod(t, PeriodOf(teh(2026, 3, 20, 12, 0), ByMonth), teh(2026, 2, 20, 0, 0), teh(2026, 3, 21, 0, 0), "اسفند ۱۴۰۴", "1404-12")
	if got := PeriodOf(teh(2026, 3, 20, 12, 0), ByDay).Key; got != "1404-12-29" {
		t.Errorf("last day of 1404: %s", got)
	}
}

func TestPeriodQuarterBoundary(t *testing.T) {
	// 31 Shahrivar 1404 is 2025-09-22; 1 Mehr 1404, the first day of autumn, 2025-09-23.
	checkPeriod(t, PeriodOf(teh(2025, 9, 22, 23, 59), ByQuarter), teh(2025, 6, 22, 0, 0), teh(2025, 9, 23, 0, 0), "تابستان ۱۴۰۴", "1404-Q2")
	checkPeriod(t, PeriodOf(teh(2025, 9, 23, 0, 0), ByQuarter), teh(2025, 9, 23, 0, 0), teh(2025, 12, 22, 0, 0), "پاییز ۱۴۰۴", "1404-Q3")
	if s := JalaliSeason(teh(2025, 9, 22, 23, 59)); s != 1 {
		t.Errorf("season of 31 Shahrivar = %d, want 1", s)
	}
	if s := JalaliSeason(teh(2025, 9, 23, 0, 0)); s != 2 {
		t.Errorf("season of 1 Mehr = %d, want 2", s)
	}
}

// Go's tzdata keeps Iran's daylight saving time until 2022 (clocks went from 00:00 to 01:00 at
// the start of 2 Farvardin 1401 = 2022-03-22, and back from 24:00 to 23:00 at the end of
// 30 Shahrivar 1401 = 2022-09-21) and none from 2023 on. Days must still tile time exactly.
func TestPeriodDaylightSavingYears(t *testing.T) {
	days := Periods(teh(2022, 3, 21, 0, 0), teh(2022, 9, 23, 0, 0), ByDay)
	lengths := map[string]time.Duration{}
	for i, d := range days {
		lengths[d.Key] = d.End.Sub(d.Start)
		if i > 0 && !days[i-1].End.Equal(d.Start) {
			t.Fatalf("gap or overlap before %s", d.Key)
		}
		if got := PeriodOf(d.Start, ByDay).Key; got != d.Key {
			t.Fatalf("start of %s lies in %s", d.Key, got)
		}
		if got := PeriodOf(d.End.Add(-time.Nanosecond), ByDay).Key; got != d.Key {
			t.Fatalf("end of %s lies in %s", d.Key, got)
		}
	}
	if lengths["1401-01-02"] != 23*time.Hour || lengths["1401-06-30"] != 25*time.Hour || lengths["1401-03-01"] != 24*time.Hour {
		t.Errorf("DST-day lengths: %v %v %v", lengths["1401-01-02"], lengths["1401-06-30"], lengths["1401-03-01"])
	}
	if s := days[1].Start.In(survey.Tehran); s.Hour() != 1 {
		t.Errorf("2 Farvardin 1401 should start at 01:00 +04:30 (00:00 did not exist), got %s", s)
	}
	// From 1402 on Tehran is UTC+03:30 all year: every day is 24 h and starts at 00:00.
	for _, d := range Periods(teh(2023, 1, 1, 0, 0), teh(2027, 1, 1, 0, 0), ByDay) {
		if d.End.Sub(d.Start) != 24*time.Hour || d.Start.In(survey.Tehran).Hour() != 0 {
			t.Fatalf("day %s: %s…%s", d.Key, d.Start, d.End)
		}
		if _, off := d.Start.Zone(); off != 3*3600+1800 {
			t.Fatalf("day %s: offset %d", d.Key, off)
		}
	}
}

func TestPeriodsCoverRange(t *testing.T) {
	from := time.Date(2024, 12, 31, 22, 17, 0, 0, time.UTC)
	to := time.Date(2026, 4, 2, 3, 0, 0, 0, time.UTC)
	counts := map[Granularity]int{}
	for _, g := range []Granularity{ByDay, ByWeek, ByMonth, ByQuarter} {
		ps := Periods(from, to, g)
		counts[g] = len(ps)
		if len(ps) == 0 || ps[0].Start.After(from) || !ps[0].End.After(from) ||
			!ps[len(ps)-1].End.After(to.Add(-1)) || ps[len(ps)-1].Start.After(to.Add(-1)) {
			t.Fatalf("%s: %d periods do not cover the range", g, len(ps))
		}
		for i := 1; i < len(ps); i++ {
			if !ps[i-1].End.Equal(ps[i].Start) || ps[i-1].Key >= ps[i].Key {
				t.Fatalf("%s: %s then %s", g, ps[i-1].Key, ps[i].Key)
			}
		}
	}
	// 1403-10-11 (Tehran 2025-01-01 01:47) … 1405-01-13: 457 days, 66 weeks (Saturday
	// 1403-10-08 to the week of Saturday 1405-01-08), 16 months (Dey 1403 … Farvardin 1405),
	// 6 quarters.
	want := map[Granularity]int{ByDay: 457, ByWeek: 66, ByMonth: 16, ByQuarter: 6}
	for g, n := range want {
		if counts[g] != n {
			t.Errorf("%s: %d periods, want %d", g, counts[g], n)
		}
	}
	if got := Periods(to, from, ByDay); len(got) != 0 {
		t.Errorf("reversed range gave %d periods", len(got))
	}
	var sum time.Duration
	for _, m := range Periods(teh(2025, 3, 21, 0, 0), teh(2026, 3, 21, 0, 0), ByMonth) {
		sum += m.End.Sub(m.Start)
	}
	if sum != 365*24*time.Hour {
		t.Errorf("1404 months add up to %v", sum)
	}
}

func TestHourOfWeek(t *testing.T) {
	cases := []struct {
		at   time.Time
		want int
	}{
		{teh(2025, 11, 15, 0, 0), 0},                         // Saturday 00:00
		{teh(2025, 11, 15, 9, 30), 9},                        // Saturday 09:30
		{teh(2025, 11, 16, 0, 0), 24},                        // Sunday
		{teh(2025, 11, 21, 23, 59), 167},                     // Friday 23:59
		{time.Date(2025, 11, 14, 20, 30, 0, 0, time.UTC), 0}, // Saturday 00:00 in Tehran
	}
	for _, c := range cases {
		if got := HourOfWeek(c.at); got != c.want {
			t.Errorf("HourOfWeek(%s) = %d, want %d", c.at, got, c.want)
		}
	}
	if !ByWeek.Valid() || Granularity("year").Valid() {
		t.Error("Valid")
	}
}
