package survey_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/survey"
)

// smsVersion is testVersion asked by SMS: the reasons when the rating is 2 or less, then whether
// it was the first visit.
func smsVersion() survey.Version {
	v := testVersion()
	v.SMS = &survey.SMSSettings{Question: "از خدمت امروز راضی بودید؟ ۱ تا ۵", FollowUp: []string{"reasons", "returning"}, MaxQuestions: 3}
	return v
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestSMSRatingQuestion(t *testing.T) {
	v := testVersion()
	q, ok := v.SMSRatingQuestion()
	if !ok || q.ID != "overall" {
		t.Fatalf("SMSRatingQuestion = %q, %v; want overall", q.ID, ok)
	}
	// A conditional rating5 first is skipped: the invitation is asked of everyone.
	v.Questions = []survey.Question{
		{ID: "first", Type: survey.TypeYesNo, Title: "بار اول؟"},
		{ID: "again", Type: survey.TypeRating5, Title: "دوباره", ShowIf: &survey.Condition{QuestionID: "first", Op: "eq", Value: 0}},
		{ID: "overall", Type: survey.TypeRating5, Title: "کلی"},
	}
	if q, ok := v.SMSRatingQuestion(); !ok || q.ID != "overall" {
		t.Errorf("SMSRatingQuestion = %q, %v; want overall (the unconditional one)", q.ID, ok)
	}
	v.Questions = v.Questions[:2]
	if q, ok := v.SMSRatingQuestion(); ok {
		t.Errorf("SMSRatingQuestion = %q; want none", q.ID)
	}
}

func TestSMSMaxQuestions(t *testing.T) {
	v := testVersion()
	for _, c := range []struct {
		st   *survey.SMSSettings
		want int
	}{
		{nil, survey.DefaultSMSMaxQuestions},
		{&survey.SMSSettings{}, 2},
		{&survey.SMSSettings{MaxQuestions: 1}, 1},
		{&survey.SMSSettings{MaxQuestions: 4}, 4},
		{&survey.SMSSettings{MaxQuestions: 9}, survey.MaxSMSQuestions}, // unchecked: clamped
	} {
		v.SMS = c.st
		if got := v.SMSMaxQuestions(); got != c.want {
			t.Errorf("SMSMaxQuestions(%+v) = %d, want %d", c.st, got, c.want)
		}
	}
}

func TestNextSMSQuestion(t *testing.T) {
	rating := func(n string) survey.SubmittedAnswer {
		return survey.SubmittedAnswer{QuestionID: "overall", Value: raw(n)}
	}
	reasons := survey.SubmittedAnswer{QuestionID: "reasons", Value: raw(`["waiting"]`)}
	for _, c := range []struct {
		name    string
		st      *survey.SMSSettings
		answers []survey.SubmittedAnswer
		asked   int
		want    string // "" = none
	}{
		{"unhappy: reasons", nil, []survey.SubmittedAnswer{rating("2")}, 1, "reasons"},
		{"happy: reasons hidden, next", nil, []survey.SubmittedAnswer{rating("4")}, 1, "returning"},
		{"reasons answered: next", nil, []survey.SubmittedAnswer{rating("1"), reasons}, 2, "returning"},
		{"limit reached", nil, []survey.SubmittedAnswer{rating("1"), reasons}, 3, ""},
		{"no rating yet: reasons hidden", nil, nil, 0, "returning"},
		{"rating not a number counts for nothing", nil, []survey.SubmittedAnswer{rating(`"x"`)}, 1, "returning"},
		{"unknown question ignored", nil, []survey.SubmittedAnswer{{QuestionID: "nope", Value: raw("1")}, rating("2")}, 1, "reasons"},
		{"all answered", nil, []survey.SubmittedAnswer{rating("4"), {QuestionID: "returning", Value: raw("true")}}, 2, ""},
		{"default limit 2", &survey.SMSSettings{FollowUp: []string{"reasons", "returning"}},
			[]survey.SubmittedAnswer{rating("1"), reasons}, 2, ""},
		{"default limit: one follow-up", &survey.SMSSettings{FollowUp: []string{"reasons", "returning"}},
			[]survey.SubmittedAnswer{rating("1")}, 1, "reasons"},
		{"no follow-up", &survey.SMSSettings{Question: "x"}, []survey.SubmittedAnswer{rating("1")}, 1, ""},
		{"order of FollowUp, not of the survey", &survey.SMSSettings{FollowUp: []string{"returning", "reasons"}, MaxQuestions: 4},
			[]survey.SubmittedAnswer{rating("1")}, 1, "returning"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := smsVersion()
			if c.st != nil {
				v.SMS = c.st
			}
			q, ok := v.NextSMSQuestion(c.answers, c.asked)
			if got := map[bool]string{true: q.ID}[ok]; got != c.want || (ok && q.ID == "") {
				t.Errorf("NextSMSQuestion = %q, %v; want %q", q.ID, ok, c.want)
			}
		})
	}
	v := testVersion() // no SMS settings: nothing after the rating
	if q, ok := v.NextSMSQuestion([]survey.SubmittedAnswer{rating("1")}, 1); ok {
		t.Errorf("without SMS settings NextSMSQuestion = %q", q.ID)
	}
}

