// Package api is Afkar's HTTP face: an Echo server that lets citizens fetch a survey and submit
// answers, lets lobby kiosks pair and sync, lets staff read the agencies and scores they may see
// and manage their kiosks and office hours, and lets operators probe health and scrape metrics.
// Every route is registered in routes.go, grouped by who may call it; every error leaves through
// one handler (errors.go) that maps survey error codes to HTTP status in one table. Handlers call
// small interfaces declared here (Catalog, Intake, Scores, Authenticator, Kiosks), so cmd/afkar
// decides which storage, buffer, analytics and channel implementations stand behind them; the
// package imports the survey domain, analytics' result types, the channels' request and result
// types and api/web's HTML pages, never a store or a buffer.
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
)

// Catalog is the part of the survey store the API reads: the agencies a caller may list and what a
// citizen is asked. The SQL store implements it.
type Catalog interface {
	// Agencies lists the agencies p may see, ordered by id.
	Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error)
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error)
	// ActiveVersionFor is the version an office offers on a channel (survey assignments), for
	// the web form of a poster or an invitation, which knows its office.
	ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
}

// Intake checks a submission against the origin the handler vouches for, validates it and
// returns once it is durable; the receipt carries the id the client is acknowledged with and
// whether the submission was a resend.
type Intake interface {
	Submit(ctx context.Context, origin survey.Origin, s *survey.Submission) (survey.Receipt, error)
}

// Scores computes an agency's score for a period, optionally for one of its offices. It enforces
// tenancy itself (from the principal), so no handler can forget to; the query parameters are
// passed through as the client wrote them, and their errors come from there.
type Scores interface {
	Score(ctx context.Context, p survey.Principal, agencyID survey.ID, q analytics.ScoreQuery) (analytics.Score, error)
}

// Authenticator turns a bearer token into a principal; unknown tokens are ECodeUnauthorized.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (survey.Principal, error)
}

// Check is one readiness probe (intake, the database): /readyz is 200 only when all pass, except
// Detail checks, which are reported in the answer's "checks" but do not make the server unready —
// the database, say, whose outage the server rides out on its buffer and caches.
type Check struct {
	Name   string
	Ping   func(context.Context) error
	Detail bool
}

// Deps is everything the server needs from the outside. Nil interfaces leave their routes
// registered but answering 503, so a partly wired server still explains itself.
type Deps struct {
	Catalog Catalog
	Intake  Intake
	Scores  Scores
	Auth    Authenticator
	// Kiosks is the kiosk channel: tablets' pairing, configuration, batches and heartbeats
	// (authenticated by their device tokens, never by Auth), and staff's kiosks and office hours.
	Kiosks Kiosks
	// WebLinks signs and checks the web form's links (channels/weblink.Keys) and LinkStore keeps
	// their single use; without both, /s/ and /p/ answer a Persian "unavailable" page.
	WebLinks  WebLinks
	LinkStore LinkStore
	// FormRateLimit is how many answers per minute one client IP may post to the web form
	// (/s/, /p/); 0 means DefaultFormRateLimit, negative turns it off.
	FormRateLimit int
	// SMSInbox takes citizens' SMS replies (channels/sms.Inbox); SMSWebhookSecret is the path
	// secret of Kavenegar's push (AFKAR_KAVENEGAR_WEBHOOK_SECRET). Without both the push route
	// answers 404.
	SMSInbox         SMSInbox
	SMSWebhookSecret string
	// SMSDeliveries records delivery statuses the gateway pushes
	// (POST /api/v1/sms/kavenegar/status/{secret}, channels/sms.Deliveries); without it, or
	// without SMSWebhookSecret, the route answers 404.
	SMSDeliveries SMSDeliveries
	// DevSMS, set only on the embedded default (SQLite, no Redis), adds the development page
	// /dev/sms: the console gateway's SMS and a form to reply as a citizen (through SMSInbox).
	DevSMS DevSMS
	// Tokens manages API tokens (GET/POST /api/v1/tokens, DELETE /api/v1/tokens/{id}).
	Tokens TokenAdmin
	// AlertPhones keeps the numbers people get alerts on (GET/PUT /api/v1/me/alert-phone).
	AlertPhones AlertPhones
	// Digests builds the weekly and monthly digests (GET /api/v1/digest, …/agencies/{id}/digest).
	Digests Digests
	// Funnel reads the SMS funnel for GET /api/v1/agencies/{id}/funnel (the SQL store).
	Funnel FunnelStore
	// SMSReplies lists replies to an agency's invitations, numbers masked, for
	// GET /api/v1/agencies/{id}/sms/inbound (channels/sms.Staff).
	SMSReplies SMSReplies
	// Exports prepares CSV and XLSX exports of an agency's responses and score table
	// (analytics/export.Service), for GET /api/v1/agencies/{id}/responses.csv|.xlsx and
	// score.csv|.xlsx.
	Exports Exports
	// Invitations is the SMS channel's invitation service (POST /api/v1/invitations and
	// /api/v1/invitations.csv).
	Invitations Invitations
	// Dashboard computes the staff dashboards (analytics.Dashboard): trends, the province table
	// and funnel plot, offices, the province median. Comments lists and moderates citizens'
	// comments (analytics.Comments). Hours gives the hour × weekday heatmap its data (the hourly
	// rollups); nil leaves the heatmap saying «داده کافی نیست».
	Dashboard Dashboards
	Comments  CommentService
	Hours     HourReader
	// Cases is the follow-up cases' workflow (cases.Service): the staff routes under
	// /api/v1/cases and /api/v1/agencies/{id}/cases, and the consent of the web form and the
	// kiosk. Without it the routes answer 503 and consent is ignored.
	Cases Cases
	// Alerts lists and acknowledges alerts (analytics.AlertDesk): GET /api/v1/alerts and
	// POST /api/v1/alerts/{id}/ack.
	Alerts Alerts
	// AlertRules reads and changes agencies' simple alert rules (analytics.AlertRuleSettings):
	// GET/PUT /api/v1/agencies/{id}/alert-rules and the page /dashboard/agencies/{id}/alert-rules.
	AlertRules AlertRules
	// Accounts is people's accounts (survey/staff.Service): /login, /logout, session cookies in
	// identify, /api/v1/me/password, the users API and the audit log. Without it the session
	// cookie is ignored and those routes answer 503.
	Accounts Accounts
	// Surveys is survey and office management (survey/authoring.Service): drafts, publishing,
	// versions, assignments to offices and channels, offices; without it those routes answer 503.
	Surveys Surveys
	// CookieSecure marks cookies Secure even on plain HTTP requests (AFKAR_COOKIE_SECURE=1,
	// for a TLS proxy that does not say X-Forwarded-Proto); over TLS they always are.
	CookieSecure bool
	// PairRateLimit is how many pairing attempts per minute one client IP may make
	// (POST /api/v1/kiosk/pair); 0 means DefaultPairRateLimit, negative turns it off.
	PairRateLimit int
	// RateLimit is how many responses per minute one client IP may submit anonymously.
	// 0 turns it off.
	RateLimit int
	// TokenRateLimit is how many responses per minute one bearer token may submit. 0 turns
	// it off.
	TokenRateLimit int
	// TrustProxy makes the client IP come from X-Forwarded-For (set by a reverse proxy on a
	// private or loopback address) instead of the connection's remote address. Leave it off
	// when clients reach the server directly: they could forge the header to dodge the limit.
	TrustProxy bool
	// MaxBodyBytes bounds request bodies (default 64 KiB).
	MaxBodyBytes int64
	Ready        []Check
	// Gatherer serves /metrics; Registerer receives the HTTP metrics. Either may be nil; when
	// Gatherer is nil and Registerer is also a Gatherer (a *prometheus.Registry), it is used.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Version    string
}

