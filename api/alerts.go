package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// Alerts lists and acknowledges alerts (analytics.AlertDesk). It enforces tenancy from the
// principal: what the caller may not read is not found, what it may read but not manage is
// forbidden.
type Alerts interface {
	List(ctx context.Context, p survey.Principal, agency survey.ID, openOnly bool) ([]survey.Alert, error)
	Ack(ctx context.Context, p survey.Principal, id survey.ID, comment string) (survey.Alert, error)
}

// alertView is an alert as the API answers it: detail as the JSON object it is, not a string.
type alertView struct {
	survey.Alert
	Detail json.RawMessage `json:"detail"`
}

func viewAlert(a survey.Alert) alertView {
	d := json.RawMessage(a.Detail)
	if !json.Valid(d) {
		d = json.RawMessage("{}")
	}
	return alertView{Alert: a, Detail: d}
}

// alerts returns the alert desk, or the 503 that explains it was not wired.
func (s *Server) alerts() (Alerts, error) {
	if s.d.Alerts == nil {
		return nil, unavailable("alerts")
	}
	return s.d.Alerts, nil
}

// listAlerts answers GET /api/v1/alerts?agency_id=&state=open|all: the alerts the caller may
// read (state open by default), by id.
func (s *Server) listAlerts(c echo.Context) error {
	d, err := s.alerts()
	if err != nil {
		return err
	}
	var agency survey.ID
	if raw := strings.TrimSpace(c.QueryParam("agency_id")); raw != "" {
		n, err := strconv.ParseInt(survey.NormalizeDigits(raw), 10, 64)
		if err != nil || n <= 0 {
			return survey.ErrForbiddenAgency()
		}
		agency = survey.ID(n)
	}
	openOnly := true
	switch c.QueryParam("state") {
	case "", "open":
	case "all":
		openOnly = false
	default:
		return &survey.Error{Code: survey.ECodeInvalid, Message: "state must be open or all", MessageFA: "وضعیت باید open یا all باشد.",
			Fields: map[string]survey.FieldError{"state": {Code: "invalid", Message: "open or all", MessageFA: "open یا all"}}}
	}
	p, _ := principal(c)
	as, err := d.List(c.Request().Context(), p, agency, openOnly)
	if err != nil {
		return err
	}
	out := make([]alertView, len(as))
	for i, a := range as {
		out[i] = viewAlert(a)
	}
	return c.JSON(http.StatusOK, out)
}

// ackAlert answers POST /api/v1/alerts/{id}/ack {comment}: the acknowledged alert.
func (s *Server) ackAlert(c echo.Context) error {
	d, err := s.alerts()
	if err != nil {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	var req struct {
		Comment string `json:"comment"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, _ := principal(c)
	a, err := d.Ack(c.Request().Context(), p, id, req.Comment)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewAlert(a))
}
