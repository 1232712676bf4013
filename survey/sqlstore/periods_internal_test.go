package sqlstore

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestSplitPeriod checks that every day of a period falls in exactly one part of its split —
// whole months, the leading days or the trailing days — and no day outside it does, over
// random periods (some unbounded) across Jalali year ends and the calendar's own bounds.
func TestSplitPeriod(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	day := func(i int) string { return base.AddDate(0, 0, i).Format("2006-01-02") }
	type window struct{ from, to string }
	cases := []window{
		{"2025-03-21", "2025-04-20"}, // exactly Farvardin 1404: one month, no days
		{"2025-03-22", "2025-04-20"}, // a month less its first day: days only
		{"2025-03-21", "2026-03-20"}, // exactly the year 1404
		{"2025-03-20", "2026-03-21"}, // the year and a day at each end
		{"2025-05-01", "2025-05-01"},
		{"2025-05-02", "2025-05-01"}, // empty
		{"", "2025-06-10"}, {"2025-06-10", ""}, {"", ""},
		{"2001-03-21", "2001-04-20"}, {"2000-01-01", "2001-05-01"}, // the calendar's first month
		{"2072-02-01", "2072-03-19"}, {"2072-02-20", "2073-01-01"}, // its last
	}
	for range 400 {
		a, b := rng.IntN(800), rng.IntN(800)
		if a > b {
			a, b = b, a
		}
		cases = append(cases, window{day(a), day(b)})
	}
	for _, w := range cases {
		p := splitPeriod(w.from, w.to)
		if p.MonthFrom != "" && (p.MonthTo == "" || p.MonthFrom > p.MonthTo) {
			t.Fatalf("%v: months %q…%q", w, p.MonthFrom, p.MonthTo)
		}
		// Check every day from 40 days before the period to 40 days after (an unbounded end:
		// beyond the calendar's).
		lo, hi := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2074, 1, 1, 0, 0, 0, 0, time.UTC)
		if f, err := time.Parse("2006-01-02", w.from); err == nil {
			lo = f.AddDate(0, 0, -40)
		}
		if e, err := time.Parse("2006-01-02", w.to); err == nil {
			hi = e.AddDate(0, 0, 40)
		}
		for d := lo; !d.After(hi); d = d.AddDate(0, 0, 1) {
			s := d.Format("2006-01-02")
			in := (w.from == "" || s >= w.from) && (w.to == "" || s <= w.to)
			parts := 0
			if m, ok := monthOf(s); ok && p.MonthFrom != "" && m >= p.MonthFrom && m <= p.MonthTo {
				parts++
			}
			if p.LeadFrom != "" && s >= p.LeadFrom && s <= p.LeadTo {
				parts++
			}
			if p.TailFrom != "" && s >= p.TailFrom && s <= p.TailTo {
				parts++
			}
			if (in && parts != 1) || (!in && parts != 0) {
				t.Fatalf("%v split %+v: day %s in the period %v, in %d parts", w, p, s, in, parts)
			}
		}
	}
	// A 365-day period reads at most two partial months of days.
	p := splitPeriod("2025-07-15", "2026-07-14")
	if p.MonthFrom != "1404-05" || p.MonthTo != "1405-03" || p.LeadFrom != "2025-07-15" || p.TailTo != "2026-07-14" {
		t.Fatalf("365 days: %+v", p)
	}
}

// TestMonthBounds checks the month arithmetic against known Jalali dates.
func TestMonthBounds(t *testing.T) {
	for _, c := range []struct {
		jy, jm      int
		first, last string
	}{
		{1404, 1, "2025-03-21", "2025-04-20"},
		{1404, 12, "2026-02-20", "2026-03-20"},
		{1403, 12, "2025-02-19", "2025-03-20"}, // 1403 is a leap year: Esfand has 30 days
		{1405, 7, "2026-09-23", "2026-10-22"},
	} {
		f, l := monthBounds(c.jy, c.jm)
		if f != c.first || l != c.last {
			t.Errorf("%d-%02d: %s…%s, want %s…%s", c.jy, c.jm, f, l, c.first, c.last)
		}
	}
	if m, ok := monthOf("2026-12-01"); !ok || m != "1405-09" {
		t.Errorf("monthOf(2026-12-01) = %q, %v", m, ok)
	}
	if _, ok := monthOf("1999-01-01"); ok {
		t.Error("a day before the calendar has a month")
	}
}
