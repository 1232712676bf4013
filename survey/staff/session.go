package staff

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// errBadLogin is the one refusal of a login, whether the account is unknown, disabled, locked
// or the password wrong: an attacker must not learn which logins exist or are locked.
func errBadLogin() error {
	return survey.Errorf(survey.ECodeUnauthorized,
		"نام کاربری یا گذرواژه نادرست است، یا حساب موقتاً قفل شده است.",
		"wrong login or password, or the account is locked for a while")
}

func errSession() error {
	return survey.Errorf(survey.ECodeUnauthorized, "نشست شما پایان یافته است؛ دوباره وارد شوید.", "the session has ended; log in again")
}

// HashToken is the stored form of a session token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NormalizeLogin is how logins are compared: trimmed, lower case.
func NormalizeLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// Login checks login and password for a caller at ip and opens a new session, returning its
// token (shown to the browser only, as a cookie) and the user. previous, the session token the
// browser already held ("" for none), is revoked: a session id is never carried across a login
// (session fixation). Unknown logins cost the same Argon2 work as known ones.
func (s *Service) Login(ctx context.Context, login, password, ip, previous string) (string, User, error) {
	now := s.now()
	if !s.ips.allowed(ip, now) {
		return "", User{}, survey.Errorf(survey.ECodeRateLimited,
			"تلاش‌های ناموفق زیادی از این نشانی شده است؛ چند دقیقه بعد دوباره تلاش کنید.",
			"too many failed logins from this address; try again in a few minutes")
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen]
	}
	u, err := s.st.UserByLogin(ctx, NormalizeLogin(login))
	if err != nil && survey.ErrorCode(err) != survey.ECodeNotFound {
		return "", User{}, err
	}
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash()
	}
	ok, verr := VerifyPassword(ctx, hash, password)
	if verr != nil {
		return "", User{}, verr
	}
	if err != nil || u.Disabled || u.LockedUntil.After(now) || !ok {
		s.ips.fail(ip, now)
		if err == nil && !u.Disabled && !u.LockedUntil.After(now) {
			if ferr := s.st.LoginFailed(ctx, u.ID, LockAfter, now.Add(LockFor)); ferr != nil {
				return "", User{}, ferr
			}
		}
		return "", User{}, errBadLogin()
	}
	if NeedsRehash(u.PasswordHash) {
		if h, herr := HashPassword(ctx, password); herr == nil {
			u.PasswordHash = h
			if err := s.st.UpdateUser(ctx, u); err != nil {
				return "", User{}, err
			}
		}
	}
	if err := s.st.LoginSucceeded(ctx, u.ID, now); err != nil {
		return "", User{}, err
	}
	if previous != "" {
		if err := s.st.DeleteSession(ctx, HashToken(previous)); err != nil {
			return "", User{}, err
		}
	}
	token, err := s.openSession(ctx, u.ID, now)
	if err != nil {
		return "", User{}, err
	}
	u.LastLoginAt, u.FailedLogins, u.LockedUntil = now, 0, time.Time{}
	return token, u, nil
}

func (s *Service) openSession(ctx context.Context, user survey.ID, now time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", survey.Wrap(survey.ECodeInternal, err, "خطای داخلی رخ داد.", "random source failed")
	}
	token := SessionPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	err := s.st.CreateSession(ctx, Session{Hash: HashToken(token), UserID: user, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(AbsoluteTimeout)})
	return token, err
}

// Authenticate turns a session token into its user's principal (Via survey.ViaSession). A
// session idle for IdleTimeout, older than AbsoluteTimeout, or of a disabled account is ended
// and refused with ECodeUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (survey.Principal, error) {
	if !strings.HasPrefix(token, SessionPrefix) || len(token) > 100 {
		return survey.Principal{}, errSession()
	}
	now := s.now()
	h := HashToken(token)
	se, err := s.st.Session(ctx, h)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return survey.Principal{}, errSession()
		}
		return survey.Principal{}, err
	}
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) >= IdleTimeout {
		if err := s.st.DeleteSession(ctx, h); err != nil {
			return survey.Principal{}, err
		}
		return survey.Principal{}, errSession()
	}
	u, err := s.st.UserByID(ctx, se.UserID)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return survey.Principal{}, errSession()
		}
		return survey.Principal{}, err
	}
	if u.Disabled {
		return survey.Principal{}, errSession()
	}
	if now.Sub(se.LastSeenAt) >= touchEvery {
		if err := s.st.TouchSession(ctx, h, now); err != nil {
			return survey.Principal{}, err
		}
	}
	return u.Principal(), nil
}

