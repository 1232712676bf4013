package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// PreviewPage is a staff preview of a survey (its draft, or a published version) as a channel
// shows it: As is "kiosk" (one screen per question, the faces as the tablet draws them) or
// "sms" (the invitation variants and follow-up texts with their part counts). The web form's
// preview is the form itself (FormPage.Preview).
type PreviewPage struct {
	AgencyName string
	SurveyID   survey.ID
	// Label says what is previewed («پیش‌نویس» or «نسخهٔ ۲»).
	Label   string
	As      string
	Version survey.Version
	SMS     []PreviewSMS
}

// PreviewSMS is one SMS text of the preview: what it is, the text (or why it cannot be
// composed) and how many parts it costs.
type PreviewSMS struct {
	Label, Text, Error string
	Parts              int
}

type previewScreen struct {
	NumberFA  string
	Condition string
	Question  formQuestion
}

type previewData struct {
	PreviewPage
	CSSURL, TotalFA string
	Screens         []previewScreen
	Texts           []previewText
}

type previewText struct {
	PreviewSMS
	PartsFA string
}

// Preview renders the kiosk or SMS preview of a survey for staff (never indexed or cached).
func (p *Pages) Preview(c echo.Context, pp PreviewPage) error {
	d := previewData{PreviewPage: pp, CSSURL: formCSSURL}
	qs := FormPage{Version: pp.Version}.questions()
	d.TotalFA = survey.FormatPersianDigits(strconv.Itoa(len(qs)))
	titles := map[string]string{}
	for _, q := range pp.Version.Questions {
		titles[q.ID] = q.Title
	}
	for i, fq := range qs {
		sc := previewScreen{NumberFA: survey.FormatPersianDigits(strconv.Itoa(i + 1)), Question: fq}
		if q, _, ok := pp.Version.Question(fq.ID); ok && q.ShowIf != nil {
			sc.Condition = "فقط وقتی نشان داده می‌شود که پاسخ «" + titles[q.ShowIf.QuestionID] + "» شرط را داشته باشد."
		}
		d.Screens = append(d.Screens, sc)
	}
	for _, t := range pp.SMS {
		d.Texts = append(d.Texts, previewText{PreviewSMS: t, PartsFA: survey.FormatPersianDigits(strconv.Itoa(t.Parts))})
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "preview.html", d); err != nil {
		return err
	}
	return writePage(c, http.StatusOK, formCSP, buf.Bytes())
}
