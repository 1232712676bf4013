package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/afkar-gov/afkar/api"
)

// A page answers HEAD like GET: same status and headers, no body.
func TestPagesAnswerHEADLikeGET(t *testing.T) {
	h := start(t, api.Deps{})
	get := h.get(t, "/", "").wantStatus(t, http.StatusOK)
	head := h.request(t, http.MethodHead, "/", "", "", "").wantStatus(t, http.StatusOK)
	if len(head.body) != 0 {
		t.Errorf("HEAD / returned a body of %d bytes", len(head.body))
	}
	for _, k := range []string{"Content-Type", "Content-Security-Policy"} {
		if head.header.Get(k) != get.header.Get(k) || get.header.Get(k) == "" {
			t.Errorf("%s: HEAD %q, GET %q", k, head.header.Get(k), get.header.Get(k))
		}
	}
}

// The standalone worker's server answers the operator routes and nothing else.
func TestOpsServerServesOnlyProbesAndMetrics(t *testing.T) {
	srv := api.NewOps(api.Deps{Ready: []api.Check{}, Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	for path, want := range map[string]int{
		"/healthz":                  http.StatusOK,
		"/readyz":                   http.StatusOK,
		"/metrics":                  http.StatusOK,
		"/":                         http.StatusNotFound,
		"/api/v1/agencies":          http.StatusNotFound,
		"/api/v1/agencies/1/survey": http.StatusNotFound,
		"/api/v1/agencies/1/score":  http.StatusNotFound,
	} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	res, err := http.Post(ts.URL+"/api/v1/responses", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /api/v1/responses on the worker = %d, want 404", res.StatusCode)
	}
}

// A client chooses the request method: long made-up methods must not grow the metrics or the
// logs (measured before the fix: 200 requests with 500 KB methods, +90 MB RSS, 100 MB /metrics).
func TestLongMethodsAreNotRecordedRaw(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := start(t, api.Deps{Registerer: reg})
	long := strings.Repeat("X", 100_000)
	for i := 0; i < 20; i++ {
		m := long + strconv.Itoa(i) // a distinct method each time: a distinct series if labelled raw
		res := h.request(t, m, "/api/v1/agencies", "", "", "")
		if res.status < 400 || res.status >= 500 {
			t.Fatalf("method %d…: status %d, want a 4xx", i, res.status)
		}
	}
	metrics := h.get(t, "/metrics", "").wantStatus(t, http.StatusOK)
	if len(metrics.body) > 200_000 {
		t.Errorf("/metrics is %d bytes after 20 long-method requests", len(metrics.body))
	}
	if !strings.Contains(string(metrics.body), `method="other"`) {
		t.Errorf("/metrics has no method=\"other\" series:\n%.2000s", metrics.body)
	}
	if strings.Contains(string(metrics.body), "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX") {
		t.Error("/metrics holds a raw method")
	}
	logs := h.logs.String()
	if strings.Contains(logs, strings.Repeat("X", 64)) {
		t.Errorf("logs hold a raw long method (%d bytes of logs)", len(logs))
	}
	if !strings.Contains(logs, "method=other") {
		t.Errorf("logs do not label the method as other:\n%.2000s", logs)
	}
}
