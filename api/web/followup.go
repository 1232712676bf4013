package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// This file holds the staff pages that act on what the figures show: the alerts block of both
// dashboards, the follow-up cases page and the audit log page. They are plain forms (JavaScript
// off) carrying the session's CSRF token; whether a form is shown is decided by the handler from
// the same rules the services enforce, so a person never sees a button that would be refused.

// AlertLine is one alert as the dashboards list it, already in words: the kind in Persian, the
// office, when (Jalali, Tehran) and the figures its detail carries.
type AlertLine struct {
	ID       survey.ID
	AgencyID survey.ID
	// Agency names the alert's agency on the province dashboard ("" on the agency's own).
	Agency   string
	Kind     string
	Office   string
	Opened   time.Time
	Figures  []string
	Open     bool
	Acked    bool
	AckedBy  string
	AckedAt  *time.Time
	Comment  string
	Resolved *time.Time
	// CanAck shows the acknowledgement form: an admin of the alert's agency or of the province.
	CanAck bool
}

// Status names where the alert stands, in Persian.
func (a AlertLine) Status() string {
	switch {
	case !a.Open:
		return "بسته (شرایط عادی شد)"
	case a.Acked:
		return "باز، دیده‌شده"
	}
	return "باز، دیده‌نشده"
}

// AlertKindFA names an alert's kind in Persian.
func AlertKindFA(kind string) string {
	switch kind {
	case survey.AlertScoreDrop:
		return "افت معنادار نمره"
	case survey.AlertScoreRise:
		return "بهبود معنادار نمره"
	case survey.AlertShareUnhappy:
		return "سهم بالای ناراضی‌ها"
	case survey.AlertScoreBelow:
		return "میانگین زیر حد"
	case survey.AlertScoreAbove:
		return "میانگین بالای حد"
	case survey.AlertKioskSilent:
		return "کیوسک خاموش در ساعت کاری"
	case survey.AlertCaseOverdue:
		return "پرونده پیگیری بی‌پاسخ پس از ۴۸ ساعت"
	case sms.AlertSMSPaused:
		return "درگاه پیامک متوقف است"
	}
	return kind
}

// alertDetail is the union of the alert details' fields the dashboards show.
type alertDetail struct {
	OfficeName string   `json:"office_name"`
	KioskName  string   `json:"kiosk_name"`
	Observed   *float64 `json:"observed"`
	Expected   *float64 `json:"expected"`
	Z          *float64 `json:"z"`
	N          *int64   `json:"n"`
	Level      *float64 `json:"level"`
	WindowFrom string   `json:"window_from"`
	WindowTo   string   `json:"window_to"`
	CaseID     *int64   `json:"case_id"`
	Rating     *int     `json:"rating"`
	Silent     *int64   `json:"silent_seconds"`
}

// NewAlertLine puts an alert into words. offices names the agency's offices by id (for alerts
// whose detail does not carry the name); canAck says whether the reader may acknowledge it.
func NewAlertLine(a survey.Alert, offices map[survey.ID]string, canAck bool) AlertLine {
	l := AlertLine{ID: a.ID, AgencyID: a.AgencyID, Kind: AlertKindFA(a.Kind), Opened: a.OpenedAt, Open: a.ResolvedAt == nil,
		Acked: a.AcknowledgedAt != nil, AckedBy: a.AcknowledgedBy, AckedAt: a.AcknowledgedAt, Comment: a.AckComment,
		Resolved: a.ResolvedAt, CanAck: canAck && a.ResolvedAt == nil}
	var d alertDetail
	_ = json.Unmarshal([]byte(a.Detail), &d)
	l.Office = d.OfficeName
	if l.Office == "" && a.OfficeID != 0 {
		if n, ok := offices[a.OfficeID]; ok {
			l.Office = n
		} else {
			l.Office = "دفتر " + survey.FormatPersianDigits(a.OfficeID.String())
		}
	}
	if d.KioskName != "" {
		l.Figures = append(l.Figures, "کیوسک: "+d.KioskName)
	}
	if d.Observed != nil {
		if a.Kind == survey.AlertShareUnhappy {
			l.Figures = append(l.Figures, "سهم ناراضی‌ها: "+FormatNumber(*d.Observed*100, 0)+"٪")
		} else {
			l.Figures = append(l.Figures, "میانگین: "+FormatNumber(*d.Observed, 2))
		}
	}
	if d.Expected != nil {
		l.Figures = append(l.Figures, "انتظار از روند خود دفتر: "+FormatNumber(*d.Expected, 2))
	}
	if d.Z != nil {
		l.Figures = append(l.Figures, "z = "+FormatNumber(*d.Z, 1))
	}
	if d.Level != nil {
		if a.Kind == survey.AlertShareUnhappy {
			l.Figures = append(l.Figures, "حد: "+FormatNumber(*d.Level*100, 0)+"٪")
		} else {
			l.Figures = append(l.Figures, "حد: "+FormatNumber(*d.Level, 1))
		}
	}
	if d.N != nil {
		l.Figures = append(l.Figures, FormatCount(*d.N)+" نفر")
	}
	if d.WindowFrom != "" && d.WindowTo != "" {
		l.Figures = append(l.Figures, "بازه: "+spanDay(d.WindowFrom)+" تا "+spanDay(d.WindowTo))
	}
	if d.CaseID != nil {
		l.Figures = append(l.Figures, "پرونده "+survey.FormatPersianDigits(fmt.Sprint(*d.CaseID)))
	}
	if d.Rating != nil {
		l.Figures = append(l.Figures, "امتیاز "+survey.FormatPersianDigits(fmt.Sprint(*d.Rating)))
	}
	if d.Silent != nil {
		l.Figures = append(l.Figures, "خاموش از "+FormatCount(*d.Silent/60)+" دقیقه پیش")
	}
	return l
}

