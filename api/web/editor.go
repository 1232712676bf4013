package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// The survey and office management pages: an agency's surveys, a survey's draft as a form, and
// the agency's offices with their hours, holidays and survey assignments. They are plain forms
// (every change is a POST with the session's CSRF token, every reorder a submit button) so they
// work with JavaScript off; the rules — who may change what, what a draft needs to publish —
// stay in the services the handlers call, and these types only translate between a form and
// the domain's values.

// SurveyRow is one survey of the surveys page.
type SurveyRow struct {
	Survey survey.Survey
	// Versions are the published version numbers, newest first.
	Versions []int
	// DraftState says in Persian how the draft stands against the newest version.
	DraftState string
	// Problems is how many problems publishing the draft would meet.
	Problems int
}

// TemplateChoice is a template the "new survey" form offers.
type TemplateChoice struct {
	ID    string
	Title string
}

// SurveysPage is an agency's surveys.
type SurveysPage struct {
	StaffBar
	AgencyID   survey.ID
	AgencyName string
	// CanManage shows the forms (agency admins of the agency, province admins).
	CanManage bool
	Rows      []SurveyRow
	Templates []TemplateChoice
	Now       time.Time
}

// Title is the page's heading.
func (d SurveysPage) Title() string { return "پرسش‌نامه‌های " + d.AgencyName }

// EditorQuestion is one question as the editor's form shows it: every field a string or a
// flag, options one per line ("id|label"), the condition split in three fields.
type EditorQuestion struct {
	Index     int
	ID        string
	Type      string
	Title     string
	TitleEN   string
	Options   string
	Multiple  bool
	Required  bool
	Headline  string // "" (the default rule), "yes" or "no"
	IfID      string
	IfOp      string
	IfValue   string
	MaxLength string
	// Earlier lists the ids of the questions before this one, for the condition's list.
	Earlier []string
}

// EditorSMS is the SMS settings as the form shows them.
type EditorSMS struct {
	Question     string
	LinkQuestion string
	FollowUp     string
	MaxQuestions string
}

// EditorPage is a survey's draft as a form.
type EditorPage struct {
	StaffBar
	AgencyID   survey.ID
	AgencyName string
	Survey     survey.Survey
	Draft      survey.Draft
	Questions  []EditorQuestion
	SMS        EditorSMS
	// Problems are what publishing the draft would meet (and what the form could not read),
	// by field ("questions[2].options", "sms", "title", "").
	Problems map[string]survey.FieldError
	// CanEdit shows the form; without it the draft is shown read-only, with no form.
	CanEdit bool
	// Notice says what the last action did («ذخیره شد», «نسخهٔ ۳ منتشر شد»); Refused says why
	// a publish was refused.
	Notice  string
	Refused string
	Now     time.Time
}

// Title is the page's heading.
func (d EditorPage) Title() string { return "ویرایش پرسش‌نامه: " + d.Survey.Title }

// QuestionTypes are the question types the editor offers, with their Persian names.
var QuestionTypes = []struct{ Value, Label string }{
	{string(survey.TypeRating5), "امتیاز ۱ تا ۵ (چهره‌ها)"},
	{string(survey.TypeNPS), "۰ تا ۱۰ (احتمال توصیه)"},
	{string(survey.TypeYesNo), "بله یا خیر"},
	{string(survey.TypeChoice), "چندگزینه‌ای"},
	{string(survey.TypeText), "متن آزاد"},
}

// ConditionOps are the condition's operators with their Persian names.
var ConditionOps = []struct{ Value, Label string }{
	{"lte", "کمتر یا برابر"}, {"gte", "بیشتر یا برابر"}, {"eq", "برابر"}, {"ne", "نابرابر"}, {"in", "یکی از"},
}

// Types lists QuestionTypes for the template.
func (EditorPage) Types() []struct{ Value, Label string } { return QuestionTypes }

// Ops lists ConditionOps for the template.
func (EditorPage) Ops() []struct{ Value, Label string } { return ConditionOps }

