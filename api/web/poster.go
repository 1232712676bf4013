package web

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

// PosterSheet is what the printable office poster shows: whose office it is, the poster link and
// its QR code (a data: URI of a PNG).
type PosterSheet struct {
	AgencyName string
	OfficeName string
	URL        string
	QR         template.URL
}

// Poster renders the printable A4 poster (Persian) that staff print and hang in the office.
func (p *Pages) Poster(c echo.Context, sheet PosterSheet) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "poster.html", sheet); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", pairingCSP)
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
