package web

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"
)

// staffCSP allows a staff page its inline styles, its font and forms posted to itself; no
// scripts at all, so the pages work (and only work) without JavaScript.
const staffCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// LoginPage is what the staff login form shows: the CSRF token bound to the pre-session cookie,
// the login typed before a refusal, and the refusal in Persian ("" for none).
type LoginPage struct {
	CSRF  string
	Login string
	Error string
}

type loginData struct {
	LoginPage
	FontURL string
}

// Login renders the staff login form with status (200, or 401/403/429 after a refusal).
func (p *Pages) Login(c echo.Context, status int, lp LoginPage) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "login.html", loginData{LoginPage: lp, FontURL: fontURL}); err != nil {
		return err
	}
	return writeStaffPage(c, status, buf.Bytes())
}

// DashboardAgency is one agency line of the placeholder dashboard.
type DashboardAgency struct{ Name string }

// DashboardPage is the placeholder dashboard: who is logged in, the agencies they may see, and
// the CSRF token of the logout form. The dashboards proper replace it.
type DashboardPage struct {
	Name     string
	CSRF     string
	Agencies []DashboardAgency
}

type dashboardData struct {
	DashboardPage
	FontURL string
}

// Dashboard renders the placeholder dashboard.
func (p *Pages) Dashboard(c echo.Context, d DashboardPage) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "dashboard_placeholder.html", dashboardData{DashboardPage: d, FontURL: fontURL}); err != nil {
		return err
	}
	return writeStaffPage(c, http.StatusOK, buf.Bytes())
}

// writeStaffPage answers a staff page: never indexed, never cached (it is one person's).
func writeStaffPage(c echo.Context, status int, body []byte) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", staffCSP)
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.HTMLBlob(status, body)
}
