package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// pendingRoutes are operations api/openapi.yaml already describes for branches not merged yet
// (accounts, exports): the spec may list them without a registered route. Once a branch is
// merged its routes are registered and the test asks to delete their lines here.
var pendingRoutes = map[string]string{}

// unusedSMS fills the Deps that gate optional routes (/dev/sms needs DevSMS and SMSInbox) so
// the route walk sees every route; the walk never calls them.
type unusedSMS struct{}

func (unusedSMS) Recent(context.Context, int) ([]sms.DevMessage, []sms.DevMessage, error) {
	return nil, nil, survey.Errorf(survey.ECodeUnavailable, "در آزمون استفاده نمی‌شود.", "unused in this test")
}

func (unusedSMS) Accept(context.Context, sms.Inbound) (survey.ID, bool, error) {
	return 0, false, survey.Errorf(survey.ECodeUnavailable, "در آزمون استفاده نمی‌شود.", "unused in this test")
}

// fullServer is a server with every optional dependency set, so every route is registered.
func fullServer(t *testing.T) *harness {
	return start(t, api.Deps{DevSMS: unusedSMS{}, SMSInbox: unusedSMS{}, SMSWebhookSecret: "s"})
}

// echoParam matches Echo's path parameters (:id) and wildcard (*).
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)|\*$`)

// specPath writes an Echo route path as OpenAPI does: :id → {id}, a trailing * → {path}.
func specPath(p string) string {
	return echoParam.ReplaceAllStringFunc(p, func(m string) string {
		if m == "*" {
			return "{path}"
		}
		return "{" + m[1:] + "}"
	})
}

// routeKeys lists the server's operations as "METHOD /path/{param}", leaving out HEAD routes
// that twin a GET (pages answer HEAD like GET; the spec describes the GET).
func routeKeys(routes []*echo.Route) map[string]bool {
	keys := map[string]bool{}
	for _, r := range routes {
		keys[r.Method+" "+specPath(r.Path)] = true
	}
	for k := range keys {
		if p, ok := strings.CutPrefix(k, http.MethodHead+" "); ok && keys[http.MethodGet+" "+p] {
			delete(keys, k)
		}
	}
	return keys
}

// specKeys lists the operations of an OpenAPI document as "METHOD /path".
func specKeys(t *testing.T, doc []byte) map[string]bool {
	t.Helper()
	var f struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &f); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	keys := map[string]bool{}
	for p, ops := range f.Paths {
		for m := range ops {
			keys[strings.ToUpper(m)+" "+p] = true
		}
	}
	return keys
}

// specMismatches compares routes with the spec's operations and says, for each difference,
// what to add or remove and where.
func specMismatches(routes, spec map[string]bool, pending map[string]string) []string {
	var out []string
	for k := range routes {
		if spec[k] {
			if branch, ok := pending[k]; ok {
				out = append(out, fmt.Sprintf("%s is now registered (branch %s merged): delete its line from pendingRoutes in api/openapi_test.go", k, branch))
			}
			continue
		}
		method, path, _ := strings.Cut(k, " ")
		where := "under paths:\n  " + path + ":"
		for sk := range spec {
			if strings.HasSuffix(sk, " "+path) {
				where = "under paths.\"" + path + "\" (it has other methods already):"
				break
			}
		}
		out = append(out, fmt.Sprintf("route %s is not in the spec: add to api/openapi.yaml (then cp api/openapi.yaml docs/openapi.yaml), %s\n    %s:\n      tags: [staff]\n      summary: فارسی / English\n      x-who: چه کسی / who\n      security: [{bearerAuth: []}, {sessionCookie: []}]\n      responses: {\"200\": {description: …}}",
			k, where, strings.ToLower(method)))
	}
	for k := range spec {
		if routes[k] || pending[k] != "" {
			continue
		}
		method, path, _ := strings.Cut(k, " ")
		out = append(out, fmt.Sprintf("the spec describes %s but no route serves it: delete paths.%q.%s from api/openapi.yaml (and docs/openapi.yaml), or register the route in api/routes.go",
			k, path, strings.ToLower(method)))
	}
	for k, branch := range pending {
		if !spec[k] {
			out = append(out, fmt.Sprintf("pendingRoutes lists %s (branch %s) but the spec does not describe it: describe it in api/openapi.yaml or delete its line from pendingRoutes", k, branch))
		}
	}
	sort.Strings(out)
	return out
}

// Every registered route is described in api/openapi.yaml, and the spec describes nothing the
// server does not serve.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	h := fullServer(t)
	routes := routeKeys(h.srv.Echo().Routes())
	if len(routes) < 40 {
		t.Fatalf("only %d routes registered: the server is not fully wired", len(routes))
	}
	for _, want := range []string{"GET /dev/sms", "GET /api/v1/agencies/{id}/score", "GET /static/{path}", "GET /api/docs"} {
		if !routes[want] {
			t.Fatalf("%s is not among the walked routes %v", want, routes)
		}
	}
	for _, m := range specMismatches(routes, specKeys(t, api.OpenAPI), pendingRoutes) {
		t.Error(m)
	}
}

// The comparison reports a route the spec lacks, an operation no route serves and a pending
// entry whose route has arrived, each with what to do.
func TestSpecMismatchesSaysWhatToChange(t *testing.T) {
	routes := map[string]bool{"GET /a/{id}": true, "POST /b": true, "GET /merged": true}
	spec := map[string]bool{"GET /a/{id}": true, "DELETE /c": true, "GET /merged": true, "GET /later": true}
	got := specMismatches(routes, spec, map[string]string{"GET /merged": "x", "GET /later": "y", "GET /gone": "z"})
	if len(got) != 4 {
		t.Fatalf("%d mismatches, want 4: %q", len(got), got)
	}
	for i, want := range []string{
		"GET /merged is now registered (branch x merged): delete its line from pendingRoutes",
		"pendingRoutes lists GET /gone (branch z) but the spec does not describe it",
		"route POST /b is not in the spec: add to api/openapi.yaml",
		"DELETE /c but no route serves it: delete paths.\"/c\".delete",
	} {
		if !strings.Contains(got[i], want) {
			t.Errorf("mismatch %d = %q, want it to contain %q", i, got[i], want)
		}
	}
	if !strings.Contains(got[2], "  /b:\n    post:\n") {
		t.Errorf("the message does not show the lines to add: %q", got[2])
	}
	more := specMismatches(map[string]bool{"GET /a/{id}": true, "PUT /a/{id}": true}, map[string]bool{"GET /a/{id}": true}, nil)
	if len(more) != 1 || !strings.Contains(more[0], "under paths.\"/a/{id}\" (it has other methods already):\n    put:\n") {
		t.Errorf("a new method on a described path: %q", more)
	}
	if specPath("/api/v1/kiosks/:id/pairing.png") != "/api/v1/kiosks/{id}/pairing.png" || specPath("/static/*") != "/static/{path}" {
		t.Errorf("specPath: %q, %q", specPath("/api/v1/kiosks/:id/pairing.png"), specPath("/static/*"))
	}
}

// docs/openapi.yaml, for readers of the repository, is the embedded file byte for byte.
func TestDocsOpenAPIIsTheEmbeddedFile(t *testing.T) {
	docs, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, api.OpenAPI) {
		t.Error("docs/openapi.yaml differs from api/openapi.yaml: edit api/openapi.yaml, then cp api/openapi.yaml docs/openapi.yaml")
	}
}

// Every operation says who may call it, how it authenticates and what it answers, and is
// grouped under a declared tag (ParseOpenAPI checks the tags and references).
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	var f struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &f); err != nil {
		t.Fatal(err)
	}
	if f.OpenAPI != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", f.OpenAPI)
	}
	for p, ops := range f.Paths {
		for m, op := range ops {
			for _, k := range []string{"summary", "x-who", "security", "responses", "tags"} {
				if _, ok := op[k]; !ok {
					t.Errorf("%s %s has no %s", m, p, k)
				}
			}
			if s, _ := op["summary"].(string); !hasPersian(s) {
				t.Errorf("%s %s: the summary has no Persian: %q", m, p, s)
			}
		}
	}
	d, err := api.ParseOpenAPI(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range d.Tags {
		n += len(g.Ops)
	}
	if want := len(specKeys(t, api.OpenAPI)); n != want {
		t.Errorf("the page groups %d operations, the spec has %d", n, want)
	}
}

// ParseOpenAPI refuses what would make the page lie: an unknown tag, an unresolved reference.
func TestParseOpenAPIRefusesBrokenDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown tag": "tags: [{name: a}]\npaths:\n  /x:\n    get: {tags: [b], responses: {}}\n",
		"no tag":      "tags: [{name: a}]\npaths:\n  /x:\n    get: {responses: {}}\n",
		"bad ref":     "tags: [{name: a}]\npaths:\n  /x:\n    get: {tags: [a], responses: {\"200\": {$ref: '#/components/responses/Nope'}}}\n",
		"bad param":   "tags: [{name: a}]\npaths:\n  /x:\n    get: {tags: [a], parameters: [{$ref: '#/components/parameters/nope'}]}\n",
		"not yaml":    "paths: [",
	} {
		if _, err := api.ParseOpenAPI([]byte(doc)); err == nil {
			t.Errorf("%s: parsed without an error", name)
		}
	}
}

// /api/openapi.yaml serves the embedded file; /api/docs is a Persian page, without scripts, that
// lists every operation with who may call it.
func TestAPIDocsServed(t *testing.T) {
	h := fullServer(t)
	y := h.get(t, "/api/openapi.yaml", "").wantStatus(t, http.StatusOK)
	if ct := y.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("content type %q", ct)
	}
	if !bytes.Equal(y.body, api.OpenAPI) {
		t.Error("/api/openapi.yaml is not the embedded file")
	}
	page := h.get(t, "/api/docs", "").wantStatus(t, http.StatusOK)
	body := string(page.body)
	if ct := page.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	for _, want := range []string{`<html lang="fa" dir="rtl">`, "مستندات API افکار", "۴", "afkar_session", "X-CSRF-Token"} {
		if !strings.Contains(body, want) && !strings.Contains(string(api.OpenAPI), want) {
			t.Errorf("neither the page nor the spec contains %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the docs page loads a script or something from outside")
	}
	for k := range specKeys(t, api.OpenAPI) {
		method, path, _ := strings.Cut(k, " ")
		op := fmt.Sprintf(`<span class="m m-%s" dir="ltr">%s</span> <code>%s</code>`, method, method, path)
		if !strings.Contains(body, op) {
			t.Errorf("the page does not list %s", k)
		}
	}
	for _, want := range []string{"کارکنان همان دستگاه، کارکنان استان", "bearerAuth", "<code>csrfHeader &#43; sessionCookie</code>", "image/png", "text/csv", "<code>422</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not mention %q", want)
		}
	}
	head := h.request(t, http.MethodHead, "/api/docs", "", "", "").wantStatus(t, http.StatusOK)
	if len(head.body) != 0 {
		t.Error("HEAD /api/docs has a body")
	}
}
