package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	kioskapp "github.com/afkar-gov/afkar/channels/kiosk/app"
)

// kioskCSP lets the kiosk app load and call nothing but this server: its own script, styles,
// font, images, worker and manifest, and fetches to its own API. No inline script or style, no
// framing, no form posted anywhere (the pairing form is sent by the script).
const kioskCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

// kioskTypes are the content types of the app's files, by extension.
var kioskTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
}

// kioskFiles builds the app as served, keyed by the path under /kiosk/ ("" is the shell). The
// placeholders get the hashed font URL, the app version the tablet reports in its heartbeat, and
// the service worker's cache version: a hash of the server version, the font and every file, so
// any change to them installs a new worker with a fresh cache. Every file is revalidated (no-cache
// with an ETag); offline, the worker answers from its cache.
func kioskFiles(version string) map[string]asset {
	raw := map[string][]byte{}
	var names []string
	err := fs.WalkDir(kioskapp.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := kioskapp.Files.ReadFile(p)
		raw[p] = b
		names = append(names, p)
		return err
	})
	if err != nil {
		panic("web: reading the kiosk app: " + err.Error())
	}
	sort.Strings(names)
	h := sha256.New()
	h.Write([]byte(version + "\x00" + fontURL + "\x00"))
	for _, n := range names {
		h.Write([]byte(n + "\x00"))
		h.Write(raw[n])
	}
	cacheVersion := hex.EncodeToString(h.Sum(nil))[:16]
	appVersion := cacheVersion[:8]
	if version != "" {
		appVersion = version + "+" + appVersion
	}
	fill := strings.NewReplacer(
		"__AFKAR_FONT_URL__", fontURL,
		"__AFKAR_APP_VERSION__", appVersion,
		"__AFKAR_CACHE_VERSION__", cacheVersion,
	)
	files := make(map[string]asset, len(names))
	for _, n := range names {
		ct, ok := kioskTypes[path.Ext(n)]
		if !ok {
			panic("web: no content type for kiosk file " + n)
		}
		body := raw[n]
		if strings.HasPrefix(ct, "text/") {
			body = []byte(fill.Replace(string(body)))
		}
		key := n
		if n == "index.html" {
			key = ""
		}
		files[key] = newAsset(body, ct, "no-cache")
	}
	return files
}

// Kiosk serves the lobby tablet's app: /kiosk redirects to /kiosk/ (the service worker's scope),
// /kiosk/ is the shell and /kiosk/<file> the script, styles, worker, manifest and icons. Anything
// else under /kiosk/ is 404 (the app routes on its own screens, never on paths).
func (p *Pages) Kiosk(c echo.Context) error {
	req := c.Request()
	if req.URL.Path == "/kiosk" {
		to := "/kiosk/"
		if req.URL.RawQuery != "" {
			to += "?" + req.URL.RawQuery
		}
		return c.Redirect(http.StatusMovedPermanently, to)
	}
	name, ok := strings.CutPrefix(req.URL.Path, "/kiosk/")
	if !ok {
		return echo.ErrNotFound
	}
	a, ok := p.kiosk[name]
	if !ok {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Content-Security-Policy", kioskCSP)
	return a.serve(c)
}
