package survey

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Submission is a response as a client sends it, before validation: answers carry raw JSON values
// because only the survey version knows what each one must be. Channel is optional: the entry
// point that received the submission sets it (see Origin.Apply), and a body that names another
// channel is refused.
type Submission struct {
	ID            string            `json:"id"`
	AgencyID      ID                `json:"agency_id"`
	OfficeID      ID                `json:"office_id"`
	SurveyID      ID                `json:"survey_id"`
	SurveyVersion int               `json:"survey_version"`
	Channel       Channel           `json:"channel"`
	Source        string            `json:"source"`
	SubmittedAt   *time.Time        `json:"submitted_at"`
	Answers       []SubmittedAnswer `json:"answers"`
}

// SubmittedAnswer is one raw answer: a value (number, boolean, option id or list of ids) or a text.
type SubmittedAnswer struct {
	QuestionID string          `json:"question_id"`
	Value      json.RawMessage `json:"value,omitempty"`
	Text       *string         `json:"text,omitempty"`
}

// Receipt is intake's answer to one submission: the response as accepted, and whether the
// submission was a resend of a response already accepted with the same id and content — then
// nothing new was stored and the client is answered 200 rather than 202.
type Receipt struct {
	Response Response
	Resent   bool
}

// Limits on a submission, generous for people and tight for abuse.
const (
	MaxClockSkew   = 5 * time.Minute     // how far in the future a client clock may run
	MaxResponseAge = 60 * 24 * time.Hour // how long an offline kiosk may hold a response
	MaxSourceLen   = 128
	MaxAnswers     = 50
	// MaxSurveyVersion bounds survey_version: versions are 32-bit integers in storage, and a
	// larger number must be a 422 here rather than a failed query there.
	MaxSurveyVersion = math.MaxInt32
)

// DecodeSubmission reads one submission from JSON, rejecting unknown fields and trailing data so
// that typos in client code surface as errors instead of silently dropped answers (DecodeStrict).
func DecodeSubmission(data []byte) (Submission, error) {
	var s Submission
	err := DecodeStrict(data, &s)
	return s, err
}

// DecodeStrict reads one JSON value into v the way every Afkar endpoint reads a body: unknown
// fields and trailing data are refused, so that typos in client code surface as errors instead of
// silently dropped data. A body that is not UTF-8 is refused (encoding/json would quietly turn the
// bad bytes into U+FFFD); a field of the wrong JSON type, or a number too large for its field, is
// a 422 naming the field; anything else that does not parse is a 400.
func DecodeStrict(data []byte, v any) error {
	if !utf8.Valid(data) {
		return Errorf(ECodeBadRequest, "بدنه درخواست UTF-8 معتبر نیست.", "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			msg := fmt.Sprintf("%s has the wrong type or is out of range", te.Field)
			return &Error{Code: ECodeInvalid, Message: msg, MessageFA: "نوع یا بازهٔ مقدار یک فیلد نادرست است.", Err: err,
				Fields: map[string]FieldError{te.Field: {Code: "wrong_type", Message: msg, MessageFA: "نوع یا بازهٔ این مقدار نادرست است."}}}
		}
		return Wrap(ECodeBadRequest, err, "بدنه درخواست JSON معتبر نیست.", "The request body is not valid JSON: "+err.Error())
	}
	// dec.More is not enough: it reports false for a stray "}" or "]", which would let
	// `{…}}` through. Only the end of input may follow the one value.
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(ECodeBadRequest, "پس از JSON داده اضافی آمده است.", "Unexpected data after the JSON body.")
	}
	return nil
}

// CheckKeys checks what selects the survey version — survey_id and survey_version — before any
// store is asked for it: both are required, and the version must fit its 32-bit column.
func (s *Submission) CheckKeys() error {
	fe := &fieldErrors{}
	if s.SurveyID <= 0 {
		fe.add("survey_id", "required", "شناسه پرسشنامه لازم است.", "survey_id is required")
	}
	switch {
	case s.SurveyVersion == 0:
		fe.add("survey_version", "required", "نسخه پرسشنامه لازم است.", "survey_version is required")
	case s.SurveyVersion < 0 || s.SurveyVersion > MaxSurveyVersion:
		fe.add("survey_version", "out_of_range", "نسخه پرسشنامه خارج از بازه است.", "survey_version is out of range")
	}
	if fe.empty() {
		return nil
	}
	return invalid(fe)
}

