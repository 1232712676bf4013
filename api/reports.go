package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
)

// monthlyReport renders the printable monthly report of an agency
// (GET /agencies/{id}/report?month=1405-08): its score over one Jalali month, with n and
// intervals, by office, channel and question. month is a Jalali year and month (Persian digits
// allowed), the current month when absent. Staff of the agency and province staff only; another
// agency is the same not-found as for the score.
func (s *Server) monthlyReport(c echo.Context) error {
	if s.d.Scores == nil || s.d.Catalog == nil {
		return unavailable("scoring")
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	ctx := c.Request().Context()
	year, month, err := parseJalaliMonth(c.QueryParam("month"), time.Now())
	if err != nil {
		return err
	}
	first, err := analytics.ParseDay(fmt.Sprintf("%04d-%02d-01", year, month))
	if err != nil {
		return monthError(c.QueryParam("month"))
	}
	ny, nm := year, month+1
	if nm > 12 {
		ny, nm = year+1, 1
	}
	next, err := analytics.ParseDay(fmt.Sprintf("%04d-%02d-01", ny, nm))
	if err != nil {
		return monthError(c.QueryParam("month"))
	}
	last := time.Date(next.Year(), next.Month(), next.Day()-1, 0, 0, 0, 0, survey.Tehran)
	from, to := first.Format(survey.DayFormat), last.Format(survey.DayFormat)
	sc, err := s.d.Scores.Score(ctx, p, id, analytics.ScoreQuery{From: from, To: to})
	if err != nil {
		return err
	}
	offices, err := s.d.Catalog.Offices(ctx, id)
	if err != nil {
		return err
	}
	rep := web.MonthlyReport{AgencyName: sc.AgencyName, Score: sc,
		Month: web.JalaliMonthName(month) + " " + survey.FormatPersianDigits(strconv.Itoa(year)),
		From:  web.PersianDate(year, month, 1)}
	_, _, lastDay, _ := analytics.JalaliDate(last)
	rep.To = web.PersianDate(year, month, lastDay)
	now := time.Now().In(survey.Tehran)
	if gy, gm, gd, ok := analytics.JalaliDate(now); ok {
		rep.Generated = web.PersianDate(gy, gm, gd) + "، ساعت " + survey.FormatPersianDigits(now.Format("15:04"))
	}
	for _, o := range offices {
		osc, err := s.d.Scores.Score(ctx, p, id, analytics.ScoreQuery{From: from, To: to, Office: o.ID.String()})
		if err != nil {
			return err
		}
		rep.Offices = append(rep.Offices, web.OfficeReport{Name: o.Name, Score: osc})
	}
	return s.pages.MonthlyReportPage(c, rep)
}

// parseJalaliMonth reads "1405-08" or "۱۴۰۵/۸"; empty means the Jalali month holding now.
func parseJalaliMonth(raw string, now time.Time) (year, month int, err error) {
	in := strings.TrimSpace(survey.NormalizeDigits(raw))
	if in == "" {
		y, m, _, ok := analytics.JalaliDate(now)
		if !ok {
			return 0, 0, monthError(raw)
		}
		return y, m, nil
	}
	parts := strings.FieldsFunc(in, func(r rune) bool { return r == '-' || r == '/' })
	if len(parts) != 2 || len(parts[0]) != 4 || len(parts[1]) < 1 || len(parts[1]) > 2 {
		return 0, 0, monthError(raw)
	}
	year, err1 := strconv.Atoi(parts[0])
	month, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || month < 1 || month > 12 || year < 1300 || year >= 1700 {
		return 0, 0, monthError(raw)
	}
	return year, month, nil
}

func monthError(raw string) error {
	const en, fa = "month must be a Jalali year and month such as 1405-08", "ماه را به شکل ۱۴۰۵-۰۸ بنویسید."
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{"month": {Code: "invalid_month", Message: en, MessageFA: fa}}}
}
