package sms_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// Follow-up questions of the tests, one per type an SMS may ask.
var (
	fuReasons = survey.Question{ID: "reasons", Type: survey.TypeChoice, Multiple: true, Title: "چرا ناراضی بودید؟",
		Options: []survey.Option{{ID: "waiting", Label: "صف و معطلی"}, {ID: "behaviour", Label: "رفتار نامناسب"},
			{ID: "confusing", Label: "راهنمایی ناروشن"}, {ID: "documents", Label: "مدارک زیاد"}, {ID: "other", Label: "سایر"}}}
	fuDesk = survey.Question{ID: "desk", Type: survey.TypeChoice, Title: "کدام باجه؟",
		Options: []survey.Option{{ID: "front", Label: "پیشخوان"}, {ID: "back", Label: "کارشناس"}, {ID: "online", Label: "سامانه"}}}
	fuFirst  = survey.Question{ID: "first", Type: survey.TypeYesNo, Title: "بار اول بود که مراجعه کردید؟"}
	fuSpeed  = survey.Question{ID: "speed", Type: survey.TypeRating5, Title: "سرعت کار چطور بود؟"}
	fuRating = survey.Question{ID: "overall", Type: survey.TypeRating5, Title: "رضایت کلی", Required: true}
)

func TestComposeFollowUp(t *testing.T) {
	for _, c := range []struct {
		q    survey.Question
		want string
	}{
		{fuReasons, "چرا ناراضی بودید؟\n۱ صف و معطلی\n۲ رفتار نامناسب\n۳ راهنمایی ناروشن\n۴ مدارک زیاد\n۵ سایر\nچند عدد هم می‌شود، مثل ۱ ۳\nلغو ۱۱"},
		{fuDesk, "کدام باجه؟\n۱ پیشخوان\n۲ کارشناس\n۳ سامانه\nلغو ۱۱"},
		{fuFirst, "بار اول بود که مراجعه کردید؟\n۱ بله / ۲ خیر\nلغو ۱۱"},
		{fuSpeed, "سرعت کار چطور بود؟\nعددی از ۱ تا ۵\nلغو ۱۱"},
		{survey.Question{ID: "two", Type: survey.TypeChoice, Multiple: true, Title: "  کدام؟ ",
			Options: []survey.Option{{ID: "a", Label: "الف"}, {ID: "b", Label: " ب  پ "}}},
			"کدام؟\n۱ الف\n۲ ب پ\nچند عدد هم می‌شود، مثل ۱ ۲\nلغو ۱۱"},
	} {
		got, err := sms.ComposeFollowUp(c.q)
		if err != nil || got != c.want {
			t.Errorf("ComposeFollowUp(%s) = %q, %v\nwant %q", c.q.ID, got, err, c.want)
		}
		if p, enc := sms.Parts(got); p < 1 || p > sms.MaxParts || enc != sms.UCS2 {
			t.Errorf("%s: %d parts, %v", c.q.ID, p, enc)
		}
	}
	long := fuReasons
	long.Options = append([]survey.Option(nil), fuReasons.Options...)
	long.Options[0].Label = strings.Repeat("معطلی ", 10)
	if _, err := sms.ComposeFollowUp(long); !errors.Is(err, sms.ErrTooLong) {
		t.Errorf("long labels: err = %v, want ErrTooLong", err)
	}
	for _, q := range []survey.Question{
		{ID: "nps", Type: survey.TypeNPS, Title: "توصیه"},
		{ID: "text", Type: survey.TypeText, Title: "توضیح"},
		{ID: "untitled", Type: survey.TypeYesNo},
		{ID: "one", Type: survey.TypeChoice, Title: "یک", Options: []survey.Option{{ID: "a", Label: "الف"}}},
		{ID: "ten", Type: survey.TypeChoice, Title: "ده", Options: make([]survey.Option, 10)},
	} {
		if got, err := sms.ComposeFollowUp(q); err == nil {
			t.Errorf("ComposeFollowUp(%s) = %q, want an error", q.ID, got)
		}
	}
}

// The 134-character boundary of two UCS-2 parts: a title that makes the text exactly 134 fits,
// one more letter does not.
func TestComposeFollowUpBoundary(t *testing.T) {
	base, err := sms.ComposeFollowUp(survey.Question{ID: "x", Type: survey.TypeYesNo, Title: "ب"})
	if err != nil {
		t.Fatal(err)
	}
	n := len([]rune(base)) // all in the BMP: one UTF-16 unit each
	q := survey.Question{ID: "x", Type: survey.TypeYesNo, Title: strings.Repeat("ب", 134-n+1)}
	if text, err := sms.ComposeFollowUp(q); err != nil || len([]rune(text)) != 134 {
		t.Errorf("134 characters: %d, %v", len([]rune(text)), err)
	}
	q.Title += "ب"
	if _, err := sms.ComposeFollowUp(q); !errors.Is(err, sms.ErrTooLong) {
		t.Errorf("135 characters: err = %v, want ErrTooLong", err)
	}
}

