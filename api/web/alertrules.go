package web

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// AlertRulesPage is the agency's simple alert rules as a plain form: the stored rules, the values
// the form shows (the stored ones, or what was typed before a refusal) and each field's problem
// in Persian.
type AlertRulesPage struct {
	StaffBar
	Now        time.Time
	AgencyID   survey.ID
	AgencyName string
	Rules      survey.AlertRules
	Values     AlertRuleForm
	// Errors maps a form field to its problem; Saved says the last change was stored.
	Errors map[string]string
	Saved  bool
	// CanEdit shows the form's inputs enabled and its button (admins of the agency or province).
	CanEdit bool
}

// Title is the page's heading.
func (d AlertRulesPage) Title() string { return "قواعد هشدار — " + d.AgencyName }

// AlertRuleForm is the form's fields as typed: the unhappy share in percent, levels on 1–5 and
// the minimum count, each empty for "off" (or the default count).
type AlertRuleForm struct {
	UnhappyPercent, ScoreBelow, ScoreAbove, MinN string
}

// AlertRuleValues shows stored rules in the form, in Persian digits; a rule that is off is empty.
func AlertRuleValues(r survey.AlertRules) AlertRuleForm {
	f := func(v float64) string {
		if v == 0 {
			return ""
		}
		s := strconv.FormatFloat(v, 'f', -1, 64)
		return survey.FormatPersianDigits(strings.Replace(s, ".", "٫", 1))
	}
	n := ""
	if r.MinN > 0 {
		n = survey.FormatPersianDigits(strconv.FormatInt(r.MinN, 10))
	}
	return AlertRuleForm{UnhappyPercent: f(math.Round(r.UnhappyShare*100*1000) / 1000), ScoreBelow: f(r.ScoreBelow), ScoreAbove: f(r.ScoreAbove), MinN: n}
}

// Parse reads the typed values (Persian or ASCII digits, «٫» or «.» as the decimal separator)
// into rules; a field that is not a number is reported by form field name, in Persian.
func (f AlertRuleForm) Parse() (survey.AlertRules, map[string]string) {
	errs := map[string]string{}
	num := func(field, raw string) float64 {
		raw = strings.TrimSpace(strings.NewReplacer("٫", ".", "،", ".", "/", ".").Replace(survey.NormalizeDigits(raw)))
		if raw == "" {
			return 0
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			errs[field] = "یک عدد وارد کنید."
			return 0
		}
		return v
	}
	r := survey.AlertRules{UnhappyShare: num("unhappy_percent", f.UnhappyPercent) / 100,
		ScoreBelow: num("score_below", f.ScoreBelow), ScoreAbove: num("score_above", f.ScoreAbove)}
	n := num("min_n", f.MinN)
	if n != math.Trunc(n) {
		errs["min_n"] = "یک عدد صحیح وارد کنید."
	}
	r.MinN = int64(n)
	return r, errs
}

// AlertRulesPage renders the alert-rules page with status (200, or 422 after a refusal).
func (p *Pages) AlertRulesPage(c echo.Context, status int, d AlertRulesPage) error {
	var buf bytes.Buffer
	if err := dashPages.ExecuteTemplate(&buf, "dash_alert_rules.html", dashData[AlertRulesPage]{D: d, FontURL: fontURL}); err != nil {
		return err
	}
	if status == 0 {
		status = http.StatusOK
	}
	return writeStaffPage(c, status, buf.Bytes())
}
