package survey_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

func TestIDUnmarshalJSON(t *testing.T) {
	tests := []struct {
		in   string
		want survey.ID
		bad  bool
	}{
		{in: `12`, want: 12},
		{in: `"12"`, want: 12},
		{in: `"۱۲"`, want: 12},
		{in: `"١٢"`, want: 12},
		{in: `" 12"`, bad: true}, // quoted spaces are not trimmed inside the string
		{in: `0`, want: 0},
		{in: `null`, want: 0},
		{in: `""`, want: 0},
		{in: `"abc"`, bad: true},
		{in: `-1`, bad: true},
		{in: `"-1"`, bad: true},
		{in: `1.5`, bad: true},
		{in: `true`, bad: true},
		{in: `"99999999999999999999"`, bad: true},
	}
	for _, tc := range tests {
		var got struct {
			ID survey.ID `json:"id"`
		}
		got.ID = 77
		err := json.Unmarshal([]byte(`{"id":`+tc.in+`}`), &got)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: accepted as %d", tc.in, got.ID)
			}
			continue
		}
		if err != nil || got.ID != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.in, got.ID, err, tc.want)
		}
	}
	if got := survey.ID(42).String(); got != "42" {
		t.Errorf("String() = %q", got)
	}
	b, _ := json.Marshal(struct{ ID survey.ID }{ID: 5})
	if string(b) != `{"ID":5}` {
		t.Errorf("ids marshal as numbers; got %s", b)
	}
}

