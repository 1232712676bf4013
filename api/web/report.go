package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// ReportMinN is the smallest n a monthly report shows a figure for: below it the figure is
// greyed with «داده کافی نیست» (the GP Patient Survey's threshold; DOMAIN.md §7), never hidden.
const ReportMinN = 10

// MonthlyReport is what the printable monthly report of an agency shows: the agency's score
// over one Jalali month and the same score per office.
type MonthlyReport struct {
	AgencyName string
	// Month is the Jalali month as a person reads it («آبان ۱۴۰۴»); From and To its first and
	// last days («۱ آبان ۱۴۰۴»); Generated when the report was made (Tehran).
	Month, From, To, Generated string
	Score                      analytics.Score
	Offices                    []OfficeReport
}

// OfficeReport is one office's score over the report's month.
type OfficeReport struct {
	Name  string
	Score analytics.Score
}

// reportFigure is one figure as printed: value, interval and n, or a greyed «داده کافی نیست».
type reportFigure struct {
	Value, Interval, N string
	Thin               bool
}

type reportRow struct {
	Label     string
	Responses string
	Mean      reportFigure
	CSAT      reportFigure
	Other     reportFigure // yes share or NPS, per question
}

type reportView struct {
	MonthlyReport
	FontURL string
	MinN    string
	Key     []struct {
		Label string
		F     reportFigure
	}
	Flagged   string
	ByOffice  []reportRow
	ByChannel []reportRow
	ByQuest   []reportRow
}

// MonthlyReportPage renders the report: Persian, right to left, an A4 print stylesheet, no
// navigation — staff print it from the browser or save it as PDF.
func (p *Pages) MonthlyReportPage(c echo.Context, r MonthlyReport) error {
	sc := r.Score
	v := reportView{MonthlyReport: r, FontURL: fontURL, MinN: persianInt(ReportMinN)}
	v.Key = append(v.Key,
		struct {
			Label string
			F     reportFigure
		}{"میانگین رضایت (۱ تا ۵)", meanFigure(sc.Mean, sc.CILow, sc.CIHigh, sc.Citizens)},
		struct {
			Label string
			F     reportFigure
		}{"سهم راضی‌ها (۴ و ۵)", shareFigure(sc.CSAT, sc.CSATLow, sc.CSATHigh, sc.Citizens)},
		struct {
			Label string
			F     reportFigure
		}{"شاخص ۰ تا ۱۰۰", meanFigure(sc.Index.Value, sc.Index.Low, sc.Index.High, sc.Index.N)},
	)
	if sc.NPS != nil {
		v.Key = append(v.Key, struct {
			Label string
			F     reportFigure
		}{"خالص ترویج‌کنندگان (NPS)", npsFigure(sc.NPS)})
	}
	v.Flagged = persianInt(sc.Flagged.Total)
	for _, o := range r.Offices {
		v.ByOffice = append(v.ByOffice, reportRow{Label: o.Name, Responses: persianInt(o.Score.Responses),
			Mean: meanFigure(o.Score.Mean, o.Score.CILow, o.Score.CIHigh, o.Score.Citizens),
			CSAT: shareFigure(o.Score.CSAT, o.Score.CSATLow, o.Score.CSATHigh, o.Score.Citizens)})
	}
	for _, ch := range sc.ByChannel {
		v.ByChannel = append(v.ByChannel, reportRow{Label: channelName(ch.Channel), Responses: persianInt(ch.Responses),
			Mean: meanFigure(ch.Mean, ch.CILow, ch.CIHigh, ch.Citizens),
			CSAT: shareFigure(ch.CSAT, ch.CSATLow, ch.CSATHigh, ch.Citizens)})
	}
	for _, q := range sc.ByQuestion {
		row := reportRow{Label: q.Title, Responses: persianInt(q.N)}
		if q.Mean != nil || q.Type == survey.TypeRating5 || q.Type == survey.TypeNPS {
			row.Mean = meanFigure(q.Mean, q.CILow, q.CIHigh, q.N)
		}
		if q.Type == survey.TypeRating5 {
			row.CSAT = shareFigure(q.CSAT, q.CSATLow, q.CSATHigh, q.N)
		}
		switch {
		case q.Type == survey.TypeYesNo:
			row.Other = shareFigure(q.YesShare, q.YesLow, q.YesHigh, q.N)
			row.Other.Value = "بله: " + row.Other.Value
		case q.NPS != nil:
			row.Other = npsFigure(q.NPS)
		}
		v.ByQuest = append(v.ByQuest, row)
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "report.html", v); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", pairingCSP)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func channelName(c survey.Channel) string {
	switch c {
	case survey.ChannelKiosk:
		return "کیوسک"
	case survey.ChannelWeb:
		return "وب و QR"
	case survey.ChannelSMS:
		return "پیامک"
	}
	return string(c)
}