func TestInvitationQuestion(t *testing.T) {
	st := &survey.SMSSettings{Question: "سؤال", LinkQuestion: "کوتاه"}
	if sms.InvitationQuestion(nil, true) != "" || sms.InvitationQuestion(nil, false) != "" {
		t.Error("nil settings must give the defaults")
	}
	if sms.InvitationQuestion(st, false) != "سؤال" || sms.InvitationQuestion(st, true) != "کوتاه" {
		t.Error("wrong question picked")
	}
	if sms.InvitationQuestion(&survey.SMSSettings{Question: "سؤال"}, true) != "" {
		t.Error("a link without a link question must take the default link question")
	}
}

func TestCheckSMS(t *testing.T) {
	v := survey.Version{Questions: []survey.Question{fuRating, fuDesk, fuFirst, fuSpeed, fuReasons}}
	if err := sms.CheckSMS(v); err != nil {
		t.Fatalf("no settings: %v", err)
	}
	v.SMS = &survey.SMSSettings{Question: strings.Repeat("ب", 60), LinkQuestion: strings.Repeat("پ", 60),
		FollowUp: []string{"desk", "first", "speed", "reasons"}}
	if err := v.Check(); err != nil {
		t.Fatal(err)
	}
	if err := sms.CheckSMS(v); err != nil {
		t.Fatalf("60-letter questions and four follow-ups: %v", err)
	}
	// Emoji take two units each: 60 of them pass Check but not two parts beside a link.
	v.SMS.LinkQuestion = strings.Repeat("😀", 60)
	if err := sms.CheckSMS(v); !errors.Is(err, sms.ErrTooLong) {
		t.Errorf("emoji link question: %v, want ErrTooLong", err)
	}
	v.SMS.LinkQuestion = ""
	long := fuDesk
	long.Title = strings.Repeat("ب", 130)
	v.Questions[1] = long
	err := sms.CheckSMS(v)
	if !errors.Is(err, sms.ErrTooLong) || !strings.Contains(err.Error(), `"desk"`) {
		t.Errorf("long follow-up: %v, want ErrTooLong naming desk", err)
	}
	v.Questions[1] = fuDesk
	v.SMS.FollowUp = []string{"nope"}
	if err := sms.CheckSMS(v); err == nil {
		t.Error("unknown follow-up passed")
	}
}

func TestSenderComposeUsesSettings(t *testing.T) {
	// See outbox_test: the sender reads the agency's settings; here only the pure part.
	text, err := sms.ComposeInvitation(sms.Invitation{Agency: "شهرداری", Question: sms.InvitationQuestion(&survey.SMSSettings{Question: "از پاسخگویی راضی بودید؟ ۱ تا ۵"}, false)})
	if err != nil || !strings.Contains(text, "از پاسخگویی راضی بودید؟ ۱ تا ۵") {
		t.Errorf("ComposeInvitation = %q, %v", text, err)
	}
}