// ProblemsAt lists the problems of exactly field key, in Persian.
func (d EditorPage) ProblemsAt(key string) []string {
	var out []string
	for k, p := range d.Problems {
		if k == key || strings.HasPrefix(k, key+".") && !knownSubfield(strings.TrimPrefix(k, key+".")) {
			out = append(out, problemFA(p))
		}
	}
	sort.Strings(out)
	return out
}

// QuestionField lists the problems of one field of question i ("options", "show_if", …).
func (d EditorPage) QuestionField(i int, field string) []string {
	key := fmt.Sprintf("questions[%d].%s", i, field)
	var out []string
	for k, p := range d.Problems {
		if k == key || strings.HasPrefix(k, key+".") {
			out = append(out, problemFA(p))
		}
	}
	sort.Strings(out)
	return out
}

// QuestionRest lists the problems of question i that belong to no field of the form (a bound,
// a required answer), shown at the top of the question.
func (d EditorPage) QuestionRest(i int) []string {
	return d.ProblemsAt(fmt.Sprintf("questions[%d]", i))
}

// SMSProblems lists the problems of the SMS settings.
func (d EditorPage) SMSProblems() []string {
	var out []string
	for k, p := range d.Problems {
		if k == "sms" || strings.HasPrefix(k, "sms.") || strings.HasPrefix(k, "sms[") {
			out = append(out, problemFA(p))
		}
	}
	sort.Strings(out)
	return out
}

// OtherProblems lists the problems of the survey as a whole ("questions", "" and any field the
// form has no place for).
func (d EditorPage) OtherProblems() []string {
	var out []string
	for k, p := range d.Problems {
		if k == "title" || strings.HasPrefix(k, "sms") || strings.HasPrefix(k, "questions[") {
			continue
		}
		out = append(out, problemFA(p))
	}
	sort.Strings(out)
	return out
}

// ProblemCount is how many problems the draft has, in Persian digits.
func (d EditorPage) ProblemCount() string { return FormatCount(int64(len(d.Problems))) }

// knownSubfield reports whether a question's field has a place of its own in the form.
func knownSubfield(f string) bool {
	head, _, _ := strings.Cut(f, ".")
	switch head {
	case "id", "type", "title", "options", "show_if", "headline", "max_length":
		return true
	}
	return false
}

func problemFA(p survey.FieldError) string {
	if p.MessageFA != "" {
		return p.MessageFA
	}
	return p.Message
}

// EditorQuestions turns a draft's questions into the form's fields.
func EditorQuestions(d survey.Draft) []EditorQuestion {
	out := make([]EditorQuestion, 0, len(d.Questions))
	var earlier []string
	for i, q := range d.Questions {
		eq := EditorQuestion{Index: i, ID: q.ID, Type: string(q.Type), Title: q.Title, TitleEN: q.TitleEN,
			Multiple: q.Multiple, Required: q.Required, Earlier: slices.Clone(earlier)}
		lines := make([]string, 0, len(q.Options))
		for _, o := range q.Options {
			lines = append(lines, o.ID+"|"+o.Label)
		}
		eq.Options = strings.Join(lines, "\n")
		if q.Headline != nil {
			eq.Headline = map[bool]string{true: "yes", false: "no"}[*q.Headline]
		}
		if c := q.ShowIf; c != nil {
			eq.IfID, eq.IfOp = c.QuestionID, c.Op
			if c.Op == "in" {
				eq.IfValue = strings.Join(c.Values, ", ")
			} else {
				eq.IfValue = strconv.Itoa(c.Value)
			}
			if c.QuestionID != "" && !slices.Contains(eq.Earlier, c.QuestionID) {
				eq.Earlier = append(eq.Earlier, c.QuestionID) // shown as it is, with its problem
			}
		}
		if q.MaxLength != 0 {
			eq.MaxLength = strconv.Itoa(q.MaxLength)
		}
		out = append(out, eq)
		earlier = append(earlier, q.ID)
	}
	return out
}

