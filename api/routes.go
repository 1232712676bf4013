package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/weblink"
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
	s.registerDocsRoutes()

	// Public: anyone, no credentials. Submissions from callers without a bearer token
	// (citizens' browsers, QR forms) are recorded as web and rate-limited per client IP; an
	// integration token submits on its own channel, for its own agency, with its own limit.
	e.Match(pageMethods, "/", s.pages.Landing)
	e.Match(pageMethods, "/static/*", s.pages.Static)
	e.Match(pageMethods, "/kiosk", s.pages.Kiosk) // → 301 /kiosk/
	e.Match(pageMethods, "/kiosk/*", s.pages.Kiosk)
	e.GET("/api/v1/agencies/:id/survey", s.getSurvey)

	// The web form of signed links: /s/ from an SMS invitation (single use, expiring), /p/ from
	// an office's poster. Server-rendered Persian pages; the POST carries the link token in the
	// form and is rate-limited per client IP inside the handler (its refusal is a page, not JSON).
	e.Match(pageMethods, "/s/:token", s.linkForm(weblink.KindInvitation))
	e.POST("/s/:token", s.linkForm(weblink.KindInvitation))
	e.Match(pageMethods, "/p/:token", s.linkForm(weblink.KindPoster))
	e.POST("/p/:token", s.linkForm(weblink.KindPoster))
	e.POST("/api/v1/responses", s.postResponse, s.identify, s.rateLimitSubmissions, requireJSON)

	// Authenticated: any valid bearer token, staff or integration (a kiosk checks its token),
	// or a person's session cookie.
	e.GET("/api/v1/me", s.getMe, s.identify, s.requirePrincipal)

	// People's login (server-rendered, works without JavaScript). The login form's CSRF token is
	// bound to a pre-session cookie; logout is a form with the session's CSRF token, which
	// identify checks like on every state-changing request made with the session cookie.
	e.Match(pageMethods, "/login", s.loginPage)
	e.POST("/login", s.postLogin)
	e.POST("/logout", s.postLogout, s.identify)
	e.Match(pageMethods, "/dashboard", s.dashboard, s.identify)
	e.Match(pageMethods, "/dashboard/agencies/:id", s.agencyDashboard, s.identify)
	e.POST("/dashboard/comments/:response_id/:question_id", s.moderateForm, s.identify)
	// The weekly or monthly digest for the caller's role.
	e.Match(pageMethods, "/dashboard/digest", s.digestPage, s.identify)
	// An agency's simple alert rules as a plain form (the settings service checks who may change them).
	e.Match(pageMethods, "/dashboard/agencies/:id/alert-rules", s.alertRulesPage, s.identify)
	e.POST("/dashboard/agencies/:id/alert-rules", s.alertRulesForm, s.identify)
	// Survey and office management pages (plain forms; survey/authoring and the kiosk channel
	// decide who may change what: readers of the agency see the pages without forms).
	e.Match(pageMethods, "/dashboard/agencies/:id/surveys", s.surveysPage, s.identify)
	e.POST("/dashboard/agencies/:id/surveys", s.createSurveyForm, s.identify)
	e.Match(pageMethods, "/dashboard/surveys/:id/edit", s.editorPage, s.identify)
	e.POST("/dashboard/surveys/:id/edit", s.editorForm, s.identify)
	e.Match(pageMethods, "/dashboard/agencies/:id/offices", s.officesPage, s.identify)
	e.POST("/dashboard/agencies/:id/offices", s.createOfficeForm, s.identify)
	e.POST("/dashboard/agencies/:id/assignments", s.assignForm, s.identify)
	e.POST("/dashboard/offices/:id", s.renameOfficeForm, s.identify)
	e.POST("/dashboard/offices/:id/hours", s.officeHoursForm, s.identify)
	e.Match(pageMethods, "/dashboard/account", s.accountPage, s.identify)
	e.POST("/dashboard/account/password", s.accountPasswordForm, s.identify)
	e.POST("/dashboard/account/alert-phone", s.accountPhoneForm, s.identify)
	e.POST("/dashboard/account/tokens", s.accountTokenForm, s.identify)
	e.POST("/dashboard/account/tokens/:id/revoke", s.accountRevokeForm, s.identify)
	e.Match(pageMethods, "/dashboard/users", s.usersPage, s.identify)
	e.POST("/dashboard/users", s.usersAddForm, s.identify)
	e.POST("/dashboard/users/:id/password", s.usersResetForm, s.identify)
	e.POST("/dashboard/users/:id/access", s.usersAccessForm, s.identify)
	// The pages that act (plain forms, CSRF-checked by identify): alerts acknowledged from the
	// dashboards, follow-up cases, the audit log. The alert desk, the cases service and the
	// accounts service decide who may, from the principal.
	e.POST("/dashboard/alerts/:id/ack", s.ackAlertForm, s.identify)
	e.Match(pageMethods, "/dashboard/agencies/:id/cases", s.casesPage, s.identify)
	e.POST("/dashboard/cases/:id/ack", s.caseForm("ack"), s.identify)
	e.POST("/dashboard/cases/:id/assign", s.caseForm("assign"), s.identify)
	e.POST("/dashboard/cases/:id/resolve", s.caseForm("resolve"), s.identify)
	e.POST("/dashboard/cases/:id/reveal", s.caseForm("reveal"), s.identify)
	e.Match(pageMethods, "/dashboard/audit", s.auditPage, s.identify)

	// Lobby tablets. Pairing is open to whoever holds a code, rate-limited per client IP; the
	// rest needs a kiosk's device token (afkk_…), which the kiosk channel checks — never the
	// staff token table, so a staff or integration token here is 401, and a device token
	// anywhere else is 401 too.
	e.POST("/api/v1/kiosk/pair", s.pairKiosk, s.rateLimitPairing, requireJSON)
	e.GET("/api/v1/kiosk/config", s.kioskConfig, s.identifyKiosk)
	e.POST("/api/v1/kiosk/responses", s.kioskResponses, s.identifyKiosk, requireJSON)
	e.POST("/api/v1/kiosk/heartbeat", s.kioskHeartbeat, s.identifyKiosk, requireJSON)

	// SMS invitations after a visit: an agency's SMS integration token (its queue or service
	// system) or its admins; the channel checks which offices the caller may invite for.
	e.POST("/api/v1/invitations", s.postInvitations, s.identify, s.requirePrincipal, requireJSON)
	e.POST("/api/v1/invitations.csv", s.postInvitationsCSV, s.identify, s.requirePrincipal)

	// Kavenegar's push of citizens' replies. Unsigned: the path's secret is the credential (a
	// wrong one is 404), and only the route template is ever logged.
	e.POST("/api/v1/sms/kavenegar/inbound/:secret", s.smsInboundPush)
	e.POST("/api/v1/sms/kavenegar/status/:secret", s.smsStatusPush)
	// The development page of the SMS loop, on the embedded default only (see Deps.DevSMS).
	if s.d.DevSMS != nil && s.d.SMSInbox != nil {
		e.Match(pageMethods, "/dev/sms", s.devSMSPage)
		e.POST("/dev/sms", s.devSMSReply)
	}

	// Staff: province and agency staff. Tenancy (which agencies a principal may read) is
	// enforced below the handlers, in the catalog, the scores service and the kiosk channel,
	// from the principal; changing kiosks and office hours also needs an admin of the agency
	// (agency_admin) or of the province.
	staff := []echo.MiddlewareFunc{s.identify, s.requireStaff}
	e.GET("/api/v1/agencies", s.listAgencies, staff...)
	e.GET("/api/v1/agencies/:id/score", s.getScore, staff...)
	e.GET("/api/v1/agencies/:id/funnel", s.getFunnel, staff...)
	e.GET("/api/v1/agencies/:id/trend", s.getTrend, staff...)
	e.GET("/api/v1/agencies/:id/comments", s.getComments, staff...)
	e.GET("/api/v1/province/agencies", s.getProvinceAgencies, staff...)
	e.GET("/api/v1/agencies/:id/offices/scores", s.getOfficeScores, staff...)
	// Comment moderation: an admin of the comment's agency (or of the province); the comments
	// service checks it and audits the decision.
	e.POST("/api/v1/comments/:response_id/:question_id/moderation", s.postModeration, s.identify, s.requireStaff, requireJSON)
	e.GET("/api/v1/agencies/:id/digest", s.getAgencyDigest, staff...)
	e.GET("/api/v1/digest", s.getDigest, staff...)
	// Exports, streamed as they are read: raw responses and the score table, CSV or XLSX.
	e.GET("/api/v1/agencies/:id/responses.csv", s.getResponsesExport("csv"), staff...)
	e.GET("/api/v1/agencies/:id/responses.xlsx", s.getResponsesExport("xlsx"), staff...)
	e.GET("/api/v1/agencies/:id/score.csv", s.getScoreExport("csv"), staff...)
	e.GET("/api/v1/agencies/:id/score.xlsx", s.getScoreExport("xlsx"), staff...)
	// The printable monthly report (HTML, A4). Bearer token like the JSON staff routes for now.
	e.Match(pageMethods, "/agencies/:id/report", s.monthlyReport, staff...)
	e.GET("/api/v1/agencies/:id/sms/inbound", s.getSMSInbound, staff...)
	// Alerts: staff read their agencies' alerts; an admin of the agency or of the province
	// acknowledges one (the alert desk checks which).
	e.GET("/api/v1/alerts", s.listAlerts, staff...)
	e.POST("/api/v1/alerts/:id/ack", s.ackAlert, s.identify, s.requireStaff, requireJSON)
	// An agency's simple alert rules (share unhappy, score below/above): its staff read them, an
	// admin of the agency or the province changes them (analytics.AlertRuleSettings; audited).
	e.GET("/api/v1/agencies/:id/alert-rules", s.getAlertRules, staff...)
	e.PUT("/api/v1/agencies/:id/alert-rules", s.putAlertRules, s.identify, s.requireStaff, requireJSON)
	e.GET("/api/v1/kiosks", s.listKiosks, staff...)
	e.POST("/api/v1/kiosks", s.createKiosk, s.identify, s.requireStaff, requireJSON)
	e.POST("/api/v1/kiosks/:id/pairing", s.newPairing, staff...)
	e.GET("/api/v1/kiosks/:id/pairing", s.pairingSheet, staff...)
	e.GET("/api/v1/kiosks/:id/pairing.png", s.pairingQR, staff...)
	e.DELETE("/api/v1/kiosks/:id/token", s.revokeKiosk, staff...)
	e.GET("/api/v1/kiosks/:id/stats", s.kioskStats, staff...)
	e.GET("/api/v1/offices/:id/hours", s.getOfficeHours, staff...)
	e.PUT("/api/v1/offices/:id/hours", s.putOfficeHours, s.identify, s.requireStaff, requireJSON)
	// Office posters (agency admins): the poster link, its QR code and the printable A4 page.
	e.GET("/api/v1/offices/:id/poster", s.officePoster, staff...)
	e.POST("/api/v1/offices/:id/poster", s.officePoster, staff...)
	e.GET("/api/v1/offices/:id/poster.png", s.posterPNG, staff...)
	e.GET("/api/v1/offices/:id/poster.svg", s.posterSVG, staff...)
	e.GET("/api/v1/offices/:id/poster.html", s.posterHTML, staff...)

	// Follow-up cases of unhappy citizens who agreed to be contacted: the cases package checks
	// tenancy (another agency's case is 404) and roles (changes need an admin of the agency or
	// the province; the full number only an admin of the agency, audited).
	e.GET("/api/v1/agencies/:id/cases", s.listCases, staff...)
	e.GET("/api/v1/agencies/:id/cases/stats", s.caseStats, staff...)
	e.GET("/api/v1/cases/:id", s.getCase(), staff...)
	e.POST("/api/v1/cases/:id/reveal", s.revealCase(), staff...)
	e.POST("/api/v1/cases/:id/assign", s.assignCase(), s.identify, s.requireStaff, requireJSON)
	e.POST("/api/v1/cases/:id/ack", s.ackCase(), staff...)
	e.POST("/api/v1/cases/:id/resolve", s.resolveCase(), s.identify, s.requireStaff, requireJSON)

	// Surveys and offices (survey/authoring decides who may: staff read their agencies, admins
	// of the agency or the province change them, and every change is audited).
	e.GET("/api/v1/templates", s.listTemplates, staff...)
	e.GET("/api/v1/agencies/:id/surveys", s.listSurveys, staff...)
	e.POST("/api/v1/agencies/:id/surveys", s.createSurvey, s.identify, s.requireStaff, requireJSON)
	e.GET("/api/v1/agencies/:id/offices", s.listOffices, staff...)
	e.POST("/api/v1/agencies/:id/offices", s.createOffice, s.identify, s.requireStaff, requireJSON)
	e.PATCH("/api/v1/offices/:id", s.patchOffice, s.identify, s.requireStaff, requireJSON)
	e.GET("/api/v1/agencies/:id/assignments", s.listAssignments, staff...)
	e.PUT("/api/v1/agencies/:id/assignments", s.putAssignment, s.identify, s.requireStaff, requireJSON)
	e.GET("/api/v1/surveys/:id/draft", s.getDraft, staff...)
	e.PUT("/api/v1/surveys/:id/draft", s.putDraft, s.identify, s.requireStaff, requireJSON)
	e.POST("/api/v1/surveys/:id/publish", s.publishSurvey, staff...)
	e.GET("/api/v1/surveys/:id/versions", s.listVersions, staff...)
	e.Match(pageMethods, "/surveys/:id/preview", s.previewSurvey, staff...)

	// Accounts: a person's own password (sessions only), and the users API and audit log for
	// admins — survey/staff decides whose accounts a caller may see and change (a province admin
	// everyone's, an agency admin its agency's, never a province role).
	e.POST("/api/v1/me/password", s.postMyPassword, s.identify, s.requireStaff, requireJSON)
	// API tokens for machine clients: province admins (all), agency admins (their integrations).
	e.GET("/api/v1/tokens", s.listTokens, s.identify, s.requireStaff)
	e.POST("/api/v1/tokens", s.createToken, s.identify, s.requireStaff, requireJSON)
	e.DELETE("/api/v1/tokens/:id", s.revokeToken, s.identify, s.requireStaff)
	// The number a person's agency alerts reach them on by SMS.
	e.GET("/api/v1/me/alert-phone", s.getAlertPhone, s.identify, s.requireStaff)
	e.PUT("/api/v1/me/alert-phone", s.putAlertPhone, s.identify, s.requireStaff, requireJSON)
	e.GET("/api/v1/users", s.listUsers, staff...)
	e.POST("/api/v1/users", s.createUser, s.identify, s.requireStaff, requireJSON)
	e.PATCH("/api/v1/users/:id", s.patchUser, s.identify, s.requireStaff, requireJSON)
	e.POST("/api/v1/users/:id/password", s.resetUserPassword, staff...)
	e.GET("/api/v1/audit", s.listAudit, staff...)
}

// registerOpsRoutes adds the internal routes: probes and metrics for the orchestrator and
// Prometheus. Anyone who can reach the port may call them; expose only the API paths through the
// public proxy. A standalone worker serves these and nothing else (NewOps).
func (s *Server) registerOpsRoutes() {
	s.e.GET("/healthz", s.healthz)
	s.e.GET("/readyz", s.readyz)
	s.e.GET("/metrics", s.metricsHandler())
}

// registerDocsRoutes serves the API's description (api/openapi.yaml) and its readable page.
// Anyone may read them: they describe the public contract, no data.
func (s *Server) registerDocsRoutes() {
	s.e.Match(pageMethods, "/api/openapi.yaml", s.getOpenAPI)
	s.e.Match(pageMethods, "/api/docs", s.getAPIDocs)
}
