package api

import (
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// principalKey is where identify leaves the caller's principal in the Echo context.
const principalKey = "afkar.principal"

// unmatchedRoute labels requests that matched no route, so scanners probing random URLs cannot
// create unbounded metric series or flood logs with their paths.
const unmatchedRoute = "unmatched"

var notFoundHandler = reflect.ValueOf(echo.NotFoundHandler).Pointer()

// truncate cuts s to at most n bytes (on a rune boundary) and marks the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// otherMethod labels any request method outside the standard set.
const otherMethod = "other"

// methodLabel is the request method as metrics and logs may record it: one of the standard
// methods, or "other". A client controls the method string (net/http accepts any token up to the
// header limit), so recording it raw would let one request create a metric series or a log field
// hundreds of kilobytes long — an attack measured at 90 MB of RSS from 200 requests.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return otherMethod
}

// routeLabel is the registered path template of the request (e.g. /api/v1/agencies/:id/score),
// never the raw URL: ids, and secrets some webhooks carry in their path, stay out of logs and
// metric labels.
func routeLabel(c echo.Context) string {
	if c.Path() == "" || reflect.ValueOf(c.Handler()).Pointer() == notFoundHandler {
		return unmatchedRoute
	}
	return c.Path()
}

// observe is the outermost middleware: it settles the response (running the error handler for a
// returned error, so the status is final), then records metrics and logs one line. 2xx/3xx log at
// Debug and 4xx/5xx at Info. The Authorization header, the raw URL and query strings are never
// logged: only the route template.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		dur := time.Since(start)
		req, res := c.Request(), c.Response()
		status := res.Status
		route := routeLabel(c)
		if s.metrics != nil {
			s.metrics.observe(route, methodLabel(req.Method), status, dur)
		}
		level := slog.LevelDebug
		if status >= 400 {
			level = slog.LevelInfo
		}
		ctx := req.Context()
		if !s.log.Enabled(ctx, level) {
			return nil
		}
		attrs := []any{"method", methodLabel(req.Method), "route", route, "status", status,
			"duration_ms", float64(dur.Microseconds()) / 1000, "bytes", res.Size}
		if methodLabel(req.Method) == otherMethod {
			attrs = append(attrs, "method_raw", truncate(req.Method, 32))
		}
		if status >= 400 {
			// Only failures carry the client IP (to trace abuse); a citizen's accepted
			// submission is not logged with an address that could tie it to a person.
			attrs = append(attrs, "ip", c.RealIP())
		}
		s.log.Log(ctx, level, "http request", attrs...)
		return nil
	}
}

// recoverPanic turns a panic in a handler into a 500 envelope and a logged stack, so one bad
// request cannot take the server down. http.ErrAbortHandler keeps its meaning (abort silently).
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic in handler", "route", routeLabel(c), "method", methodLabel(c.Request().Method),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = survey.Wrap(survey.ECodeInternal, fmt.Errorf("panic: %v", r), "خطای داخلی رخ داد.", "internal error")
		}()
		return next(c)
	}
}

// securityHeaders sets headers every response should carry: no MIME sniffing, no framing, no
// referrer leaking survey links with tokens.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// limitBody bounds every request body; reading past the limit fails with *http.MaxBytesError,
// which the error handler answers with 413. A declared oversize length is refused up front.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.d.MaxBodyBytes {
			return newError(codeTooLarge)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.d.MaxBodyBytes)
		}
		return next(c)
	}
}

// identify reads `Authorization: Bearer <token>`. Without the header, a valid session cookie
// (afkar_session) identifies the caller instead — and then a state-changing request must carry
// the session's CSRF token (checkCSRF) — or the request goes on anonymously; with the header, the token must be one the Authenticator knows — the bootstrap admin's
// included, which is a token row like any other — or the request is refused with 401, because a
// client that presents credentials should learn they are wrong rather than be silently treated
// as anonymous.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return s.identifyWith(func() Authenticator { return s.d.Auth }, false)(next)
}

// identifyKiosk admits only a paired kiosk's device token, checked by the kiosk channel (never
// the staff token table): no header, a staff or integration token, or a revoked device token is
// 401.
func (s *Server) identifyKiosk(next echo.HandlerFunc) echo.HandlerFunc {
	return s.identifyWith(func() Authenticator {
		if s.d.Kiosks == nil {
			return nil
		}
		return s.d.Kiosks
	}, true)(next)
}