func TestDecodeSubmission(t *testing.T) {
	const good = `{"id":"` + testResponseID + `","agency_id":"۷","survey_id":3,"survey_version":1,"channel":"kiosk",
		"submitted_at":"2025-11-15T09:30:00+03:30","answers":[{"question_id":"overall","value":"۴"},{"question_id":"note","text":"ممنون"}]}`

	t.Run("valid", func(t *testing.T) {
		s, err := survey.DecodeSubmission([]byte(good + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if s.AgencyID != 7 || s.SurveyID != 3 || s.SurveyVersion != 1 || s.Channel != survey.ChannelKiosk || len(s.Answers) != 2 {
			t.Fatalf("decoded %+v", s)
		}
		if want := time.Date(2025, 11, 15, 6, 0, 0, 0, time.UTC); s.SubmittedAt == nil || !s.SubmittedAt.Equal(want) {
			t.Errorf("submitted_at = %v, want %v", s.SubmittedAt, want)
		}
		if s.Answers[1].Text == nil || *s.Answers[1].Text != "ممنون" {
			t.Errorf("text answer = %+v", s.Answers[1])
		}
		v := testVersion()
		r, err := v.Validate(&s, testNow)
		if err != nil {
			t.Fatalf("decoded submission rejected: %v", err)
		}
		if len(r.Answers) != 2 || *r.Answers[0].Number != 4 || r.Answers[1].Text != "ممنون" {
			t.Errorf("answers = %s", describe(r.Answers))
		}
	})

	bad := map[string]string{
		"unknown field":        `{"agency_id":7,"answer":[]}`,
		"unknown answer field": `{"agency_id":7,"answers":[{"question_id":"overall","valeu":5}]}`,
		"trailing object":      `{"agency_id":7} {}`,
		"trailing garbage":     `{"agency_id":7} x`,
		"trailing brace":       `{"agency_id":7}}`,
		"trailing bracket":     `{"agency_id":7}]`,
		"not json":             `agency=7`,
		"empty body":           ``,
		"array":                `[{"agency_id":7}]`,
		"bad time":             `{"submitted_at":"yesterday"}`,
		"truncated":            `{"agency_id":7,"answers":[`,
		"not UTF-8":            "{\"source\":\"\xff\"}",
		"not UTF-8 in a text":  "{\"answers\":[{\"question_id\":\"note\",\"text\":\"\xc3\x28\"}]}",
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := survey.DecodeSubmission([]byte(in))
			if err == nil {
				t.Fatalf("%s accepted", in)
			}
			var e *survey.Error
			if !errors.As(err, &e) || e.Code != survey.ECodeBadRequest || e.Message == "" || e.MessageFA == "" {
				t.Fatalf("error = %#v, want a bilingual %s *survey.Error", err, survey.ECodeBadRequest)
			}
		})
	}

	// Readable JSON with a field of the wrong type, or a number its field cannot hold, is a 422
	// naming the field.
	wrongType := map[string][2]string{
		"bad id":                   {`{"agency_id":"هفت"}`, "agency_id"},
		"negative id":              {`{"survey_id":-3}`, "survey_id"},
		"id beyond 64 bits":        {`{"office_id":18446744073709551616}`, "office_id"},
		"id as a float":            {`{"agency_id":1e30}`, "agency_id"},
		"version beyond 64 bits":   {`{"survey_version":99999999999999999999}`, "survey_version"},
		"wrong type for answers":   {`{"answers":{}}`, "answers"},
		"wrong type for version":   {`{"survey_version":"1"}`, "survey_version"},
		"text must be a string":    {`{"answers":[{"question_id":"note","text":5}]}`, "answers.text"},
		"question id not a string": {`{"answers":[{"question_id":1}]}`, "answers.question_id"},
	}
	for name, c := range wrongType {
		t.Run(name, func(t *testing.T) {
			_, err := survey.DecodeSubmission([]byte(c[0]))
			if got := fieldCodes(t, err); got[c[1]] != "wrong_type" {
				t.Fatalf("%s: fields %v, want %s: wrong_type", c[0], got, c[1])
			}
		})
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{
		"۰۱۲۳۴۵۶۷۸۹":      "0123456789",
		"٠١٢٣٤٥٦٧٨٩":      "0123456789",
		"\u200f۱۲\u200e":  "12",
		"\ufeff۴\u200d":   "4",
		"۱۴۰۴/۰۸/۲۴":      "1404/08/24",
		"بله ۵":           "بله 5",
		"abc 42":          "abc 42",
		"می\u200cخواهم ۳": "می\u200cخواهم 3", // ZWNJ belongs to the word, not to the number
	} {
		if got := survey.NormalizeDigits(in); got != want {
			t.Errorf("NormalizeDigits(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"1404-08-24": "۱۴۰۴-۰۸-۲۴",
		"n=1250":     "n=۱۲۵۰",
		"خوب":        "خوب",
		"":           "",
	} {
		got := survey.FormatPersianDigits(in)
		if got != want {
			t.Errorf("FormatPersianDigits(%q) = %q, want %q", in, got, want)
		}
		if back := survey.NormalizeDigits(got); back != in {
			t.Errorf("round trip of %q gave %q", in, back)
		}
	}
}

func TestTehranDay(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, survey.Tehran) }
	tests := []struct {
		at   time.Time
		want time.Time
	}{
		{time.Date(2025, 11, 15, 21, 0, 0, 0, time.UTC), day(2025, 11, 16)},  // 00:30 Tehran next day
		{time.Date(2025, 11, 15, 20, 29, 0, 0, time.UTC), day(2025, 11, 15)}, // 23:59 Tehran
		{time.Date(2025, 11, 15, 20, 30, 0, 0, time.UTC), day(2025, 11, 16)}, // midnight exactly
		{time.Date(2025, 3, 20, 20, 30, 0, 0, time.UTC), day(2025, 3, 21)},   // Nowruz 1404
		{time.Date(2025, 6, 21, 20, 29, 59, 0, time.UTC), day(2025, 6, 21)},  // summer: no DST since 2022
		{time.Date(2025, 11, 16, 1, 0, 0, 0, time.FixedZone("x", 5*3600)), day(2025, 11, 15)},
	}
	for _, tc := range tests {
		got := survey.TehranDay(tc.at)
		if !got.Equal(tc.want) || got.Format(survey.DayFormat) != tc.want.Format(survey.DayFormat) {
			t.Errorf("TehranDay(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if _, off := time.Date(2025, 7, 1, 12, 0, 0, 0, survey.Tehran).Zone(); off != 3*3600+1800 {
		t.Errorf("Tehran offset in summer = %d s, want +03:30", off)
	}

	r := survey.Response{ReceivedAt: time.Date(2025, 11, 15, 21, 0, 0, 0, time.UTC)}
	if got := r.Day().Format(survey.DayFormat); got != "2025-11-16" {
		t.Errorf("Day() from received_at = %s", got)
	}
	r.SubmittedAt = time.Date(2025, 11, 12, 6, 0, 0, 0, time.UTC) // an offline kiosk's visit
	if got := r.Day().Format(survey.DayFormat); got != "2025-11-12" {
		t.Errorf("Day() from submitted_at = %s", got)
	}
}

func TestResponseRoundTrip(t *testing.T) {
	r := survey.Response{
		ID: testResponseID, AgencyID: 7, OfficeID: 11, SurveyID: 3, SurveyVersion: 2,
		Channel: survey.ChannelWeb, Source: "qr-poster",
		SubmittedAt: time.Date(2025, 11, 15, 6, 0, 0, 123456000, time.UTC),
		ReceivedAt:  time.Date(2025, 11, 15, 6, 0, 2, 0, time.UTC),
		Answers: []survey.Answer{
			{QuestionID: "overall", Type: survey.TypeRating5, Number: intp(2)},
			{QuestionID: "recommend", Type: survey.TypeNPS, Number: intp(0)},
			{QuestionID: "reasons", Type: survey.TypeChoice, Choices: []string{"waiting", "other"}},
			{QuestionID: "comment", Type: survey.TypeText, Text: "نیم‌ساعت در صف ماندم"},
		},
	}
	b, err := survey.MarshalResponse(&r)
	if err != nil {
		t.Fatal(err)
	}
	// The wire form is shared by every buffer; pin its compact answer keys and the zero number.
	for _, frag := range []string{`"q":"recommend","t":"nps","n":0`, `"c":["waiting","other"]`, `"x":"نیم‌ساعت در صف ماندم"`, `"submitted_at":"2025-11-15T06:00:00.123456Z"`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("encoding %s lacks %s", b, frag)
		}
	}
	got, err := survey.UnmarshalResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SubmittedAt.Equal(r.SubmittedAt) || !got.ReceivedAt.Equal(r.ReceivedAt) {
		t.Errorf("times = %v, %v", got.SubmittedAt, got.ReceivedAt)
	}
	got.SubmittedAt, got.ReceivedAt = r.SubmittedAt, r.ReceivedAt
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
	b2, _ := survey.MarshalResponse(&got)
	if string(b2) != string(b) {
		t.Errorf("re-encoding differs:\n%s\n%s", b, b2)
	}

	if _, err := survey.UnmarshalResponse([]byte(`{"agency_id":7}`)); err == nil {
		t.Error("response without id accepted")
	}
	if _, err := survey.UnmarshalResponse([]byte(`{"id":`)); err == nil {
		t.Error("truncated response accepted")
	}
}

func TestErrorHelpers(t *testing.T) {
	cause := errors.New("disk full")
	e := survey.Wrap(survey.ECodeUnavailable, cause, "بعداً تلاش کنید.", "try later")
	if !errors.Is(e, cause) || survey.ErrorCode(e) != survey.ECodeUnavailable {
		t.Errorf("wrap lost cause or code: %v", e)
	}
	if survey.ErrorCode(nil) != "" || survey.ErrorCode(cause) != survey.ECodeInternal {
		t.Error("ErrorCode of nil or plain errors")
	}
	nf := survey.Errorf(survey.ECodeNotFound, "دستگاه %d پیدا نشد.", "agency %d not found", 9)
	if !errors.Is(nf, survey.ErrNotFound) || nf.MessageFA != "دستگاه ۹ پیدا نشد." || nf.Message != "agency 9 not found" {
		t.Errorf("not-found error = %#v", nf)
	}
	if errors.Is(e, survey.ErrNotFound) {
		t.Error("unavailable error matches ErrNotFound")
	}
	if !errors.Is(survey.ErrForbiddenAgency(), survey.ErrNotFound) {
		t.Error("forbidden agency must look like not found")
	}
}
