package demo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
)

// The demo survey is asked by SMS: a rating, then the reasons for an unhappy citizen, and every
// text of it fits two SMS parts (sms.CheckSMS, as wherever versions are published).
func TestDemoSMS(t *testing.T) {
	cat, sum, _ := seeded(t, demo.Options{Now: seedNow, Responses: 1})
	v, err := cat.ActiveVersion(context.Background(), sum.Agencies[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.SMS == nil || len(v.SMS.FollowUp) != 1 || v.SMS.FollowUp[0] != demo.QReasons {
		t.Fatalf("demo SMS settings = %+v, want the reasons as follow-up", v.SMS)
	}
	if err := sms.CheckSMS(v); err != nil {
		t.Fatalf("CheckSMS(demo) = %v", err)
	}
	reasons, _, _ := v.Question(demo.QReasons)
	text, err := sms.ComposeFollowUp(reasons)
	if err != nil {
		t.Fatalf("reasons follow-up: %v", err)
	}
	if p, _ := sms.Parts(text); p > sms.MaxParts {
		t.Fatalf("reasons follow-up takes %d parts:\n%s", p, text)
	}
	// The conversation: an unhappy rating is followed by the reasons, a happy one by nothing,
	// and the reasons answered end it (the default limit of two questions).
	rate := func(n string) survey.SubmittedAnswer {
		return survey.SubmittedAnswer{QuestionID: demo.QOverall, Value: []byte(n)}
	}
	if q, ok := v.SMSRatingQuestion(); !ok || q.ID != demo.QOverall {
		t.Errorf("SMSRatingQuestion = %q, %v", q.ID, ok)
	}
	if q, ok := v.NextSMSQuestion([]survey.SubmittedAnswer{rate("2")}, 1); !ok || q.ID != demo.QReasons {
		t.Errorf("after a 2: %q, %v; want the reasons", q.ID, ok)
	}
	if q, ok := v.NextSMSQuestion([]survey.SubmittedAnswer{rate("4")}, 1); ok {
		t.Errorf("after a 4: %q; want nothing", q.ID)
	}
	value, ok := sms.ParseFollowUp("۱ و ۴", reasons)
	if !ok {
		t.Fatal("«۱ و ۴» not read as reasons")
	}
	answers := []survey.SubmittedAnswer{rate("2"), {QuestionID: demo.QReasons, Value: value}}
	if q, ok := v.NextSMSQuestion(answers, 2); ok {
		t.Errorf("after the reasons: %q; want nothing", q.ID)
	}
	// What the conversation gathered is a response the version accepts.
	sub := survey.Submission{AgencyID: v.AgencyID, SurveyID: v.SurveyID, SurveyVersion: v.Version, Channel: survey.ChannelSMS, Answers: answers}
	r, err := v.Validate(&sub, seedNow)
	if err != nil {
		t.Fatalf("Validate = %v", err)
	}
	if len(r.Answers) != 2 || len(r.Answers[1].Choices) != 2 || r.Answers[1].Choices[0] != "waiting" || r.Answers[1].Choices[1] != "documents" {
		t.Errorf("answers = %+v", r.Answers)
	}
	// Longer labels would not fit, and CheckSMS says so.
	long := v
	long.Questions = append([]survey.Question(nil), v.Questions...)
	_, i, _ := long.Question(demo.QReasons)
	long.Questions[i].Options = append([]survey.Option(nil), reasons.Options...)
	long.Questions[i].Options[2].Label = "راهنمایی ناروشن یا مراحل پیچیده و طولانی"
	if err := sms.CheckSMS(long); !errors.Is(err, sms.ErrTooLong) {
		t.Errorf("CheckSMS(long labels) = %v, want ErrTooLong", err)
	}
}
