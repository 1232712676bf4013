package survey_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// fuzzVersion is a realistic five-question survey: the overall rating, an NPS, a yes/no, and the
// reasons and comment shown only to unhappy citizens.
func fuzzVersion() survey.Version {
	return survey.Version{
		SurveyID: 3, AgencyID: 7, Version: 2, Title: "رضایت ارباب رجوع",
		Questions: []survey.Question{
			{ID: "overall", Type: survey.TypeRating5, Title: "به‌طور کلی چقدر راضی هستید؟", Required: true},
			{ID: "recommend", Type: survey.TypeNPS, Title: "چقدر احتمال دارد ما را توصیه کنید؟"},
			{ID: "first", Type: survey.TypeYesNo, Title: "آیا بار اول است که مراجعه می‌کنید؟"},
			{ID: "reasons", Type: survey.TypeChoice, Title: "چه چیزی باعث نارضایتی شد؟", Multiple: true, Required: true,
				Options: []survey.Option{{ID: "waiting", Label: "معطلی"}, {ID: "behaviour", Label: "رفتار"}, {ID: "documents", Label: "مدارک"}, {ID: "other", Label: "سایر"}},
				ShowIf:  &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}},
			{ID: "comment", Type: survey.TypeText, Title: "توضیح بیشتر", MaxLength: 300,
				ShowIf: &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}},
		},
	}
}

// fuzzSeeds are valid submissions and the tricky inputs a careless parser trips on.
var fuzzSeeds = []string{
	`{"id":"` + testResponseID + `","agency_id":7,"survey_id":3,"survey_version":2,"channel":"kiosk","answers":[{"question_id":"overall","value":5},{"question_id":"recommend","value":9},{"question_id":"first","value":true}]}`,
	`{"agency_id":"۷","survey_id":"3","survey_version":2,"channel":"web","submitted_at":"2025-11-15T09:00:00+03:30","answers":[{"question_id":"overall","value":"۱"},{"question_id":"reasons","value":["waiting","documents"]},{"question_id":"comment","text":"نیم‌ساعت معطل شدم"}]}`,
	`{"agency_id":7,"channel":"sms","answers":[{"question_id":"overall","value":"2"},{"question_id":"reasons","value":"other"},{"question_id":"comment","value":"   "}]}`,
	`{"agency_id":7,"channel":"sms","answers":[{"question_id":"overall","value":4},{"question_id":"recommend","value":10}]}`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":4},{"question_id":"reasons","value":["waiting"]}]}`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":3.5},{"question_id":"overall","value":1e400},{"question_id":"first","value":"بله"}]}`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":-0},{"question_id":"first","value":"خیر"},{"question_id":"recommend","value":"١٠"}]}`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":1},{"question_id":"reasons","value":[]},{"question_id":"reasons","value":["waiting","waiting"]}]}`,
	`{"agency_id":7,"channel":"web","answers":[{"question_id":"overall","value":1},{"question_id":"reasons","value":[null,"x"]},{"question_id":"comment","text":"` + strings.Repeat("ی", 301) + `"}]}`,
	`{"agency_id":7,"channel":"web","submitted_at":"2030-01-01T00:00:00Z","answers":[{"question_id":"overall","value":{}}]}`,
	`{"agency_id":7,"channel":"web","submitted_at":"0001-01-01T00:00:00Z","answers":[{"question_id":"overall","value":"\u200f۵"}]}`,
	`{"id":"0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B","agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":5,"text":"x"}]}`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":5}]} {}`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":5}]}}`, // once accepted: dec.More ignores "}"
	`{} ]`,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":5}],"extra":1}`,
	`{"agency_id":null,"answers":null}`,
	`null`,
	`[]`,
	``,
	`{"agency_id":7,"channel":"kiosk","answers":[{"question_id":"overall","value":"5e0"},{"question_id":"recommend","value":"0x0a"},{"question_id":"first","value":"+1"}]}`,
}

// FuzzDecodeValidate feeds arbitrary bytes through DecodeSubmission and Validate. Neither may
// panic, and whatever they accept must be a response the rest of Afkar can trust without looking
// at the survey again: every answer within its question's bounds, visible, of the right type,
// in question order, every visible required question answered.
func FuzzDecodeValidate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	v := fuzzVersion()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := survey.DecodeSubmission(data)
		if err != nil {
			if survey.ErrorCode(err) != survey.ECodeBadRequest {
				t.Fatalf("decode error with code %q: %v", survey.ErrorCode(err), err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("DecodeSubmission accepted invalid JSON %q", data)
		}
		r, err := v.Validate(&s, testNow)
		if err != nil {
			e, ok := err.(*survey.Error)
			if !ok || e.Code != survey.ECodeInvalid || len(e.Fields) == 0 {
				t.Fatalf("validate error %#v", err)
			}
			for k, fe := range e.Fields {
				if fe.Code == "" || fe.Message == "" || fe.MessageFA == "" {
					t.Fatalf("field %q: incomplete error %+v", k, fe)
				}
			}
			return
		}
		checkAccepted(t, &v, &s, &r)
	})
}

