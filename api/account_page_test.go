package api_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/staff"
)

// pageCSRF finds the CSRF token of the page's forms.
var pageCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestAccountPageForms drives the account page as a browser without JavaScript would, over real
// HTTP and the real store: without a session it sends you to /login; with one it shows who you
// are; its password form refuses a mismatch and a wrong current password in Persian (422, the
// page again), changes the password with the right one (303, other sessions end, the new
// password logs in) and refuses a post without the CSRF token (403); its alert number form
// stores the number encrypted and shows it masked, refuses a landline in Persian, and clears it.
func TestAccountPageForms(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		privacy, err := sms.NewPrivacy([]byte(strings.Repeat("p", 40)))
		if err != nil {
			t.Fatal(err)
		}
		e := newAccountsEnv(t, store, api.Deps{AlertPhones: sms.NewAlertPhones(store, privacy, nil)})
		const form = "application/x-www-form-urlencoded"
		anon := e.browser(t)
		if r := anon.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusSeeOther); r.header.Get("Location") != "/login" {
			t.Fatalf("without a session the account page sends to %q", r.header.Get("Location"))
		}
		if r := anon.do(t, http.MethodPost, "/dashboard/account/password", form, "new_password=x").wantStatus(t, http.StatusSeeOther); r.header.Get("Location") != "/login" {
			t.Fatalf("without a session the password form sends to %q", r.header.Get("Location"))
		}

		a, other := e.browser(t), e.browser(t)
		a.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		other.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		page := a.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusOK)
		body := string(page.body)
		m := pageCSRF.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token on the account page: %.300s", body)
		}
		csrf := m[1]
		for _, want := range []string{`lang="fa"`, `dir="rtl"`, "tax.admin", "مدیر دستگاه", `action="/dashboard/account/password"`, `action="/dashboard/account/alert-phone"`, "ثبت نشده"} {
			if !strings.Contains(body, want) {
				t.Errorf("the account page lacks %q", want)
			}
		}
		post := func(path string, v url.Values) reply {
			t.Helper()
			v.Set("csrf_token", csrf)
			return a.do(t, http.MethodPost, path, form, v.Encode())
		}
		// Password: mismatch, wrong current one, then right.
		r := post("/dashboard/account/password", url.Values{"old_password": {e.pw["tax.admin"]}, "new_password": {"a brand new password"}, "new_password2": {"a brand new passw0rd"}}).
			wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(r.body), "یکی نیستند") || !strings.Contains(string(r.body), "data-error") {
			t.Errorf("a mismatched repetition is refused without the Persian reason: %.300s", r.body)
		}
		r = post("/dashboard/account/password", url.Values{"old_password": {"not my password"}, "new_password": {"a brand new password"}, "new_password2": {"a brand new password"}}).
			wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(r.body), "گذرواژه کنونی نادرست است") {
			t.Errorf("a wrong current password is refused without the Persian reason: %.300s", r.body)
		}
		// Without the CSRF token: refused before anything happens.
		a.do(t, http.MethodPost, "/dashboard/account/password", form,
			url.Values{"old_password": {e.pw["tax.admin"]}, "new_password": {"a brand new password"}, "new_password2": {"a brand new password"}}.Encode()).
			wantStatus(t, http.StatusForbidden)
		r = post("/dashboard/account/password", url.Values{"old_password": {e.pw["tax.admin"]}, "new_password": {"a brand new password"}, "new_password2": {"a brand new password"}}).
			wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/dashboard/account?done=password" {
			t.Fatalf("after the change: Location %q", loc)
		}
		if done := a.do(t, http.MethodGet, "/dashboard/account?done=password", "", "").wantStatus(t, http.StatusOK); !strings.Contains(string(done.body), "گذرواژهٔ شما تغییر کرد") {
			t.Error("no notice after the password change")
		}
		other.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusSeeOther) // its session ended
		e.browser(t).login(t, "tax.admin", "a brand new password").wantStatus(t, http.StatusSeeOther)

		// Alert number: a landline is refused, a mobile stored and masked, then cleared.
		r = post("/dashboard/account/alert-phone", url.Values{"phone": {"02612345678"}, "action": {"set"}}).wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(r.body), "data-error") || !strings.Contains(string(r.body), "همراه") {
			t.Errorf("a landline is refused without a Persian reason: %.300s", r.body)
		}
		post("/dashboard/account/alert-phone", url.Values{"phone": {"۰۹۱۲ ۱۲۳ ۴۵۶۷"}, "action": {"set"}}).wantStatus(t, http.StatusSeeOther)
		body = string(a.do(t, http.MethodGet, "/dashboard/account?done=phone", "", "").wantStatus(t, http.StatusOK).body)
		if !strings.Contains(body, "0912***4567") || strings.Contains(body, "09121234567") || !strings.Contains(body, "حذف شماره") {
			t.Errorf("the stored number is not shown masked (with a remove button): %.600s", body)
		}
		var got struct {
			Phone string `json:"phone"`
		}
		a.do(t, http.MethodGet, "/api/v1/me/alert-phone", "", "").wantStatus(t, http.StatusOK).json(t, &got)
		if got.Phone != "0912***4567" {
			t.Fatalf("the API says the alert number is %q", got.Phone)
		}
		post("/dashboard/account/alert-phone", url.Values{"action": {"clear"}}).wantStatus(t, http.StatusSeeOther)
		a.do(t, http.MethodGet, "/api/v1/me/alert-phone", "", "").wantStatus(t, http.StatusOK).json(t, &got)
		if got.Phone != "" {
			t.Fatalf("after clearing, the alert number is %q", got.Phone)
		}
	})
}

