package web

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// This file is the citizen's web form (/s/{token} from an SMS, /p/{token} from a poster): one
// server-rendered page that works with JavaScript off, on a 320 px screen and on 3G — no
// script, one small stylesheet, inline SVG faces, the font loading after the text.
//
// Conditional questions (show_if) are shown always, with a note saying which answer they
// depend on: without a script the page cannot hide them, and a two-step form would cost a
// second round trip on a slow network. They are validated (and stored) only when their
// condition is met: an answer to a question whose condition is not met is dropped before intake
// sees it, so a citizen who filled one in anyway is not scolded for it.

// formCSP is the form's policy: everything from this server only (the stylesheet and font), no
// script at all, the form posted only back here.
const formCSP = "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// FieldName is the form field of question id: q_<id>.
func FieldName(questionID string) string { return "q_" + questionID }

// TokenField is the hidden field carrying the link token; a POST without it (or with another
// token than its path's) is refused, which makes a cross-site post need the link itself.
const TokenField = "t"

// FormPage is what the form page shows.
type FormPage struct {
	Action     string // the path the form posts to
	Token      string
	AgencyName string
	OfficeName string
	Version    survey.Version
	// Values are the submitted values, to keep the citizen's answers after a refusal.
	Values url.Values
	// Errors are Persian messages by question id; General is a message for the whole form.
	Errors  map[string]string
	General string
	// Contact shows, under the rating question, the optional consent to be contacted for a
	// follow-up (a checkbox and a phone field, used only when the rating is 1 or 2);
	// ContactError is the Persian message of a refused number.
	Contact      bool
	ContactError string
	// Preview marks a staff preview (GET /surveys/{id}/preview?as=web): a banner says so and
	// the submit button is disabled, so nothing can be sent from it.
	Preview bool
}

// Fields of the consent to be contacted (FormPage.Contact).
const (
	ConsentField = "contact_consent"
	PhoneField   = "contact_phone"
)

// formChoice is one radio button or checkbox.
type formChoice struct {
	Value, Label string
	Checked      bool
	Face         bool // draw the rating face
	Mouth        string
	Brows        []string
	ID           string
}

// formQuestion is a question as the template writes it.
type formQuestion struct {
	ID, Name, Title, Kind, Hint, Error, Text string
	Required, Multiple                       bool
	MaxLength                                int
	Choices                                  []formChoice
	// ContactHere puts the consent to be contacted under this question (the rating).
	ContactHere bool
}

// formData is FormPage with the questions ready for the template.
type formData struct {
	FormPage
	FontURL   string
	CSSURL    string
	Questions []formQuestion
}

// faces is the rating scale in DOM order, as the kiosk has it (channels/kiosk/app/app.js):
// the page is RTL, so «خیلی بد» (1) is at the right and «عالی» (5) at the left.
var faces = [5]struct{ label, mouth string }{
	{"خیلی بد", "M30 74 Q50 52 70 74"},
	{"بد", "M32 70 Q50 60 68 70"},
	{"متوسط", "M32 66 L68 66"},
	{"خوب", "M32 62 Q50 74 68 62"},
	{"عالی", "M28 58 Q50 88 72 58 Z"},
}