// EditorSMSOf turns a draft's SMS settings into the form's fields.
func EditorSMSOf(s *survey.SMSSettings) EditorSMS {
	if s == nil {
		return EditorSMS{}
	}
	e := EditorSMS{Question: s.Question, LinkQuestion: s.LinkQuestion, FollowUp: strings.Join(s.FollowUp, ", ")}
	if s.MaxQuestions != 0 {
		e.MaxQuestions = strconv.Itoa(s.MaxQuestions)
	}
	return e
}

// EditorAction is what a submit button of the editor asked for.
type EditorAction struct {
	// Kind is "save", "publish", "add", "remove", "up" or "down".
	Kind string
	// Index is the question a remove, up or down is about.
	Index int
}

// ParseEditorForm reads the editor's form back into a draft (title, questions, SMS settings)
// and the button pressed. What the form cannot read (a condition's value that is not a number)
// is reported by field, beside the draft's own problems; nothing here decides whether a draft
// may be published — the authoring service does.
func ParseEditorForm(f url.Values) (survey.Draft, EditorAction, map[string]survey.FieldError) {
	d := survey.Draft{Title: strings.TrimSpace(f.Get("title")), Questions: []survey.Question{}}
	bad := map[string]survey.FieldError{}
	n, _ := strconv.Atoi(survey.NormalizeDigits(f.Get("n")))
	n = min(max(n, 0), 100)
	for i := range n {
		k := func(name string) string { return strings.TrimSpace(f.Get(fmt.Sprintf("q%d.%s", i, name))) }
		q := survey.Question{ID: k("id"), Type: survey.QuestionType(k("type")), Title: k("title"), TitleEN: k("title_en"),
			Required: k("required") != "", Multiple: k("multiple") != ""}
		for _, line := range strings.Split(f.Get(fmt.Sprintf("q%d.options", i)), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			id, label, ok := strings.Cut(line, "|")
			if !ok {
				label = id
			}
			q.Options = append(q.Options, survey.Option{ID: strings.TrimSpace(id), Label: strings.TrimSpace(label)})
		}
		switch k("headline") {
		case "yes":
			q.Headline = new(true)
		case "no":
			q.Headline = new(false)
		}
		if ml := survey.NormalizeDigits(k("max_length")); ml != "" {
			v, err := strconv.Atoi(ml)
			if err != nil {
				bad[fmt.Sprintf("questions[%d].max_length", i)] = formProblem("بیشینهٔ طول متن باید عدد باشد.", "max_length must be a number")
			}
			q.MaxLength = v
		}
		if ifID := k("if_id"); ifID != "" {
			c := &survey.Condition{QuestionID: ifID, Op: k("if_op")}
			val := survey.NormalizeDigits(k("if_value"))
			if c.Op == "in" {
				for _, v := range strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == '،' || r == ' ' }) {
					c.Values = append(c.Values, v)
				}
			} else if val != "" {
				v, err := strconv.Atoi(val)
				if err != nil {
					bad[fmt.Sprintf("questions[%d].show_if.value", i)] = formProblem("مقدار شرط باید عدد باشد.", "the condition's value must be a number")
				}
				c.Value = v
			}
			q.ShowIf = c
		}
		d.Questions = append(d.Questions, q)
	}
	sms := survey.SMSSettings{Question: strings.TrimSpace(f.Get("sms_question")), LinkQuestion: strings.TrimSpace(f.Get("sms_link_question"))}
	for _, id := range strings.FieldsFunc(f.Get("sms_follow_up"), func(r rune) bool { return r == ',' || r == '،' || r == ' ' }) {
		sms.FollowUp = append(sms.FollowUp, id)
	}
	if mq := strings.TrimSpace(survey.NormalizeDigits(f.Get("sms_max_questions"))); mq != "" {
		v, err := strconv.Atoi(mq)
		if err != nil {
			bad["sms.max_questions"] = formProblem("بیشینهٔ پرسش‌های پیامکی باید عدد باشد.", "max_questions must be a number")
		}
		sms.MaxQuestions = v
	}
	if sms.Question != "" || sms.LinkQuestion != "" || len(sms.FollowUp) > 0 || sms.MaxQuestions != 0 {
		d.SMS = &sms
	}
	a := EditorAction{Kind: "save"}
	if act := f.Get("action"); act != "" {
		kind, idx, _ := strings.Cut(act, ":")
		a.Kind = kind
		a.Index, _ = strconv.Atoi(idx)
	}
	return d, a, bad
}