// textProblem returns the field error code for a string that cannot be an answer: "invalid_utf8"
// or "control_character" (NUL and the other C0 and C1 controls and DEL; free text may also hold
// tab, newline and carriage return), and "" for a fine one. Such strings are never a person's
// answer, and some cannot be stored at all (PostgreSQL refuses NUL in text, which made a whole
// fold batch fail). Callers build the field path only when there is a problem, so the common
// case allocates nothing.
func textProblem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "invalid_utf8"
	}
	if hasControl(s, multiline) {
		return "control_character"
	}
	return ""
}

// addTextProblem records a textProblem code for field.
func (f *fieldErrors) addTextProblem(field, code string) {
	if code == "invalid_utf8" {
		f.add(field, code, "متن UTF-8 معتبر نیست.", field+" is not valid UTF-8")
		return
	}
	f.add(field, code, "متن نویسهٔ کنترلی دارد.", field+" contains a control character")
}

// hasControl reports whether s holds a C0 control (U+0000–U+001F, but tab, newline and carriage
// return when multiline), DEL (U+007F) or a C1 control (U+0080–U+009F, encoded C2 80–C2 9F in
// UTF-8: 0xC2 is only ever a lead byte). A byte loop: it runs on every string of every
// submission.
func hasControl(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20:
			if !multiline || (c != '\t' && c != '\n' && c != '\r') {
				return true
			}
		case c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return true
		}
	}
	return false
}

// fieldErrors collects per-field problems of one submission. The map is made on the first
// problem, so a valid submission — the common case on the hot path — allocates none.
type fieldErrors struct{ m map[string]FieldError }

func (f *fieldErrors) add(field, code, fa, en string) {
	if f.m == nil {
		f.m = map[string]FieldError{}
	}
	if _, ok := f.m[field]; !ok {
		f.m[field] = FieldError{Code: code, Message: en, MessageFA: fa}
	}
}

func (f *fieldErrors) empty() bool { return len(f.m) == 0 }

// answerPath names the i-th submitted answer in field errors; built only when there is an error.
func answerPath(i int) string { return "answers[" + strconv.Itoa(i) + "]" }

