package web

import (
	"bytes"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// dashFuncs format figures for the dashboards: Persian digits, the Persian decimal separator,
// intervals and n beside every number.
var dashFuncs = template.FuncMap{
	"num":   FormatNumber,
	"count": FormatCount,
	"mean":  func(e analytics.Estimate) string { return FormatEstimate(e, 1, 1, "") },
	"idx":   func(e analytics.Estimate) string { return FormatEstimate(e, 0, 1, "") },
	"pct":   func(e analytics.Estimate) string { return FormatEstimate(e, 0, 100, "٪") },
	"day":   FormatJalaliDay,
	"time":  FormatJalaliTime,
	"fa":    survey.FormatPersianDigits,
	"value": func(e analytics.Estimate) string {
		if !e.Defined() {
			return NotEnough
		}
		return FormatNumber(*e.Value, 1)
	},
	"position":  positionFA,
	"channel":   channelFA,
	"inc":       func(i int) int { return i + 1 },
	"hour":      func(h int) string { return survey.FormatPersianDigits(strconv.Itoa(h)) },
	"deref":     func(p *float64) float64 { return *p },
	"derefTime": func(p *time.Time) time.Time { return *p },
	"int64":     func(i int) int64 { return int64(i) },
	"meanOf": func(s analytics.Score) string {
		return FormatEstimate(analytics.Estimate{Value: s.Mean, Low: s.CILow, High: s.CIHigh, N: s.Citizens}, 1, 1, "")
	},
	"csatOf": func(s analytics.Score) string {
		return FormatEstimate(analytics.Estimate{Value: s.CSAT, Low: s.CSATLow, High: s.CSATHigh, N: s.Citizens}, 0, 100, "٪")
	},
	"channelMean": func(c analytics.ChannelScore) string {
		return FormatEstimate(analytics.Estimate{Value: c.Mean, Low: c.CILow, High: c.CIHigh, N: c.Citizens}, 1, 1, "")
	},
	"questionMean": func(q analytics.QuestionScore) string {
		return FormatEstimate(analytics.Estimate{Value: q.Mean, Low: q.CILow, High: q.CIHigh, N: q.N}, 1, 1, "")
	},
	"questionCSAT": func(q analytics.QuestionScore) string {
		return FormatEstimate(analytics.Estimate{Value: q.CSAT, Low: q.CSATLow, High: q.CSATHigh, N: q.N}, 0, 100, "٪")
	},
	"granularities": func() []struct{ Value, Label string } { return Granularities },
	"minCitizens":   func() int64 { return analytics.MinCitizens },
	"cell":          func(m *[7][24]int64, d, h int) string { return FormatCount(m[d][h]) },
	"selectedID":    selectedID,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"assignChannels": func() []struct{ Value, Label string } { return AssignChannels },
}

var dashPages = template.Must(template.New("").Funcs(dashFuncs).ParseFS(templateFS,
	"templates/staff_head.html", "templates/dash/*.html"))

// positionFA names a funnel position in neutral words: where the point is, not a verdict.
func positionFA(p analytics.FunnelPosition) string {
	switch p {
	case analytics.Below998:
		return "زیر حد ۹۹٫۸٪"
	case analytics.Below95:
		return "زیر حد ۹۵٪"
	case analytics.Inside:
		return "درون حدود"
	case analytics.Above95:
		return "بالای حد ۹۵٪"
	case analytics.Above998:
		return "بالای حد ۹۹٫۸٪"
	}
	return "—"
}

// channelFA names a channel in Persian.
func channelFA(c survey.Channel) string {
	switch c {
	case survey.ChannelKiosk:
		return "کیوسک"
	case survey.ChannelWeb:
		return "پیوند وب"
	case survey.ChannelSMS:
		return "پیامک"
	}
	return string(c)
}

// PeriodForm is the period picker as the person filled it in (Jalali days, granularity).
type PeriodForm struct {
	From string
	To   string
	By   string
}

// Query writes the form back as a query string, for links that keep the period.
func (f PeriodForm) Query(extra ...string) template.URL {
	v := url.Values{}
	if f.From != "" {
		v.Set("from", f.From)
	}
	if f.To != "" {
		v.Set("to", f.To)
	}
	if f.By != "" {
		v.Set("by", f.By)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return template.URL(v.Encode())
}

// Granularities lists the trend's periods for the picker.
var Granularities = []struct{ Value, Label string }{
	{"day", "روزانه"}, {"week", "هفتگی"}, {"month", "ماهانه"}, {"quarter", "فصلی"},
}

// StaffBar is the header of every dashboard: who is logged in and the logout form's token.
type StaffBar struct {
	Name string
	CSRF string
	// Province is true for province roles (a link back to the province dashboard).
	Province bool
	// Audit links the audit log page (those who may read it: admins).
	Audit bool
}

// KioskLine is one kiosk of the agency's fleet, as the health block shows it.
type KioskLine struct {
	Name     string
	Office   string
	Status   string
	LastSeen *time.Time
}

// SMSFunnel is the SMS funnel's totals over the period.
type SMSFunnel struct {
	Invitations, Sent, Delivered, Answered, OptOuts int64
}

// AgencyDashboard is everything the agency dashboard shows.
type AgencyDashboard struct {
	StaffBar
	Form      PeriodForm
	Score     analytics.Score
	Trend     analytics.TrendSeries
	Offices   []analytics.OfficeRow
	Benchmark analytics.Benchmark
	Comments  []survey.Comment
	// CanModerate shows the moderation buttons and the links to survey and office management
	// (agency admins, province admins).
	CanModerate bool
	// Heatmap is citizens per weekday (Saturday first) and hour; nil when no hour data is
	// wired or there is none.
	Heatmap *[7][24]int64
	Kiosks  []KioskLine
	SMS     *SMSFunnel
	// Exports are links to downloads of this agency's data ("" label pairs), shown when set.
	Exports []Link
	// Options names the choice questions' options (the reasons), by option id.
	Options map[string]string
	// Alerts are the agency's open and recent alerts.
	Alerts AlertsBlock
	// Cases counts the agency's open follow-up cases and the overdue ones; nil when the cases
	// workflow is not wired.
	Cases *CaseCounts
	Now   time.Time
}

// CaseCounts is the link to the follow-up cases with its figures.
type CaseCounts struct {
	Open, Overdue int
}

// OptionLabel names a choice option, its id when the active survey does not know it.
func (d AgencyDashboard) OptionLabel(id string) string {
	if l, ok := d.Options[id]; ok {
		return l
	}
	return id
}

// Link is a labelled href.
type Link struct {
	Label string
	Href  string
}

// MinCitizens is analytics.MinCitizens, for the templates.
func (AgencyDashboard) MinCitizens() int64 { return analytics.MinCitizens }

// TrendChart, OfficeChart, ChannelChart, QuestionChart and HeatmapChart draw the page's SVGs.
func (d AgencyDashboard) TrendChart() template.HTML {
	return TrendSVG(d.Trend.Points, analytics.MinCitizens, "trend-table")
}

func (d AgencyDashboard) ref() float64 {
	if d.Benchmark.Median != nil {
		return *d.Benchmark.Median
	}
	return math.NaN()
}

// OfficeChart draws offices' means with whiskers and the province median.
func (d AgencyDashboard) OfficeChart() template.HTML {
	bars := make([]Bar, 0, len(d.Offices))
	for _, o := range d.Offices {
		bars = append(bars, Bar{Label: o.Name, Est: o.Mean, Enough: o.Enough})
	}
	return BarsSVG(bars, 1, 5, d.ref(), "office-table", "میانگین رضایت هر دفتر با بازهٔ ۹۵٪؛ جدول همین ارقام را دارد")
}

// ChannelChart draws channels' means with whiskers.
func (d AgencyDashboard) ChannelChart() template.HTML {
	bars := make([]Bar, 0, len(d.Score.ByChannel))
	for _, c := range d.Score.ByChannel {
		bars = append(bars, Bar{Label: channelFA(c.Channel), Est: analytics.Estimate{Value: c.Mean, Low: c.CILow, High: c.CIHigh, N: c.Citizens},
			Enough: c.Citizens >= analytics.MinCitizens})
	}
	return BarsSVG(bars, 1, 5, math.NaN(), "channel-table", "میانگین رضایت هر روش پاسخ با بازهٔ ۹۵٪؛ جدول همین ارقام را دارد")
}

// RatingQuestions are the rating5 questions of the score, for the question chart and table.
func (d AgencyDashboard) RatingQuestions() []analytics.QuestionScore {
	var out []analytics.QuestionScore
	for _, q := range d.Score.ByQuestion {
		if q.Type == survey.TypeRating5 {
			out = append(out, q)
		}
	}
	return out
}

// ChoiceQuestions are the choice questions (the reasons), for their tables.
func (d AgencyDashboard) ChoiceQuestions() []analytics.QuestionScore {
	var out []analytics.QuestionScore
	for _, q := range d.Score.ByQuestion {
		if q.Type == survey.TypeChoice {
			out = append(out, q)
		}
	}
	return out
}

// QuestionChart draws the rating questions' means with whiskers.
func (d AgencyDashboard) QuestionChart() template.HTML {
	qs := d.RatingQuestions()
	bars := make([]Bar, 0, len(qs))
	for _, q := range qs {
		label := q.Title
		if label == "" {
			label = q.QuestionID
		}
		bars = append(bars, Bar{Label: label, Est: analytics.Estimate{Value: q.Mean, Low: q.CILow, High: q.CIHigh, N: q.N},
			Enough: q.N >= analytics.MinCitizens})
	}
	return BarsSVG(bars, 1, 5, math.NaN(), "question-table", "میانگین هر پرسش با بازهٔ ۹۵٪؛ جدول همین ارقام را دارد")
}

// HeatmapChart draws the hour × weekday heatmap.
func (d AgencyDashboard) HeatmapChart() template.HTML {
	if d.Heatmap == nil {
		return ""
	}
	return HeatmapSVG(*d.Heatmap, "heatmap-table")
}

// HeatmapTotal is how many citizens the heatmap counts.
func (d AgencyDashboard) HeatmapTotal() int64 {
	var n int64
	if d.Heatmap != nil {
		for _, r := range d.Heatmap {
			for _, c := range r {
				n += c
			}
		}
	}
	return n
}

// Hours lists 0…23 for the heatmap table.
func (AgencyDashboard) Hours() []int {
	h := make([]int, 24)
	for i := range h {
		h[i] = i
	}
	return h
}

// Weekdays lists the weekday names, Saturday first.
func (AgencyDashboard) Weekdays() [7]string { return WeekdaysFA }

// Title is the page's heading: the agency's name.
func (d AgencyDashboard) Title() string { return "داشبورد " + d.Score.AgencyName }

// ShowBy shows the trend's granularity in the period picker.
func (AgencyDashboard) ShowBy() bool { return true }

// SpanFrom and SpanTo are the period's days in words.
func (d AgencyDashboard) SpanFrom() string { return spanDay(d.Trend.Span.From) }

// SpanTo is the period's last day in words.
func (d AgencyDashboard) SpanTo() string { return spanDay(d.Trend.Span.To) }

func spanDay(iso string) string {
	t, err := time.ParseInLocation(survey.DayFormat, iso, survey.Tehran)
	if err != nil {
		return iso
	}
	return FormatJalaliDay(t)
}

// ProvinceDashboard is everything the province dashboard shows.
type ProvinceDashboard struct {
	StaffBar
	Form  PeriodForm
	Table analytics.ProvinceTable
	Sort  string
	// Alerts are the open alerts of every agency the reader may read.
	Alerts AlertsBlock
	Now    time.Time
}

// Title is the page's heading.
func (ProvinceDashboard) Title() string {
	return "داشبورد استان: همهٔ دستگاه‌ها"
}

// ShowBy hides the granularity: the province table has no trend.
func (ProvinceDashboard) ShowBy() bool { return false }

// SpanFrom is the period's first day in words.
func (d ProvinceDashboard) SpanFrom() string { return spanDay(d.Table.Span.From) }

// SpanTo is the period's last day in words.
func (d ProvinceDashboard) SpanTo() string { return spanDay(d.Table.Span.To) }

// FunnelChart draws the funnel plot.
func (d ProvinceDashboard) FunnelChart() template.HTML { return FunnelSVG(d.Table, "province-table") }

// SortLink is the href that sorts the table by key, toggling the direction when it already is.
func (d ProvinceDashboard) SortLink(key string) template.URL {
	next := key
	if d.Sort == key {
		next = "-" + key
	}
	return d.Form.Query("sort", next)
}

// SortMark is the arrow after the current sort column («▲»/«▼»), "" for others.
func (d ProvinceDashboard) SortMark(key string) string {
	switch d.Sort {
	case key:
		return " ▲"
	case "-" + key:
		return " ▼"
	}
	return ""
}

type dashData[T any] struct {
	D       T
	FontURL string
}

// AgencyDashboardPage renders the agency dashboard.
func (p *Pages) AgencyDashboardPage(c echo.Context, d AgencyDashboard) error {
	return renderDash(c, "dash_agency.html", d)
}

// ProvinceDashboardPage renders the province dashboard.
func (p *Pages) ProvinceDashboardPage(c echo.Context, d ProvinceDashboard) error {
	return renderDash(c, "dash_province.html", d)
}

func renderDash[T any](c echo.Context, name string, d T) error {
	return renderDashStatus(c, http.StatusOK, name, d)
}

// renderDashStatus renders a dashboard template with status (a form refused with 422 shows
// the page again with its problems).
func renderDashStatus[T any](c echo.Context, status int, name string, d T) error {
	var buf bytes.Buffer
	if err := dashPages.ExecuteTemplate(&buf, name, dashData[T]{D: d, FontURL: fontURL}); err != nil {
		return err
	}
	return writeStaffPage(c, status, buf.Bytes())
}
