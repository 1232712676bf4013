package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// The font files come from the npm package vazirmatn@33.0.3 (`make fonts` fetches and checks
// them): the variable-weight webfont, renamed without the brackets go:embed cannot take, and its
// licence, which the OFL asks to travel with the font.
//
//go:embed static/fonts/Vazirmatn-wght.woff2 static/fonts/OFL.txt static/form.css
var staticFS embed.FS

// immutable is the Cache-Control of a file whose URL carries its content hash: the URL changes
// whenever the content does, so a browser may keep it for a year without asking again.
const immutable = "public, max-age=31536000, immutable"

// asset is one file served by the server from memory.
type asset struct {
	body         []byte
	contentType  string
	cacheControl string
	etag         string
}

// hashedName returns base.<first 10 hex digits of sha256(body)>.ext: a name that changes with the
// content, so it can be cached forever.
func hashedName(base, ext string, body []byte) string {
	sum := sha256.Sum256(body)
	return base + "." + hex.EncodeToString(sum[:])[:10] + ext
}

func newAsset(body []byte, contentType, cacheControl string) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, cacheControl: cacheControl, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// serve writes a, answering a matching If-None-Match with 304 (the kiosk's service worker and
// browsers revalidate the files that are not immutable).
func (a asset) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", a.cacheControl)
	h.Set("ETag", a.etag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.contentType, a.body)
}

// staticAssets are the files under /static/, by URL path; fontURL is the Vazirmatn webfont's and
// formCSSURL the web form's stylesheet's (hashed like the font, with the font's URL filled in).
var staticAssets, fontURL, formCSSURL = loadStatic()

func loadStatic() (map[string]asset, string, string) {
	font := mustRead(staticFS, "static/fonts/Vazirmatn-wght.woff2")
	licence := mustRead(staticFS, "static/fonts/OFL.txt")
	url := "/static/fonts/" + hashedName("vazirmatn", ".woff2", font)
	css := []byte(strings.ReplaceAll(string(mustRead(staticFS, "static/form.css")), "__AFKAR_FONT_URL__", url))
	cssURL := "/static/" + hashedName("form", ".css", css)
	return map[string]asset{
		url:                     newAsset(font, "font/woff2", immutable),
		"/static/fonts/OFL.txt": newAsset(licence, "text/plain; charset=utf-8", "public, max-age=86400"),
		cssURL:                  newAsset(css, "text/css; charset=utf-8", immutable),
	}, url, cssURL
}

func mustRead(fsys embed.FS, name string) []byte {
	b, err := fsys.ReadFile(name)
	if err != nil {
		panic("web: embedded file missing: " + err.Error())
	}
	return b
}

// FontURL is the path of the Vazirmatn webfont, named by its content hash
// (/static/fonts/vazirmatn.<10 hex>.woff2): pages and the kiosk app link to it, and a new font
// release gets a new URL, so browsers never hold on to a stale one.
func FontURL() string { return fontURL }

// Static serves the embedded static files: the hashed font (immutable) and its licence. Any
// other path under /static/, including an old font hash, is 404.
func (p *Pages) Static(c echo.Context) error {
	a, ok := staticAssets[c.Request().URL.Path]
	if !ok {
		return echo.ErrNotFound
	}
	return a.serve(c)
}
