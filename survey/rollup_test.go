package survey_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/survey"
)

// CitizenValue is exact for means of up to 10 answers, within half a unit for 11–20, and never
// moves a mean across the thresholds the scores read (4 for CSAT; 7 and 9 for NPS).
func TestCitizenValue(t *testing.T) {
	const s = survey.CitizenScale
	for k := 1; k <= 20; k++ {
		for sum := 0; sum <= 10*k; sum++ {
			v := survey.CitizenValue(sum, k)
			exact := float64(sum) * s / float64(k)
			if d := float64(v) - exact; d < -0.5 || d > 0.5 || (k <= 10 && d != 0) {
				t.Fatalf("CitizenValue(%d, %d) = %d, exact %v", sum, k, v, exact)
			}
			for _, th := range []int{4, 7, 9} {
				if (sum >= th*k) != (v >= int64(th*s)) {
					t.Fatalf("CitizenValue(%d, %d) = %d crosses the threshold %d", sum, k, v, th)
				}
			}
		}
	}
	if got := survey.CitizenValue(13, 3); got != 10920 {
		t.Errorf("13/3 → %d, want 10920", got)
	}
	if got := survey.CitizenValue(-3, 2); got != -3780 {
		t.Errorf("-3/2 → %d, want -3780", got)
	}
}

// CountsInHeadline: an explicit value wins; by default unconditional rating5 and nps count.
func TestCountsInHeadline(t *testing.T) {
	yes, no := true, false
	cond := &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}
	for _, c := range []struct {
		q    survey.Question
		want bool
	}{
		{survey.Question{Type: survey.TypeRating5}, true},
		{survey.Question{Type: survey.TypeNPS}, true},
		{survey.Question{Type: survey.TypeRating5, ShowIf: cond}, false},
		{survey.Question{Type: survey.TypeNPS, ShowIf: cond}, false},
		{survey.Question{Type: survey.TypeRating5, ShowIf: cond, Headline: &yes}, true},
		{survey.Question{Type: survey.TypeRating5, Headline: &no}, false},
		{survey.Question{Type: survey.TypeYesNo}, false},
		{survey.Question{Type: survey.TypeChoice, Headline: &yes}, false},
		{survey.Question{Type: survey.TypeText}, false},
	} {
		if got := c.q.CountsInHeadline(); got != c.want {
			t.Errorf("%+v: CountsInHeadline = %v, want %v", c.q, got, c.want)
		}
	}
}

// The one order of rollup cells: field by field, as the tables' primary keys are declared.
func TestCompareRollupKeys(t *testing.T) {
	base := survey.RollupKey{AgencyID: 2, OfficeID: 2, SurveyID: 2, SurveyVersion: 2, QuestionID: "m", Channel: "m", Day: "2025-06-06"}
	smaller := []func(k *survey.RollupKey){
		func(k *survey.RollupKey) { k.AgencyID = 1; k.OfficeID = 9 },
		func(k *survey.RollupKey) { k.OfficeID = 1; k.SurveyID = 9 },
		func(k *survey.RollupKey) { k.SurveyID = 1; k.SurveyVersion = 9 },
		func(k *survey.RollupKey) { k.SurveyVersion = 1; k.QuestionID = "z" },
		func(k *survey.RollupKey) { k.QuestionID = ""; k.Channel = "z" },
		func(k *survey.RollupKey) { k.Channel = "a"; k.Day = "2099-01-01" },
		func(k *survey.RollupKey) { k.Day = "2025-06-05" },
	}
	for i, f := range smaller {
		k := base
		f(&k)
		if survey.CompareRollupKeys(k, base) >= 0 || survey.CompareRollupKeys(base, k) <= 0 {
			t.Errorf("case %d: %+v should sort before %+v", i, k, base)
		}
	}
	if survey.CompareRollupKeys(base, base) != 0 {
		t.Error("CompareRollupKeys(k, k) must be 0")
	}
}

// RollupSum merges cells by key whatever order they come in, and Normalized leaves a sorted,
// unique delta as it is but merges and sorts any other.
func TestRollupSumAndNormalized(t *testing.T) {
	k1 := survey.RollupKey{AgencyID: 1, QuestionID: "q", Channel: "web", Day: "2025-01-01"}
	k2 := k1
	k2.AgencyID = 2
	messy := survey.RollupDelta{
		Rollups: []survey.Rollup{
			{RollupKey: k2, Type: survey.TypeRating5, N: 1, Sum: 4, SumSq: 16},
			{RollupKey: k1, Type: survey.TypeRating5, N: 2, Sum: 3, SumSq: 5},
			{RollupKey: k2, Type: survey.TypeRating5, N: 1, Sum: 5, SumSq: 25},
		},
		Histogram: []survey.HistogramCell{
			{RollupKey: k2, Value: "5", N: 1}, {RollupKey: k1, Value: "1", N: 1}, {RollupKey: k2, Value: "5", N: 2},
		},
	}
	got := messy.Normalized()
	want := survey.RollupDelta{
		Rollups: []survey.Rollup{
			{RollupKey: k1, Type: survey.TypeRating5, N: 2, Sum: 3, SumSq: 5},
			{RollupKey: k2, Type: survey.TypeRating5, N: 2, Sum: 9, SumSq: 41},
		},
		Histogram: []survey.HistogramCell{{RollupKey: k1, Value: "1", N: 1}, {RollupKey: k2, Value: "5", N: 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Normalized:\n got %+v\nwant %+v", got, want)
	}
	if again := want.Normalized(); &again.Rollups[0] != &want.Rollups[0] {
		t.Error("Normalized copied a delta that was already sorted and unique")
	}
	if len(messy.Rollups) != 3 || messy.Rollups[0].RollupKey != k2 {
		t.Error("Normalized modified its input")
	}
}

// Each flag has its own reserved row, which every reader that skips pseudo-questions skips, and
// which FlagOfQuestion reads back; ordinary and per-citizen rows are not flag rows.
func TestFlaggedQuestion(t *testing.T) {
	want := map[survey.Flag]string{
		survey.FlagInterval: "@flagged:interval", survey.FlagBurst: "@flagged:burst", survey.FlagAfterHours: "@flagged:after_hours",
	}
	seen := map[string]bool{}
	for _, f := range survey.Flags {
		q := survey.FlaggedQuestion(f)
		if q != want[f] || !strings.HasPrefix(q, survey.ReservedPrefix) || seen[q] {
			t.Errorf("FlaggedQuestion(%q) = %q, want %q (reserved, distinct)", f, q, want[f])
		}
		seen[q] = true
		if back, ok := survey.FlagOfQuestion(q); !ok || back != f {
			t.Errorf("FlagOfQuestion(%q) = %q, %v; want %q", q, back, ok, f)
		}
	}
	for _, q := range []string{survey.ResponseQuestion, survey.HeadlineQuestion, survey.HeadlineNPSQuestion, "q1", "@flagged:", "flagged:burst"} {
		if f, ok := survey.FlagOfQuestion(q); ok {
			t.Errorf("FlagOfQuestion(%q) = %q, true; not a flag row", q, f)
		}
	}
}
