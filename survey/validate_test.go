package survey_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// testNow is the server clock of every validation test: a Saturday morning in Tehran.
var testNow = time.Date(2025, 11, 15, 6, 30, 0, 0, time.UTC)

const testResponseID = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

// testVersion covers every question type and a condition: reasons (required when shown) and a
// short comment appear only when the overall rating is 2 or less.
func testVersion() survey.Version {
	return survey.Version{
		SurveyID: 3, AgencyID: 7, Version: 1, Title: "نظرسنجی رضایت",
		Questions: []survey.Question{
			{ID: "overall", Type: survey.TypeRating5, Title: "به‌طور کلی چقدر راضی هستید؟", TitleEN: "Overall", Required: true},
			{ID: "recommend", Type: survey.TypeNPS, Title: "توصیه به دیگران", TitleEN: "Recommend"},
			{ID: "returning", Type: survey.TypeYesNo, Title: "بار اول است؟", TitleEN: "First visit?"},
			{ID: "desk", Type: survey.TypeChoice, Title: "کدام باجه؟", TitleEN: "Which desk?", Options: []survey.Option{
				{ID: "front", Label: "پیشخوان"}, {ID: "back", Label: "اتاق کارشناس"}, {ID: "online", Label: "سامانه"},
			}},
			{ID: "reasons", Type: survey.TypeChoice, Title: "چرا ناراضی بودید؟", TitleEN: "Why?", Required: true, Multiple: true,
				Options: []survey.Option{{ID: "waiting", Label: "معطلی"}, {ID: "behaviour", Label: "رفتار"}, {ID: "other", Label: "سایر"}},
				ShowIf:  &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}},
			{ID: "comment", Type: survey.TypeText, Title: "توضیح", TitleEN: "Comment", MaxLength: 10,
				ShowIf: &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}},
			{ID: "note", Type: survey.TypeText, Title: "یادداشت", TitleEN: "Note"},
		},
	}
}

// optionalVersion is testVersion with nothing required, to reach the rules required would mask.
func optionalVersion() survey.Version {
	v := testVersion()
	for i := range v.Questions {
		v.Questions[i].Required = false
	}
	return v
}

func val(q, raw string) survey.SubmittedAnswer {
	return survey.SubmittedAnswer{QuestionID: q, Value: json.RawMessage(raw)}
}

func txt(q, s string) survey.SubmittedAnswer {
	return survey.SubmittedAnswer{QuestionID: q, Text: &s}
}

func submission(answers ...survey.SubmittedAnswer) survey.Submission {
	at := testNow.Add(-time.Hour)
	return survey.Submission{
		ID: testResponseID, AgencyID: 7, OfficeID: 11, SurveyID: 3, SurveyVersion: 1,
		Channel: survey.ChannelKiosk, Source: "kiosk-1", SubmittedAt: &at, Answers: answers,
	}
}

func intp(n int) *int { return &n }

// fieldCodes returns err's field codes after checking it is an ECodeInvalid *survey.Error whose
// messages, and every field's messages, are given in both languages.
func fieldCodes(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *survey.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *survey.Error", err, err)
	}
	if e.Code != survey.ECodeInvalid {
		t.Fatalf("code = %q, want %q (%v)", e.Code, survey.ECodeInvalid, err)
	}
	if e.Message == "" || e.MessageFA == "" {
		t.Errorf("error messages missing: %+v", e)
	}
	got := map[string]string{}
	for k, f := range e.Fields {
		if f.Message == "" || f.MessageFA == "" {
			t.Errorf("field %q (%s) lacks a message: en=%q fa=%q", k, f.Code, f.Message, f.MessageFA)
		}
		got[k] = f.Code
	}
	return got
}

func sameCodes(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// describe renders answers for failure messages.
func describe(as []survey.Answer) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s:", a.QuestionID)
		switch {
		case a.Number != nil:
			fmt.Fprintf(&b, "%d", *a.Number)
		case a.Choices != nil:
			fmt.Fprintf(&b, "%v", a.Choices)
		default:
			fmt.Fprintf(&b, "%q", a.Text)
		}
		b.WriteString(" ")
	}
	return b.String()
}