// checkAccepted asserts everything an accepted response promises.
func checkAccepted(t *testing.T, v *survey.Version, s *survey.Submission, r *survey.Response) {
	t.Helper()
	if r.ID != "" && (!survey.ValidUUID(r.ID) || r.ID != strings.ToLower(r.ID)) {
		t.Fatalf("accepted id %q", r.ID)
	}
	if r.AgencyID != v.AgencyID || !r.Channel.Valid() || utf8.RuneCountInString(r.Source) > survey.MaxSourceLen {
		t.Fatalf("accepted envelope %+v", r)
	}
	if r.SubmittedAt.After(testNow.Add(survey.MaxClockSkew)) || r.SubmittedAt.Before(testNow.Add(-survey.MaxResponseAge)) {
		t.Fatalf("accepted submitted_at %v", r.SubmittedAt)
	}
	if len(r.Answers) == 0 || len(r.Answers) > len(s.Answers) {
		t.Fatalf("accepted %d answers from %d", len(r.Answers), len(s.Answers))
	}
	byID := map[string]survey.Answer{}
	last := -1
	for _, a := range r.Answers {
		q, i, ok := v.Question(a.QuestionID)
		if !ok {
			t.Fatalf("answer to unknown question %q", a.QuestionID)
		}
		if i <= last {
			t.Fatalf("answers out of question order or repeated: %s", describe(r.Answers))
		}
		last = i
		byID[q.ID] = a
		if a.Type != q.Type {
			t.Fatalf("answer %q has type %q, question %q", q.ID, a.Type, q.Type)
		}
		if c := q.ShowIf; c != nil {
			dep, ok := byID[c.QuestionID]
			if !ok || !c.Met(dep) {
				t.Fatalf("answer %q to a hidden question: %s", q.ID, describe(r.Answers))
			}
		}
		switch q.Type {
		case survey.TypeRating5, survey.TypeNPS, survey.TypeYesNo:
			lo, hi := q.Bounds()
			if a.Number == nil || *a.Number < lo || *a.Number > hi || a.Choices != nil || a.Text != "" {
				t.Fatalf("numeric answer %q out of [%d,%d]: %s", q.ID, lo, hi, describe([]survey.Answer{a}))
			}
			if q.Type == survey.TypeNPS && r.Channel == survey.ChannelSMS {
				t.Fatalf("nps accepted by sms")
			}
		case survey.TypeChoice:
			if a.Number != nil || a.Text != "" || len(a.Choices) == 0 || (!q.Multiple && len(a.Choices) != 1) {
				t.Fatalf("choice answer %q: %s", q.ID, describe([]survey.Answer{a}))
			}
			seen := map[string]bool{}
			for _, c := range a.Choices {
				found := false
				for _, o := range q.Options {
					found = found || o.ID == c
				}
				if !found || seen[c] {
					t.Fatalf("choice answer %q holds %q (unknown or repeated)", q.ID, c)
				}
				seen[c] = true
			}
		case survey.TypeText:
			if a.Number != nil || a.Choices != nil || a.Text == "" || a.Text != strings.TrimSpace(a.Text) ||
				!utf8.ValidString(a.Text) || utf8.RuneCountInString(a.Text) > q.TextMax() {
				t.Fatalf("text answer %q of %d runes: %q", q.ID, utf8.RuneCountInString(a.Text), a.Text)
			}
		default:
			t.Fatalf("answer of unknown type %q", q.Type)
		}
	}
	for i, q := range v.Questions {
		if !q.Required {
			continue
		}
		shown := true
		if c := q.ShowIf; c != nil {
			dep, ok := byID[c.QuestionID]
			shown = ok && c.Met(dep)
		}
		if _, answered := byID[q.ID]; shown && !answered {
			t.Fatalf("required question %d (%s) shown but unanswered: %s", i, q.ID, describe(r.Answers))
		}
	}
	if r.ID != "" {
		b, err := survey.MarshalResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := survey.UnmarshalResponse(b)
		if err != nil || !reflect.DeepEqual(back.Answers, r.Answers) || !back.SubmittedAt.Equal(r.SubmittedAt) {
			t.Fatalf("wire round trip changed the response: %v\n%s", err, b)
		}
	}
}

// TestFuzzSeedsAccepted keeps the seed corpus honest: the valid seeds must really be accepted, so
// the fuzzer starts from inputs that reach checkAccepted.
func TestFuzzSeedsAccepted(t *testing.T) {
	v := fuzzVersion()
	accepted := 0
	for _, in := range fuzzSeeds {
		s, err := survey.DecodeSubmission([]byte(in))
		if err != nil {
			continue
		}
		if r, err := v.Validate(&s, testNow); err == nil {
			checkAccepted(t, &v, &s, &r)
			accepted++
		}
	}
	if accepted < 4 {
		t.Fatalf("only %d seeds accepted", accepted)
	}
}
