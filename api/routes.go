package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// pageMethods are the methods an HTML page answers: HEAD like GET (link checkers, monitors and
// some phones ask HEAD first).
var pageMethods = []string{http.MethodGet, http.MethodHead}

// registerRoutes is the whole HTTP surface in one place, grouped by who may call it. Global
// middleware (metrics and logs, panic recovery, security headers, body limit) is installed in New;
// what a route adds on top is listed beside it.
func (s *Server) registerRoutes() {
	e := s.e
	s.registerOpsRoutes()

	// Public: anyone, no credentials. Submissions from callers without a bearer token
	// (citizens' browsers, QR forms) are recorded as web and rate-limited per client IP; an
	// integration token submits on its own channel, for its own agency, with its own limit.
	e.Match(pageMethods, "/", s.pages.Landing)
	e.Match(pageMethods, "/static/*", s.pages.Static)
	e.Match(pageMethods, "/kiosk", s.pages.Kiosk) // → 301 /kiosk/
	e.Match(pageMethods, "/kiosk/*", s.pages.Kiosk)
	e.GET("/api/v1/agencies/:id/survey", s.getSurvey)
	e.POST("/api/v1/responses", s.postResponse, s.identify, s.rateLimitSubmissions, requireJSON)

	// Authenticated: any valid bearer token, staff or integration (a kiosk checks its token).
	e.GET("/api/v1/me", s.getMe, s.identify, s.requirePrincipal)

	// Staff: province and agency staff. Tenancy (which agencies a principal may read) is
	// enforced below the handlers, in the catalog and the scores service, from the principal.
	staff := []echo.MiddlewareFunc{s.identify, s.requireStaff}
	e.GET("/api/v1/agencies", s.listAgencies, staff...)
	e.GET("/api/v1/agencies/:id/score", s.getScore, staff...)
}

// registerOpsRoutes adds the internal routes: probes and metrics for the orchestrator and
// Prometheus. Anyone who can reach the port may call them; expose only the API paths through the
// public proxy. A standalone worker serves these and nothing else (NewOps).
func (s *Server) registerOpsRoutes() {
	s.e.GET("/healthz", s.healthz)
	s.e.GET("/readyz", s.readyz)
	s.e.GET("/metrics", s.metricsHandler())
}
