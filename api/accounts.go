package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// Accounts is people's accounts as the API uses them: login sessions and their CSRF tokens, a
// user's own password, and the users API and audit log for admins (survey/staff.Service).
// Tenancy is enforced there, from the principal.
type Accounts interface {
	Login(ctx context.Context, login, password, ip, previous string) (string, staff.User, error)
	Authenticate(ctx context.Context, token string) (survey.Principal, error)
	Logout(ctx context.Context, token string) error
	ChangePassword(ctx context.Context, p survey.Principal, current, oldPassword, newPassword string) error
	Me(ctx context.Context, p survey.Principal) (staff.User, error)
	CSRFToken(session string) string
	CheckCSRF(session, got string) bool
	LoginCSRF(pre string) string
	CheckLoginCSRF(pre, got string) bool
	CreateUser(ctx context.Context, actor survey.Principal, nu staff.NewUser) (staff.User, string, error)
	Users(ctx context.Context, actor survey.Principal) ([]staff.User, error)
	User(ctx context.Context, actor survey.Principal, id survey.ID) (staff.User, error)
	UpdateUser(ctx context.Context, actor survey.Principal, id survey.ID, patch staff.UserPatch) (staff.User, error)
	ResetPassword(ctx context.Context, actor survey.Principal, id survey.ID) (string, error)
	AuditLog(ctx context.Context, actor survey.Principal, q survey.AuditQuery) ([]survey.AuditEntry, error)
}

// Cookie names. The session cookie carries the session token; the login cookie a random value
// the login form's CSRF token is bound to, before there is a session.
const (
	SessionCookie    = "afkar_session"
	loginCSRFCookie  = "afkar_login"
	csrfHeader       = "X-CSRF-Token"
	csrfField        = "csrf_token"
	dashboardPath    = "/dashboard"
	loginPath        = "/login"
	loginCookiePath  = "/login"
	loginCookieLife  = 3600
	sessionCookieAge = int(staff.AbsoluteTimeout / 1e9)
)

// sessionKey is where identify leaves the session token of a cookie-authenticated request.
const sessionKey = "afkar.session"

// secureCookie reports whether cookies must be marked Secure: over TLS, behind a trusted proxy
// that says https, or when the operator says so (AFKAR_COOKIE_SECURE=1).
func (s *Server) secureCookie(c echo.Context) bool {
	if s.d.CookieSecure || c.IsTLS() {
		return true
	}
	return s.d.TrustProxy && strings.EqualFold(c.Request().Header.Get(echo.HeaderXForwardedProto), "https")
}

func (s *Server) setCookie(c echo.Context, name, value, path string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(c)})
}

// sessionFromCookie authenticates the session cookie. An unknown or expired session is no
// session: the cookie is cleared and the request goes on anonymously (a citizen's browser with
// a stale cookie must still reach the public pages); a storage failure is returned.
func (s *Server) sessionFromCookie(c echo.Context) (survey.Principal, string, bool, error) {
	if s.d.Accounts == nil {
		return survey.Principal{}, "", false, nil
	}
	ck, err := c.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return survey.Principal{}, "", false, nil
	}
	p, err := s.d.Accounts.Authenticate(c.Request().Context(), ck.Value)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeUnauthorized {
			s.setCookie(c, SessionCookie, "", "/", -1)
			return survey.Principal{}, "", false, nil
		}
		return survey.Principal{}, "", false, err
	}
	return p, ck.Value, true, nil
}

// safeMethod reports whether m changes nothing (RFC 9110), so needs no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a state-changing request made with a session cookie unless it carries the
// session's CSRF token, in the X-CSRF-Token header (scripts) or the csrf_token form field
// (server-rendered forms). Bearer-token requests never come here: a browser does not attach a
// bearer token on its own.
func (s *Server) checkCSRF(c echo.Context, session string) error {
	if safeMethod(c.Request().Method) {
		return nil
	}
	got := c.Request().Header.Get(csrfHeader)
	if got == "" {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		if strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm) {
			got = c.FormValue(csrfField)
		}
	}
	if !s.d.Accounts.CheckCSRF(session, got) {
		return errCSRF()
	}
	return nil
}

func errCSRF() error {
	return survey.Errorf(survey.ECodeForbidden, "درخواست بدون نشانهٔ امنیتی (CSRF) درست فرستاده شد؛ صفحه را دوباره باز کنید.",
		"missing or wrong CSRF token (X-CSRF-Token)")
}

// sessionToken returns the session token identify accepted ("" for a bearer or anonymous caller).
func sessionToken(c echo.Context) string {
	t, _ := c.Get(sessionKey).(string)
	return t
}

func randomValue() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// loginPage serves GET /login: the form, with a fresh pre-session cookie and its CSRF token. It
// is shown to a visitor already logged in too (to switch accounts: the login rotates the session).
func (s *Server) loginPage(c echo.Context) error {
	if s.d.Accounts == nil {
		return unavailable("accounts")
	}
	return s.renderLogin(c, http.StatusOK, "", "")
}

func (s *Server) renderLogin(c echo.Context, status int, login, msg string) error {
	pre := randomValue()
	s.setCookie(c, loginCSRFCookie, pre, loginCookiePath, loginCookieLife)
	return s.pages.Login(c, status, web.LoginPage{CSRF: s.d.Accounts.LoginCSRF(pre), Login: login, Error: msg})
}

