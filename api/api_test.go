package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{Ready: []api.Check{{Name: "database", Ping: func(context.Context) error { return errors.New("down") }}}})
	var body map[string]string
	// Liveness does not depend on readiness checks.
	h.get(t, "/healthz", "").wantStatus(t, http.StatusOK).json(t, &body)
	if body["status"] != "ok" {
		t.Fatalf("healthz body %v", body)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }

	t.Run("all pass", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{Ready: []api.Check{{Name: "database", Ping: ok}, {Name: "buffer", Ping: ok}}})
		var body struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		h.get(t, "/readyz", "").wantStatus(t, http.StatusOK).json(t, &body)
		if body.Status != "ok" || body.Checks["database"] != "ok" || body.Checks["buffer"] != "ok" {
			t.Fatalf("readyz body %+v", body)
		}
	})

	t.Run("a failing check is named", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{Ready: []api.Check{
			{Name: "database", Ping: ok},
			{Name: "buffer", Ping: func(context.Context) error {
				return errors.New("dial tcp redis://:hunter2@10.0.0.5:6379: connection refused")
			}},
		}})
		r := h.get(t, "/readyz", "")
		e := r.envelope(t, http.StatusServiceUnavailable, "unavailable")
		if _, named := e.Error.Fields["buffer"]; !named || !strings.Contains(e.Error.Message, "buffer") {
			t.Fatalf("failed check not named: %s", r.body)
		}
		if _, named := e.Error.Fields["database"]; named {
			t.Fatalf("passing check reported as failed: %s", r.body)
		}
		if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "10.0.0.5") {
			t.Fatalf("check error leaked to the client: %s", r.body)
		}
		if !strings.Contains(h.logs.String(), "connection refused") {
			t.Fatal("check error was not logged")
		}
	})

	t.Run("a hanging check times out", func(t *testing.T) {
		t.Parallel()
		block := make(chan struct{})
		t.Cleanup(func() { close(block) })
		h := start(t, api.Deps{Ready: []api.Check{
			{Name: "database", Ping: ok},
			{Name: "stuck", Ping: func(context.Context) error { <-block; return nil }}, // ignores ctx
		}})
		began := time.Now()
		e := h.get(t, "/readyz", "").envelope(t, http.StatusServiceUnavailable, "unavailable")
		if took := time.Since(began); took < api.ReadyTimeout-100*time.Millisecond || took > api.ReadyTimeout+time.Second {
			t.Fatalf("readyz took %v, want about %v", took, api.ReadyTimeout)
		}
		if f, named := e.Error.Fields["stuck"]; !named || f.Code != "timeout" {
			t.Fatalf("stuck check not reported as timeout: %+v", e.Error.Fields)
		}
	})
}

func TestStaffRoutesRequireToken(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	paths := []string{"/api/v1/agencies", "/api/v1/agencies/1/score", "/api/v1/me"}
	for _, p := range paths {
		for _, tc := range []struct {
			name string
			hdr  []string
		}{
			{"no token", nil},
			{"wrong token", []string{"Authorization", "Bearer not-a-token"}},
			{"admin token as prefix", []string{"Authorization", "Bearer " + adminToken[:len(adminToken)-1]}},
			{"wrong scheme", []string{"Authorization", "Basic " + adminToken}},
			{"empty bearer", []string{"Authorization", "Bearer "}},
		} {
			r := h.request(t, http.MethodGet, p, "", "", "", tc.hdr...)
			r.envelope(t, http.StatusUnauthorized, "unauthorized")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%s %s: WWW-Authenticate = %q", p, tc.name, r.header.Get("WWW-Authenticate"))
			}
		}
	}
	if _, _, calls := h.scores.last(); calls != 0 {
		t.Fatal("scores were computed for an unauthenticated request")
	}
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	var me survey.Principal
	h.get(t, "/api/v1/me", adminToken).wantStatus(t, http.StatusOK).json(t, &me)
	if me.Role != survey.RoleProvinceAdmin {
		t.Fatalf("admin principal %+v", me)
	}
	var as []survey.Agency
	r := h.get(t, "/api/v1/agencies", adminToken).wantStatus(t, http.StatusOK)
	r.json(t, &as)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("staff data cacheable: Cache-Control %q", r.header.Get("Cache-Control"))
	}
	if len(as) != 2 || as[0].ID != taxID || as[1].ID != registryID || as[0].Name == "" {
		t.Fatalf("admin sees %+v", as)
	}
	// The scheme is case-insensitive (RFC 7235).
	h.request(t, http.MethodGet, "/api/v1/me", "", "", "", "Authorization", "bearer "+adminToken).wantStatus(t, http.StatusOK)
}

