package api_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web"
)

// TestFont serves Vazirmatn under its content hash, cached for a year, and nothing under any other
// name; the licence is served beside it.
func TestFont(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	url := web.FontURL()
	m := regexp.MustCompile(`^/static/fonts/vazirmatn\.([0-9a-f]{10})\.woff2$`).FindStringSubmatch(url)
	if m == nil {
		t.Fatalf("font URL %q is not /static/fonts/vazirmatn.<10 hex>.woff2", url)
	}
	r := h.get(t, url, "").wantStatus(t, http.StatusOK)
	sum := sha256.Sum256(r.body)
	if got := hex.EncodeToString(sum[:])[:10]; got != m[1] {
		t.Fatalf("font served under hash %s has content hash %s", m[1], got)
	}
	if !bytes.HasPrefix(r.body, []byte("wOF2")) {
		t.Fatalf("font is not WOFF2: % x", r.body[:4])
	}
	if ct := r.header.Get("Content-Type"); ct != "font/woff2" {
		t.Errorf("font content type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("font Cache-Control %q", cc)
	}
	h.request(t, http.MethodGet, url, "", "", "", "If-None-Match", r.header.Get("ETag")).wantStatus(t, http.StatusNotModified)
	h.request(t, http.MethodHead, url, "", "", "").wantStatus(t, http.StatusOK)

	h.get(t, "/static/fonts/vazirmatn.0123456789.woff2", "").envelope(t, http.StatusNotFound, "not_found")
	h.get(t, "/static/fonts/Vazirmatn-wght.woff2", "").envelope(t, http.StatusNotFound, "not_found")
	lic := h.get(t, "/static/fonts/OFL.txt", "").wantStatus(t, http.StatusOK)
	if !strings.Contains(string(lic.body), "SIL Open Font License") || !strings.HasPrefix(lic.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("licence: %s %.80s", lic.header.Get("Content-Type"), lic.body)
	}
}

// kioskFiles are the app's files as served, with their content types.
var kioskFiles = map[string]string{
	"/kiosk/":                     "text/html; charset=utf-8",
	"/kiosk/app.js":               "text/javascript; charset=utf-8",
	"/kiosk/app.css":              "text/css; charset=utf-8",
	"/kiosk/sw.js":                "text/javascript; charset=utf-8",
	"/kiosk/manifest.webmanifest": "application/manifest+json",
	"/kiosk/icon.svg":             "image/svg+xml",
	"/kiosk/icon-192.png":         "image/png",
	"/kiosk/icon-512.png":         "image/png",
}

// TestKioskApp serves the kiosk app: /kiosk redirects into the worker's scope, every file has
// its type, a strict same-origin CSP and a validator, the placeholders are filled, nothing points
// outside the server, and the code the tablet downloads stays within the budget.
func TestKioskApp(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{Version: "v9.9.9"})

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for from, to := range map[string]string{"/kiosk": "/kiosk/", "/kiosk?x=1": "/kiosk/?x=1"} {
		res, err := noFollow.Get(h.url + from)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != to {
			t.Errorf("GET %s: %d Location %q, want 301 %s", from, res.StatusCode, res.Header.Get("Location"), to)
		}
	}

	var compressed int
	for path, ct := range kioskFiles {
		r := h.get(t, path, "").wantStatus(t, http.StatusOK)
		if got := r.header.Get("Content-Type"); got != ct {
			t.Errorf("%s: content type %q, want %q", path, got, ct)
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows more than this server", path, csp)
		}
		if r.header.Get("Cache-Control") != "no-cache" || r.header.Get("ETag") == "" {
			t.Errorf("%s: Cache-Control %q ETag %q: want revalidation", path, r.header.Get("Cache-Control"), r.header.Get("ETag"))
		}
		h.request(t, http.MethodGet, path, "", "", "", "If-None-Match", r.header.Get("ETag")).wantStatus(t, http.StatusNotModified)
		if strings.HasPrefix(ct, "image/png") {
			continue
		}
		body := string(r.body)
		if strings.Contains(body, "__AFKAR_") {
			t.Errorf("%s: a placeholder is left unfilled", path)
		}
		// The only absolute URL allowed is the SVG namespace, which is a name, not a request.
		if u := regexp.MustCompile(`https?://[^"' )]+`).FindAllString(strings.ReplaceAll(body, "http://www.w3.org/2000/svg", ""), -1); len(u) > 0 {
			t.Errorf("%s: points outside the server: %v", path, u)
		}
		if ct != "image/svg+xml" {
			var gz bytes.Buffer
			w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			w.Write(r.body)
			w.Close()
			compressed += gz.Len()
		}
	}
	if compressed > 200<<10 {
		t.Errorf("the kiosk app is %d bytes compressed; the budget is 200 KB", compressed)
	}
	t.Logf("kiosk shell, script, styles, worker and manifest: %d bytes gzipped", compressed)

	shell := string(h.get(t, "/kiosk/", "").body)
	for _, want := range []string{`<html lang="fa" dir="rtl">`, `name="code"`, `data-screen="pair"`, `data-screen="rating"`,
		`data-screen="question"`, `data-screen="thanks"`, `data-screen="sleep"`, `href="` + web.FontURL() + `"`, `content="v9.9.9+`} {
		if !strings.Contains(shell, want) {
			t.Errorf("shell lacks %s", want)
		}
	}
	// CSP-friendly: no inline script, no inline style, no links out.
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(shell) || strings.Contains(shell, "style=") || strings.Contains(shell, "<style") || strings.Contains(shell, "<a ") {
		t.Error("the shell has inline script or style, or a link")
	}
	// ES2019 for old Android Chrome: no optional chaining or nullish coalescing (ES2020).
	for _, path := range []string{"/kiosk/app.js", "/kiosk/sw.js"} {
		if js := string(h.get(t, path, "").body); strings.Contains(js, "?.") || strings.Contains(js, "??") {
			t.Errorf("%s uses syntax newer than ES2019 (?. or ??)", path)
		}
	}
	if sw := string(h.get(t, "/kiosk/sw.js", "").body); !strings.Contains(sw, "'"+web.FontURL()+"'") {
		t.Error("the service worker does not cache the font")
	}
	if css := string(h.get(t, "/kiosk/app.css", "").body); !strings.Contains(css, `url("`+web.FontURL()+`")`) || !strings.Contains(css, "font-display: swap") {
		t.Error("the stylesheet does not use the hashed font")
	}
	for _, path := range []string{"/kiosk/index.html", "/kiosk/app.go", "/kiosk/nope.js", "/kiosks", "/kiosk/../static/fonts/OFL.txt"} {
		if r := h.get(t, path, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.status)
		}
	}
}

// TestPersianText checks the Persian the kiosk, the landing page and the API docs show for the most common
// spacing slip: «می» and «نمی» written with a space instead of a half-space (ZWNJ), as in
// «می شود» for «می‌شود».
func TestPersianText(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	slip := regexp.MustCompile(`(^|[\s«(])(ن?می) [\p{Arabic}]`)
	for _, path := range []string{"/", "/kiosk/", "/kiosk/app.js", "/kiosk/manifest.webmanifest", "/api/docs"} {
		body := string(h.get(t, path, "").wantStatus(t, http.StatusOK).body)
		if m := slip.FindString(body); m != "" {
			t.Errorf("%s: %q needs a half-space (ZWNJ) after «می»", path, m)
		}
		if !strings.Contains(body, "\u200c") {
			t.Errorf("%s: no half-space anywhere: is the text run through a filter that drops ZWNJ?", path)
		}
	}
}