// postLogin serves POST /login (a form): the pre-session CSRF check, then the password check;
// success sets the session cookie (a new session: any previous one is revoked) and redirects to
// the dashboard with 303; a refusal renders the form again with the reason in Persian.
func (s *Server) postLogin(c echo.Context) error {
	if s.d.Accounts == nil {
		return unavailable("accounts")
	}
	login := c.FormValue("login")
	pre, _ := c.Cookie(loginCSRFCookie)
	preValue := ""
	if pre != nil {
		preValue = pre.Value
	}
	if !s.d.Accounts.CheckLoginCSRF(preValue, c.FormValue(csrfField)) {
		return s.renderLogin(c, http.StatusForbidden, login, "مهلت این فرم گذشته است؛ دوباره وارد شوید.")
	}
	previous := ""
	if ck, err := c.Cookie(SessionCookie); err == nil {
		previous = ck.Value
	}
	token, _, err := s.d.Accounts.Login(c.Request().Context(), login, c.FormValue("password"), c.RealIP(), previous)
	if err != nil {
		var se *survey.Error
		status := http.StatusUnauthorized
		switch survey.ErrorCode(err) {
		case survey.ECodeUnauthorized:
		case survey.ECodeRateLimited:
			status = http.StatusTooManyRequests
		default:
			return err
		}
		msg := "ورود ناموفق بود."
		if errors.As(err, &se) {
			msg = se.MessageFA
		}
		return s.renderLogin(c, status, login, msg)
	}
	s.setCookie(c, loginCSRFCookie, "", loginCookiePath, -1)
	s.setCookie(c, SessionCookie, token, "/", sessionCookieAge)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Redirect(http.StatusSeeOther, dashboardPath)
}

// postLogout serves POST /logout: it ends the cookie's session (identify has checked its CSRF
// token), clears the cookie and returns to the login page.
func (s *Server) postLogout(c echo.Context) error {
	if tok := sessionToken(c); tok != "" && s.d.Accounts != nil {
		if err := s.d.Accounts.Logout(c.Request().Context(), tok); err != nil {
			return err
		}
	}
	s.setCookie(c, SessionCookie, "", "/", -1)
	return c.Redirect(http.StatusSeeOther, loginPath)
}

// meReply is GET /api/v1/me: the principal, and for a session also the account and the CSRF
// token scripts must send with state-changing requests.
type meReply struct {
	survey.Principal
	User      *staff.User `json:"user,omitempty"`
	CSRFToken string      `json:"csrf_token,omitempty"`
}

// getMe answers the caller's principal, so a client can check its credentials and learn its role.
func (s *Server) getMe(c echo.Context) error {
	p, _ := principal(c)
	out := meReply{Principal: p}
	if tok := sessionToken(c); tok != "" && p.UserID != 0 {
		u, err := s.d.Accounts.Me(c.Request().Context(), p)
		if err != nil {
			return err
		}
		out.User, out.CSRFToken = &u, s.d.Accounts.CSRFToken(tok)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) accounts() (Accounts, error) {
	if s.d.Accounts == nil {
		return nil, unavailable("accounts")
	}
	return s.d.Accounts, nil
}

// postMyPassword serves POST /api/v1/me/password {old_password, new_password}: a person changes
// their own password; every other session of theirs ends.
func (s *Server) postMyPassword(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	var body struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	p, _ := principal(c)
	if err := a.ChangePassword(c.Request().Context(), p, sessionToken(c), body.OldPassword, body.NewPassword); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listUsers serves GET /api/v1/users: the accounts the caller may manage.
func (s *Server) listUsers(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	p, _ := principal(c)
	us, err := a.Users(c.Request().Context(), p)
	if err != nil {
		return err
	}
	if us == nil {
		us = []staff.User{}
	}
	return c.JSON(http.StatusOK, us)
}

// createdUser is POST /api/v1/users' answer: the account and, when the server generated it,
// the one-time password (shown once, never stored in clear).
type createdUser struct {
	User     staff.User `json:"user"`
	Password string     `json:"password,omitempty"`
}

// createUser serves POST /api/v1/users.
func (s *Server) createUser(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	var nu staff.NewUser
	if err := decodeBody(c, &nu); err != nil {
		return err
	}
	p, _ := principal(c)
	generated := nu.Password == ""
	u, pw, err := a.CreateUser(c.Request().Context(), p, nu)
	if err != nil {
		return err
	}
	out := createdUser{User: u}
	if generated {
		out.Password = pw
	}
	return c.JSON(http.StatusCreated, out)
}

// userID reads the :id parameter; a malformed one is not found.
func userID(c echo.Context) (survey.ID, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, survey.Errorf(survey.ECodeNotFound, "این کاربر پیدا نشد.", "user not found")
	}
	return survey.ID(n), nil
}

// patchUser serves PATCH /api/v1/users/{id} {name?, role?, agency_id?, disabled?}.
func (s *Server) patchUser(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	var patch staff.UserPatch
	if err := decodeBody(c, &patch); err != nil {
		return err
	}
	p, _ := principal(c)
	u, err := a.UpdateUser(c.Request().Context(), p, id, patch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// resetUserPassword serves POST /api/v1/users/{id}/password: a new one-time password, shown
// once; the account's sessions end.
func (s *Server) resetUserPassword(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	pw, err := a.ResetPassword(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"password": pw})
}

// listAudit serves GET /api/v1/audit?entity=&before=&limit=: newest first, a province admin
// every entry, an agency admin its agency's.
func (s *Server) listAudit(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	q := survey.AuditQuery{Entity: c.QueryParam("entity")}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return survey.Errorf(survey.ECodeBadRequest, "پارامتر before باید عدد باشد.", "before must be a number")
		}
		q.BeforeID = survey.ID(n)
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return survey.Errorf(survey.ECodeBadRequest, "پارامتر limit باید عدد باشد.", "limit must be a number")
		}
		q.Limit = n
	}
	p, _ := principal(c)
	es, err := a.AuditLog(c.Request().Context(), p, q)
	if err != nil {
		return err
	}
	if es == nil {
		es = []survey.AuditEntry{}
	}
	return c.JSON(http.StatusOK, es)
}
