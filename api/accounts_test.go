package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/staff"
)

// accountsEnv is the API over the real store with the real accounts service on a manual clock.
type accountsEnv struct {
	*harness
	store *sqlstore.Store
	clock *survey.ManualClock
	svc   *staff.Service
	f     realFixture
	// Accounts made by newAccountsEnv, with their passwords.
	admin, taxAdmin, regAdmin, taxStaff staff.User
	pw                                  map[string]string
}

var testSecret = []byte("accounts-test-secret-0123456789abcdef")

func newAccountsEnv(t *testing.T, store *sqlstore.Store, d api.Deps) *accountsEnv {
	t.Helper()
	ctx := context.Background()
	e := &accountsEnv{store: store, clock: survey.NewManualClock(time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC)),
		f: seedStore(t, store), pw: map[string]string{}}
	e.svc = staff.New(store, staff.Options{Secret: testSecret, Clock: e.clock})
	cli := survey.Principal{Role: survey.RoleProvinceAdmin, Name: "test"}
	mk := func(login string, role survey.Role, agency survey.ID) staff.User {
		u, pw, err := e.svc.CreateUser(ctx, cli, staff.NewUser{Login: login, Name: "نام " + login, Role: role, AgencyID: agency})
		if err != nil {
			t.Fatal(err)
		}
		e.pw[login] = pw
		return u
	}
	e.admin = mk("admin", survey.RoleProvinceAdmin, 0)
	e.taxAdmin = mk("tax.admin", survey.RoleAgencyAdmin, e.f.tax.ID)
	e.regAdmin = mk("reg.admin", survey.RoleAgencyAdmin, e.f.registry.ID)
	e.taxStaff = mk("tax.staff", survey.RoleAgencyStaff, e.f.tax.ID)
	if d.Catalog == nil {
		d.Catalog, d.Auth = store, store
	}
	if d.Dashboard == nil { // the pages a login lands on
		d.Dashboard = analytics.NewDashboard(store, store)
	}
	if d.Scores == nil {
		d.Scores = analytics.NewScores(store, store)
	}
	d.Accounts = e.svc
	e.harness = start(t, d)
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	h      *harness
	client *http.Client
}

func (e *accountsEnv) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{h: e.harness, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request with the browser's cookies; hdr are header name/value pairs.
func (b *browser) do(t *testing.T, method, path, contentType, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, b.h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login fills in the login form as a person would: GET /login, then POST it.
func (b *browser) login(t *testing.T, login, password string) reply {
	t.Helper()
	page := b.do(t, http.MethodGet, "/login", "", "").wantStatus(t, http.StatusOK)
	m := csrfInput.FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("no CSRF token in the login form: %s", page.body)
	}
	form := url.Values{"login": {login}, "password": {password}, "csrf_token": {string(m[1])}}
	return b.do(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode())
}

// me is GET /api/v1/me's answer.
type meAnswer struct {
	survey.Principal
	User      *staff.User `json:"user"`
	CSRFToken string      `json:"csrf_token"`
}

func (b *browser) me(t *testing.T) meAnswer {
	t.Helper()
	var m meAnswer
	b.do(t, http.MethodGet, "/api/v1/me", "", "").wantStatus(t, http.StatusOK).json(t, &m)
	return m
}

// send is a JSON request with the session's CSRF token.
func (b *browser) send(t *testing.T, method, path, csrf string, body any) reply {
	t.Helper()
	raw, _ := json.Marshal(body)
	return b.do(t, method, path, "application/json", string(raw), "X-CSRF-Token", csrf)
}

func sessionCookie(t *testing.T, r reply) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == api.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", api.SessionCookie, r.header["Set-Cookie"])
	return nil
}