// Validate checks a submission against exactly this version and returns the response to store.
// now is the server clock (received_at). The response id is kept as sent (lower-cased); an empty
// id is left empty for the caller to assign. Offices are checked by the caller, who knows them;
// the channel must already be set from the submission's origin (Origin.Apply). Every string is
// checked for invalid UTF-8 and control characters. The accepted response carries its content
// hash, which tells a resend from a different body sent with the same id.
func (v *Version) Validate(s *Submission, now time.Time) (Response, error) {
	fe := &fieldErrors{}
	r := Response{
		ID:            strings.ToLower(strings.TrimSpace(s.ID)),
		AgencyID:      s.AgencyID,
		OfficeID:      s.OfficeID,
		SurveyID:      s.SurveyID,
		SurveyVersion: s.SurveyVersion,
		Channel:       s.Channel,
		Source:        strings.TrimSpace(s.Source),
		ReceivedAt:    now.UTC(),
	}
	if r.ID != "" {
		if code := textProblem(r.ID, false); code != "" {
			fe.addTextProblem("id", code)
		} else if !ValidUUID(r.ID) {
			fe.add("id", "invalid_id", "شناسه پاسخ باید UUID باشد.", "id must be a UUID")
		}
	}
	if s.AgencyID != v.AgencyID {
		fe.add("agency_id", "agency_mismatch", "این پرسشنامه متعلق به این دستگاه نیست.", "the survey does not belong to this agency")
	}
	if !s.Channel.Valid() {
		fe.add("channel", "invalid_channel", "کانال باید kiosk، web یا sms باشد.", "channel must be kiosk, web or sms")
	}
	if code := textProblem(r.Source, false); code != "" {
		fe.addTextProblem("source", code)
	} else if utf8.RuneCountInString(r.Source) > MaxSourceLen {
		fe.add("source", "too_long", "مرجع منبع بیش از حد بلند است.", fmt.Sprintf("source is longer than %d characters", MaxSourceLen))
	}
	r.SubmittedAt = r.ReceivedAt
	clientTime := false
	if s.SubmittedAt != nil && !s.SubmittedAt.IsZero() {
		t := s.SubmittedAt.UTC()
		switch {
		case t.After(now.Add(MaxClockSkew)):
			fe.add("submitted_at", "future_timestamp", "زمان ثبت پاسخ در آینده است.", "submitted_at is in the future")
		case t.Before(now.Add(-MaxResponseAge)):
			fe.add("submitted_at", "too_old", "این پاسخ قدیمی‌تر از حد مجاز است.", "submitted_at is older than the accepted age")
		default:
			r.SubmittedAt = t
			clientTime = true
		}
	}
	if len(s.Answers) > MaxAnswers {
		fe.add("answers", "too_many", "تعداد پاسخ‌ها بیش از حد است.", "too many answers")
		return r, invalid(fe)
	}

	given := make(map[string]Answer, len(s.Answers))
	for i, a := range s.Answers {
		if code := textProblem(a.QuestionID, false); code != "" {
			fe.addTextProblem(answerPath(i)+".question_id", code)
			continue
		}
		q, _, ok := v.Question(a.QuestionID)
		if !ok {
			fe.add(answerPath(i)+".question_id", "unknown_question", "این پرسش در این نسخه از پرسشنامه نیست.", fmt.Sprintf("question %q is not in this survey version", a.QuestionID))
			continue
		}
		if _, dup := given[q.ID]; dup {
			fe.add(answerPath(i)+".question_id", "duplicate_answer", "به این پرسش دو بار پاسخ داده شده است.", "question answered twice")
			continue
		}
		if q.Type == TypeNPS && s.Channel == ChannelSMS {
			fe.add(answerPath(i)+".question_id", "channel_not_allowed", "این پرسش از راه پیامک پرسیده نمی‌شود.", "nps questions are not asked by SMS")
			continue
		}
		ans, skip, ok := q.parse(a, i, fe)
		if !ok || skip {
			continue
		}
		given[q.ID] = ans
	}

	// Visibility follows question order: a condition reads an earlier question's answer.
	for i, q := range v.Questions {
		ans, answered := given[q.ID]
		if !v.visible(q, given) {
			if answered {
				fe.add(hiddenPath(s, q.ID), "hidden_answered", "به پرسشی پاسخ داده شده که نباید نمایش داده می‌شد.", "answered a question whose condition is not met")
			}
			continue
		}
		if !answered {
			// An SMS reply answers one rating and nothing else: the survey's other questions
			// cannot be required of it (a low rating would otherwise be refused for the "why?"
			// it was never asked, and SMS scores would lean high).
			if q.Required && s.Channel != ChannelSMS {
				fe.add(fmt.Sprintf("questions[%d]", i), "required", "پاسخ به این پرسش لازم است.", fmt.Sprintf("question %q is required", q.ID))
			}
			continue
		}
		ans.Headline = q.CountsInHeadline()
		r.Answers = append(r.Answers, ans)
	}
	if !fe.empty() {
		return r, invalid(fe)
	}
	if len(r.Answers) == 0 {
		fe.add("answers", "empty", "هیچ پاسخی داده نشده است.", "no answers given")
		return r, invalid(fe)
	}
	r.Hash = r.contentHash(clientTime)
	return r, nil
}

func invalid(fe *fieldErrors) error {
	return &Error{Code: ECodeInvalid, Message: "the response is not valid for this survey version",
		MessageFA: "پاسخ با این نسخه از پرسشنامه سازگار نیست.", Fields: fe.m}
}

func hiddenPath(s *Submission, qid string) string {
	for i, a := range s.Answers {
		if a.QuestionID == qid {
			return answerPath(i)
		}
	}
	return "answers"
}

// visible reports whether q is shown given the answers so far.
func (v *Version) visible(q Question, given map[string]Answer) bool {
	c := q.ShowIf
	if c == nil {
		return true
	}
	a, ok := given[c.QuestionID]
	if !ok {
		return false
	}
	return c.Met(a)
}