func formProblem(fa, en string) survey.FieldError {
	return survey.FieldError{Code: "form", Message: en, MessageFA: fa}
}

// Apply carries out a reordering button on the draft's questions: add a question at the end,
// remove one, or move one up or down (a no-op at either end). Save and publish change nothing.
func (a EditorAction) Apply(d *survey.Draft) {
	qs := d.Questions
	i := a.Index
	switch a.Kind {
	case "add":
		id := fmt.Sprintf("q%d", len(qs)+1)
		for n := len(qs) + 1; slices.ContainsFunc(qs, func(q survey.Question) bool { return q.ID == id }); n++ {
			id = fmt.Sprintf("q%d", n+1)
		}
		qs = append(qs, survey.Question{ID: id, Type: survey.TypeRating5})
	case "remove":
		if i >= 0 && i < len(qs) {
			qs = slices.Delete(qs, i, i+1)
		}
	case "up":
		if i > 0 && i < len(qs) {
			qs[i-1], qs[i] = qs[i], qs[i-1]
		}
	case "down":
		if i >= 0 && i+1 < len(qs) {
			qs[i], qs[i+1] = qs[i+1], qs[i]
		}
	}
	d.Questions = qs
}

// AssignCell is one office × channel's survey: 0 for the agency's default.
type AssignCell struct {
	Channel  string
	Label    string
	SurveyID survey.ID
}

// DayHours is one weekday's spans as the hours form shows them («۰۷:۳۰-۱۴:۳۰، ۱۶:۰۰-۱۸:۰۰»).
type DayHours struct {
	Key   string
	Name  string
	Spans string
}

// HoursForm is an office's hours as a form.
type HoursForm struct {
	AlwaysOpen bool
	Days       []DayHours
	Holidays   string
}

// OfficeBlock is one office of the offices page: its name, hours and assignments. Office 0 is
// the agency-wide row of assignments.
type OfficeBlock struct {
	Office survey.Office
	Hours  *HoursForm
	Assign []AssignCell
	// Problems are what the last change of this office was refused for, in Persian.
	Problems []string
}

// OfficesPage is an agency's offices, hours, holidays and survey assignments.
type OfficesPage struct {
	StaffBar
	AgencyID   survey.ID
	AgencyName string
	CanManage  bool
	// Default is the agency-wide row of assignments (every office).
	Default OfficeBlock
	Offices []OfficeBlock
	Surveys []survey.Survey
	// Problems are a refusal that belongs to no office (creating one), in Persian.
	Problems []string
	Now      time.Time
}

// Title is the page's heading.
func (d OfficesPage) Title() string { return "دفترها و ساعت کاری " + d.AgencyName }

// AssignChannels are the channels of the assignment table: every channel, then each one.
var AssignChannels = []struct{ Value, Label string }{
	{"", "همهٔ روش‌ها"}, {string(survey.ChannelWeb), "پیوند وب"}, {string(survey.ChannelKiosk), "کیوسک"}, {string(survey.ChannelSMS), "پیامک"},
}

// AssignCells lays out the assignments of one office (0: agency-wide) over AssignChannels.
func AssignCells(as []survey.Assignment, office survey.ID) []AssignCell {
	out := make([]AssignCell, 0, len(AssignChannels))
	for _, ch := range AssignChannels {
		cell := AssignCell{Channel: ch.Value, Label: ch.Label}
		for _, a := range as {
			if a.OfficeID == office && string(a.Channel) == ch.Value {
				cell.SurveyID = a.SurveyID
			}
		}
		out = append(out, cell)
	}
	return out
}