func TestTenancy(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})

	var as []survey.Agency
	h.get(t, "/api/v1/agencies", taxStaffToken).wantStatus(t, http.StatusOK).json(t, &as)
	if len(as) != 1 || as[0].ID != taxID {
		t.Fatalf("agency staff sees %+v, want only agency %d", as, taxID)
	}

	var sc struct {
		AgencyID  survey.ID `json:"agency_id"`
		Responses int64     `json:"responses"`
		Mean      *float64  `json:"mean"`
	}
	h.get(t, "/api/v1/agencies/1/score?from=1404-08-01&to=2025-11-30", taxStaffToken).wantStatus(t, http.StatusOK).json(t, &sc)
	if sc.AgencyID != taxID || sc.Responses != 4 || sc.Mean == nil || *sc.Mean != 4.25 {
		t.Fatalf("score %+v", sc)
	}
	if p, q, _ := h.scores.last(); p.Role != survey.RoleAgencyStaff || p.AgencyID != taxID ||
		q != (analytics.ScoreQuery{From: "1404-08-01", To: "2025-11-30"}) {
		t.Fatalf("scores got principal %+v, query %+v", p, q)
	}
	h.get(t, "/api/v1/agencies/1/score?office_id=%DB%B1%DB%B2", taxStaffToken).wantStatus(t, http.StatusOK)
	if _, q, _ := h.scores.last(); q != (analytics.ScoreQuery{Office: "۱۲"}) {
		t.Fatalf("office_id reached the scores as %+v, want it as written", q)
	}

	// Another agency's score is "not found", exactly like an agency that does not exist.
	other := h.get(t, "/api/v1/agencies/2/score", taxStaffToken).envelope(t, http.StatusNotFound, "not_found")
	missing := h.get(t, "/api/v1/agencies/999/score", taxStaffToken).envelope(t, http.StatusNotFound, "not_found")
	if other.Error.Message != missing.Error.Message {
		t.Fatalf("foreign and missing agencies answer differently: %q vs %q", other.Error.Message, missing.Error.Message)
	}

	// Province staff read every agency.
	h.get(t, "/api/v1/agencies/2/score", provinceToken).wantStatus(t, http.StatusOK)
	h.get(t, "/api/v1/agencies", provinceToken).wantStatus(t, http.StatusOK).json(t, &as)
	if len(as) != 2 {
		t.Fatalf("province staff sees %d agencies", len(as))
	}

	// An integration token (kiosk fleet) is not staff.
	h.get(t, "/api/v1/agencies", integrationToken).envelope(t, http.StatusForbidden, "forbidden")
	h.get(t, "/api/v1/agencies/1/score", integrationToken).envelope(t, http.StatusForbidden, "forbidden")
	var me survey.Principal
	h.get(t, "/api/v1/me", integrationToken).wantStatus(t, http.StatusOK).json(t, &me)
	if me.Role != survey.RoleIntegration {
		t.Fatalf("integration principal %+v", me)
	}
}