// Met reports whether an answer satisfies the condition.
func (c *Condition) Met(a Answer) bool {
	if c.Op == "in" {
		for _, want := range c.Values {
			for _, got := range a.Choices {
				if got == want {
					return true
				}
			}
			if a.Number != nil && strconv.Itoa(*a.Number) == want {
				return true
			}
		}
		return false
	}
	if a.Number == nil {
		return false
	}
	n := *a.Number
	switch c.Op {
	case "lte":
		return n <= c.Value
	case "gte":
		return n >= c.Value
	case "eq":
		return n == c.Value
	case "ne":
		return n != c.Value
	}
	return false
}

// Bounds returns the numeric range of a question, from its type when Min and Max are unset.
func (q *Question) Bounds() (lo, hi int) {
	lo, hi = q.Min, q.Max
	if lo == 0 && hi == 0 {
		switch q.Type {
		case TypeRating5:
			return 1, 5
		case TypeNPS:
			return 0, 10
		case TypeYesNo:
			return 0, 1
		}
	}
	return lo, hi
}

// TextMax returns the longest accepted text, in characters.
func (q *Question) TextMax() int {
	if q.MaxLength > 0 {
		return q.MaxLength
	}
	return DefaultTextMax
}

// parse turns a raw answer into an Answer; skip is true for an empty optional text.
func (q *Question) parse(a SubmittedAnswer, i int, fe *fieldErrors) (ans Answer, skip, ok bool) {
	ans = Answer{QuestionID: q.ID, Type: q.Type}
	path := func() string { return answerPath(i) }
	raw := bytes.TrimSpace(a.Value)
	hasValue := len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
	wrong := func(en string) (Answer, bool, bool) {
		fe.add(path()+".value", "wrong_type", "نوع پاسخ با نوع پرسش سازگار نیست.", en)
		return ans, false, false
	}
	switch q.Type {
	case TypeRating5, TypeNPS, TypeYesNo:
		if a.Text != nil && !hasValue {
			return wrong("this question takes a value, not a text")
		}
		if !hasValue {
			fe.add(path()+".value", "missing_value", "مقدار پاسخ خالی است.", "value is missing")
			return ans, false, false
		}
		n, err := parseNumber(raw, q.Type == TypeYesNo)
		if err != nil {
			return wrong(err.Error())
		}
		lo, hi := q.Bounds()
		if n < lo || n > hi {
			fe.add(path()+".value", "out_of_range", FormatPersianDigits(fmt.Sprintf("مقدار باید بین %d و %d باشد.", lo, hi)), fmt.Sprintf("value must be between %d and %d", lo, hi))
			return ans, false, false
		}
		ans.Number = &n
	case TypeChoice:
		if !hasValue {
			fe.add(path()+".value", "missing_value", "گزینه‌ای انتخاب نشده است.", "no option chosen")
			return ans, false, false
		}
		var ids []string
		if raw[0] == '[' {
			if err := json.Unmarshal(raw, &ids); err != nil {
				return wrong("value must be an option id or a list of option ids")
			}
		} else {
			var one string
			if err := json.Unmarshal(raw, &one); err != nil {
				return wrong("value must be an option id or a list of option ids")
			}
			ids = []string{one}
		}
		if len(ids) == 0 {
			fe.add(path()+".value", "missing_value", "گزینه‌ای انتخاب نشده است.", "no option chosen")
			return ans, false, false
		}
		if len(ids) > 1 && !q.Multiple {
			fe.add(path()+".value", "single_choice", "در این پرسش فقط یک گزینه انتخاب می‌شود.", "only one option may be chosen")
			return ans, false, false
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if code := textProblem(id, false); code != "" {
				fe.addTextProblem(path()+".value", code)
				return ans, false, false
			}
			if !q.hasOption(id) {
				fe.add(path()+".value", "unknown_option", "گزینه انتخاب‌شده در این پرسش نیست.", fmt.Sprintf("option %q is not offered", id))
				return ans, false, false
			}
			if !seen[id] {
				seen[id] = true
				ans.Choices = append(ans.Choices, id)
			}
		}
	case TypeText:
		var text string
		switch {
		case a.Text != nil:
			text = *a.Text
		case hasValue:
			if err := json.Unmarshal(raw, &text); err != nil {
				return wrong("value must be a text")
			}
		}
		text = strings.TrimSpace(text)
		if code := textProblem(text, true); code != "" {
			field := path() + ".value"
			if a.Text != nil {
				field = path() + ".text"
			}
			fe.addTextProblem(field, code)
			return ans, false, false
		}
		if text == "" {
			return ans, true, true
		}
		if max := q.TextMax(); utf8.RuneCountInString(text) > max {
			fe.add(path()+".text", "too_long", FormatPersianDigits(fmt.Sprintf("متن حداکثر %d نویسه است.", max)), fmt.Sprintf("text is longer than %d characters", max))
			return ans, false, false
		}
		ans.Text = text
	default:
		fe.add(path()+".question_id", "unknown_type", "نوع پرسش ناشناخته است.", "unknown question type")
		return ans, false, false
	}
	return ans, false, true
}

