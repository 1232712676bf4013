// Package web is Afkar's server-rendered HTML: the pages people read (today the landing page and
// the lobby kiosk's app; the web form, staff dashboards and the ranking come next), their
// templates and their static assets — the Vazirmatn font under a content-hashed name — all
// embedded so the single binary serves them with nothing beside it and nothing fetched from
// outside: offices may sit on networks that cannot reach a CDN. Package api registers these
// handlers in its routes.go; this package never imports api.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html templates/dash/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// Pages renders the HTML pages. It is safe for concurrent use.
type Pages struct {
	version string
	kiosk   map[string]asset // the kiosk app, by path under /kiosk/
}

// New returns the pages of a server running the given version (shown in the footer and in the
// kiosk app's version).
func New(version string) *Pages { return &Pages{version: version, kiosk: kioskFiles(version)} }

// landingData is what the landing page shows.
type landingData struct {
	Version string
	FontURL string
}

// landingCSP allows the landing page nothing but its own inline styles, images and font: no
// scripts, no forms, no framing.
const landingCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Landing says, in Persian, what this server is and where its API and probes are. It answers
// HEAD like GET (Echo's response writer drops the body of a HEAD request).
func (p *Pages) Landing(c echo.Context) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "index.html", landingData{Version: p.version, FontURL: fontURL}); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", landingCSP)
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
