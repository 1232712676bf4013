// Package survey is Afkar's domain: who is surveyed (province, agency, office), what is asked
// (a survey and its immutable published versions), what comes back (responses and answers), and
// the rules that decide whether a response is acceptable. It declares the interfaces the domain
// needs from the outside world (a store, a buffer, a clock) and imports nothing but the standard
// library, so every adapter — HTTP, SQL, Redis, SMS — depends on it and never the other way round.
package survey

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// ID identifies a stored entity (province, agency, office, survey). It is a number inside Afkar
// but clients may send it as a JSON number or a numeric string, because the HTTP contract calls
// ids opaque and kiosk firmware or spreadsheets often quote them.
type ID int64

// UnmarshalJSON accepts 12 and "12" alike.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*id = 0
		return nil
	}
	s = strings.Trim(s, `"`)
	if s == "" {
		*id = 0
		return nil
	}
	n, err := strconv.ParseInt(NormalizeDigits(s), 10, 64)
	if err != nil || n < 0 {
		// A type error, so the decoder names the field and the client gets a 422 for it.
		return &json.UnmarshalTypeError{Value: "id " + strconv.Quote(s), Type: reflect.TypeFor[ID]()}
	}
	*id = ID(n)
	return nil
}

// String formats the id for paths and logs.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// Province is the governorate that owns the ranking; every agency belongs to one.
type Province struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// Agency is an executive agency (دستگاه اجرایی) whose PR office is ranked. Tenancy is per agency:
// agency staff see only their own agency's data.
type Agency struct {
	ID         ID     `json:"id"`
	ProvinceID ID     `json:"province_id"`
	Name       string `json:"name"`
	// Slug is a short Latin handle for URLs and QR posters (e.g. "tax").
	Slug string `json:"slug,omitempty"`
}

// Office is a physical place of an agency where citizens are served (a lobby, a branch); kiosks
// stand in offices and scores can be broken down by them.
type Office struct {
	ID       ID     `json:"id"`
	AgencyID ID     `json:"agency_id"`
	Name     string `json:"name"`
}

// Survey is an agency's questionnaire. Its questions live in immutable Versions so that a response
// is always read against exactly the questions the citizen saw.
type Survey struct {
	ID       ID     `json:"id"`
	AgencyID ID     `json:"agency_id"`
	Title    string `json:"title"`
	// ActiveVersion is the published version offered to citizens now (0: none published).
	ActiveVersion int `json:"active_version"`
}

// Version is one published, never-edited set of questions of a survey. Publishing a change makes a
// new version; responses name the version they answer.
type Version struct {
	SurveyID  ID         `json:"id"`
	AgencyID  ID         `json:"agency_id"`
	Version   int        `json:"version"`
	Title     string     `json:"title"`
	Questions []Question `json:"questions"`
	// SMS says how this version is asked by SMS: the invitation's question and the follow-up
	// questions of the SMS conversation (nil: the defaults, a rating and nothing more).
	SMS         *SMSSettings `json:"sms,omitempty"`
	PublishedAt time.Time    `json:"published_at"`
}

// Question returns the question with the given id and its position, or false.
func (v *Version) Question(id string) (Question, int, bool) {
	for i, q := range v.Questions {
		if q.ID == id {
			return q, i, true
		}
	}
	return Question{}, -1, false
}

// QuestionType says how a question is asked and what its answer may hold.
type QuestionType string

// Question types. rating5 is the 5-point faces scale asked first; nps is 0–10 and only offered on
// kiosk and web (SMS replies use 1–5 because 11 and 12 are opt-out commands).
const (
	TypeRating5 QuestionType = "rating5"
	TypeNPS     QuestionType = "nps"
	TypeYesNo   QuestionType = "yesno"
	TypeChoice  QuestionType = "choice"
	TypeText    QuestionType = "text"
)

// DefaultTextMax bounds free-text answers when a question sets no MaxLength; long texts are
// costly to moderate and rarely read.
const DefaultTextMax = 500

// Question is one item of a version. Min and Max bound numeric answers (filled from the type when
// zero); Options list the choices of a choice question; ShowIf hides the question unless an
// earlier answer meets a condition (e.g. "why?" only when the rating is 2 or less); Headline says
// whether the question counts toward the agency's headline figures (see CountsInHeadline).
type Question struct {
	ID        string       `json:"id"`
	Type      QuestionType `json:"type"`
	Title     string       `json:"title"`
	TitleEN   string       `json:"title_en,omitempty"`
	Required  bool         `json:"required"`
	Min       int          `json:"min"`
	Max       int          `json:"max"`
	Options   []Option     `json:"options,omitempty"`
	Multiple  bool         `json:"multiple,omitempty"`
	MaxLength int          `json:"max_length,omitempty"`
	ShowIf    *Condition   `json:"show_if,omitempty"`
	Headline  *bool        `json:"headline,omitempty"`
}

// CountsInHeadline reports whether answers to q count toward the headline figures — the
// per-citizen mean, CSAT and 0–100 index (rating5 questions) and the headline NPS (nps
// questions). An explicit Headline wins. By default an unconditional rating5 or nps question
// counts and a conditional one does not: a rating shown only to unhappy citizens ("how bad was
// the wait?") is asked of a biased subset and would drag the headline down. Other types never
// count (Check refuses headline: true on them).
func (q *Question) CountsInHeadline() bool {
	if q.Type != TypeRating5 && q.Type != TypeNPS {
		return false
	}
	if q.Headline != nil {
		return *q.Headline
	}
	return q.ShowIf == nil
}

