package survey_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// BenchmarkValidate is the CPU work intake does per submission before queueing it: origin and
// key checks and validation (string checks and the content hash included), for the shape the
// load generator sends — three ratings and a short comment, with a client id.
func BenchmarkValidate(b *testing.B) {
	v := survey.Version{SurveyID: 1, AgencyID: 1, Version: 1, Questions: []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Required: true},
		{ID: "respect", Type: survey.TypeRating5},
		{ID: "speed", Type: survey.TypeRating5},
		{ID: "comment", Type: survey.TypeText},
	}}
	comment := "برخورد کارمند خیلی خوب بود ولی صف طولانی بود"
	s := survey.Submission{ID: "0193a1d2-7c4e-7b3a-9f00-1234567890ab", AgencyID: 1, OfficeID: 5, SurveyID: 1, SurveyVersion: 1,
		Answers: []survey.SubmittedAnswer{
			{QuestionID: "overall", Value: json.RawMessage("4")},
			{QuestionID: "respect", Value: json.RawMessage("5")},
			{QuestionID: "speed", Value: json.RawMessage("3")},
			{QuestionID: "comment", Text: &comment},
		}}
	origin := survey.Origin{Channel: survey.ChannelWeb}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		sub := s
		if err := origin.Apply(&sub); err != nil {
			b.Fatal(err)
		}
		if err := sub.CheckKeys(); err != nil {
			b.Fatal(err)
		}
		if _, err := v.Validate(&sub, now); err != nil {
			b.Fatal(err)
		}
	}
}