func TestValidate(t *testing.T) {
	at := func(d time.Duration) *time.Time { x := testNow.Add(d); return &x }
	num := func(q string, n int) survey.Answer {
		typ := map[string]survey.QuestionType{"overall": survey.TypeRating5, "recommend": survey.TypeNPS, "returning": survey.TypeYesNo}[q]
		return survey.Answer{QuestionID: q, Type: typ, Number: intp(n), Headline: typ != survey.TypeYesNo}
	}
	choice := func(q string, ids ...string) survey.Answer {
		return survey.Answer{QuestionID: q, Type: survey.TypeChoice, Choices: ids}
	}
	text := func(q, s string) survey.Answer { return survey.Answer{QuestionID: q, Type: survey.TypeText, Text: s} }
	persian10 := strings.Repeat("خ", 10) // 10 runes, 20 bytes
	ok5 := val("overall", "5")

	tests := []struct {
		name    string
		version func() survey.Version // testVersion when nil
		sub     survey.Submission
		edit    func(s *survey.Submission)
		want    []survey.Answer   // answers of an accepted response
		fields  map[string]string // field → code of a rejected one
	}{
		// rating5
		{name: "rating5 lowest", sub: submission(val("overall", "1"), val("reasons", `["waiting"]`)),
			want: []survey.Answer{num("overall", 1), choice("reasons", "waiting")}},
		{name: "rating5 highest", sub: submission(ok5), want: []survey.Answer{num("overall", 5)}},
		{name: "rating5 zero", sub: submission(val("overall", "0")), fields: map[string]string{"answers[0].value": "out_of_range", "questions[0]": "required"}},
		{name: "rating5 six", sub: submission(val("overall", "6")), fields: map[string]string{"answers[0].value": "out_of_range", "questions[0]": "required"}},
		{name: "rating5 fraction", sub: submission(val("overall", "3.5")), fields: map[string]string{"answers[0].value": "wrong_type", "questions[0]": "required"}},
		{name: "rating5 whole float", sub: submission(val("overall", "4.0")), want: []survey.Answer{num("overall", 4)}},
		{name: "rating5 Persian digit string", sub: submission(val("overall", `"۴"`)), want: []survey.Answer{num("overall", 4)}},
		{name: "rating5 Arabic-Indic digit string", sub: submission(val("overall", `" ٣ "`)), want: []survey.Answer{num("overall", 3)}},
		{name: "rating5 word", sub: submission(val("overall", `"خوب"`)), fields: map[string]string{"answers[0].value": "wrong_type", "questions[0]": "required"}},
		{name: "rating5 boolean", sub: submission(val("overall", "true")), fields: map[string]string{"answers[0].value": "wrong_type", "questions[0]": "required"}},
		{name: "rating5 as text", sub: submission(txt("overall", "5")), fields: map[string]string{"answers[0].value": "wrong_type", "questions[0]": "required"}},
		{name: "rating5 null", sub: submission(val("overall", "null")), fields: map[string]string{"answers[0].value": "missing_value", "questions[0]": "required"}},
		{name: "rating5 huge", sub: submission(val("overall", "1e400")), fields: map[string]string{"answers[0].value": "wrong_type", "questions[0]": "required"}},

		// nps
		{name: "nps zero", sub: submission(ok5, val("recommend", "0")), want: []survey.Answer{num("overall", 5), num("recommend", 0)}},
		{name: "nps ten web", sub: submission(ok5, val("recommend", `"۱۰"`)), edit: func(s *survey.Submission) { s.Channel = survey.ChannelWeb },
			want: []survey.Answer{num("overall", 5), num("recommend", 10)}},
		{name: "nps eleven", sub: submission(ok5, val("recommend", "11")), fields: map[string]string{"answers[1].value": "out_of_range"}},
		{name: "nps negative", sub: submission(ok5, val("recommend", "-1")), fields: map[string]string{"answers[1].value": "out_of_range"}},
		{name: "nps by sms", sub: submission(ok5, val("recommend", "9")), edit: func(s *survey.Submission) { s.Channel = survey.ChannelSMS },
			fields: map[string]string{"answers[1].question_id": "channel_not_allowed"}},
		{name: "sms rating only", sub: submission(val("overall", "4")), edit: func(s *survey.Submission) { s.Channel = survey.ChannelSMS },
			want: []survey.Answer{num("overall", 4)}},

		// yesno
		{name: "yesno true", sub: submission(ok5, val("returning", "true")), want: []survey.Answer{num("overall", 5), num("returning", 1)}},
		{name: "yesno false", sub: submission(ok5, val("returning", "false")), want: []survey.Answer{num("overall", 5), num("returning", 0)}},
		{name: "yesno 1", sub: submission(ok5, val("returning", "1")), want: []survey.Answer{num("overall", 5), num("returning", 1)}},
		{name: "yesno 0", sub: submission(ok5, val("returning", "0")), want: []survey.Answer{num("overall", 5), num("returning", 0)}},
		{name: "yesno yes", sub: submission(ok5, val("returning", `"yes"`)), want: []survey.Answer{num("overall", 5), num("returning", 1)}},
		{name: "yesno No", sub: submission(ok5, val("returning", `"No"`)), want: []survey.Answer{num("overall", 5), num("returning", 0)}},
		{name: "yesno بله", sub: submission(ok5, val("returning", `"بله"`)), want: []survey.Answer{num("overall", 5), num("returning", 1)}},
		{name: "yesno خیر", sub: submission(ok5, val("returning", `"خیر"`)), want: []survey.Answer{num("overall", 5), num("returning", 0)}},
		{name: "yesno ۱", sub: submission(ok5, val("returning", `"۱"`)), want: []survey.Answer{num("overall", 5), num("returning", 1)}},
		{name: "yesno 2", sub: submission(ok5, val("returning", "2")), fields: map[string]string{"answers[1].value": "out_of_range"}},
		{name: "yesno maybe", sub: submission(ok5, val("returning", `"شاید"`)), fields: map[string]string{"answers[1].value": "wrong_type"}},

		// choice
		{name: "choice single", sub: submission(ok5, val("desk", `"front"`)), want: []survey.Answer{num("overall", 5), choice("desk", "front")}},
		{name: "choice single in list", sub: submission(ok5, val("desk", `["online"]`)), want: []survey.Answer{num("overall", 5), choice("desk", "online")}},
		{name: "choice multiple", sub: submission(val("overall", "2"), val("reasons", `["waiting","other","waiting"]`)),
			want: []survey.Answer{num("overall", 2), choice("reasons", "waiting", "other")}},
		{name: "choice unknown option", sub: submission(ok5, val("desk", `"roof"`)), fields: map[string]string{"answers[1].value": "unknown_option"}},
		{name: "choice unknown in list", sub: submission(val("overall", "1"), val("reasons", `["waiting","price"]`)),
			fields: map[string]string{"answers[1].value": "unknown_option", "questions[4]": "required"}},
		{name: "choice multiple on single", sub: submission(ok5, val("desk", `["front","back"]`)), fields: map[string]string{"answers[1].value": "single_choice"}},
		{name: "choice empty list", sub: submission(ok5, val("desk", `[]`)), fields: map[string]string{"answers[1].value": "missing_value"}},
		{name: "choice number", sub: submission(ok5, val("desk", `2`)), fields: map[string]string{"answers[1].value": "wrong_type"}},
		{name: "choice missing value", sub: submission(ok5, survey.SubmittedAnswer{QuestionID: "desk"}), fields: map[string]string{"answers[1].value": "missing_value"}},

		// text: MaxLength and DefaultTextMax count runes, not bytes
		{name: "text at max length in Persian", sub: submission(val("overall", "2"), val("reasons", `"waiting"`), txt("comment", persian10)),
			want: []survey.Answer{num("overall", 2), choice("reasons", "waiting"), text("comment", persian10)}},
		{name: "text over max length", sub: submission(val("overall", "2"), val("reasons", `"waiting"`), txt("comment", persian10+"ی")),
			fields: map[string]string{"answers[2].text": "too_long"}},
		{name: "text trimmed before counting", sub: submission(val("overall", "2"), val("reasons", `"waiting"`), txt("comment", "  "+persian10+"\n")),
			want: []survey.Answer{num("overall", 2), choice("reasons", "waiting"), text("comment", persian10)}},
		{name: "text default max in Persian", sub: submission(ok5, txt("note", strings.Repeat("ک", survey.DefaultTextMax))),
			want: []survey.Answer{num("overall", 5), text("note", strings.Repeat("ک", survey.DefaultTextMax))}},
		{name: "text over default max", sub: submission(ok5, txt("note", strings.Repeat("ک", survey.DefaultTextMax+1))),
			fields: map[string]string{"answers[1].text": "too_long"}},
		{name: "text empty optional skipped", sub: submission(ok5, txt("note", "  \t ")), want: []survey.Answer{num("overall", 5)}},
		{name: "text as value string", sub: submission(ok5, val("note", `"صف طولانی بود"`)), want: []survey.Answer{num("overall", 5), text("note", "صف طولانی بود")}},
		{name: "text value number", sub: submission(ok5, val("note", `42`)), fields: map[string]string{"answers[1].value": "wrong_type"}},

		// answers as a whole
		{name: "unknown question", sub: submission(ok5, val("price", "3")), fields: map[string]string{"answers[1].question_id": "unknown_question"}},
		{name: "duplicate answer", sub: submission(ok5, val("overall", "4")), fields: map[string]string{"answers[1].question_id": "duplicate_answer"}},
		{name: "missing required", sub: submission(val("recommend", "8")), fields: map[string]string{"questions[0]": "required"}},
		{name: "too many answers", sub: submission(), edit: func(s *survey.Submission) {
			for i := 0; i <= survey.MaxAnswers; i++ {
				s.Answers = append(s.Answers, val("overall", "5"))
			}
		}, fields: map[string]string{"answers": "too_many"}},
		{name: "empty answers", version: optionalVersion, sub: submission(), fields: map[string]string{"answers": "empty"}},
		{name: "only empty text", version: optionalVersion, sub: submission(txt("note", " ")), fields: map[string]string{"answers": "empty"}},
		{name: "answers kept in question order", sub: submission(val("returning", "true"), ok5, val("recommend", "7")),
			want: []survey.Answer{num("overall", 5), num("recommend", 7), num("returning", 1)}},

		// conditional display: reasons and comment are shown only when overall ≤ 2
		{name: "hidden question answered", sub: submission(val("overall", "4"), val("reasons", `["waiting"]`)),
			fields: map[string]string{"answers[1]": "hidden_answered"}},
		{name: "hidden text answered", sub: submission(val("overall", "3"), txt("comment", "بد")),
			fields: map[string]string{"answers[1]": "hidden_answered"}},
		{name: "hidden when condition unanswered", version: optionalVersion, sub: submission(val("reasons", `["other"]`)),
			fields: map[string]string{"answers[0]": "hidden_answered"}},
		{name: "shown and required", sub: submission(val("overall", "2")), fields: map[string]string{"questions[4]": "required"}},
		{name: "shown optional comment may be skipped", sub: submission(val("overall", "1"), val("reasons", `"behaviour"`)),
			want: []survey.Answer{num("overall", 1), choice("reasons", "behaviour")}},
		{name: "hidden and required is not required", sub: submission(val("overall", "3")), want: []survey.Answer{num("overall", 3)}},

		// envelope
		{name: "future timestamp", sub: submission(ok5), edit: func(s *survey.Submission) { s.SubmittedAt = at(survey.MaxClockSkew + time.Minute) },
			fields: map[string]string{"submitted_at": "future_timestamp"}},
		{name: "too old", sub: submission(ok5), edit: func(s *survey.Submission) { s.SubmittedAt = at(-survey.MaxResponseAge - time.Hour) },
			fields: map[string]string{"submitted_at": "too_old"}},
		{name: "invalid id", sub: submission(ok5), edit: func(s *survey.Submission) { s.ID = "resp-1" }, fields: map[string]string{"id": "invalid_id"}},
		{name: "agency mismatch", sub: submission(ok5), edit: func(s *survey.Submission) { s.AgencyID = 8 }, fields: map[string]string{"agency_id": "agency_mismatch"}},
		{name: "invalid channel", sub: submission(ok5), edit: func(s *survey.Submission) { s.Channel = "fax" }, fields: map[string]string{"channel": "invalid_channel"}},
		{name: "empty channel", sub: submission(ok5), edit: func(s *survey.Submission) { s.Channel = "" }, fields: map[string]string{"channel": "invalid_channel"}},
		{name: "source too long", sub: submission(ok5), edit: func(s *survey.Submission) { s.Source = strings.Repeat("س", survey.MaxSourceLen+1) },
			fields: map[string]string{"source": "too_long"}},
		// strings the store cannot hold, or that no person typed
		{name: "NUL in source", sub: submission(ok5), edit: func(s *survey.Submission) { s.Source = "a\x00b" },
			fields: map[string]string{"source": "control_character"}},
		{name: "C1 control in source", sub: submission(ok5), edit: func(s *survey.Submission) { s.Source = "a\u009bb" },
			fields: map[string]string{"source": "control_character"}},
		{name: "invalid UTF-8 in source", sub: submission(ok5), edit: func(s *survey.Submission) { s.Source = "a\xffb" },
			fields: map[string]string{"source": "invalid_utf8"}},
		{name: "NUL in the id", sub: submission(ok5), edit: func(s *survey.Submission) { s.ID = testResponseID[:35] + "\x00" },
			fields: map[string]string{"id": "control_character"}},
		{name: "control in a question id", sub: submission(ok5, val("note\x01", `"x"`)),
			fields: map[string]string{"answers[1].question_id": "control_character"}},
		{name: "invalid UTF-8 in a question id", sub: submission(ok5, val("note\xc3", `"x"`)),
			fields: map[string]string{"answers[1].question_id": "invalid_utf8"}},
		{name: "control in a choice id", sub: submission(ok5, val("desk", `"front\u0000"`)),
			fields: map[string]string{"answers[1].value": "control_character"}},
		{name: "NUL in a text answer", sub: submission(ok5, txt("note", "خوب\x00")),
			fields: map[string]string{"answers[1].text": "control_character"}},
		{name: "escape in a text value", sub: submission(ok5, val("note", `"\u001b[31m"`)),
			fields: map[string]string{"answers[1].value": "control_character"}},
		{name: "invalid UTF-8 in a text answer", sub: submission(ok5, txt("note", "\xc3\x28")),
			fields: map[string]string{"answers[1].text": "invalid_utf8"}},
		{name: "line breaks and tabs in free text", sub: submission(ok5, txt("note", "یک\nدو\r\n\tسه")),
			want: []survey.Answer{num("overall", 5), text("note", "یک\nدو\r\n\tسه")}},
		{name: "ZWNJ and direction marks are text", sub: submission(ok5, txt("note", "می\u200cخواهم \u200fخوب")),
			want: []survey.Answer{num("overall", 5), text("note", "می\u200cخواهم \u200fخوب")}},

		{name: "several problems at once", sub: submission(val("overall", "9"), val("price", "1")), edit: func(s *survey.Submission) {
			s.ID, s.AgencyID, s.Channel = "x", 1, "fax"
		}, fields: map[string]string{
			"id": "invalid_id", "agency_id": "agency_mismatch", "channel": "invalid_channel",
			"answers[0].value": "out_of_range", "answers[1].question_id": "unknown_question", "questions[0]": "required",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := testVersion()
			if tc.version != nil {
				v = tc.version()
			}
			s := tc.sub
			if tc.edit != nil {
				tc.edit(&s)
			}
			r, err := v.Validate(&s, testNow)
			if tc.fields != nil {
				if err == nil {
					t.Fatalf("accepted, want fields %v; answers %s", tc.fields, describe(r.Answers))
				}
				if got := fieldCodes(t, err); !sameCodes(got, tc.fields) {
					t.Fatalf("fields = %v, want %v", got, tc.fields)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v; fields %v", err, fieldCodes(t, err))
			}
			if got, want := describe(r.Answers), describe(tc.want); got != want {
				t.Fatalf("answers = %s, want %s", got, want)
			}
			for i, a := range r.Answers {
				if a.Type != tc.want[i].Type || a.Headline != tc.want[i].Headline {
					t.Errorf("answer %d type, headline = %q, %v; want %q, %v", i, a.Type, a.Headline, tc.want[i].Type, tc.want[i].Headline)
				}
			}
		})
	}
}

func TestValidateEnvelope(t *testing.T) {
	v := testVersion()

	t.Run("copies the envelope and lower-cases the id", func(t *testing.T) {
		s := submission(val("overall", "4"))
		s.ID = "  " + strings.ToUpper(testResponseID) + " "
		s.Source = "  qr-poster  "
		r, err := v.Validate(&s, testNow)
		if err != nil {
			t.Fatal(err)
		}
		want := survey.Response{
			ID: testResponseID, AgencyID: 7, OfficeID: 11, SurveyID: 3, SurveyVersion: 1,
			Channel: survey.ChannelKiosk, Source: "qr-poster",
		}
		got := r
		got.Answers, got.SubmittedAt, got.ReceivedAt, got.Hash = nil, time.Time{}, time.Time{}, ""
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("response = %+v, want %+v", got, want)
		}
		if !r.SubmittedAt.Equal(s.SubmittedAt.UTC()) || r.SubmittedAt.Location() != time.UTC {
			t.Errorf("submitted_at = %v, want %v in UTC", r.SubmittedAt, s.SubmittedAt)
		}
		if !r.ReceivedAt.Equal(testNow) || r.ReceivedAt.Location() != time.UTC {
			t.Errorf("received_at = %v, want %v in UTC", r.ReceivedAt, testNow)
		}
	})

	t.Run("empty id stays empty for the caller to assign", func(t *testing.T) {
		s := submission(val("overall", "4"))
		s.ID = ""
		r, err := v.Validate(&s, testNow)
		if err != nil || r.ID != "" {
			t.Fatalf("id = %q, err = %v", r.ID, err)
		}
	})

	t.Run("no submitted_at means received now", func(t *testing.T) {
		s := submission(val("overall", "4"))
		s.SubmittedAt = nil
		r, err := v.Validate(&s, testNow.In(survey.Tehran))
		if err != nil {
			t.Fatal(err)
		}
		if !r.SubmittedAt.Equal(testNow) || !r.ReceivedAt.Equal(testNow) {
			t.Errorf("submitted_at = %v, received_at = %v, want both %v", r.SubmittedAt, r.ReceivedAt, testNow)
		}
	})

	t.Run("clock skew within bounds", func(t *testing.T) {
		for _, d := range []time.Duration{survey.MaxClockSkew - time.Second, -survey.MaxResponseAge + time.Minute} {
			s := submission(val("overall", "4"))
			x := testNow.Add(d).In(survey.Tehran)
			s.SubmittedAt = &x
			r, err := v.Validate(&s, testNow)
			if err != nil {
				t.Fatalf("offset %v rejected: %v", d, err)
			}
			if !r.SubmittedAt.Equal(x) {
				t.Errorf("offset %v: submitted_at = %v, want %v", d, r.SubmittedAt, x)
			}
		}
	})
}

