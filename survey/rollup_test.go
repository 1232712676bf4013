package survey_test

import (
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