func thin(n int64) reportFigure {
	return reportFigure{Value: "داده کافی نیست", N: persianInt(n) + " نفر", Thin: true}
}

// meanFigure prints a mean with one decimal: «۴٫۲», «۴٫۰ تا ۴٫۴», «۳۱۲ نفر».
func meanFigure(v, lo, hi *float64, n int64) reportFigure {
	if v == nil || n < ReportMinN {
		return thin(n)
	}
	f := reportFigure{Value: persianFloat(*v, 1), N: persianInt(n) + " نفر"}
	if lo != nil && hi != nil {
		f.Interval = persianFloat(*lo, 1) + " تا " + persianFloat(*hi, 1)
	}
	return f
}

// shareFigure prints a 0–1 share as a whole percentage: «۸۱٪».
func shareFigure(v, lo, hi *float64, n int64) reportFigure {
	if v == nil || n < ReportMinN {
		return thin(n)
	}
	f := reportFigure{Value: persianFloat(*v*100, 0) + "٪", N: persianInt(n) + " نفر"}
	if lo != nil && hi != nil {
		f.Interval = persianFloat(*lo*100, 0) + "٪ تا " + persianFloat(*hi*100, 0) + "٪"
	}
	return f
}

func npsFigure(nps *analytics.NPS) reportFigure {
	if nps.Score == nil || nps.N < ReportMinN {
		return thin(nps.N)
	}
	f := reportFigure{Value: signed(persianFloat(*nps.Score, 0)), N: persianInt(nps.N) + " نفر"}
	if nps.Low != nil && nps.High != nil {
		f.Interval = signed(persianFloat(*nps.Low, 0)) + " تا " + signed(persianFloat(*nps.High, 0))
	}
	return f
}

// signed writes a minus sign a Persian reader expects on the number's right.
func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return "\u2212" + s[1:]
	}
	return s
}

// persianFloat writes v with the given decimals, Persian digits and the Persian decimal separator.
func persianFloat(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if s == "-0" {
		s = "0"
	}
	return survey.FormatPersianDigits(strings.Replace(s, ".", "٫", 1))
}

// persianInt writes n with Persian digits and the Persian thousands separator: «۱۲٬۳۴۵».
func persianInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && r != '-' && s[i-1] != '-' {
			b.WriteString("٬")
		}
		b.WriteRune(r)
	}
	return survey.FormatPersianDigits(b.String())
}

// JalaliMonthName is the Persian name of Jalali month m (1 = فروردین).
func JalaliMonthName(m int) string {
	names := [...]string{"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"}
	if m < 1 || m > 12 {
		return fmt.Sprint(m)
	}
	return names[m-1]
}

// PersianDate writes a Jalali date as people read it: «۲۴ آبان ۱۴۰۴».
func PersianDate(year, month, day int) string {
	return survey.FormatPersianDigits(strconv.Itoa(day)) + " " + JalaliMonthName(month) + " " + survey.FormatPersianDigits(strconv.Itoa(year))
}