// DefaultPairRateLimit is Deps.PairRateLimit's default: ten tries a minute is plenty for a
// person typing a code, and makes guessing one of 31⁸ codes hopeless.
const DefaultPairRateLimit = 10

// DefaultMaxBodyBytes is the request body limit when Deps.MaxBodyBytes is zero: a submission is a
// few hundred bytes, so 64 KiB is generous for people and tight for abuse.
const DefaultMaxBodyBytes = 64 << 10

// Server is the configured Echo application.
type Server struct {
	d       Deps
	e       *echo.Echo
	log     *slog.Logger
	limiter *limiter // anonymous submissions, per client IP
	// tokenLimiter limits submissions per bearer token.
	tokenLimiter *limiter
	// pairLimiter limits kiosk pairing attempts per client IP.
	pairLimiter *limiter
	// formLimiter limits web-form answers per client IP.
	formLimiter *limiter
	metrics     *httpMetrics
	pages       *web.Pages
}

// New builds the server and registers every route.
func New(d Deps) *Server {
	s := newServer(d)
	s.registerRoutes()
	return s
}

// Routes lists every registered route (method and path template): the role × route matrix test
// walks it, so a route added without being classified fails the build's tests.
func (s *Server) Routes() []*echo.Route { return s.e.Routes() }

// NewOps builds a server with only the operator routes (/healthz, /readyz, /metrics): what a
// standalone aggregator (`afkar worker`) exposes, since it holds no intake or catalog to serve.
func NewOps(d Deps) *Server {
	s := newServer(d)
	s.registerOpsRoutes()
	return s
}

// newServer configures Echo and the middleware shared by every kind of server.
func newServer(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if d.Gatherer == nil {
		if g, ok := d.Registerer.(prometheus.Gatherer); ok {
			d.Gatherer = g
		} else {
			d.Gatherer = prometheus.NewRegistry()
		}
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(io.Discard) // everything worth saying goes through slog
	if d.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	s := &Server{d: d, e: e, log: d.Logger, pages: web.New(d.Version)}
	if d.RateLimit > 0 {
		s.limiter = newLimiter(d.RateLimit, nil)
	}
	if d.TokenRateLimit > 0 {
		s.tokenLimiter = newLimiter(d.TokenRateLimit, nil)
	}
	switch {
	case d.PairRateLimit == 0:
		s.pairLimiter = newLimiter(DefaultPairRateLimit, nil)
	case d.PairRateLimit > 0:
		s.pairLimiter = newLimiter(d.PairRateLimit, nil)
	}
	switch {
	case d.FormRateLimit == 0:
		s.formLimiter = newLimiter(DefaultFormRateLimit, nil)
	case d.FormRateLimit > 0:
		s.formLimiter = newLimiter(d.FormRateLimit, nil)
	}
	if d.Registerer != nil {
		s.metrics = newHTTPMetrics(d.Registerer)
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, s.recoverPanic, securityHeaders, s.limitBody)
	return s
}

// Handler returns the server as an http.Handler, for http.Server or httptest.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the Echo instance, for callers that add routes (e.g. a channel's webhook) or
// tune it; routes added this way still pass through the same middleware and error handler.
func (s *Server) Echo() *echo.Echo { return s.e }
