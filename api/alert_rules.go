package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
)

// AlertRules reads and changes an agency's simple alert rules, checking the principal
// (analytics.AlertRuleSettings).
type AlertRules interface {
	Get(ctx context.Context, p survey.Principal, agency survey.ID) (survey.AlertRules, error)
	Set(ctx context.Context, p survey.Principal, agency survey.ID, r survey.AlertRules) (survey.AlertRules, error)
}

// alertRulesBody is the JSON of GET/PUT /api/v1/agencies/{id}/alert-rules: a rule at 0 is off.
type alertRulesBody struct {
	UnhappyShare float64 `json:"unhappy_share"`
	ScoreBelow   float64 `json:"score_below"`
	ScoreAbove   float64 `json:"score_above"`
	MinN         int64   `json:"min_n"`
}

// getAlertRules answers GET /api/v1/agencies/{id}/alert-rules: the agency's simple alert rules
// (staff who may read the agency).
func (s *Server) getAlertRules(c echo.Context) error {
	if s.d.AlertRules == nil {
		return unavailable("alert rules")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	p, _ := principal(c)
	r, err := s.d.AlertRules.Get(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// putAlertRules answers PUT /api/v1/agencies/{id}/alert-rules {unhappy_share, score_below,
// score_above, min_n}: replaces the agency's rules (an admin of the agency or the province;
// audited). The alert watcher applies them from its next daily run.
func (s *Server) putAlertRules(c echo.Context) error {
	if s.d.AlertRules == nil {
		return unavailable("alert rules")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	var body alertRulesBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	p, _ := principal(c)
	r, err := s.d.AlertRules.Set(c.Request().Context(), p, id, survey.AlertRules{UnhappyShare: body.UnhappyShare,
		ScoreBelow: body.ScoreBelow, ScoreAbove: body.ScoreAbove, MinN: body.MinN})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// alertRulesPage serves GET /dashboard/agencies/{id}/alert-rules: the agency's rules as a plain
// Persian form (editable by its admins and province admins, read-only for other staff).
func (s *Server) alertRulesPage(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.AlertRules == nil {
		return unavailable("alert rules")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.d.AlertRules.Get(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	page := s.alertRulesView(c, p, id)
	page.Rules, page.Values, page.Saved = r, web.AlertRuleValues(r), c.QueryParam("saved") == "1"
	return s.pages.AlertRulesPage(c, http.StatusOK, page)
}

// alertRulesForm serves POST /dashboard/agencies/{id}/alert-rules (csrf_token, unhappy_percent,
// score_below, score_above, min_n; Persian digits welcome): saves and returns to the page, or
// shows the form again with each field's problem (422).
func (s *Server) alertRulesForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.AlertRules == nil {
		return unavailable("alert rules")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	values := web.AlertRuleForm{UnhappyPercent: c.FormValue("unhappy_percent"), ScoreBelow: c.FormValue("score_below"),
		ScoreAbove: c.FormValue("score_above"), MinN: c.FormValue("min_n")}
	r, fieldErrs := values.Parse()
	if len(fieldErrs) == 0 {
		_, err = s.d.AlertRules.Set(c.Request().Context(), p, id, r)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/dashboard/agencies/"+id.String()+"/alert-rules?saved=1")
		}
		var se *survey.Error
		if !errors.As(err, &se) || se.Code != survey.ECodeInvalid {
			return err
		}
		for k, f := range se.Fields {
			fieldErrs[formField(k)] = f.MessageFA
		}
		if k := formField("unhappy_share"); fieldErrs[k] != "" {
			fieldErrs[k] = "درصد ناراضیان باید بیشتر از ۰ و حداکثر ۱۰۰ باشد (خالی یعنی خاموش)."
		}
	}
	page := s.alertRulesView(c, p, id)
	page.Values, page.Errors = values, fieldErrs
	if cur, err := s.d.AlertRules.Get(c.Request().Context(), p, id); err == nil {
		page.Rules = cur
	}
	return s.pages.AlertRulesPage(c, http.StatusUnprocessableEntity, page)
}

// formField names the form field of an API field.
func formField(k string) string {
	if k == "unhappy_share" {
		return "unhappy_percent"
	}
	return k
}

// alertRulesView fills what every state of the page shows.
func (s *Server) alertRulesView(c echo.Context, p survey.Principal, id survey.ID) web.AlertRulesPage {
	page := web.AlertRulesPage{StaffBar: s.staffBar(c, p), Now: time.Now(), AgencyID: id, CanEdit: p.CanManageAgency(id)}
	if s.d.Catalog != nil {
		if a, err := s.d.Catalog.Agency(c.Request().Context(), id); err == nil {
			page.AgencyName = a.Name
		}
	}
	if page.AgencyName == "" {
		page.AgencyName = "دستگاه " + survey.FormatPersianDigits(strconv.FormatInt(int64(id), 10))
	}
	page.AgencyName = strings.TrimSpace(page.AgencyName)
	return page
}
