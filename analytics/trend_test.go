package analytics

import "testing"

// Two weeks of the trend: Friday 2025-11-14 is in week 1404-W34, Saturday 2025-11-15 starts
// W35; the week with no citizens stays undefined.
func TestTrendWeeks(t *testing.T) {
	days := []DayTotals{
		{Day: teh(2025, 11, 13, 0, 0), N: 2, Sum: 9, SumSq: 41, Satisfied: 2},  // 4 and 5
		{Day: teh(2025, 11, 14, 23, 0), N: 1, Sum: 2, SumSq: 4, Satisfied: 0},  // Friday: W34
		{Day: teh(2025, 11, 15, 0, 0), N: 3, Sum: 12, SumSq: 50, Satisfied: 2}, // 3, 4, 5: W35
		{Day: teh(2025, 12, 30, 0, 0), N: 5, Sum: 25, SumSq: 125},              // outside: ignored
	}
	got := Trend(days, teh(2025, 11, 8, 0, 0), teh(2025, 11, 29, 0, 0), ByWeek)
	if len(got) != 3 || got[0].Key != "1404-W34" || got[1].Key != "1404-W35" || got[2].Key != "1404-W36" {
		t.Fatalf("periods: %+v", got)
	}
	want34 := BoundedMeanCI(3, 11, 45, 1, 5)
	if got[0].Mean.N != 3 || *got[0].Mean.Value != *want34.Value || *got[0].Mean.Low != *want34.Low {
		t.Errorf("W34 mean %+v, want %+v", got[0].Mean, want34)
	}
	if got[0].CSAT.N != 3 || *got[0].CSAT.Value != 2.0/3 {
		t.Errorf("W34 CSAT %+v", got[0].CSAT)
	}
	if got[1].Mean.N != 3 || *got[1].Mean.Value != 4 || *got[1].Index.Value != 75 {
		t.Errorf("W35: %+v", got[1])
	}
	if got[2].Mean.Defined() || got[2].Mean.N != 0 || got[2].CSAT.Defined() {
		t.Errorf("empty week must be undefined: %+v", got[2])
	}
	if !got[1].Mean.HasInterval() || !(*got[1].Mean.Low < 4 && *got[1].Mean.High > 4) {
		t.Errorf("W35 band: %+v", got[1].Mean)
	}
	months := Trend(days, teh(2025, 10, 23, 0, 0), teh(2025, 12, 22, 0, 0), ByMonth)
	if len(months) != 2 || months[0].Key != "1404-08" || months[0].Mean.N != 6 || months[1].Mean.N != 0 {
		t.Errorf("months: %+v", months)
	}
}
