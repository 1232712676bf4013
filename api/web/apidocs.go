package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// APIDocs is the API's description as the /api/docs page shows it: package api reads it from
// its OpenAPI file at start, so the page can never describe another API than the one served.
type APIDocs struct {
	Version                     string
	Title, Summary, Description Bilingual
	Tags                        []APITag
}

// APITag is one group of operations, usually by who may call them.
type APITag struct {
	Name        string
	Description Bilingual
	Ops         []APIOp
}

// APIOp is one operation: method and path as a client writes them, who may call it (in words
// and as security schemes), what it takes and what it answers.
type APIOp struct {
	Method, Path              string
	Summary, Description, Who Bilingual
	// Auth lists the accepted ways to authenticate, each a "+"-joined set of schemes; empty
	// means none is needed.
	Auth         []string
	Params       []APIParam
	Body         []string // request media types
	BodyRequired bool
	Responses    []APIResponse
}

// Anchor is the operation's fragment id on the page, e.g. get-api-v1-agencies-id-score.
func (o APIOp) Anchor() string {
	b := []byte(o.Method)
	for _, r := range []byte(o.Path) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b = append(b, r)
		default:
			if b[len(b)-1] != '-' {
				b = append(b, '-')
			}
		}
	}
	return string(bytes.ToLower(bytes.TrimRight(b, "-")))
}

// APIParam is one parameter of an operation.
type APIParam struct {
	Name, In    string
	Description Bilingual
	Required    bool
}

// APIResponse is one status an operation may answer, with its media types.
type APIResponse struct {
	Status      string
	Description Bilingual
	Media       []string
}

// Bilingual is a text of the description written "Persian / English" (or a Persian first line
// and English lines after it): the page sets the English apart, left to right, so its
// punctuation does not wander to the wrong end of a right-to-left line.
type Bilingual struct{ FA, EN string }

// SplitBilingual splits s at its first " / ", or, failing that, after a first line that has
// Persian when the lines after it have none; anything else is kept whole in FA (the page lets
// the browser find its direction).
func SplitBilingual(s string) Bilingual {
	s = strings.TrimSpace(s)
	if fa, en, ok := strings.Cut(s, " / "); ok && !strings.Contains(fa, "\n") {
		return Bilingual{FA: strings.TrimSpace(fa), EN: strings.TrimSpace(en)}
	}
	if fa, en, ok := strings.Cut(s, "\n"); ok && hasArabicScript(fa) && !hasArabicScript(en) {
		return Bilingual{FA: strings.TrimSpace(fa), EN: strings.TrimSpace(en)}
	}
	return Bilingual{FA: s}
}

// hasArabicScript reports whether s has a Persian (Arabic-script) letter.
func hasArabicScript(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) {
			return true
		}
	}
	return false
}

// apiDocsCSP allows the docs page its inline styles and font only: it needs no script.
const apiDocsCSP = "default-src 'none'; style-src 'unsafe-inline'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type apiDocsData struct {
	APIDocs
	FontURL string
	Count   string // operations, in Persian digits
}

// RenderAPIDocs renders the docs page once, at start: the page depends only on the embedded
// description, so it is the same bytes for every request.
func RenderAPIDocs(d APIDocs) ([]byte, error) {
	n := 0
	for _, t := range d.Tags {
		n += len(t.Ops)
	}
	var buf bytes.Buffer
	err := pages.ExecuteTemplate(&buf, "apidocs.html", apiDocsData{APIDocs: d, FontURL: fontURL, Count: survey.FormatPersianDigits(strconv.Itoa(n))})
	return buf.Bytes(), err
}

// ServeAPIDocs answers a page rendered by RenderAPIDocs (HEAD like GET).
func ServeAPIDocs(c echo.Context, page []byte) error {
	c.Response().Header().Set("Content-Security-Policy", apiDocsCSP)
	return c.HTMLBlob(http.StatusOK, page)
}
