package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
)

// dashboard serves GET /dashboard, where a login lands: for now a placeholder page («داشبورد»)
// listing the agencies the person may see, with the logout form. The staff dashboards replace
// this handler; a visitor without a session is sent to /login.
func (s *Server) dashboard(c echo.Context) error {
	p, ok := principal(c)
	if !ok || !p.IsStaff() || sessionToken(c) == "" {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.Catalog == nil {
		return unavailable("catalog")
	}
	as, err := s.d.Catalog.Agencies(c.Request().Context(), p)
	if err != nil {
		return err
	}
	d := web.DashboardPage{Name: p.Name, CSRF: s.d.Accounts.CSRFToken(sessionToken(c))}
	for _, a := range as {
		d.Agencies = append(d.Agencies, web.DashboardAgency{Name: a.Name})
	}
	return s.pages.Dashboard(c, d)
}