func (p FormPage) questions() []formQuestion {
	titles := map[string]string{}
	var out []formQuestion
	contactAt := ""
	if rq, ok := p.Version.SMSRatingQuestion(); ok && p.Contact {
		contactAt = rq.ID
	}
	for _, q := range p.Version.Questions {
		titles[q.ID] = q.Title
		name := FieldName(q.ID)
		given := p.Values[name]
		chosen := func(v string) bool {
			for _, g := range given {
				if survey.NormalizeDigits(g) == v {
					return true
				}
			}
			return false
		}
		fq := formQuestion{ID: q.ID, Name: name, Title: q.Title, Required: q.Required, Error: p.Errors[q.ID], ContactHere: q.ID == contactAt}
		if c := q.ShowIf; c != nil {
			fq.Hint = "این پرسش به پاسخ شما به «" + titles[c.QuestionID] + "» بستگی دارد؛ اگر به شما مربوط نیست، آن را خالی بگذارید."
			fq.Required = false // required only when shown, which the server decides
		}
		choice := func(v, label string) formChoice {
			return formChoice{Value: v, Label: label, Checked: chosen(v), ID: name + "_" + v}
		}
		switch q.Type {
		case survey.TypeRating5:
			fq.Kind = "faces"
			for i, f := range faces {
				v := strconv.Itoa(i + 1)
				c := choice(v, f.label)
				c.Face, c.Mouth = true, f.mouth
				if i == 0 {
					c.Brows = []string{"M25 33 L41 27", "M75 33 L59 27"}
				}
				fq.Choices = append(fq.Choices, c)
			}
		case survey.TypeNPS:
			fq.Kind = "scale"
			lo, hi := q.Bounds()
			for n := lo; n <= hi; n++ {
				v := strconv.Itoa(n)
				fq.Choices = append(fq.Choices, choice(v, survey.FormatPersianDigits(v)))
			}
		case survey.TypeYesNo:
			fq.Kind = "choice"
			fq.Choices = []formChoice{choice("1", "بله"), choice("0", "خیر")}
		case survey.TypeChoice:
			fq.Kind, fq.Multiple = "choice", q.Multiple
			for _, o := range q.Options {
				fq.Choices = append(fq.Choices, choice(o.ID, o.Label))
			}
		case survey.TypeText:
			fq.Kind, fq.MaxLength = "text", q.TextMax()
			fq.Text = p.Values.Get(name)
		default:
			continue
		}
		out = append(out, fq)
	}
	return out
}

// Form renders the form with status (200, or 422 after a refusal with the answers kept).
func (p *Pages) Form(c echo.Context, status int, f FormPage) error {
	var buf bytes.Buffer
	d := formData{FormPage: f, FontURL: fontURL, CSSURL: formCSSURL, Questions: f.questions()}
	if err := pages.ExecuteTemplate(&buf, "form.html", d); err != nil {
		return err
	}
	return writePage(c, status, formCSP, buf.Bytes())
}

// writePage answers an HTML page of the citizen's web form: never indexed, never cached (it
// carries a link token), under csp.
func writePage(c echo.Context, status int, csp string, body []byte) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.HTMLBlob(status, body)
}

// Answers turns the posted form into the answers of a submission, in question order: empty
// fields are left out, and so is the answer to a conditional question whose condition the
// other answers do not meet (it is shown always, see the top of this file).
func Answers(v survey.Version, form url.Values) []survey.SubmittedAnswer {
	given := map[string]survey.Answer{}
	var out []survey.SubmittedAnswer
	for _, q := range v.Questions {
		vals := nonEmpty(form[FieldName(q.ID)])
		if len(vals) == 0 {
			continue
		}
		if c := q.ShowIf; c != nil {
			a, ok := given[c.QuestionID]
			if !ok || !c.Met(a) {
				continue
			}
		}
		sa := survey.SubmittedAnswer{QuestionID: q.ID}
		seen := survey.Answer{QuestionID: q.ID, Type: q.Type}
		switch q.Type {
		case survey.TypeText:
			t := strings.Join(vals, "\n")
			sa.Text = &t
		case survey.TypeChoice:
			if q.Multiple {
				sa.Value, _ = json.Marshal(vals)
			} else {
				sa.Value, _ = json.Marshal(vals[0])
			}
			seen.Choices = vals
		default: // numbers: sent as a string, which intake reads with Persian digits too
			n := survey.NormalizeDigits(strings.TrimSpace(vals[0]))
			sa.Value, _ = json.Marshal(n)
			if x, err := strconv.Atoi(n); err == nil {
				seen.Number = &x
			}
		}
		given[q.ID] = seen
		out = append(out, sa)
	}
	return out
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}

var (
	answerField   = regexp.MustCompile(`^answers\[(\d+)\]`)
	questionField = regexp.MustCompile(`^questions\[(\d+)\]`)
)

