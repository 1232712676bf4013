package export

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// Yes and No are how a yesno answer reads in an export.
const (
	Yes = "بله"
	No  = "خیر"
)

// choiceSep joins the labels of a multiple-choice answer.
const choiceSep = "، "

// responseColumns are the fixed columns of a response export, before one column per question.
var responseColumns = []Column{
	{"response_id", "شناسه پاسخ"},
	{"date_jalali", "تاریخ (شمسی)"},
	{"time_tehran", "ساعت (تهران)"},
	{"submitted_at", "زمان پاسخ (UTC)"},
	{"received_at", "زمان دریافت (UTC)"},
	{"office_id", "شناسه دفتر"},
	{"office", "دفتر"},
	{"channel", "کانال"},
	{"flag", "علت کنارگذاری"},
	{"survey_version", "نسخه پرسشنامه"},
}

type versionKey struct {
	survey  survey.ID
	version int
}

// Responses turns raw responses of one agency into rows: the fixed columns, then one column per
// question of every version of its surveys — the newest version's questions first, in its
// order, then questions only older versions asked — so responses to different versions share
// one table. A response's answers are read against the version it names.
type Responses struct {
	cols     []Column
	column   map[string]int // question id → cell index
	versions map[versionKey]*survey.Version
	offices  map[survey.ID]string
	cells    []any
}

// NewResponses lays out the table for the given survey versions and offices.
func NewResponses(versions []survey.Version, offices []survey.Office) *Responses {
	t := &Responses{
		cols:     slices.Clone(responseColumns),
		column:   map[string]int{},
		versions: map[versionKey]*survey.Version{},
		offices:  map[survey.ID]string{},
	}
	vs := slices.Clone(versions)
	slices.SortStableFunc(vs, func(a, b survey.Version) int {
		return cmp.Or(cmp.Compare(b.PublishedAt.UnixNano(), a.PublishedAt.UnixNano()),
			cmp.Compare(a.SurveyID, b.SurveyID), cmp.Compare(b.Version, a.Version))
	})
	for i := range vs {
		v := &vs[i]
		t.versions[versionKey{v.SurveyID, v.Version}] = v
		for _, q := range v.Questions {
			if _, ok := t.column[q.ID]; ok {
				continue
			}
			t.column[q.ID] = len(t.cols)
			title := q.Title
			if title == "" {
				title = q.ID
			}
			t.cols = append(t.cols, Column{ID: "q:" + q.ID, Title: title})
		}
	}
	for _, o := range offices {
		t.offices[o.ID] = o.Name
	}
	t.cells = make([]any, len(t.cols))
	return t
}

// Columns returns the table's columns.
func (t *Responses) Columns() []Column { return t.cols }

// Row returns r's cells. The slice is reused by the next call: write it before asking again.
// An answer to a question no known version has is dropped (it has no column).
func (t *Responses) Row(r *survey.Response) []any {
	c := t.cells
	clear(c)
	at := r.SubmittedAt
	if at.IsZero() {
		at = r.ReceivedAt
	}
	local := at.In(survey.Tehran)
	c[0] = r.ID
	c[1] = analytics.FormatJalali(local)
	c[2] = local.Format("15:04:05")
	c[3] = isoUTC(r.SubmittedAt)
	c[4] = isoUTC(r.ReceivedAt)
	if r.OfficeID != 0 {
		c[5] = int64(r.OfficeID)
		c[6] = t.offices[r.OfficeID]
	}
	c[7] = string(r.Channel)
	c[8] = string(r.Flag)
	c[9] = r.SurveyVersion
	v := t.versions[versionKey{r.SurveyID, r.SurveyVersion}]
	for _, a := range r.Answers {
		i, ok := t.column[a.QuestionID]
		if !ok {
			continue
		}
		c[i] = answerCell(v, a)
	}
	return c
}