func TestSurveyEndpoint(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	r := h.get(t, "/api/v1/agencies/1/survey", "").wantStatus(t, http.StatusOK)
	var raw map[string]any
	r.json(t, &raw)
	for _, k := range []string{"id", "agency_id", "version", "title", "questions"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("survey lacks %q: %s", k, r.body)
		}
	}
	var v struct {
		ID        survey.ID         `json:"id"`
		AgencyID  survey.ID         `json:"agency_id"`
		Version   int               `json:"version"`
		Title     string            `json:"title"`
		Questions []survey.Question `json:"questions"`
		Offices   []survey.Office   `json:"offices"`
	}
	r.json(t, &v)
	if v.ID != taxSurvey || v.AgencyID != taxID || v.Version != 1 || v.Title != "رضایت از خدمات" || len(v.Questions) != 3 {
		t.Fatalf("survey %+v", v)
	}
	q1, q2 := v.Questions[0], v.Questions[1]
	if q1.ID != "q1" || q1.Type != survey.TypeRating5 || !q1.Required || q1.Min != 1 || q1.Max != 5 {
		t.Fatalf("q1 %+v", q1)
	}
	if q2.Type != survey.TypeChoice || len(q2.Options) != 2 || q2.ShowIf == nil || q2.ShowIf.QuestionID != "q1" {
		t.Fatalf("q2 %+v", q2)
	}
	if len(v.Offices) != 1 || v.Offices[0].ID != taxOffice {
		t.Fatalf("offices %+v", v.Offices)
	}
	// Persian digits in the path are the same id.
	h.get(t, "/api/v1/agencies/۱/survey", "").wantStatus(t, http.StatusOK)

	h.get(t, "/api/v1/agencies/2/survey", "").envelope(t, http.StatusNotFound, "not_found") // no active survey
	h.get(t, "/api/v1/agencies/999/survey", "").envelope(t, http.StatusNotFound, "not_found")
	h.get(t, "/api/v1/agencies/abc/survey", "").envelope(t, http.StatusNotFound, "not_found")
}