// TestAccountPageTokens: the account page's API tokens over real HTTP and the real store. A
// viewer sees no tokens section and is refused (403, in Persian); an agency admin creates an
// integration token of their agency, sees it once on the page (201) and never again, the token
// authenticates, another agency's token cannot be revoked (404, nothing changed) and a forged
// province role is refused (403); their own token revoked stops working.
func TestAccountPageTokens(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{Tokens: staff.NewTokens(store, survey.SystemClock{})})
		const form = "application/x-www-form-urlencoded"
		ctx := context.Background()
		session := func(login string) (*browser, string, string) {
			t.Helper()
			b := e.browser(t)
			b.login(t, login, e.pw[login]).wantStatus(t, http.StatusSeeOther)
			body := string(b.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusOK).body)
			m := pageCSRF.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no CSRF token on %s's account page", login)
			}
			return b, m[1], body
		}
		viewer, vcsrf, body := session("tax.staff")
		if strings.Contains(body, `id="tokens-table"`) {
			t.Error("a viewer's account page shows the tokens section")
		}
		r := viewer.do(t, http.MethodPost, "/dashboard/account/tokens", form, url.Values{"name": {"x"}, "role": {"integration"}, "csrf_token": {vcsrf}}.Encode()).
			wantStatus(t, http.StatusForbidden)
		if !strings.Contains(string(r.body), "مدیر استان یا مدیر دستگاه") {
			t.Errorf("a viewer's refusal lacks the Persian reason: %.300s", r.body)
		}

		// Another agency's token, made by the province.
		province := survey.Principal{Role: survey.RoleProvinceAdmin, Name: "test"}
		tokens := staff.NewTokens(store, survey.SystemClock{})
		_, regInfo, err := tokens.Create(ctx, province, staff.NewToken{Name: "ثبت", Role: survey.RoleIntegration, AgencyID: e.f.registry.ID, Channel: survey.ChannelWeb})
		if err != nil {
			t.Fatal(err)
		}

		admin, csrf, body := session("tax.admin")
		if !strings.Contains(body, `id="tokens-table"`) || strings.Contains(body, "ثبت") {
			t.Fatalf("an agency admin's tokens section is missing or shows another agency's token: %.400s", body)
		}
		post := func(path string, v url.Values) reply {
			t.Helper()
			v.Set("csrf_token", csrf)
			return admin.do(t, http.MethodPost, path, form, v.Encode())
		}
		r = post("/dashboard/account/tokens", url.Values{"name": {"پل پیامک"}, "role": {"integration"}, "agency_id": {e.f.tax.ID.String()}, "channel": {"sms"}}).
			wantStatus(t, http.StatusCreated)
		m := regexp.MustCompile(`<code data-token>([^<]+)</code>`).FindStringSubmatch(string(r.body))
		if m == nil {
			t.Fatalf("the new token is not shown: %.600s", r.body)
		}
		secret := m[1]
		if again := admin.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusOK); strings.Contains(string(again.body), secret) ||
			!strings.Contains(string(again.body), "پل پیامک") {
			t.Fatal("the token list shows the secret again, or not the new token")
		}
		e.request(t, http.MethodGet, "/api/v1/me", secret, "", "").wantStatus(t, http.StatusOK)

		// A forged province role: refused, in Persian.
		r = post("/dashboard/account/tokens", url.Values{"name": {"جعلی"}, "role": {"province_admin"}}).wantStatus(t, http.StatusForbidden)
		if !strings.Contains(string(r.body), "data-error") {
			t.Errorf("a forged role is refused without a reason on the page: %.300s", r.body)
		}
		// Another agency's token: not found, and still active.
		post("/dashboard/account/tokens/"+regInfo.ID.String()+"/revoke", url.Values{}).wantStatus(t, http.StatusNotFound)
		list, err := tokens.List(ctx, province)
		if err != nil {
			t.Fatal(err)
		}
		var mine survey.ID
		for _, ti := range list {
			if ti.ID == regInfo.ID && ti.RevokedAt != nil {
				t.Fatal("an agency admin revoked another agency's token")
			}
			if ti.Name == "پل پیامک" {
				mine = ti.ID
			}
		}
		if mine == 0 {
			t.Fatal("the token made on the page is not stored")
		}
		r = post("/dashboard/account/tokens/"+mine.String()+"/revoke", url.Values{}).wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/dashboard/account?done=token_revoked") {
			t.Fatalf("after revoking: Location %q", loc)
		}
		e.request(t, http.MethodGet, "/api/v1/me", secret, "", "").wantStatus(t, http.StatusUnauthorized)
		if page := admin.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusOK); !strings.Contains(string(page.body), "لغوشده در") {
			t.Error("the revoked token is not listed as revoked")
		}
	})
}