// Option is one choice of a choice question; ID is what answers carry, Label what people read.
type Option struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Condition makes a question visible only when an earlier numeric or choice answer meets it.
// Op is one of lte, gte, eq, ne (compared with Value) or in (any of Values, for choices).
type Condition struct {
	QuestionID string   `json:"question_id"`
	Op         string   `json:"op"`
	Value      int      `json:"value,omitempty"`
	Values     []string `json:"values,omitempty"`
}

// Channel is the way a response reached Afkar.
type Channel string

// Channels. A response's channel decides which question types may be answered (no nps by SMS) and
// is a dimension of every rollup.
const (
	ChannelKiosk Channel = "kiosk"
	ChannelWeb   Channel = "web"
	ChannelSMS   Channel = "sms"
)

// Channels lists every channel, in display order.
var Channels = []Channel{ChannelKiosk, ChannelWeb, ChannelSMS}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	return c == ChannelKiosk || c == ChannelWeb || c == ChannelSMS
}

// Response is one citizen's accepted, validated answers to one survey version. Its ID makes every
// step idempotent: a client-made UUID where the client can make one, otherwise one the server
// assigns (time-ordered, so storage indexes stay cache-friendly).
type Response struct {
	ID            string    `json:"id"`
	AgencyID      ID        `json:"agency_id"`
	OfficeID      ID        `json:"office_id,omitempty"`
	SurveyID      ID        `json:"survey_id"`
	SurveyVersion int       `json:"survey_version"`
	Channel       Channel   `json:"channel"`
	Source        string    `json:"source,omitempty"`
	SubmittedAt   time.Time `json:"submitted_at"`
	ReceivedAt    time.Time `json:"received_at"`
	Answers       []Answer  `json:"answers"`
	// Hash identifies the accepted content (everything but the id and the server's clock), so
	// that the same id sent again can be told apart: a resend (same hash) or a different
	// response reusing an id (id_conflict). Validate sets it; it is stored with the response.
	// Empty on responses accepted before hashes were kept, which match any resend.
	Hash string `json:"hash,omitempty"`
	// DeviceID is the kiosk that took the response (Origin.DeviceID); 0 for other channels.
	DeviceID ID `json:"device_id,omitempty"`
	// Flag, when set, keeps the response out of the scores (see Origin.Flag). It is not part
	// of Hash: the citizen's answers are the content, the verdict is the server's.
	Flag Flag `json:"flag,omitempty"`
}

// Answer is a validated answer. Number holds rating5, nps and yesno (1 yes, 0 no); Choices holds
// choice option ids; Text holds free text. Type and Headline are copied from the question
// (Headline is Question.CountsInHeadline) so that aggregation — live or `afkar reaggregate` from
// the stored answers — needs no survey lookup.
type Answer struct {
	QuestionID string       `json:"q"`
	Type       QuestionType `json:"t"`
	Number     *int         `json:"n,omitempty"`
	Choices    []string     `json:"c,omitempty"`
	Text       string       `json:"x,omitempty"`
	Headline   bool         `json:"h,omitempty"`
}

// Day returns the Asia/Tehran calendar day a response belongs to: the citizen's visit time as the
// client reported it, which for an offline kiosk can be days before it reached the server.
func (r *Response) Day() time.Time {
	t := r.SubmittedAt
	if t.IsZero() {
		t = r.ReceivedAt
	}
	return TehranDay(t)
}

// Hour is the Tehran hour of the day (0–23) the response was submitted in, from the same
// instant Day uses: the hourly rollup's hour.
func (r *Response) Hour() int {
	t := r.SubmittedAt
	if t.IsZero() {
		t = r.ReceivedAt
	}
	return t.In(Tehran).Hour()
}

// MarkHeadline sets each answer's Headline flag from the question it answers in v, the version
// the response names. Validate sets the flags as it builds a response; `afkar reaggregate` calls
// this for raw responses stored before the flag existed (none of their answers carries it), so a
// rebuild gives them the same headline cells a live fold gives new ones. It reports whether any
// answer counts toward the headline.
func (v *Version) MarkHeadline(r *Response) bool {
	any := false
	for i := range r.Answers {
		a := &r.Answers[i]
		q, _, ok := v.Question(a.QuestionID)
		a.Headline = ok && q.CountsInHeadline()
		any = any || a.Headline
	}
	return any
}

// MarshalResponse is the one encoding of a response on the wire between intake, buffers and the
// aggregator, so every buffer stores the same bytes.
func MarshalResponse(r *Response) ([]byte, error) { return json.Marshal(r) }

// UnmarshalResponse decodes what MarshalResponse wrote.
func UnmarshalResponse(b []byte) (Response, error) {
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		return r, err
	}
	if r.ID == "" {
		return r, fmt.Errorf("response without id")
	}
	return r, nil
}

// Tehran is the Asia/Tehran zone. Programs embed time/tzdata so it loads on hosts without zoneinfo.
var Tehran = mustLoadTehran()

func mustLoadTehran() *time.Location {
	loc, err := time.LoadLocation("Asia/Tehran")
	if err != nil {
		// tzdata missing and not embedded: UTC+03:30 has held since 2022 and is the least-bad guess.
		return time.FixedZone("Asia/Tehran", 3*3600+1800)
	}
	return loc
}

// TehranDay returns midnight, in Tehran, of the Tehran day holding t.
func TehranDay(t time.Time) time.Time {
	t = t.In(Tehran)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Tehran)
}

// Clock tells the time; tests pass a fixed one.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