// followUpCases are replies to a follow-up with what ParseFollowUp must read ("" = not an answer).
var followUpCases = []struct {
	name string
	q    survey.Question
	in   string
	want string
}{
	// choice, several allowed
	{"one digit", fuReasons, "1", `["waiting"]`},
	{"persian digit", fuReasons, "۳", `["confusing"]`},
	{"arabic-indic digit", fuReasons, "٤", `["documents"]`},
	{"two spaced", fuReasons, "1 3", `["waiting","confusing"]`},
	{"persian spaced", fuReasons, "۱ ۳", `["waiting","confusing"]`},
	{"adjacent", fuReasons, "13", `["waiting","confusing"]`},
	{"persian adjacent", fuReasons, "۲۵", `["behaviour","other"]`},
	{"comma", fuReasons, "1,4", `["waiting","documents"]`},
	{"persian comma", fuReasons, "۱، ۴", `["waiting","documents"]`},
	{"va", fuReasons, "۱ و ۲", `["waiting","behaviour"]`},
	{"va glued", fuReasons, "۱و۲", `["waiting","behaviour"]`},
	{"order kept", fuReasons, "4 1", `["documents","waiting"]`},
	{"duplicates once", fuReasons, "1 1 2", `["waiting","behaviour"]`},
	{"spaces around", fuReasons, "  ۵ \n", `["other"]`},
	{"zwnj and rlm", fuReasons, "\u200f۱\u200c۲", `["waiting","behaviour"]`},
	{"out of range", fuReasons, "6", ""},
	{"zero", fuReasons, "0", ""},
	{"one out of range", fuReasons, "1 7", ""},
	{"words", fuReasons, "صف طولانی", ""},
	{"digit and words", fuReasons, "۱ صف بود", ""},
	{"empty", fuReasons, "", ""},
	{"separators only", fuReasons, " ، و ", ""},
	{"opt-out 11", fuReasons, "11", ""},
	{"opt-out word", fuReasons, "لغو", ""},
	{"12 is options, not resubscribe", fuReasons, "۱۲", `["waiting","behaviour"]`},
	{"all five", fuReasons, "12345", `["waiting","behaviour","confusing","documents","other"]`},
	// choice, one only
	{"single", fuDesk, "2", `["back"]`},
	{"single persian", fuDesk, "۳", `["online"]`},
	{"single given two", fuDesk, "1 2", ""},
	{"single adjacent", fuDesk, "12", ""},
	{"single duplicate", fuDesk, "2 2", `["back"]`},
	{"single out of range", fuDesk, "4", ""},
	// yes/no
	{"yes 1", fuFirst, "1", "true"},
	{"yes persian 1", fuFirst, "۱", "true"},
	{"no 2", fuFirst, "۲", "false"},
	{"bale", fuFirst, "بله", "true"},
	{"are", fuFirst, "آره", "true"},
	{"bali", fuFirst, "بلی", "true"},
	{"yes latin", fuFirst, "Yes", "true"},
	{"yes punctuated", fuFirst, "بله.", "true"},
	{"na", fuFirst, "نه", "false"},
	{"kheir", fuFirst, "خیر", "false"},
	{"no latin", fuFirst, "NO", "false"},
	{"yesno 3", fuFirst, "3", ""},
	{"yesno 0", fuFirst, "0", ""},
	{"yesno both", fuFirst, "1 2", ""},
	{"yesno sentence", fuFirst, "بله اولین بار بود", ""},
	{"yesno opt-out", fuFirst, "۱۱", ""},
	// rating5
	{"rating digit", fuSpeed, "4", "4"},
	{"rating persian", fuSpeed, "۲", "2"},
	{"rating word", fuSpeed, "خیلی خوب", "5"},
	{"rating with comment", fuSpeed, "۳ ولی کند بود", "3"},
	{"rating out of range", fuSpeed, "7", ""},
	{"rating ambiguous", fuSpeed, "2 یا 4", ""},
	{"rating opt-out", fuSpeed, "لغو ۱۱", ""},
	// types never asked by SMS
	{"nps", survey.Question{ID: "n", Type: survey.TypeNPS}, "9", ""},
	{"text", survey.Question{ID: "t", Type: survey.TypeText}, "سلام", ""},
}

func TestParseFollowUp(t *testing.T) {
	if len(followUpCases) < 30 {
		t.Fatalf("only %d cases", len(followUpCases))
	}
	for _, c := range followUpCases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := sms.ParseFollowUp(c.in, c.q)
			if c.want == "" {
				if ok {
					t.Fatalf("ParseFollowUp(%q) = %s, want no answer", c.in, got)
				}
				return
			}
			if !ok || string(got) != c.want {
				t.Fatalf("ParseFollowUp(%q) = %s, %v; want %s", c.in, got, ok, c.want)
			}
			assertAccepted(t, c.q, got)
		})
	}
}

// assertAccepted checks that value is what survey.Validate takes for q.
func assertAccepted(t *testing.T, q survey.Question, value json.RawMessage) {
	t.Helper()
	v := survey.Version{SurveyID: 1, AgencyID: 1, Version: 1, Questions: []survey.Question{fuRating, q}}
	answers := []survey.SubmittedAnswer{{QuestionID: q.ID, Value: value}}
	if q.ID != fuRating.ID {
		answers = append(answers, survey.SubmittedAnswer{QuestionID: fuRating.ID, Value: json.RawMessage("2")})
	}
	sub := survey.Submission{AgencyID: 1, SurveyID: 1, SurveyVersion: 1, Channel: survey.ChannelSMS, Answers: answers}
	if _, err := v.Validate(&sub, time.Now()); err != nil {
		t.Errorf("Validate refused %s for %s: %v", value, q.ID, err)
	}
}

func FuzzParseFollowUp(f *testing.F) {
	for _, c := range followUpCases {
		f.Add(c.in)
	}
	f.Add("\xff\xfe۱")
	f.Add("1٬2")
	qs := []survey.Question{fuReasons, fuDesk, fuFirst, fuSpeed}
	f.Fuzz(func(t *testing.T, in string) {
		for _, q := range qs {
			got, ok := sms.ParseFollowUp(in, q)
			if !ok {
				if got != nil {
					t.Fatalf("no answer but a value %s", got)
				}
				continue
			}
			if !json.Valid(got) {
				t.Fatalf("ParseFollowUp(%q, %s) = invalid JSON %s", in, q.ID, got)
			}
			assertAccepted(t, q, got)
		}
	})
}