// Logout ends the session of token (an unknown one is not an error).
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.st.DeleteSession(ctx, HashToken(token))
}

// ChangePassword changes the password of p's own account after checking the current one, and
// ends every other session of the account (keeping current, the session making the change).
func (s *Service) ChangePassword(ctx context.Context, p survey.Principal, current, oldPassword, newPassword string) error {
	if p.UserID == 0 {
		return survey.Errorf(survey.ECodeForbidden, "فقط حساب‌های کاربری گذرواژه دارند.", "only user accounts have a password")
	}
	u, err := s.st.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, err := VerifyPassword(ctx, u.PasswordHash, oldPassword)
	if err != nil {
		return err
	}
	if !ok {
		const fa, en = "گذرواژه کنونی نادرست است.", "the current password is wrong"
		return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
			Fields: map[string]survey.FieldError{"old_password": {Code: "wrong_password", Message: en, MessageFA: fa}}}
	}
	if err := CheckPassword("new_password", u.Login, newPassword); err != nil {
		return err
	}
	keep := ""
	if current != "" {
		keep = HashToken(current)
	}
	return s.setPassword(ctx, p, u, newPassword, keep, "user.password_change")
}

// setPassword stores password's hash for u, ends u's sessions except keep, and audits action.
func (s *Service) setPassword(ctx context.Context, actor survey.Principal, u User, password, keep, action string) error {
	h, err := HashPassword(ctx, password)
	if err != nil {
		return err
	}
	before := u
	u.PasswordHash, u.PasswordChangedAt = h, s.now()
	u.FailedLogins, u.LockedUntil = 0, time.Time{} // a new password lifts a lock
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := s.st.DeleteSessions(ctx, u.ID, keep); err != nil {
		return err
	}
	return s.audit(ctx, actor, action, u.AgencyID, u.ID, before, u)
}

// CSRFToken is the CSRF token of a session: HMAC-SHA256 of its token under the secret key. Pages
// put it in forms and scripts send it as X-CSRF-Token; another site cannot compute it.
func (s *Service) CSRFToken(sessionToken string) string {
	return s.mac("afkar-csrf-session", sessionToken)
}

// CheckCSRF reports, in constant time, whether got is the CSRF token of sessionToken.
func (s *Service) CheckCSRF(sessionToken, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(s.CSRFToken(sessionToken)))
}

// LoginCSRF is the login form's CSRF token for a pre-session value (a random cookie set with
// the form): the form must carry the HMAC of the cookie, which a cross-site form cannot know.
func (s *Service) LoginCSRF(pre string) string { return s.mac("afkar-csrf-login", pre) }

// CheckLoginCSRF reports whether got is LoginCSRF(pre) for a non-empty pre.
func (s *Service) CheckLoginCSRF(pre, got string) bool {
	return pre != "" && got != "" && hmac.Equal([]byte(got), []byte(s.LoginCSRF(pre)))
}

func (s *Service) mac(purpose, v string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ipThrottle counts failed logins per client address in a fixed window. It is in memory: each
// replica throttles on its own, which still bounds guessing to a few dozen tries an hour.
type ipThrottle struct {
	mu sync.Mutex
	m  map[string]ipCount
}

type ipCount struct {
	n     int
	start time.Time
}

// maxIPs bounds the map; when full, windows that have passed are dropped, then everything.
const maxIPs = 100_000

func newIPThrottle() *ipThrottle { return &ipThrottle{m: map[string]ipCount{}} }

func (t *ipThrottle) allowed(ip string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[ip]
	return !ok || now.Sub(c.start) >= IPWindow || c.n < IPFailures
}

func (t *ipThrottle) fail(ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxIPs {
		for k, c := range t.m {
			if now.Sub(c.start) >= IPWindow {
				delete(t.m, k)
			}
		}
		if len(t.m) >= maxIPs {
			clear(t.m)
		}
	}
	c := t.m[ip]
	if now.Sub(c.start) >= IPWindow {
		c = ipCount{start: now}
	}
	c.n++
	t.m[ip] = c
}
