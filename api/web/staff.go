package web

import (
	"bytes"

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

// writeStaffPage answers a staff page: never indexed, never cached (it is one person's).
func writeStaffPage(c echo.Context, status int, body []byte) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", staffCSP)
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.HTMLBlob(status, body)
}