// HoursFormOf turns stored hours into the form: each weekday, Saturday first, with its spans in
// Persian digits, and the holidays as ۱۴۰۵/۰۱/۰۱, one a line.
func HoursFormOf(h survey.OfficeHours) *HoursForm {
	f := &HoursForm{AlwaysOpen: h.AlwaysOpen}
	for i, day := range survey.HoursDays {
		var spans []string
		for _, s := range h.Weekly {
			if s.Day == day {
				spans = append(spans, survey.FormatPersianDigits(s.Open+"-"+s.Close))
			}
		}
		f.Days = append(f.Days, DayHours{Key: day, Name: WeekdaysFA[i], Spans: strings.Join(spans, "، ")})
	}
	hs := make([]string, 0, len(h.Holidays))
	for _, d := range h.Holidays {
		hs = append(hs, survey.FormatPersianDigits(strings.ReplaceAll(d, "-", "/")))
	}
	f.Holidays = strings.Join(hs, "\n")
	return f
}

// ParseHoursForm reads the hours form: each weekday's spans "HH:MM-HH:MM" separated by commas
// (Persian or ASCII digits), holidays separated by lines, commas or spaces and typed as
// ۱۴۰۵/۰۱/۰۱ or 1405-01-01. A span it cannot split is reported by field; whether the times
// and dates are valid is the kiosk channel's check (kiosk.CheckHours), not this form's.
func ParseHoursForm(f url.Values) (survey.OfficeHours, map[string]survey.FieldError) {
	h := survey.OfficeHours{AlwaysOpen: f.Get("always_open") != "", Weekly: []survey.HoursSpan{}, Holidays: []string{}}
	bad := map[string]survey.FieldError{}
	seps := func(r rune) bool { return r == ',' || r == '،' || r == ';' || r == '؛' || r == '\n' || r == '\r' }
	for i, day := range survey.HoursDays {
		for _, span := range strings.FieldsFunc(f.Get("day_"+day), seps) {
			span = strings.TrimSpace(survey.NormalizeDigits(span))
			if span == "" {
				continue
			}
			open, close, ok := strings.Cut(strings.ReplaceAll(span, "–", "-"), "-")
			if !ok {
				bad["weekly."+day] = formProblem(WeekdaysFA[i]+": هر بازه را به شکل ۰۷:۳۰-۱۴:۳۰ بنویسید.", day+": write each span as 07:30-14:30")
				continue
			}
			h.Weekly = append(h.Weekly, survey.HoursSpan{Day: day, Open: strings.TrimSpace(open), Close: strings.TrimSpace(close)})
		}
	}
	for _, d := range strings.FieldsFunc(f.Get("holidays"), func(r rune) bool { return seps(r) || r == ' ' || r == '\t' }) {
		h.Holidays = append(h.Holidays, strings.ReplaceAll(survey.NormalizeDigits(d), "/", "-"))
	}
	return h, bad
}

// SurveysPageRender renders an agency's surveys.
func (p *Pages) SurveysPageRender(c echo.Context, d SurveysPage) error {
	return renderDashStatus(c, http.StatusOK, "dash_surveys.html", d)
}

// EditorPageRender renders the draft editor with status (200, or 422 after a refused publish).
func (p *Pages) EditorPageRender(c echo.Context, status int, d EditorPage) error {
	return renderDashStatus(c, status, "dash_editor.html", d)
}

// OfficesPageRender renders the offices page with status (200, or 422 after a refused change).
func (p *Pages) OfficesPageRender(c echo.Context, status int, d OfficesPage) error {
	return renderDashStatus(c, status, "dash_offices.html", d)
}

// selectedID is the " selected" of an <option> whose id is the current one.
func selectedID(a, b survey.ID) template.HTMLAttr {
	if a == b {
		return "selected"
	}
	return ""
}
