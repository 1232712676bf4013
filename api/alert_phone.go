package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// AlertPhones keeps the number a person gets alerts on by SMS (channels/sms.AlertPhones).
type AlertPhones interface {
	Set(ctx context.Context, p survey.Principal, raw string) (string, error)
	Get(ctx context.Context, p survey.Principal) (string, error)
}

// getAlertPhone answers GET /api/v1/me/alert-phone: the caller's alert number, masked.
func (s *Server) getAlertPhone(c echo.Context) error {
	if s.d.AlertPhones == nil {
		return unavailable("alert numbers")
	}
	p, _ := principal(c)
	phone, err := s.d.AlertPhones.Get(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"phone": phone})
}

// putAlertPhone answers PUT /api/v1/me/alert-phone {"phone"}: sets (empty: removes) the number
// the caller's agency alerts reach them on; the answer shows it masked.
func (s *Server) putAlertPhone(c echo.Context) error {
	if s.d.AlertPhones == nil {
		return unavailable("alert numbers")
	}
	var body struct {
		Phone string `json:"phone"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	p, _ := principal(c)
	phone, err := s.d.AlertPhones.Set(c.Request().Context(), p, body.Phone)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"phone": phone})
}
