// Package web is Afkar's server-rendered HTML: the pages people read (today the landing page; the
// kiosk shell, the web form, staff dashboards and the ranking come next), their templates and
// their static assets, all embedded so the single binary serves them with nothing beside it and
// nothing fetched from outside — offices may sit on networks that cannot reach a CDN. Package api
// registers these handlers in its routes.go; this package never imports api.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// Pages renders the HTML pages. It is safe for concurrent use.
type Pages struct {
	version string
}

// New returns the pages of a server running the given version (shown in the footer).
func New(version string) *Pages { return &Pages{version: version} }

// landingData is what the landing page shows.
type landingData struct {
	Version string
}

// landingCSP allows the landing page nothing but its own inline styles and images: no scripts,
// no forms, no framing.
const landingCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Landing says, in Persian, what this server is and where its API and probes are. It answers
// HEAD like GET (Echo's response writer drops the body of a HEAD request).
func (p *Pages) Landing(c echo.Context) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "index.html", landingData{Version: p.version}); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", landingCSP)
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