// identifyWith is identify over an authenticator (looked up per request, so a nil one answers
// 401); required refuses requests without credentials.
func (s *Server) identifyWith(auth func() Authenticator, required bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			if h == "" {
				if required {
					return newError(survey.ECodeUnauthorized)
				}
				p, token, ok, err := s.sessionFromCookie(c)
				if err != nil {
					return err
				}
				if ok {
					if err := s.checkCSRF(c, token); err != nil {
						return err
					}
					c.Set(principalKey, p)
					c.Set(sessionKey, token)
					c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
				}
				return next(c)
			}
			token, ok := bearerToken(h)
			if !ok {
				return survey.Errorf(survey.ECodeUnauthorized, "سرآیند Authorization باید به شکل Bearer <توکن> باشد.", "the Authorization header must be `Bearer <token>`")
			}
			p, err := s.authenticate(c, auth(), token)
			if err != nil {
				return err
			}
			if p.Via == "" {
				p.Via = survey.ViaToken
				if required { // the kiosk channel's device tokens
					p.Via = survey.ViaDevice
				}
			}
			c.Set(principalKey, p)
			// What an authenticated caller reads is for that caller only: keep it out of caches.
			c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
			return next(c)
		}
	}
}

// bearerToken takes the token out of an Authorization header value; the scheme is
// case-insensitive (RFC 7235).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// authenticate resolves a token. Storage failures keep their own code (503 rather than a
// misleading 401); any other refusal is a plain 401 that does not say why.
func (s *Server) authenticate(c echo.Context, auth Authenticator, token string) (survey.Principal, error) {
	if auth == nil {
		return survey.Principal{}, newError(survey.ECodeUnauthorized)
	}
	p, err := auth.Authenticate(c.Request().Context(), token)
	if err != nil {
		switch survey.ErrorCode(err) {
		case survey.ECodeUnavailable, survey.ECodeSchemaBehind, survey.ECodeInternal:
			return survey.Principal{}, err
		}
		return survey.Principal{}, newError(survey.ECodeUnauthorized)
	}
	return p, nil
}

// principal returns the caller identified by identify.
func principal(c echo.Context) (survey.Principal, bool) {
	p, ok := c.Get(principalKey).(survey.Principal)
	return p, ok
}

// requirePrincipal refuses anonymous requests with 401.
func (s *Server) requirePrincipal(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := principal(c); !ok {
			return newError(survey.ECodeUnauthorized)
		}
		return next(c)
	}
}

// requireStaff admits province and agency staff: 401 without credentials, 403 for a machine
// principal (an integration token may submit responses but not read scores).
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := principal(c)
		if !ok {
			return newError(survey.ECodeUnauthorized)
		}
		if !p.IsStaff() {
			return newError(survey.ECodeForbidden)
		}
		return next(c)
	}
}

// rateLimitSubmissions runs after identify and spends one request of the caller's bucket:
// anonymous callers share a bucket per client IP (Deps.RateLimit), each bearer token has its own,
// larger one (Deps.TokenRateLimit), so a kiosk fleet behind one address is not throttled like a
// single browser, yet a leaked token cannot flood intake either. Refused requests get 429 with
// Retry-After.
func (s *Server) rateLimitSubmissions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, key := s.limiter, ""
		if p, ok := principal(c); ok {
			// identify admitted the token or session, so the key space is the valid
			// credentials: bounded.
			l = s.tokenLimiter
			key, _ = bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if key == "" {
				key = "user:" + strconv.FormatInt(int64(p.UserID), 10)
			}
		} else if l != nil {
			key = c.RealIP()
		}
		if err := spend(c, l, key); err != nil {
			return err
		}
		return next(c)
	}
}

// rateLimitPairing spends one request of the client IP's pairing bucket (Deps.PairRateLimit):
// a pairing code is short, so guessing one must be slow.
func (s *Server) rateLimitPairing(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := spend(c, s.pairLimiter, c.RealIP()); err != nil {
			return err
		}
		return next(c)
	}
}

// spend takes one request from key's bucket in l (nil: no limit); a refusal is 429 with
// Retry-After.
func spend(c echo.Context, l *limiter, key string) error {
	if l == nil {
		return nil
	}
	if ok, wait := l.allow(key); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return newError(survey.ECodeRateLimited)
	}
	return nil
}

// requireJSON refuses bodies that are not declared as JSON with 415 — a missing Content-Type
// included. A third-party page can make its visitors' browsers POST a form or text/plain
// without a CORS preflight, but not application/json; requiring it means another site cannot
// cast votes through citizens' browsers. A charset parameter is optional but, if present, must
// be UTF-8 (the only encoding JSON allows).
func requireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		if ct == echo.MIMEApplicationJSON { // the common case, without parsing
			return next(c)
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return newError(codeUnsupportedMediaType)
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			return newError(codeUnsupportedMediaType)
		}
		return next(c)
	}
}