func TestLoginPageAndSessionCookie(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{})
		b := e.browser(t)
		page := b.do(t, http.MethodGet, "/login", "", "").wantStatus(t, http.StatusOK)
		for _, want := range []string{`<html lang="fa" dir="rtl">`, "Vazirmatn", `type="password"`, `action="/login"`, "ورود"} {
			if !strings.Contains(string(page.body), want) {
				t.Errorf("login page lacks %q", want)
			}
		}
		if strings.Contains(string(page.body), "<script") {
			t.Error("the login page has a script: it must work without JavaScript")
		}
		// Without the pre-session cookie's token the form is refused (login CSRF).
		anon := e.browser(t)
		form := url.Values{"login": {"admin"}, "password": {e.pw["admin"]}, "csrf_token": {"forged"}}
		anon.do(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode()).wantStatus(t, http.StatusForbidden)
		// Wrong password: the form again, 401, a Persian message, no session.
		bad := b.login(t, "admin", "not-the-password")
		bad.wantStatus(t, http.StatusUnauthorized)
		if !strings.Contains(string(bad.body), "نادرست") || len(bad.header["Set-Cookie"]) == 0 {
			t.Errorf("refused login page: %s", bad.body)
		}
		unknown := b.login(t, "nobody", "not-the-password").wantStatus(t, http.StatusUnauthorized)
		if msg := regexp.MustCompile(`role="alert">([^<]*)<`); string(msg.Find(unknown.body)) != string(msg.Find(bad.body)) {
			t.Error("unknown login and wrong password read differently")
		}
		// Login: 303 to /dashboard and a session cookie as the brief says.
		ok := b.login(t, "ADMIN", e.pw["admin"]).wantStatus(t, http.StatusSeeOther)
		if loc := ok.header.Get("Location"); loc != "/dashboard" {
			t.Errorf("login redirects to %q", loc)
		}
		c := sessionCookie(t, ok)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
			t.Errorf("session cookie %+v", c)
		}
		m := b.me(t)
		if m.User == nil || m.User.Login != "admin" || m.Via != survey.ViaSession || m.UserID != e.admin.ID || m.CSRFToken == "" {
			t.Fatalf("me %+v", m)
		}
		if strings.Contains(string(b.do(t, http.MethodGet, "/api/v1/me", "", "").body), "argon2") {
			t.Error("/api/v1/me shows the password hash")
		}
		dash := b.do(t, http.MethodGet, "/dashboard", "", "").wantStatus(t, http.StatusOK)
		if !strings.Contains(string(dash.body), "داشبورد") || !strings.Contains(string(dash.body), e.f.registry.Name) {
			t.Errorf("dashboard: %s", dash.body)
		}
		// A stranger's /dashboard goes to /login.
		if r := anon.do(t, http.MethodGet, "/dashboard", "", ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Errorf("GET /dashboard anonymously: %d %s", r.status, r.header.Get("Location"))
		}
		// A new login rotates the session: the old cookie no longer works.
		old := c.Value
		b.login(t, "admin", e.pw["admin"]).wantStatus(t, http.StatusSeeOther)
		e.request(t, http.MethodGet, "/api/v1/agencies", "", "", "", "Cookie", api.SessionCookie+"="+old).
			envelope(t, http.StatusUnauthorized, "unauthorized")
	})
}

func TestSecureCookie(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{CookieSecure: true})
		if c := sessionCookie(t, e.browser(t).login(t, "admin", e.pw["admin"])); !c.Secure {
			t.Errorf("AFKAR_COOKIE_SECURE=1 but the cookie is not Secure: %+v", c)
		}
	})
}

func TestLockoutExpiryLogoutOverHTTP(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{})
		b := e.browser(t)
		for i := 0; i < staff.LockAfter; i++ {
			b.login(t, "tax.staff", "wrong password "+fmt.Sprint(i)).wantStatus(t, http.StatusUnauthorized)
		}
		b.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusUnauthorized)
		e.clock.Advance(staff.LockFor)
		b.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		b.do(t, http.MethodGet, "/api/v1/agencies", "", "").wantStatus(t, http.StatusOK)
		// Idle for two hours: the session ends, and the cookie is cleared.
		e.clock.Advance(staff.IdleTimeout)
		r := b.do(t, http.MethodGet, "/api/v1/agencies", "", "")
		r.envelope(t, http.StatusUnauthorized, "unauthorized")
		// Absolute: active every 90 minutes, still over after 12 hours.
		b.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		for i := 0; i < 7; i++ {
			e.clock.Advance(90 * time.Minute)
			b.do(t, http.MethodGet, "/api/v1/agencies", "", "").wantStatus(t, http.StatusOK)
		}
		e.clock.Advance(90 * time.Minute)
		b.do(t, http.MethodGet, "/api/v1/agencies", "", "").envelope(t, http.StatusUnauthorized, "unauthorized")
		// Logout needs the CSRF token, then revokes the session.
		b.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		csrf := b.me(t).CSRFToken
		b.do(t, http.MethodPost, "/logout", "application/x-www-form-urlencoded", "").envelope(t, http.StatusForbidden, "forbidden")
		to := b.do(t, http.MethodGet, "/dashboard", "", "").wantStatus(t, http.StatusSeeOther).header.Get("Location") // an agency's staff: its own dashboard
		dash := b.do(t, http.MethodGet, to, "", "").wantStatus(t, http.StatusOK)
		if m := csrfInput.FindSubmatch(dash.body); m == nil || string(m[1]) != csrf {
			t.Fatalf("the dashboard's logout form lacks the session's CSRF token")
		}
		cookie := sessionCookie(t, b.login(t, "tax.staff", e.pw["tax.staff"]))
		csrf = b.me(t).CSRFToken
		out := b.do(t, http.MethodPost, "/logout", "application/x-www-form-urlencoded", url.Values{"csrf_token": {csrf}}.Encode())
		if out.status != http.StatusSeeOther || out.header.Get("Location") != "/login" {
			t.Fatalf("logout: %d %s", out.status, out.body)
		}
		e.request(t, http.MethodGet, "/api/v1/agencies", "", "", "", "Cookie", api.SessionCookie+"="+cookie.Value).
			envelope(t, http.StatusUnauthorized, "unauthorized")
	})
}