// TestUsersPage: the admins' users page over real HTTP and the real store, with tenancy as in the
// users API: a viewer is refused (403, in Persian); an agency admin sees only their agency's
// accounts, adds one (the one-time password shown once, and it logs in), cannot add a province
// role (403) or reset another agency's password (404), and resets their viewer's (its session
// ends, the new password logs in); disables the new account (it cannot log in) and enables it
// again, but cannot disable another agency's account (404) or their own (403); a password given
// with a new account redirects (303).
func TestUsersPage(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{})
		const form = "application/x-www-form-urlencoded"
		session := func(login, pw string) (*browser, string) {
			t.Helper()
			b := e.browser(t)
			b.login(t, login, pw).wantStatus(t, http.StatusSeeOther)
			body := string(b.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusOK).body)
			m := pageCSRF.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no CSRF token on %s's account page", login)
			}
			return b, m[1]
		}
		viewer, _ := session("tax.staff", e.pw["tax.staff"])
		if r := viewer.do(t, http.MethodGet, "/dashboard/users", "", "").wantStatus(t, http.StatusForbidden); !strings.Contains(string(r.body), "data-error") {
			t.Errorf("a viewer's refusal has no reason on the page: %.300s", r.body)
		}
		admin, csrf := session("tax.admin", e.pw["tax.admin"])
		body := string(admin.do(t, http.MethodGet, "/dashboard/users", "", "").wantStatus(t, http.StatusOK).body)
		if !strings.Contains(body, "tax.staff") || strings.Contains(body, "reg.admin") || strings.Contains(body, `value="province_admin"`) {
			t.Fatalf("an agency admin's users page: want its agency's accounts and no province roles: %.800s", body)
		}
		post := func(path string, v url.Values) reply {
			t.Helper()
			v.Set("csrf_token", csrf)
			return admin.do(t, http.MethodPost, path, form, v.Encode())
		}
		oneTime := regexp.MustCompile(`<code data-password>([^<]+)</code>`)
		r := post("/dashboard/users", url.Values{"login": {"tax.new"}, "name": {"کاربر تازه"}, "role": {"agency_staff"}, "agency_id": {e.f.tax.ID.String()}}).
			wantStatus(t, http.StatusCreated)
		m := oneTime.FindStringSubmatch(string(r.body))
		if m == nil {
			t.Fatalf("no one-time password for the new account: %.600s", r.body)
		}
		e.browser(t).login(t, "tax.new", m[1]).wantStatus(t, http.StatusSeeOther)
		if again := admin.do(t, http.MethodGet, "/dashboard/users", "", "").wantStatus(t, http.StatusOK); strings.Contains(string(again.body), m[1]) {
			t.Fatal("the one-time password is shown again")
		}
		// Disable the new account on the page: it can no longer log in; enable it: it can again.
		newRow := regexp.MustCompile(`<tr data-user-id="(\d+)">\s*<td>کاربر تازه`).FindStringSubmatch(string(admin.do(t, http.MethodGet, "/dashboard/users", "", "").body))
		if newRow == nil {
			t.Fatal("the new account has no row on the users page")
		}
		newPW := m[1]
		r = post("/dashboard/users/"+newRow[1]+"/access", url.Values{"disabled": {"1"}}).wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/dashboard/users?done=disabled" {
			t.Fatalf("after disabling: Location %q", loc)
		}
		if got := e.browser(t).login(t, "tax.new", newPW); got.status == http.StatusSeeOther {
			t.Fatal("a disabled account logged in")
		}
		page := string(admin.do(t, http.MethodGet, "/dashboard/users?done=disabled", "", "").wantStatus(t, http.StatusOK).body)
		if !strings.Contains(page, "حساب غیرفعال شد") || !strings.Contains(page, `aria-label="فعال کردن tax.new"`) {
			t.Fatalf("the page after disabling lacks the notice or the enable button: %.1200s", page)
		}
		post("/dashboard/users/"+newRow[1]+"/access", url.Values{"disabled": {"yes"}}).wantStatus(t, http.StatusUnprocessableEntity)
		post("/dashboard/users/"+newRow[1]+"/access", url.Values{"disabled": {"0"}}).wantStatus(t, http.StatusSeeOther)
		e.browser(t).login(t, "tax.new", newPW).wantStatus(t, http.StatusSeeOther)
		post("/dashboard/users/"+e.regAdmin.ID.String()+"/access", url.Values{"disabled": {"1"}}).wantStatus(t, http.StatusNotFound)  // another agency's
		post("/dashboard/users/"+e.taxAdmin.ID.String()+"/access", url.Values{"disabled": {"1"}}).wantStatus(t, http.StatusForbidden) // one's own
		admin.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusOK)                                        // still logged in

		post("/dashboard/users", url.Values{"login": {"tax.boss"}, "name": {"رئیس"}, "role": {"province_admin"}}).wantStatus(t, http.StatusForbidden)
		post("/dashboard/users/"+e.regAdmin.ID.String()+"/password", url.Values{}).wantStatus(t, http.StatusNotFound)
		e.browser(t).login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther) // untouched

		r = post("/dashboard/users/"+e.taxStaff.ID.String()+"/password", url.Values{}).wantStatus(t, http.StatusOK)
		m = oneTime.FindStringSubmatch(string(r.body))
		if m == nil || !strings.Contains(string(r.body), "tax.staff") {
			t.Fatalf("no new one-time password for tax.staff: %.600s", r.body)
		}
		viewer.do(t, http.MethodGet, "/dashboard/account", "", "").wantStatus(t, http.StatusSeeOther) // its session ended
		e.browser(t).login(t, "tax.staff", m[1]).wantStatus(t, http.StatusSeeOther)

		province, pcsrf := session("admin", e.pw["admin"])
		r = province.do(t, http.MethodPost, "/dashboard/users", form, url.Values{"login": {"prov.eval"}, "name": {"ارزیاب"}, "role": {"province_evaluator"},
			"password": {"a chosen password 123"}, "csrf_token": {pcsrf}}.Encode()).wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/dashboard/users?done=added" {
			t.Fatalf("after adding with a password: Location %q", loc)
		}
		if page := province.do(t, http.MethodGet, "/dashboard/users?done=added", "", "").wantStatus(t, http.StatusOK); !strings.Contains(string(page.body), "prov.eval") ||
			!strings.Contains(string(page.body), "reg.admin") {
			t.Error("the province admin's users page lacks the new or another agency's account")
		}
	})
}