func (q *Question) hasOption(id string) bool {
	for _, o := range q.Options {
		if o.ID == id {
			return true
		}
	}
	return false
}

// parseNumber reads an integer answer: a JSON number with no fraction, or a numeric string (in any
// digits); for yes/no also true/false and "yes"/"no"/"بله"/"خیر".
func parseNumber(raw []byte, yesno bool) (int, error) {
	switch raw[0] {
	case 't', 'f':
		if yesno {
			var b bool
			if err := json.Unmarshal(raw, &b); err == nil {
				if b {
					return 1, nil
				}
				return 0, nil
			}
		}
		return 0, fmt.Errorf("value must be a number")
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("value must be a number")
		}
		s = strings.TrimSpace(NormalizeDigits(s))
		if yesno {
			switch strings.ToLower(s) {
			case "yes", "بله", "بلی", "آری":
				return 1, nil
			case "no", "خیر", "نه":
				return 0, nil
			}
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("value must be a number")
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1e6 {
		return 0, fmt.Errorf("value must be a whole number")
	}
	return int(f), nil
}

// ValidUUID reports whether s is a UUID in canonical 8-4-4-4-12 hex form (any version).
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// typeBounds is the only numeric range each numeric type may declare (besides 0/0, "the
// default"): rating5 is the 1–5 faces scale, nps is 0–10 by definition (promoters 9–10), yesno
// is 0/1. Other ranges would make answers of one type incomparable across questions and
// agencies, and the headline figures assume these scales.
var typeBounds = map[QuestionType][2]int{TypeRating5: {1, 5}, TypeNPS: {0, 10}, TypeYesNo: {0, 1}}

// Check validates a version's own definition before it is published: ids unique and not
// reserved, types known, bounds those of the type, conditions pointing at earlier numeric or
// choice questions, headline only on rating5 and nps questions, and SMS settings that can be
// asked by SMS (see SMSSettings; whether the texts fit two SMS parts is the SMS channel's check,
// sms.CheckSMS).
func (v *Version) Check() error {
	fe := &fieldErrors{}
	if len(v.Questions) == 0 || len(v.Questions) > 20 {
		fe.add("questions", "count", "پرسشنامه باید ۱ تا ۲۰ پرسش داشته باشد.", "a survey has 1 to 20 questions")
	}
	seen := map[string]int{}
	for i, q := range v.Questions {
		p := fmt.Sprintf("questions[%d]", i)
		if q.ID == "" || len(q.ID) > 64 {
			fe.add(p+".id", "invalid_id", "شناسه پرسش نامعتبر است.", "question id must be 1–64 characters")
		}
		if strings.HasPrefix(q.ID, ReservedPrefix) {
			fe.add(p+".id", "reserved_id", "شناسه پرسش نباید با @ آغاز شود.", "question ids starting with "+ReservedPrefix+" are reserved")
		}
		if _, dup := seen[q.ID]; dup {
			fe.add(p+".id", "duplicate_id", "شناسه پرسش تکراری است.", "duplicate question id")
		}
		seen[q.ID] = i
		switch q.Type {
		case TypeRating5, TypeNPS, TypeYesNo:
			want := typeBounds[q.Type]
			if lo, hi := q.Bounds(); lo != want[0] || hi != want[1] {
				fe.add(p, "bounds",
					FormatPersianDigits(fmt.Sprintf("بازه این پرسش باید %d تا %d باشد.", want[0], want[1])),
					fmt.Sprintf("a %s question ranges %d–%d (leave min and max 0 for the default)", q.Type, want[0], want[1]))
			}
		case TypeChoice:
			if len(q.Options) < 2 {
				fe.add(p+".options", "options", "پرسش چندگزینه‌ای دست‌کم دو گزینه می‌خواهد.", "a choice question needs at least two options")
			}
			ids := map[string]bool{}
			for _, o := range q.Options {
				if o.ID == "" || ids[o.ID] {
					fe.add(p+".options", "option_id", "شناسه گزینه‌ها باید یکتا و ناتهی باشد.", "option ids must be unique and non-empty")
				}
				ids[o.ID] = true
			}
		case TypeText:
			if q.MaxLength < 0 || q.MaxLength > 2000 {
				fe.add(p+".max_length", "bounds", "طول متن باید تا ۲۰۰۰ نویسه باشد.", "max_length must be 0–2000")
			}
		default:
			fe.add(p+".type", "unknown_type", "نوع پرسش ناشناخته است.", fmt.Sprintf("unknown question type %q", q.Type))
		}
		if q.Headline != nil && *q.Headline && q.Type != TypeRating5 && q.Type != TypeNPS {
			fe.add(p+".headline", "headline_type", "فقط پرسش‌های rating5 و nps در شاخص اصلی شمرده می‌شوند.", "only rating5 and nps questions can count in the headline")
		}
		if c := q.ShowIf; c != nil {
			j, ok := seen[c.QuestionID]
			if !ok || j >= i {
				fe.add(p+".show_if", "condition", "شرط نمایش باید به پرسشی پیشین اشاره کند.", "show_if must refer to an earlier question")
			}
			switch c.Op {
			case "lte", "gte", "eq", "ne", "in":
			default:
				fe.add(p+".show_if.op", "condition", "عملگر شرط نامعتبر است.", "show_if.op must be lte, gte, eq, ne or in")
			}
			// Met reads a number (lte…ne, or in with numeric values) or chosen options (in): a
			// condition on a text question could never be met and would hide q for good.
			if ok && j < i {
				target := v.Questions[j]
				numeric := target.Type == TypeRating5 || target.Type == TypeNPS || target.Type == TypeYesNo
				if !numeric && !(target.Type == TypeChoice && c.Op == "in") {
					fe.add(p+".show_if", "condition_target", "شرط نمایش فقط به پرسش عددی یا چندگزینه‌ای (با in) اشاره می‌کند.",
						"show_if must refer to a numeric question, or to a choice question with op in")
				}
			}
		}
	}
	v.checkSMS(fe)
	if !fe.empty() {
		return invalid(fe)
	}
	return nil
}

// contentHashVersion starts the hashed encoding, so a future change of what is hashed cannot be
// mistaken for a change of content.
const contentHashVersion = "afkar-response-v1"

// contentHash is the Hash of an accepted response: the first 128 bits, in hex, of the SHA-256 of
// a length-prefixed encoding of the agency, office, survey version, channel, source, the client's
// submitted_at (only when the client sent one: the server's default is a new clock reading on
// every resend) and the validated answers in question order. The id and received_at are left
// out. It is computed on the validated form, so a resend that spells the same answers
// differently ("5" or 5, extra spaces) is still the same content.
func (r *Response) contentHash(clientTime bool) string {
	var buf [512]byte
	b := append(buf[:0], contentHashVersion...)
	b = binary.AppendUvarint(b, uint64(r.AgencyID))
	b = binary.AppendUvarint(b, uint64(r.OfficeID))
	b = binary.AppendUvarint(b, uint64(r.SurveyID))
	b = binary.AppendUvarint(b, uint64(r.SurveyVersion))
	b = appendHashString(b, string(r.Channel))
	b = appendHashString(b, r.Source)
	if clientTime {
		b = append(b, 1)
		b = binary.AppendVarint(b, r.SubmittedAt.UnixNano())
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Answers)))
	for i := range r.Answers {
		a := &r.Answers[i]
		b = appendHashString(b, a.QuestionID)
		b = appendHashString(b, string(a.Type))
		if a.Number != nil {
			b = append(b, 1)
			b = binary.AppendVarint(b, int64(*a.Number))
		} else {
			b = append(b, 0)
		}
		b = binary.AppendUvarint(b, uint64(len(a.Choices)))
		for _, c := range a.Choices {
			b = appendHashString(b, c)
		}
		b = appendHashString(b, a.Text)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// appendHashString appends s with its length in front, so that no two sequences of strings
// encode alike.
func appendHashString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