func TestPostResponse(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{RateLimit: 1000})

	t.Run("valid → 202 with a server id", func(t *testing.T) {
		var got struct{ ID string }
		h.post(t, "", validBody("")).wantStatus(t, http.StatusAccepted).json(t, &got)
		if !survey.ValidUUID(got.ID) {
			t.Fatalf("id %q is not a UUID", got.ID)
		}
	})

	t.Run("client id is kept", func(t *testing.T) {
		const id = "0193a1d2-7c4e-7b3a-9f00-1234567890ab"
		var got struct{ ID string }
		r := h.request(t, http.MethodPost, "/api/v1/responses", "", "application/json; charset=UTF-8", validBody(id))
		r.wantStatus(t, http.StatusAccepted).json(t, &got)
		if got.ID != id {
			t.Fatalf("id %q, want %q", got.ID, id)
		}
	})

	t.Run("invalid → 422 with fields", func(t *testing.T) {
		before := h.intake.count()
		body := fmt.Sprintf(`{"agency_id":%d,"survey_id":%d,"survey_version":1,"channel":"web","answers":[{"question_id":"q1","value":9}]}`, taxID, taxSurvey)
		e := h.post(t, "", body).envelope(t, http.StatusUnprocessableEntity, "invalid")
		f, ok := e.Error.Fields["answers[0].value"]
		if !ok || f.Code != "out_of_range" || !hasPersian(f.MessageFA) {
			t.Fatalf("fields %+v", e.Error.Fields)
		}
		// A low rating makes "why?" required.
		body = fmt.Sprintf(`{"agency_id":%d,"survey_id":%d,"survey_version":1,"answers":[{"question_id":"q1","value":"۲"}]}`, taxID, taxSurvey)
		e = h.post(t, "", body).envelope(t, http.StatusUnprocessableEntity, "invalid")
		if _, ok := e.Error.Fields["questions[1]"]; !ok {
			t.Fatalf("missing conditional answer not reported: %+v", e.Error.Fields)
		}
		if h.intake.count() != before {
			t.Fatal("an invalid submission was accepted")
		}
	})

	t.Run("malformed JSON → 400", func(t *testing.T) {
		h.post(t, "", `{"agency_id": 1, "answers": [`).envelope(t, http.StatusBadRequest, "bad_request")
		h.post(t, "", `{"agency_id": 1, "surprise": true}`).envelope(t, http.StatusBadRequest, "bad_request")
		h.post(t, "", validBody("")+`{}`).envelope(t, http.StatusBadRequest, "bad_request")
		h.request(t, http.MethodPost, "/api/v1/responses", "", "application/json", "").envelope(t, http.StatusBadRequest, "bad_request")
	})

	t.Run("wrong content type → 415", func(t *testing.T) {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"} {
			h.request(t, http.MethodPost, "/api/v1/responses", "", ct, validBody("")).
				envelope(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		}
	})

	t.Run("oversized body → 413", func(t *testing.T) {
		big := `{"agency_id":1,"source":"` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}`
		h.post(t, "", big).envelope(t, http.StatusRequestEntityTooLarge, "too_large")
	})

	t.Run("wrong method → 405", func(t *testing.T) {
		r := h.request(t, http.MethodGet, "/api/v1/responses", "", "", "")
		r.envelope(t, http.StatusMethodNotAllowed, "method_not_allowed")
		if !strings.Contains(r.header.Get("Allow"), http.MethodPost) {
			t.Fatalf("Allow = %q", r.header.Get("Allow"))
		}
	})
}

func TestIntakeFailuresDoNotLeak(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	secret := errors.New(`pq: password authentication failed for user "afkar" at 10.1.2.3`)

	h.intake.mu.Lock()
	h.intake.err = survey.Wrap(survey.ECodeUnavailable, secret, "ذخیره‌سازی در دسترس نیست.", "storage unavailable")
	h.intake.mu.Unlock()
	r := h.post(t, "", validBody(""))
	r.envelope(t, http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(string(r.body), "10.1.2.3") {
		t.Fatalf("cause leaked: %s", r.body)
	}

	h.intake.mu.Lock()
	h.intake.err = fmt.Errorf("wrapped: %w", secret) // not a *survey.Error at all
	h.intake.mu.Unlock()
	r = h.post(t, "", validBody(""))
	r.envelope(t, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "password") {
		t.Fatalf("cause leaked: %s", r.body)
	}
	if !strings.Contains(h.logs.String(), "password authentication failed") {
		t.Fatal("internal cause not logged")
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	h.get(t, "/api/v1/nope", "").envelope(t, http.StatusNotFound, "not_found")
	h.get(t, "/wp-login.php", "").envelope(t, http.StatusNotFound, "not_found")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	const limit = 3

	t.Run("anonymous callers are limited per IP, tokens have their own bucket", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{RateLimit: limit, TokenRateLimit: 2 * limit})
		for i := 0; i < limit; i++ {
			h.post(t, "", validBody("")).wantStatus(t, http.StatusAccepted)
		}
		r := h.post(t, "", validBody(""))
		r.envelope(t, http.StatusTooManyRequests, "rate_limited")
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After = %q", ra)
		}
		// Invalid and malformed submissions still spend the budget: they are what abuse looks like.
		h.post(t, "", `{`).envelope(t, http.StatusTooManyRequests, "rate_limited")

		// Same client IP, but with a token: its own, larger bucket, not the exhausted one…
		for i := 0; i < 2*limit; i++ {
			h.post(t, integrationToken, validBody("")).wantStatus(t, http.StatusAccepted)
		}
		// …which runs out too: a leaked token cannot flood intake.
		h.post(t, integrationToken, validBody("")).envelope(t, http.StatusTooManyRequests, "rate_limited")
		// Each token has its own bucket.
		h.post(t, officeKioskToken, validBody("")).wantStatus(t, http.StatusAccepted)
		// A wrong token is refused, not waved through as "authenticated".
		h.post(t, "not-a-token", validBody("")).envelope(t, http.StatusUnauthorized, "unauthorized")
		// Reading surveys is not limited.
		for i := 0; i < 2*limit; i++ {
			h.get(t, "/api/v1/agencies/1/survey", "").wantStatus(t, http.StatusOK)
		}
	})

	t.Run("token limit 0 turns it off", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{RateLimit: limit})
		for i := 0; i < 5*limit; i++ {
			h.post(t, integrationToken, validBody("")).wantStatus(t, http.StatusAccepted)
		}
	})

	t.Run("X-Forwarded-For is ignored unless the proxy is trusted", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{RateLimit: limit})
		for i := 0; i < limit; i++ {
			h.request(t, http.MethodPost, "/api/v1/responses", "", "application/json", validBody(""),
				"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)).wantStatus(t, http.StatusAccepted)
		}
		h.request(t, http.MethodPost, "/api/v1/responses", "", "application/json", validBody(""),
			"X-Forwarded-For", "203.0.113.99").envelope(t, http.StatusTooManyRequests, "rate_limited")
	})

	t.Run("behind a trusted proxy each client has its own bucket", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{RateLimit: limit, TrustProxy: true})
		postAs := func(ip string) reply {
			return h.request(t, http.MethodPost, "/api/v1/responses", "", "application/json", validBody(""), "X-Forwarded-For", ip)
		}
		for i := 0; i < limit; i++ {
			postAs("203.0.113.7").wantStatus(t, http.StatusAccepted)
		}
		postAs("203.0.113.7").envelope(t, http.StatusTooManyRequests, "rate_limited")
		postAs("203.0.113.8").wantStatus(t, http.StatusAccepted)
	})

	t.Run("0 turns it off", func(t *testing.T) {
		t.Parallel()
		h := start(t, api.Deps{})
		for i := 0; i < 20; i++ {
			h.post(t, "", validBody("")).wantStatus(t, http.StatusAccepted)
		}
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := start(t, api.Deps{Registerer: reg})
	h.get(t, "/api/v1/agencies/1/survey", "").wantStatus(t, http.StatusOK)
	h.get(t, "/api/v1/agencies/2/survey", "").wantStatus(t, http.StatusNotFound)
	h.post(t, "", validBody("")).wantStatus(t, http.StatusAccepted)
	h.get(t, "/no/such/path/12345", "").wantStatus(t, http.StatusNotFound)

	r := h.get(t, "/metrics", "").wantStatus(t, http.StatusOK)
	text := string(r.body)
	for _, want := range []string{
		`afkar_http_requests_total{code="200",method="GET",route="/api/v1/agencies/:id/survey"} 1`,
		`afkar_http_requests_total{code="404",method="GET",route="/api/v1/agencies/:id/survey"} 1`,
		`afkar_http_requests_total{code="202",method="POST",route="/api/v1/responses"} 1`,
		`afkar_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`afkar_http_request_duration_seconds_count{route="/api/v1/agencies/:id/survey"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "12345") || strings.Contains(text, "/agencies/1/") {
		t.Error("a raw URL became a label")
	}

	// A second server on the same registry shares the series instead of panicking.
	api.New(api.Deps{Registerer: reg, Catalog: newMemCatalog()})
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	h.srv.Echo().GET("/boom", func(echo.Context) error { panic("kaboom: secret state") })
	r := h.get(t, "/boom", "")
	r.envelope(t, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "kaboom") {
		t.Fatalf("panic value leaked: %s", r.body)
	}
	if !strings.Contains(h.logs.String(), "kaboom") {
		t.Fatal("panic not logged")
	}
	h.get(t, "/healthz", "").wantStatus(t, http.StatusOK) // still serving
}

func TestLandingPage(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{Version: "v1.2.3"})
	r := h.get(t, "/", "").wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type %q", ct)
	}
	page := string(r.body)
	for _, want := range []string{`dir="rtl"`, `lang="fa"`, "افکار", "سامانه افکارسنجی دستگاه‌های اجرایی استان", `href="/healthz"`, "/api/v1/", "v1.2.3", "Tahoma"} {
		if !strings.Contains(page, want) {
			t.Errorf("landing page lacks %q", want)
		}
	}
	// Self-contained: no CDN, no web fonts, nothing loaded from elsewhere.
	for _, bad := range []string{"http://", "https://", "//cdn", "@import", "@font-face"} {
		if strings.Contains(page, bad) {
			t.Errorf("landing page references %q", bad)
		}
	}
}

func TestLogsKeepSecretsOut(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	h.get(t, "/api/v1/agencies?token=query-secret-xyz", taxStaffToken).wantStatus(t, http.StatusOK)
	h.get(t, "/api/v1/agencies?token=query-secret-xyz", "bearer-secret-abc").wantStatus(t, http.StatusUnauthorized)
	h.get(t, "/api/v1/agencies/1/score?from=query-secret-xyz", adminToken)
	logs := h.logs.String()
	if !strings.Contains(logs, "route=/api/v1/agencies") || !strings.Contains(logs, "status=401") {
		t.Fatalf("requests not logged:\n%s", logs)
	}
	for _, secret := range []string{"query-secret-xyz", "bearer-secret-abc", taxStaffToken, adminToken, "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q:\n%s", secret, logs)
		}
	}
}