func TestVersionCheck(t *testing.T) {
	rating := func(id string) survey.Question { return survey.Question{ID: id, Type: survey.TypeRating5, Title: id} }
	opts := []survey.Option{{ID: "a", Label: "الف"}, {ID: "b", Label: "ب"}}
	tests := []struct {
		name   string
		qs     []survey.Question
		fields map[string]string
	}{
		{name: "valid", qs: testVersion().Questions},
		{name: "no questions", qs: nil, fields: map[string]string{"questions": "count"}},
		{name: "too many questions", qs: func() []survey.Question {
			var qs []survey.Question
			for i := 0; i < 21; i++ {
				qs = append(qs, rating(fmt.Sprintf("q%d", i)))
			}
			return qs
		}(), fields: map[string]string{"questions": "count"}},
		{name: "empty id", qs: []survey.Question{rating("")}, fields: map[string]string{"questions[0].id": "invalid_id"}},
		{name: "long id", qs: []survey.Question{rating(strings.Repeat("q", 65))}, fields: map[string]string{"questions[0].id": "invalid_id"}},
		{name: "duplicate id", qs: []survey.Question{rating("a"), rating("a")}, fields: map[string]string{"questions[1].id": "duplicate_id"}},
		{name: "unknown type", qs: []survey.Question{{ID: "a", Type: "slider"}}, fields: map[string]string{"questions[0].type": "unknown_type"}},
		{name: "inverted bounds", qs: []survey.Question{{ID: "a", Type: survey.TypeRating5, Min: 5, Max: 1}}, fields: map[string]string{"questions[0]": "bounds"}},
		{name: "explicit default bounds", qs: []survey.Question{{ID: "a", Type: survey.TypeRating5, Min: 1, Max: 5},
			{ID: "b", Type: survey.TypeNPS, Min: 0, Max: 10}, {ID: "c", Type: survey.TypeYesNo, Min: 0, Max: 1}}},
		{name: "rating5 on 1–7", qs: []survey.Question{{ID: "a", Type: survey.TypeRating5, Min: 1, Max: 7}}, fields: map[string]string{"questions[0]": "bounds"}},
		{name: "rating5 on 0–4", qs: []survey.Question{{ID: "a", Type: survey.TypeRating5, Min: 0, Max: 4}}, fields: map[string]string{"questions[0]": "bounds"}},
		{name: "nps on 1–7", qs: []survey.Question{{ID: "a", Type: survey.TypeNPS, Min: 1, Max: 7}}, fields: map[string]string{"questions[0]": "bounds"}},
		{name: "yesno on 1–2", qs: []survey.Question{{ID: "a", Type: survey.TypeYesNo, Min: 1, Max: 2}}, fields: map[string]string{"questions[0]": "bounds"}},
		{name: "reserved id", qs: []survey.Question{rating("@headline")}, fields: map[string]string{"questions[0].id": "reserved_id"}},
		{name: "headline on text", qs: []survey.Question{rating("a"), {ID: "b", Type: survey.TypeText, Headline: func() *bool { b := true; return &b }()}},
			fields: map[string]string{"questions[1].headline": "headline_type"}},
		{name: "headline off on rating and on conditional rating", qs: []survey.Question{
			{ID: "a", Type: survey.TypeRating5, Headline: func() *bool { b := false; return &b }()},
			{ID: "b", Type: survey.TypeRating5, ShowIf: &survey.Condition{QuestionID: "a", Op: "lte", Value: 2}, Headline: func() *bool { b := true; return &b }()},
			{ID: "c", Type: survey.TypeYesNo, Headline: func() *bool { b := false; return &b }()},
		}},
		{name: "one option", qs: []survey.Question{{ID: "a", Type: survey.TypeChoice, Options: opts[:1]}}, fields: map[string]string{"questions[0].options": "options"}},
		{name: "duplicate option", qs: []survey.Question{{ID: "a", Type: survey.TypeChoice, Options: []survey.Option{opts[0], opts[0]}}}, fields: map[string]string{"questions[0].options": "option_id"}},
		{name: "empty option id", qs: []survey.Question{{ID: "a", Type: survey.TypeChoice, Options: []survey.Option{opts[0], {Label: "x"}}}}, fields: map[string]string{"questions[0].options": "option_id"}},
		{name: "text too long", qs: []survey.Question{{ID: "a", Type: survey.TypeText, MaxLength: 2001}}, fields: map[string]string{"questions[0].max_length": "bounds"}},
		{name: "negative text length", qs: []survey.Question{{ID: "a", Type: survey.TypeText, MaxLength: -1}}, fields: map[string]string{"questions[0].max_length": "bounds"}},
		{name: "condition on later question", qs: []survey.Question{
			{ID: "why", Type: survey.TypeText, ShowIf: &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}}, rating("overall"),
		}, fields: map[string]string{"questions[0].show_if": "condition"}},
		{name: "condition on itself", qs: []survey.Question{
			{ID: "a", Type: survey.TypeRating5, ShowIf: &survey.Condition{QuestionID: "a", Op: "lte", Value: 2}},
		}, fields: map[string]string{"questions[0].show_if": "condition"}},
		{name: "condition on unknown question", qs: []survey.Question{rating("a"),
			{ID: "b", Type: survey.TypeText, ShowIf: &survey.Condition{QuestionID: "zzz", Op: "eq", Value: 1}},
		}, fields: map[string]string{"questions[1].show_if": "condition"}},
		{name: "condition bad op", qs: []survey.Question{rating("a"),
			{ID: "b", Type: survey.TypeText, ShowIf: &survey.Condition{QuestionID: "a", Op: "<=", Value: 2}},
		}, fields: map[string]string{"questions[1].show_if.op": "condition"}},
		{name: "condition in", qs: []survey.Question{{ID: "a", Type: survey.TypeChoice, Options: opts},
			{ID: "b", Type: survey.TypeText, ShowIf: &survey.Condition{QuestionID: "a", Op: "in", Values: []string{"b"}}},
		}},
		{name: "condition on a text question", qs: []survey.Question{{ID: "a", Type: survey.TypeText},
			{ID: "b", Type: survey.TypeRating5, ShowIf: &survey.Condition{QuestionID: "a", Op: "eq", Value: 1}},
		}, fields: map[string]string{"questions[1].show_if": "condition_target"}},
		{name: "numeric condition on a choice question", qs: []survey.Question{{ID: "a", Type: survey.TypeChoice, Options: opts},
			{ID: "b", Type: survey.TypeText, ShowIf: &survey.Condition{QuestionID: "a", Op: "lte", Value: 2}},
		}, fields: map[string]string{"questions[1].show_if": "condition_target"}},
		{name: "in on a yes/no question", qs: []survey.Question{{ID: "a", Type: survey.TypeYesNo},
			{ID: "b", Type: survey.TypeText, ShowIf: &survey.Condition{QuestionID: "a", Op: "in", Values: []string{"0"}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := survey.Version{SurveyID: 1, AgencyID: 1, Questions: tc.qs}
			err := v.Check()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %v", tc.fields)
			}
			if got := fieldCodes(t, err); !sameCodes(got, tc.fields) {
				t.Fatalf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestConditionMet(t *testing.T) {
	n := func(x int) survey.Answer { return survey.Answer{Number: intp(x)} }
	c := func(ids ...string) survey.Answer { return survey.Answer{Choices: ids} }
	tests := []struct {
		cond survey.Condition
		a    survey.Answer
		want bool
	}{
		{survey.Condition{Op: "lte", Value: 2}, n(1), true},
		{survey.Condition{Op: "lte", Value: 2}, n(2), true},
		{survey.Condition{Op: "lte", Value: 2}, n(3), false},
		{survey.Condition{Op: "gte", Value: 9}, n(9), true},
		{survey.Condition{Op: "gte", Value: 9}, n(8), false},
		{survey.Condition{Op: "eq", Value: 0}, n(0), true},
		{survey.Condition{Op: "eq", Value: 1}, n(0), false},
		{survey.Condition{Op: "ne", Value: 1}, n(0), true},
		{survey.Condition{Op: "ne", Value: 1}, n(1), false},
		{survey.Condition{Op: "lte", Value: 2}, c("a"), false},                   // no number
		{survey.Condition{Op: "lte", Value: 2}, survey.Answer{Text: "1"}, false}, // text is not a number
		{survey.Condition{Op: "in", Values: []string{"a", "b"}}, c("c", "b"), true},
		{survey.Condition{Op: "in", Values: []string{"a", "b"}}, c("c"), false},
		{survey.Condition{Op: "in", Values: []string{"1", "2"}}, n(2), true},
		{survey.Condition{Op: "in", Values: []string{"1", "2"}}, n(3), false},
		{survey.Condition{Op: "in"}, c("a"), false},
		{survey.Condition{Op: "between", Value: 2}, n(1), false},
	}
	for _, tc := range tests {
		if got := tc.cond.Met(tc.a); got != tc.want {
			t.Errorf("%+v.Met(%s) = %v, want %v", tc.cond, describe([]survey.Answer{tc.a}), got, tc.want)
		}
	}
}

func TestQuestionBoundsAndTextMax(t *testing.T) {
	tests := []struct {
		q      survey.Question
		lo, hi int
	}{
		{survey.Question{Type: survey.TypeRating5}, 1, 5},
		{survey.Question{Type: survey.TypeNPS}, 0, 10},
		{survey.Question{Type: survey.TypeYesNo}, 0, 1},
		{survey.Question{Type: survey.TypeRating5, Min: 1, Max: 7}, 1, 7},
		{survey.Question{Type: survey.TypeText}, 0, 0},
	}
	for _, tc := range tests {
		if lo, hi := tc.q.Bounds(); lo != tc.lo || hi != tc.hi {
			t.Errorf("%+v.Bounds() = %d, %d; want %d, %d", tc.q, lo, hi, tc.lo, tc.hi)
		}
	}
	if got := (&survey.Question{Type: survey.TypeText}).TextMax(); got != survey.DefaultTextMax {
		t.Errorf("default TextMax = %d", got)
	}
	if got := (&survey.Question{Type: survey.TypeText, MaxLength: 300}).TextMax(); got != 300 {
		t.Errorf("TextMax = %d, want 300", got)
	}
	// The custom range is what Validate enforces.
	v := survey.Version{AgencyID: 7, Questions: []survey.Question{{ID: "a", Type: survey.TypeRating5, Min: 1, Max: 7}}}
	for x, ok := range map[string]bool{"7": true, "8": false, "0": false} {
		s := submission(val("a", x))
		_, err := v.Validate(&s, testNow)
		if (err == nil) != ok {
			t.Errorf("value %s on 1–7: err = %v, want ok=%v", x, err, ok)
		}
	}
}

// TestFieldMessagesBilingual walks every rejection of the table above once more and checks no
// field code is ever emitted without both messages; the map of codes seen guards against a
// table that stops reaching some rule.
func TestFieldMessagesBilingual(t *testing.T) {
	v := testVersion()
	long := strings.Repeat("ک", 600)
	subs := []survey.Submission{
		submission(val("overall", "9"), val("recommend", "x"), val("returning", "[]"), val("desk", `["a","b"]`), txt("note", long)),
		submission(val("overall", "1"), val("overall", "2"), val("zzz", "1"), val("desk", `"zzz"`), val("recommend", "null"), val("desk", "[]")),
	}
	s := submission(val("overall", "4"), val("reasons", `"waiting"`))
	s.ID, s.AgencyID, s.Channel, s.Source = "nope", 99, "fax", strings.Repeat("x", 200)
	future := testNow.Add(time.Hour)
	s.SubmittedAt = &future
	subs = append(subs, s)
	sms := submission(val("recommend", "3"))
	sms.Channel = survey.ChannelSMS
	subs = append(subs, sms)

	seen := map[string]bool{}
	for i := range subs {
		_, err := v.Validate(&subs[i], testNow)
		if err == nil {
			t.Fatalf("submission %d accepted", i)
		}
		for _, code := range fieldCodes(t, err) {
			seen[code] = true
		}
	}
	var codes []string
	for c := range seen {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	want := "agency_mismatch channel_not_allowed duplicate_answer future_timestamp hidden_answered invalid_channel invalid_id missing_value out_of_range required single_choice too_long unknown_option unknown_question wrong_type"
	if got := strings.Join(codes, " "); got != want {
		t.Errorf("codes seen = %s\nwant          %s", got, want)
	}
	if utf8.RuneCountInString(long) <= survey.DefaultTextMax {
		t.Fatal("long text is not long")
	}
}

// TestPersianMessagesUsePersianDigits: a citizen reads «بین ۱ و ۵», never Latin digits inside
// Persian text; the English message keeps ASCII digits.
func TestPersianMessagesUsePersianDigits(t *testing.T) {
	v := testVersion()
	s := submission(val("overall", "9"))
	_, err := v.Validate(&s, testNow)
	var e *survey.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	f := e.Fields["answers[0].value"]
	if f.MessageFA != "مقدار باید بین ۱ و ۵ باشد." || f.Message != "value must be between 1 and 5" {
		t.Fatalf("messages = %q / %q", f.MessageFA, f.Message)
	}

	e = survey.Errorf(survey.ECodeConflict, "نسخه %d از %d؛ شناسه %s", "version %d of %d; id %s", 12, int64(30), "a1b2")
	if e.MessageFA != "نسخه ۱۲ از ۳۰؛ شناسه a1b2" || e.Message != "version 12 of 30; id a1b2" {
		t.Fatalf("Errorf = %q / %q", e.MessageFA, e.Message)
	}
}

func TestCheckKeys(t *testing.T) {
	for _, c := range []struct {
		survey  survey.ID
		version int
		fields  map[string]string
	}{
		{3, 1, nil},
		{3, survey.MaxSurveyVersion, nil},
		{0, 1, map[string]string{"survey_id": "required"}},
		{3, 0, map[string]string{"survey_version": "required"}},
		{3, -1, map[string]string{"survey_version": "out_of_range"}},
		{3, survey.MaxSurveyVersion + 1, map[string]string{"survey_version": "out_of_range"}},
		{0, 1 << 40, map[string]string{"survey_id": "required", "survey_version": "out_of_range"}},
	} {
		s := survey.Submission{SurveyID: c.survey, SurveyVersion: c.version}
		err := s.CheckKeys()
		if c.fields == nil {
			if err != nil {
				t.Errorf("%d/%d refused: %v", c.survey, c.version, err)
			}
			continue
		}
		if got := fieldCodes(t, err); !sameCodes(got, c.fields) {
			t.Errorf("%d/%d: fields %v, want %v", c.survey, c.version, got, c.fields)
		}
	}
}

// The content hash tells a resend from a different response under the same id: equal for the same
// accepted content however it was spelled or when it arrived, different for any change a person
// or an origin makes.
func TestContentHash(t *testing.T) {
	v := testVersion()
	hash := func(s survey.Submission, now time.Time) string {
		t.Helper()
		r, err := v.Validate(&s, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hash) != 32 || strings.Trim(r.Hash, "0123456789abcdef") != "" {
			t.Fatalf("hash %q is not 32 hex digits", r.Hash)
		}
		return r.Hash
	}
	base := submission(val("overall", "2"), val("reasons", `["waiting","other"]`), txt("note", "ممنون"))
	h := hash(base, testNow)

	same := base
	same.ID = strings.ToUpper(testResponseID)
	same.Source = " " + base.Source + " "
	same.Answers = []survey.SubmittedAnswer{txt("note", " ممنون "), val("overall", `"۲"`), val("reasons", `["waiting","other","waiting"]`)}
	if got := hash(same, testNow.Add(time.Minute)); got != h {
		t.Error("the same content, spelled differently and received later, hashes differently")
	}
	noTime := base
	noTime.SubmittedAt = nil
	hNoTime := hash(noTime, testNow)
	if hash(noTime, testNow.Add(time.Minute)) != hNoTime {
		t.Error("without submitted_at the server clock (which differs on every resend) changed the hash")
	}

	for name, edit := range map[string]func(s *survey.Submission){
		"rating":       func(s *survey.Submission) { s.Answers[0] = val("overall", "1") },
		"choice":       func(s *survey.Submission) { s.Answers[1] = val("reasons", `["waiting"]`) },
		"text":         func(s *survey.Submission) { s.Answers[2] = txt("note", "ممنونم") },
		"no text":      func(s *survey.Submission) { s.Answers = s.Answers[:2] },
		"channel":      func(s *survey.Submission) { s.Channel = survey.ChannelWeb },
		"office":       func(s *survey.Submission) { s.OfficeID = 12 },
		"source":       func(s *survey.Submission) { s.Source = "kiosk-2" },
		"submitted_at": func(s *survey.Submission) { at := s.SubmittedAt.Add(time.Second); s.SubmittedAt = &at },
		"no time":      func(s *survey.Submission) { s.SubmittedAt = nil },
	} {
		s := base
		s.Answers = append([]survey.SubmittedAnswer(nil), base.Answers...)
		edit(&s)
		if hash(s, testNow) == h {
			t.Errorf("changing the %s kept the hash", name)
		}
	}
}

// An SMS reply carries one rating: a low one is accepted without the "why?" the survey requires
// of the other channels (SMS never asks it), while the same answer from a kiosk is refused.
func TestSMSRepliesNeedNoOtherRequiredAnswer(t *testing.T) {
	v := testVersion()
	kiosk := submission(val("overall", "1"))
	if codes := fieldCodes(t, func() error { _, err := v.Validate(&kiosk, testNow); return err }()); codes["questions[4]"] != "required" {
		t.Fatalf("kiosk without reasons: %v", codes)
	}
	sms := submission(val("overall", "1"))
	sms.Channel = survey.ChannelSMS
	r, err := v.Validate(&sms, testNow)
	if err != nil || len(r.Answers) != 1 || *r.Answers[0].Number != 1 {
		t.Fatalf("sms reply: %+v, %v", r.Answers, err)
	}
	empty := submission()
	empty.Channel = survey.ChannelSMS
	if _, err := v.Validate(&empty, testNow); err == nil {
		t.Fatal("an SMS reply with no answer was accepted")
	}
}