func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{})
		a, b := e.browser(t), e.browser(t)
		a.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		b.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		csrf := a.me(t).CSRFToken
		a.send(t, http.MethodPost, "/api/v1/me/password", csrf, map[string]string{"old_password": "wrong old one", "new_password": "a brand new password"}).
			envelope(t, http.StatusUnprocessableEntity, "invalid")
		a.send(t, http.MethodPost, "/api/v1/me/password", csrf, map[string]string{"old_password": e.pw["tax.admin"], "new_password": "a brand new password"}).
			wantStatus(t, http.StatusNoContent)
		a.do(t, http.MethodGet, "/api/v1/agencies", "", "").wantStatus(t, http.StatusOK)
		b.do(t, http.MethodGet, "/api/v1/agencies", "", "").envelope(t, http.StatusUnauthorized, "unauthorized")
		b.login(t, "tax.admin", "a brand new password").wantStatus(t, http.StatusSeeOther)
		// A bearer token has no password of its own.
		e.request(t, http.MethodPost, "/api/v1/me/password", e.f.taxStaff, "application/json", `{"old_password":"x","new_password":"yyyyyyyyyyyy"}`).
			envelope(t, http.StatusForbidden, "forbidden")
	})
}

func TestCSRFOnSessionRequestsOnly(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{})
		b := e.browser(t)
		b.login(t, "admin", e.pw["admin"]).wantStatus(t, http.StatusSeeOther)
		body := func(login string) string {
			return fmt.Sprintf(`{"login":%q,"name":"کاربر","role":"province_staff"}`, login)
		}
		b.do(t, http.MethodPost, "/api/v1/users", "application/json", body("user1")).envelope(t, http.StatusForbidden, "forbidden")
		b.do(t, http.MethodPost, "/api/v1/users", "application/json", body("user1"), "X-CSRF-Token", "wrong").envelope(t, http.StatusForbidden, "forbidden")
		other := e.browser(t)
		other.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		b.do(t, http.MethodPost, "/api/v1/users", "application/json", body("user1"), "X-CSRF-Token", other.me(t).CSRFToken).
			envelope(t, http.StatusForbidden, "forbidden")
		var made struct {
			User     staff.User `json:"user"`
			Password string     `json:"password"`
		}
		b.do(t, http.MethodPost, "/api/v1/users", "application/json", body("user1"), "X-CSRF-Token", b.me(t).CSRFToken).
			wantStatus(t, http.StatusCreated).json(t, &made)
		if made.User.Login != "user1" || len(made.Password) != 16 {
			t.Fatalf("created %+v", made)
		}
		// No user was created by the refused requests.
		var us []staff.User
		b.do(t, http.MethodGet, "/api/v1/users", "", "").wantStatus(t, http.StatusOK).json(t, &us)
		if len(us) != 5 {
			t.Errorf("%d users after one creation, want 5", len(us))
		}
		// A bearer token needs no CSRF token.
		e.request(t, http.MethodPost, "/api/v1/users", adminToken, "application/json", body("user2")).wantStatus(t, http.StatusCreated)
	})
}