// AlertsBlock is the «هشدارها» block of a dashboard: the lines and where the forms come back to.
type AlertsBlock struct {
	Lines []AlertLine
	// Back is what the acknowledgement form sends back ("province" or the agency's id).
	Back string
	// Loaded is false when no alert desk is wired (the block is then left out).
	Loaded bool
}

// OpenCount is how many of the lines are open.
func (b AlertsBlock) OpenCount() int {
	n := 0
	for _, l := range b.Lines {
		if l.Open {
			n++
		}
	}
	return n
}

// RecentAlerts keeps every open alert and the newest closed ones (at most keepClosed), newest
// first: what an agency's dashboard lists.
func RecentAlerts(as []survey.Alert, keepClosed int) []survey.Alert {
	out := append([]survey.Alert(nil), as...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	kept := out[:0]
	closed := 0
	for _, a := range out {
		if a.ResolvedAt != nil {
			if closed >= keepClosed {
				continue
			}
			closed++
		}
		kept = append(kept, a)
	}
	return kept
}

// CaseLine is one follow-up case as the cases page lists it.
type CaseLine struct {
	survey.Case
	Office string
	Owner  string
	// Comment is the citizen's written answer, redacted ("" when none).
	Comment string
	// The forms this reader may use on it.
	CanAck, CanAssign, CanResolve, CanReveal bool
}

// StatusFA names the case's status in Persian.
func (c CaseLine) StatusFA() string {
	switch c.Status {
	case survey.CaseOpen:
		return "باز، پذیرفته‌نشده"
	case survey.CaseAcknowledged:
		return "پذیرفته‌شده، در دست پیگیری"
	case survey.CaseResolved:
		return "بسته با نتیجه"
	case survey.CaseClosedNoContact:
		return "بسته، شهروند در دسترس نبود"
	}
	return string(c.Status)
}

// Closed reports whether the case is closed.
func (c CaseLine) Closed() bool {
	return c.Status == survey.CaseResolved || c.Status == survey.CaseClosedNoContact
}

// CasesPage is everything the follow-up cases page shows.
type CasesPage struct {
	StaffBar
	AgencyID   survey.ID
	AgencyName string
	Status     string
	Cases      []CaseLine
	// Revealed is the case whose full number this answer shows (after the reveal form), 0 none.
	Revealed survey.ID
	// Flash is a Persian message about the last form ("" none).
	Flash string
	Now   time.Time
}

// Title is the page's heading.
func (d CasesPage) Title() string {
	return "پیگیری شهروندان ناراضی — " + d.AgencyName
}

// Overdue reports whether c is still unacknowledged past its 48 h target.
func (d CasesPage) Overdue(c CaseLine) bool {
	return c.Status == survey.CaseOpen && d.Now.After(c.AckDue)
}

// Age writes how long ago the case was opened and how that stands against the 48 h target.
func (d CasesPage) Age(c CaseLine) string {
	hours := func(t time.Duration) string { return FormatCount(int64(t.Hours())) + " ساعت" }
	age := hours(d.Now.Sub(c.CreatedAt))
	switch {
	case c.AckedAt != nil:
		took := c.AckedAt.Sub(c.CreatedAt)
		verdict := "در مهلت ۴۸ ساعته"
		if took > survey.CaseAckTarget {
			verdict = "دیرتر از مهلت ۴۸ ساعته"
		}
		return age + "؛ پذیرش پس از " + hours(took) + " (" + verdict + ")"
	case c.Closed():
		return age
	case d.Now.After(c.AckDue):
		return age + "؛ " + hours(d.Now.Sub(c.AckDue)) + " گذشته از مهلت ۴۸ ساعته"
	}
	return age + "؛ " + hours(c.AckDue.Sub(d.Now)) + " مانده تا مهلت ۴۸ ساعته"
}

// Statuses are the status filter's choices.
func (CasesPage) Statuses() []struct{ Value, Label string } {
	return []struct{ Value, Label string }{{"", "همه"}, {"open", "باز"}, {"acknowledged", "پذیرفته‌شده"},
		{"resolved", "بسته با نتیجه"}, {"closed_no_contact", "بسته بی‌تماس"}}
}

// ComplaintNotice is the fixed notice that formal complaints belong to the national channels.
func (CasesPage) ComplaintNotice() string { return survey.ComplaintNoticeFa }

// AuditLine is one audit entry in words.
type AuditLine struct {
	survey.AuditEntry
	Agency string
	Before []Field
	After  []Field
}

// Field is one name and value of an entity's before/after, as the audit page shows it.
type Field struct{ Name, Value string }

// auditFields flattens a JSON object into sorted name/value pairs; what is not an object is one
// field. Secrets never reach here: the services strip them before writing the log.
func auditFields(raw string) []Field {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return []Field{{Name: "", Value: raw}}
	}
	out := make([]Field, 0, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				s = FormatJalaliTime(t)
			}
		case float64:
			s = survey.FormatPersianDigits(fmt.Sprint(x))
		case bool:
			s = map[bool]string{true: "بله", false: "خیر"}[x]
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if s == "" {
			continue
		}
		out = append(out, Field{Name: k, Value: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NewAuditLine puts an audit entry into words; agencies names agencies by id.
func NewAuditLine(e survey.AuditEntry, agencies map[survey.ID]string) AuditLine {
	l := AuditLine{AuditEntry: e, Before: auditFields(e.Before), After: auditFields(e.After)}
	if l.ActorName == "citizen" { // the cases service's name for a case a citizen's consent opened
		l.ActorName = "شهروند (خودکار)"
	}
	if e.AgencyID != 0 {
		if n, ok := agencies[e.AgencyID]; ok {
			l.Agency = n
		} else {
			l.Agency = "دستگاه " + survey.FormatPersianDigits(e.AgencyID.String())
		}
	}
	return l
}

// Brief reports whether the entry's details are short enough to show unfolded (a few fields
// and no before); longer ones stay folded so the page reads as a list of changes.
func (l AuditLine) Brief() bool { return len(l.Before) == 0 && len(l.After) <= 4 }

// ActionFA names an audited action in Persian (the code itself when unknown).
func (l AuditLine) ActionFA() string {
	if s, ok := auditActions[l.Action]; ok {
		return s
	}
	return l.Action
}

// EntityFA names an audited entity in Persian.
func (l AuditLine) EntityFA() string {
	if s, ok := auditEntities[l.Entity]; ok {
		return s
	}
	return l.Entity
}

var auditActions = map[string]string{
	"create": "ایجاد", "ack": "دیدن و تأیید", "acknowledge": "پذیرش", "assign": "واگذاری", "resolve": "بستن",
	"reveal_phone": "دیدن شمارهٔ کامل", "moderate": "مدیریت نظر",
	"user.create": "ساخت حساب", "user.update": "ویرایش حساب", "user.password_change": "تغییر گذرواژه",
	"user.password_reset": "بازنشانی گذرواژه", "token.create": "ساخت توکن", "token.revoke": "لغو توکن",
	"kiosk.revoke": "لغو کیوسک", "office.create": "ساخت دفتر", "office.rename": "تغییر نام دفتر",
	"survey.create": "ساخت پرسشنامه", "survey.draft_save": "ذخیرهٔ پیش‌نویس", "survey.publish": "انتشار پرسشنامه",
	"survey.assign": "تخصیص پرسشنامه",
}

var auditEntities = map[string]string{
	"user": "حساب کاربری", "alert": "هشدار", "case": "پرونده پیگیری", "comment": "نظر", "token": "توکن",
	"survey": "پرسشنامه", "draft": "پیش‌نویس", "office": "دفتر", "kiosk": "کیوسک", "survey_assignment": "تخصیص پرسشنامه",
}

// AuditPage is everything the audit log page shows.
type AuditPage struct {
	StaffBar
	Lines []AuditLine
	// AgencyID is the agency filter (0: all the reader may see); Agencies the filter's choices
	// (a province admin's only).
	AgencyID survey.ID
	Agencies []survey.Agency
	// Older is the before= of the next page (0: no more).
	Older survey.ID
	Now   time.Time
}

// Title is the page's heading.
func (AuditPage) Title() string { return "گزارش تغییرات" }

// OlderQuery is the query string of the next page.
func (d AuditPage) OlderQuery() string {
	q := "before=" + d.Older.String()
	if d.AgencyID != 0 {
		q += "&agency_id=" + d.AgencyID.String()
	}
	return q
}

// CasesPageRender renders the follow-up cases page.
func (p *Pages) CasesPageRender(c echo.Context, d CasesPage) error {
	return renderDash(c, "dash_cases.html", d)
}

// AuditPageRender renders the audit log page.
func (p *Pages) AuditPageRender(c echo.Context, d AuditPage) error {
	return renderDash(c, "dash_audit.html", d)
}