func isoUTC(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// answerCell is an answer as a person reads it: a number, «بله»/«خیر», option labels (the
// option id when its version is unknown) or redacted free text.
func answerCell(v *survey.Version, a survey.Answer) any {
	switch a.Type {
	case survey.TypeYesNo:
		if a.Number == nil {
			return nil
		}
		if *a.Number == 1 {
			return Yes
		}
		return No
	case survey.TypeChoice:
		labels := make([]string, len(a.Choices))
		var q survey.Question
		if v != nil {
			q, _, _ = v.Question(a.QuestionID)
		}
		for i, id := range a.Choices {
			labels[i] = id
			for _, o := range q.Options {
				if o.ID == id && o.Label != "" {
					labels[i] = o.Label
				}
			}
		}
		return strings.Join(labels, choiceSep)
	case survey.TypeText:
		return survey.RedactPersonal(a.Text)
	}
	if a.Number != nil {
		return *a.Number
	}
	if a.Text != "" {
		return survey.RedactPersonal(a.Text)
	}
	return nil
}

// scoreColumns are the columns of a score table export.
var scoreColumns = []Column{
	{"section", "بخش"},
	{"key", "کلید"},
	{"title", "عنوان"},
	{"type", "نوع"},
	{"responses", "تعداد پاسخ"},
	{"n", "n"},
	{"mean", "میانگین"},
	{"ci_low", "کران پایین میانگین"},
	{"ci_high", "کران بالای میانگین"},
	{"csat", "رضایت (CSAT)"},
	{"csat_ci_low", "کران پایین رضایت"},
	{"csat_ci_high", "کران بالای رضایت"},
	{"yes_share", "سهم بله"},
	{"yes_ci_low", "کران پایین سهم بله"},
	{"yes_ci_high", "کران بالای سهم بله"},
	{"nps", "NPS"},
	{"nps_ci_low", "کران پایین NPS"},
	{"nps_ci_high", "کران بالای NPS"},
}

// ScoreColumns returns the columns of a score table export.
func ScoreColumns() []Column { return slices.Clone(scoreColumns) }

// ScoreRows turns a score into the rows of its table, each with its n and 95% interval:
//   - "agency": the headline figures (n = citizens), with the agency's name;
//   - "index": the 0–100 index of the national evaluation;
//   - "question": one row per question (n = answers);
//   - "channel": one row per channel (n = citizens);
//   - "flagged": responses set aside, per flag (n = responses), which no other row counts.
//
// Figures are rounded to 4 decimals; undefined ones are empty.
func ScoreRows(sc analytics.Score) [][]any {
	var rows [][]any
	row := func(section, key, title, typ string, responses any, n int64) []any {
		r := make([]any, len(scoreColumns))
		r[0], r[1], r[2], r[3], r[4], r[5] = section, key, title, typ, responses, n
		rows = append(rows, r)
		return r
	}
	setNPS := func(r []any, nps *analytics.NPS) {
		if nps != nil {
			r[15], r[16], r[17] = round(nps.Score), round(nps.Low), round(nps.High)
		}
	}
	a := row("agency", "", sc.AgencyName, "", sc.Responses, sc.Citizens)
	a[6], a[7], a[8] = round(sc.Mean), round(sc.CILow), round(sc.CIHigh)
	a[9], a[10], a[11] = round(sc.CSAT), round(sc.CSATLow), round(sc.CSATHigh)
	setNPS(a, sc.NPS)
	ix := row("index", "", "شاخص ۰ تا ۱۰۰", "", nil, sc.Index.N)
	ix[6], ix[7], ix[8] = round(sc.Index.Value), round(sc.Index.Low), round(sc.Index.High)
	for _, q := range sc.ByQuestion {
		r := row("question", q.QuestionID, q.Title, string(q.Type), nil, q.N)
		r[6], r[7], r[8] = round(q.Mean), round(q.CILow), round(q.CIHigh)
		r[9], r[10], r[11] = round(q.CSAT), round(q.CSATLow), round(q.CSATHigh)
		r[12], r[13], r[14] = round(q.YesShare), round(q.YesLow), round(q.YesHigh)
		setNPS(r, q.NPS)
	}
	for _, c := range sc.ByChannel {
		r := row("channel", string(c.Channel), channelTitle(c.Channel), "", c.Responses, c.Citizens)
		r[6], r[7], r[8] = round(c.Mean), round(c.CILow), round(c.CIHigh)
		r[9], r[10], r[11] = round(c.CSAT), round(c.CSATLow), round(c.CSATHigh)
	}
	fl := sc.Flagged
	for _, f := range []struct {
		flag  survey.Flag
		title string
		n     int64
	}{
		{survey.FlagInterval, "فاصله کوتاه میان فشارها", fl.Interval},
		{survey.FlagBurst, "فشارهای پیاپی", fl.Burst},
		{survey.FlagAfterHours, "خارج از ساعت کاری", fl.AfterHours},
	} {
		row("flagged", string(f.flag), f.title, "", f.n, f.n)
	}
	return rows
}

// channelTitle is a channel's Persian name.
func channelTitle(c survey.Channel) string {
	switch c {
	case survey.ChannelKiosk:
		return "کیوسک"
	case survey.ChannelWeb:
		return "وب"
	case survey.ChannelSMS:
		return "پیامک"
	}
	return string(c)
}

// round rounds to 4 decimals; nil stays nil.
func round(v *float64) any {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	return math.Round(*v*1e4) / 1e4
}
