package api

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

// templateFS holds the server-rendered pages. They are embedded so the single binary serves them
// with no files beside it, and they use no CDN or web font: offices may be on networks that
// cannot reach one.
//
//go:embed web/templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").ParseFS(templateFS, "web/templates/*.html"))

// landingData is what the landing page shows.
type landingData struct {
	Version string
}

// landing says, in Persian, what this server is and where its API and probes are.
func (s *Server) landing(c echo.Context) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "index.html", landingData{Version: s.d.Version}); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