func TestUsersAPITenancyAndAudit(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{})
		b := e.browser(t)
		b.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		csrf := b.me(t).CSRFToken
		var us []staff.User
		b.do(t, http.MethodGet, "/api/v1/users", "", "").wantStatus(t, http.StatusOK).json(t, &us)
		if len(us) != 2 || us[0].ID != e.taxAdmin.ID || us[1].ID != e.taxStaff.ID {
			t.Fatalf("tax admin lists %+v", us)
		}
		// Another agency's user: not found, whatever the change.
		path := fmt.Sprintf("/api/v1/users/%d", e.regAdmin.ID)
		b.send(t, http.MethodPatch, path, csrf, map[string]any{"disabled": true}).envelope(t, http.StatusNotFound, "not_found")
		b.send(t, http.MethodPost, path+"/password", csrf, nil).envelope(t, http.StatusNotFound, "not_found")
		// Never a province role, nor a user of another agency.
		b.send(t, http.MethodPost, "/api/v1/users", csrf, map[string]any{"login": "boss", "name": "x", "role": "province_admin"}).
			envelope(t, http.StatusForbidden, "forbidden")
		b.send(t, http.MethodPost, "/api/v1/users", csrf, map[string]any{"login": "spy", "name": "x", "role": "agency_staff", "agency_id": e.f.registry.ID}).
			envelope(t, http.StatusForbidden, "forbidden")
		// Its own staff: disable, then reset (a one-time password that works).
		path = fmt.Sprintf("/api/v1/users/%d", e.taxStaff.ID)
		var u staff.User
		b.send(t, http.MethodPatch, path, csrf, map[string]any{"disabled": true}).wantStatus(t, http.StatusOK).json(t, &u)
		if !u.Disabled {
			t.Fatalf("not disabled: %+v", u)
		}
		b.send(t, http.MethodPatch, path, csrf, map[string]any{"disabled": false}).wantStatus(t, http.StatusOK)
		var reset struct{ Password string }
		b.send(t, http.MethodPost, path+"/password", csrf, nil).wantStatus(t, http.StatusOK).json(t, &reset)
		e.browser(t).login(t, "tax.staff", reset.Password).wantStatus(t, http.StatusSeeOther)
		// Staff without admin rights manage nobody.
		s := e.browser(t)
		s.login(t, "tax.staff", reset.Password).wantStatus(t, http.StatusSeeOther)
		s.do(t, http.MethodGet, "/api/v1/users", "", "").envelope(t, http.StatusForbidden, "forbidden")
		s.do(t, http.MethodGet, "/api/v1/audit", "", "").envelope(t, http.StatusForbidden, "forbidden")
		// The audit log: the agency admin sees its agency's entries, the province admin all.
		var log []survey.AuditEntry
		b.do(t, http.MethodGet, "/api/v1/audit", "", "").wantStatus(t, http.StatusOK).json(t, &log)
		var actions []string
		for _, en := range log {
			if en.AgencyID != e.f.tax.ID {
				t.Errorf("tax admin reads an entry of agency %d", en.AgencyID)
			}
			if en.Action != "user.create" && (en.ActorUserID != e.taxAdmin.ID || en.EntityID != e.taxStaff.ID) {
				t.Errorf("entry %+v", en)
			}
			if strings.Contains(en.Before+en.After, "argon2") {
				t.Errorf("entry with a hash: %+v", en)
			}
			actions = append(actions, en.Action)
		}
		if got := strings.Join(actions, ","); got != "user.password_reset,user.update,user.update,user.create,user.create" {
			t.Errorf("tax audit actions %s", got)
		}
		var all []survey.AuditEntry
		e.get(t, "/api/v1/audit", adminToken).wantStatus(t, http.StatusOK).json(t, &all)
		if len(all) != len(log)+2 {
			t.Errorf("province admin reads %d entries, agency admin %d", len(all), len(log))
		}
		// A token's change names the token.
		e.request(t, http.MethodPost, "/api/v1/users", adminToken, "application/json",
			`{"login":"by.token","name":"x","role":"province_evaluator"}`).wantStatus(t, http.StatusCreated)
		var last []survey.AuditEntry
		e.get(t, "/api/v1/audit?limit=1", adminToken).wantStatus(t, http.StatusOK).json(t, &last)
		if len(last) != 1 || last[0].ActorTokenID == 0 || last[0].ActorUserID != 0 || last[0].ActorName != sqlstore.BootstrapName || last[0].Before != "" {
			t.Errorf("token's entry %+v", last)
		}
	})
}