// FieldMessages spreads intake's refusal of answers (built by Answers from v) over the form:
// Persian messages by question id, and one general message for what belongs to no question.
func FieldMessages(v survey.Version, answers []survey.SubmittedAnswer, err *survey.Error) (map[string]string, string) {
	msgs := map[string]string{}
	general := ""
	for field, fe := range err.Fields {
		qid := ""
		if m := answerField.FindStringSubmatch(field); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(answers) {
				qid = answers[i].QuestionID
			}
		} else if m := questionField.FindStringSubmatch(field); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(v.Questions) {
				qid = v.Questions[i].ID
			}
		}
		if qid == "" {
			general = fe.MessageFA
			continue
		}
		if fe.Code == "required" {
			msgs[qid] = "لطفاً به این پرسش پاسخ دهید."
		} else {
			msgs[qid] = fe.MessageFA
		}
	}
	if len(msgs) > 0 {
		general = "برخی پاسخ‌ها کامل نیست؛ پیام کنار هر پرسش را ببینید."
	} else if general == "" {
		general = err.MessageFA
	}
	return msgs, general
}

// Notice is a short page of the web form that is not the form: thanks, a used or expired link.
type Notice struct {
	Title string
	Body  string
}

// Notices of the web form, in Persian.
var (
	// NoticeThanksCase thanks a citizen who asked to be contacted, and points formal complaints
	// to the national channels (survey.ComplaintNoticeFa): the follow-up does not absorb them.
	NoticeThanksCase    = Notice{"سپاس از شما", "پاسخ شما ثبت شد و کارکنان این اداره برای پیگیری با شما تماس می‌گیرند. " + survey.ComplaintNoticeFa}
	NoticeThanks        = Notice{"سپاس از شما", "پاسخ شما ثبت شد. نظر شما به بهتر شدن خدمت این اداره کمک می‌کند."}
	NoticeUsed          = Notice{"این پیوند قبلاً استفاده شده است", "با این پیوند یک بار پاسخ داده شده و پاسخ شما ثبت شده است. سپاس از وقتی که گذاشتید."}
	NoticeExpired       = Notice{"مهلت این پیوند تمام شده است", "پیوند نظرسنجی فقط چند روز پس از مراجعه کار می‌کند. اگر دوباره به این اداره مراجعه کنید، پیوند تازه‌ای دریافت می‌کنید."}
	NoticeBad           = Notice{"این پیوند معتبر نیست", "نشانی کامل نیست یا درست نوشته نشده است. لطفاً پیوند را دوباره از پیامک یا کد QR باز کنید."}
	NoticeAnsweredToday = Notice{"امروز پاسخ داده‌اید", "از این مرورگر امروز به نظرسنجی این اداره پاسخ داده شده است. فردا دوباره می‌توانید نظر بدهید."}
	NoticeNoSurvey      = Notice{"نظرسنجی فعال نیست", "این اداره اکنون نظرسنجی فعالی ندارد. سپاس از توجه شما."}
	NoticeTooMany       = Notice{"درخواست‌ها زیاد است", "از این نشانی در چند دقیقهٔ گذشته پاسخ‌های زیادی رسیده است. لطفاً کمی بعد دوباره تلاش کنید."}
	NoticeUnavailable   = Notice{"ثبت پاسخ ممکن نشد", "سامانه اکنون در دسترس نیست و پاسخ شما ثبت نشد. لطفاً چند دقیقهٔ دیگر دوباره تلاش کنید؛ پیوند شما هنوز کار می‌کند."}
)

// noticeData is a Notice with the assets it loads.
type noticeData struct {
	Notice
	FontURL, CSSURL string
}

// NoticePage renders n with status.
func (p *Pages) NoticePage(c echo.Context, status int, n Notice) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "notice.html", noticeData{Notice: n, FontURL: fontURL, CSSURL: formCSSURL}); err != nil {
		return err
	}
	return writePage(c, status, formCSP, buf.Bytes())
}