func TestCheckSMSSettings(t *testing.T) {
	if v := smsVersion(); v.Check() != nil {
		t.Fatalf("valid SMS settings refused: %v", v.Check())
	}
	nine := make([]survey.Option, 10)
	for i := range nine {
		nine[i] = survey.Option{ID: string(rune('a' + i)), Label: "گزینه"}
	}
	for _, c := range []struct {
		name  string
		edit  func(v *survey.Version)
		field string
		code  string
	}{
		{"question too long", func(v *survey.Version) { v.SMS.Question = strings.Repeat("ب", 61) }, "sms.question", "too_long"},
		{"link question too long", func(v *survey.Version) { v.SMS.LinkQuestion = strings.Repeat("ب", 61) }, "sms.link_question", "too_long"},
		{"control character", func(v *survey.Version) { v.SMS.Question = "راضی\nبودید؟" }, "sms.question", "control_character"},
		{"invalid utf-8", func(v *survey.Version) { v.SMS.LinkQuestion = "\xff" }, "sms.link_question", "invalid_utf8"},
		{"max_questions negative", func(v *survey.Version) { v.SMS.MaxQuestions = -1 }, "sms.max_questions", "bounds"},
		{"max_questions 5", func(v *survey.Version) { v.SMS.MaxQuestions = 5 }, "sms.max_questions", "bounds"},
		{"unknown follow-up", func(v *survey.Version) { v.SMS.FollowUp = []string{"nope"} }, "sms.follow_up[0]", "unknown_question"},
		{"duplicate follow-up", func(v *survey.Version) { v.SMS.FollowUp = []string{"reasons", "reasons"} }, "sms.follow_up[1]", "duplicate_id"},
		{"rating itself", func(v *survey.Version) { v.SMS.FollowUp = []string{"overall"} }, "sms.follow_up[0]", "order"},
		{"nps", func(v *survey.Version) { v.SMS.FollowUp = []string{"recommend"} }, "sms.follow_up[0]", "sms_type"},
		{"text", func(v *survey.Version) { v.SMS.FollowUp = []string{"comment"} }, "sms.follow_up[0]", "sms_type"},
		{"ten options", func(v *survey.Version) { v.Questions[3].Options = nine }, "sms.follow_up[0]", "too_many_options"},
		{"untitled", func(v *survey.Version) { v.Questions[2].Title = " " }, "sms.follow_up[1]", "title"},
		{"before the rating", func(v *survey.Version) {
			v.Questions = append([]survey.Question{{ID: "first", Type: survey.TypeYesNo, Title: "بار اول؟"}}, v.Questions...)
			v.SMS.FollowUp = []string{"first"}
		}, "sms.follow_up[0]", "order"},
		{"no rating", func(v *survey.Version) {
			v.Questions = []survey.Question{{ID: "first", Type: survey.TypeYesNo, Title: "بار اول؟"}}
			v.SMS.FollowUp = []string{"first"}
		}, "sms.follow_up", "no_rating"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := smsVersion()
			v.SMS.FollowUp = []string{"desk", "returning"}
			if c.name != "ten options" && c.name != "untitled" {
				v.SMS.FollowUp = []string{"reasons", "returning"}
			}
			c.edit(&v)
			err := v.Check()
			var se *survey.Error
			if !errors.As(err, &se) || se.Code != survey.ECodeInvalid {
				t.Fatalf("Check = %v, want an invalid error", err)
			}
			fe, ok := se.Fields[c.field]
			if !ok || fe.Code != c.code {
				t.Fatalf("Check fields = %+v, want %s: %s", se.Fields, c.field, c.code)
			}
			if fe.MessageFA == "" || fe.Message == "" {
				t.Errorf("field error without both messages: %+v", fe)
			}
		})
	}
	// The boundaries that pass: 60 letters (ZWNJ and all), max_questions 0 and 4, nine options.
	v := smsVersion()
	v.SMS.Question = strings.Repeat("ب", 60)
	v.SMS.LinkQuestion = strings.Repeat("ب", 60)
	v.SMS.MaxQuestions = 4
	v.Questions[3].Options = nine[:9]
	v.SMS.FollowUp = []string{"desk", "reasons", "returning"}
	if err := v.Check(); err != nil {
		t.Errorf("boundary settings refused: %v", err)
	}
	v.SMS.MaxQuestions = 0
	if err := v.Check(); err != nil {
		t.Errorf("max_questions 0 refused: %v", err)
	}
}

func TestSMSSettingsJSON(t *testing.T) {
	v := smsVersion()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"sms":{"question":`) || !strings.Contains(string(b), `"follow_up":["reasons","returning"]`) {
		t.Errorf("JSON = %s", b)
	}
	var back survey.Version
	if err := json.Unmarshal(b, &back); err != nil || back.SMS == nil || back.SMS.MaxQuestions != 3 || back.SMS.Question != v.SMS.Question {
		t.Errorf("round trip = %+v, %v", back.SMS, err)
	}
	v.SMS = nil
	if b, _ := json.Marshal(v); strings.Contains(string(b), `"sms"`) {
		t.Errorf("nil settings written: %s", b)
	}
}
