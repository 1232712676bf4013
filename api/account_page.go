package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// The account page's notices, by the ?done= a successful form redirects with.
var accountNotices = map[string]string{
	"token_revoked": "توکن لغو شد؛ از این پس هیچ درخواستی با آن پذیرفته نمی‌شود.",
	"password":      "گذرواژهٔ شما تغییر کرد؛ نشست‌های دیگرتان پایان یافت.",
	"phone":         "شمارهٔ همراه هشدارها ذخیره شد.",
	"phone_clear":   "شمارهٔ همراه هشدارها حذف شد.",
}

// accountPage serves GET /dashboard/account: the logged-in person's own account page. A
// visitor without a session goes to /login.
func (s *Server) accountPage(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	return s.renderAccount(c, p, http.StatusOK, accountNotices[c.QueryParam("done")], "", nil)
}

// renderAccount draws the account page for p with a notice, or with the refusal err of the
// form named field at err's status (a survey.Error's Persian words; never an internal cause).
func (s *Server) renderAccount(c echo.Context, p survey.Principal, status int, notice, field string, err error) error {
	return s.renderAccountToken(c, p, status, notice, field, err, "")
}

// tokenAdmin reports whether p's role manages API tokens (the tokens service decides the rest).
func tokenAdmin(p survey.Principal) bool {
	return p.Role == survey.RoleProvinceAdmin || p.Role == survey.RoleAgencyAdmin
}

// renderAccountToken is renderAccount showing newToken, a token just created, this once.
func (s *Server) renderAccountToken(c echo.Context, p survey.Principal, status int, notice, field string, err error, newToken string) error {
	a, aerr := s.accounts()
	if aerr != nil {
		return aerr
	}
	ctx := c.Request().Context()
	u, merr := a.Me(ctx, p)
	if merr != nil {
		return merr
	}
	d := web.AccountPage{StaffBar: s.staffBar(c, p), Now: time.Now(), Login: u.Login, Role: u.Role,
		AlertPhones: s.d.AlertPhones != nil, Notice: notice, UsersAdmin: tokenAdmin(p)}
	if d.AlertPhones {
		if d.AlertPhone, merr = s.d.AlertPhones.Get(ctx, p); merr != nil {
			return merr
		}
	}
	if s.d.Tokens != nil && tokenAdmin(p) {
		d.TokenAdmin, d.ProvinceAdmin, d.AgencyID, d.NewToken = true, p.Role == survey.RoleProvinceAdmin, p.AgencyID, newToken
		list, lerr := s.d.Tokens.List(ctx, p)
		if lerr != nil {
			return lerr
		}
		for _, ti := range list {
			d.Tokens = append(d.Tokens, web.NewTokenLine(ti))
		}
	}
	if err != nil {
		pub, st := publicError(err)
		if st >= http.StatusInternalServerError {
			return err
		}
		status, d.Error, d.ErrorField = st, refusalFA(pub), field
	}
	return s.pages.Account(c, status, d)
}

// refusalFA is the Persian words of a refusal: its first field's, else its own.
func refusalFA(e *survey.Error) string {
	for _, f := range e.Fields {
		if f.MessageFA != "" {
			return f.MessageFA
		}
	}
	return e.MessageFA
}

// accountPasswordForm serves POST /dashboard/account/password (old_password, new_password,
// new_password2, csrf_token — identify has checked the token): the person's own password
// change, as POST /api/v1/me/password; a refusal redraws the page with the reason in Persian.
func (s *Server) accountPasswordForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	a, err := s.accounts()
	if err != nil {
		return err
	}
	oldPW, newPW := c.FormValue("old_password"), c.FormValue("new_password")
	if newPW == "" || newPW != c.FormValue("new_password2") {
		const fa, en = "گذرواژهٔ تازه و تکرار آن یکی نیستند.", "the new password and its repetition differ"
		return s.renderAccount(c, p, 0, "", "password", &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
			Fields: map[string]survey.FieldError{"new_password2": {Code: "mismatch", Message: en, MessageFA: fa}}})
	}
	if err := a.ChangePassword(c.Request().Context(), p, sessionToken(c), oldPW, newPW); err != nil {
		return s.renderAccount(c, p, 0, "", "password", err)
	}
	return c.Redirect(http.StatusSeeOther, dashboardPath+"/account?"+url.Values{"done": {"password"}}.Encode())
}

// accountPhoneForm serves POST /dashboard/account/alert-phone (phone, action=set|clear,
// csrf_token): sets or removes the number alerts reach the person on, as PUT
// /api/v1/me/alert-phone.
func (s *Server) accountPhoneForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.AlertPhones == nil {
		return unavailable("alert numbers")
	}
	phone, done := c.FormValue("phone"), "phone"
	if c.FormValue("action") == "clear" {
		phone, done = "", "phone_clear"
	} else if phone == "" {
		const fa, en = "شمارهٔ همراه را بنویسید.", "the phone number is empty"
		return s.renderAccount(c, p, 0, "", "phone", &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
			Fields: map[string]survey.FieldError{"phone": {Code: "required", Message: en, MessageFA: fa}}})
	}
	if _, err := s.d.AlertPhones.Set(c.Request().Context(), p, phone); err != nil {
		return s.renderAccount(c, p, 0, "", "phone", err)
	}
	return c.Redirect(http.StatusSeeOther, dashboardPath+"/account?"+url.Values{"done": {done}}.Encode())
}

// tokenForms checks that p may use the token forms: a session whose role manages tokens, on a
// server that manages them; the refusal is the page with the reason.
func (s *Server) tokenForms(c echo.Context, p survey.Principal) error {
	if s.d.Tokens == nil {
		return unavailable("token management")
	}
	if !tokenAdmin(p) {
		return s.renderAccount(c, p, 0, "", "", survey.Errorf(survey.ECodeForbidden,
			"مدیریت توکن‌ها با مدیر استان یا مدیر دستگاه است.", "only province and agency admins manage tokens"))
	}
	return nil
}

// formID reads an optional id field of a form: 0 when empty, false when not a positive number.
func formID(v string) (survey.ID, bool) {
	v = strings.TrimSpace(survey.NormalizeDigits(v))
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return survey.ID(n), err == nil && n > 0
}

// accountTokenForm serves POST /dashboard/account/tokens (name, role, agency_id, office_id,
// channel, csrf_token): creates an API token as POST /api/v1/tokens does (tenancy and audit in
// the tokens service) and shows its secret on the page this once — never in a URL.
func (s *Server) accountTokenForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if done := s.tokenForms(c, p); done != nil || c.Response().Committed {
		return done
	}
	nt := staff.NewToken{Name: strings.TrimSpace(c.FormValue("name")), Role: survey.Role(c.FormValue("role")),
		Channel: survey.Channel(c.FormValue("channel"))}
	agency, okA := formID(c.FormValue("agency_id"))
	office, okO := formID(c.FormValue("office_id"))
	if !okA || !okO {
		const fa, en = "شمارهٔ دستگاه و دفتر باید عدد باشد.", "agency_id and office_id must be numbers"
		return s.renderAccount(c, p, 0, "", "tokens", &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa})
	}
	nt.AgencyID, nt.OfficeID = agency, office
	token, _, err := s.d.Tokens.Create(c.Request().Context(), p, nt)
	if err != nil {
		return s.renderAccount(c, p, 0, "", "tokens", err)
	}
	return s.renderAccountToken(c, p, http.StatusCreated, "توکن ساخته شد.", "", nil, token)
}

// accountRevokeForm serves POST /dashboard/account/tokens/{id}/revoke (csrf_token): revokes the
// token as DELETE /api/v1/tokens/{id} does.
func (s *Server) accountRevokeForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if done := s.tokenForms(c, p); done != nil || c.Response().Committed {
		return done
	}
	id, okID := formID(c.Param("id"))
	if !okID || id == 0 {
		return s.renderAccount(c, p, 0, "", "tokens", survey.Errorf(survey.ECodeNotFound, "این توکن پیدا نشد.", "token not found"))
	}
	if _, err := s.d.Tokens.Revoke(c.Request().Context(), p, id); err != nil {
		return s.renderAccount(c, p, 0, "", "tokens", err)
	}
	return c.Redirect(http.StatusSeeOther, dashboardPath+"/account?"+url.Values{"done": {"token_revoked"}}.Encode()+"#tokens")
}

// usersPage serves GET /dashboard/users: the accounts the admin manages (tenancy in the
// accounts service: a province admin every account, an agency admin its agency's; anyone else
// gets the page's refusal, 403).
func (s *Server) usersPage(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	notice := ""
	switch c.QueryParam("done") {
	case "added":
		notice = "کاربر افزوده شد."
	case "disabled":
		notice = "حساب غیرفعال شد؛ نشست‌ها و کلیدهای دسترسی آن دیگر پذیرفته نمی‌شوند."
	case "enabled":
		notice = "حساب دوباره فعال شد."
	}
	return s.renderUsers(c, p, http.StatusOK, web.UsersPage{Notice: notice}, nil)
}

// renderUsers draws the users page for p over d (its notice and one-time password), or with the
// refusal err at err's status.
func (s *Server) renderUsers(c echo.Context, p survey.Principal, status int, d web.UsersPage, err error) error {
	a, aerr := s.accounts()
	if aerr != nil {
		return aerr
	}
	d.StaffBar, d.Now, d.ProvinceAdmin, d.AgencyID = s.staffBar(c, p), time.Now(), p.Role == survey.RoleProvinceAdmin, p.AgencyID
	us, lerr := a.Users(c.Request().Context(), p)
	if lerr != nil && err == nil {
		err = lerr
	}
	for _, u := range us {
		l := web.NewUserLine(u)
		l.Self = u.ID == p.UserID
		d.Users = append(d.Users, l)
	}
	if err != nil {
		pub, st := publicError(err)
		if st >= http.StatusInternalServerError {
			return err
		}
		status, d.Error, d.Issued, d.IssuedLogin = st, refusalFA(pub), "", ""
	}
	return s.pages.Users(c, status, d)
}

// usersAddForm serves POST /dashboard/users (login, name, role, agency_id, password?,
// csrf_token): adds an account as POST /api/v1/users does; a generated one-time password is
// shown once on the page answered (201), never in a URL.
func (s *Server) usersAddForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	a, err := s.accounts()
	if err != nil {
		return err
	}
	agency, okA := formID(c.FormValue("agency_id"))
	if !okA {
		const fa, en = "شمارهٔ دستگاه باید عدد باشد.", "agency_id must be a number"
		return s.renderUsers(c, p, 0, web.UsersPage{}, &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa})
	}
	nu := staff.NewUser{Login: strings.TrimSpace(c.FormValue("login")), Name: strings.TrimSpace(c.FormValue("name")),
		Role: survey.Role(c.FormValue("role")), AgencyID: agency, Password: c.FormValue("password")}
	u, pw, err := a.CreateUser(c.Request().Context(), p, nu)
	if err != nil {
		return s.renderUsers(c, p, 0, web.UsersPage{}, err)
	}
	if nu.Password != "" {
		return c.Redirect(http.StatusSeeOther, dashboardPath+"/users?"+url.Values{"done": {"added"}}.Encode())
	}
	return s.renderUsers(c, p, http.StatusCreated, web.UsersPage{Notice: "کاربر افزوده شد.", Issued: pw, IssuedLogin: u.Login}, nil)
}

// userForm runs a users-page form about the account {id}: without a session it redirects to
// the login page; an id that is no account the reader may see (another agency's) is the page
// with «not found» before the form's fields are read. act does the rest; its refusal is the page
// with the reason.
func (s *Server) userForm(c echo.Context, act func(ctx context.Context, p survey.Principal, a Accounts, u staff.User) error) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	a, err := s.accounts()
	if err != nil {
		return err
	}
	id, okID := formID(c.Param("id"))
	if !okID || id == 0 {
		return s.renderUsers(c, p, 0, web.UsersPage{}, survey.Errorf(survey.ECodeNotFound, "این کاربر پیدا نشد.", "user not found"))
	}
	ctx := c.Request().Context()
	u, err := a.User(ctx, p, id)
	if err == nil {
		err = act(ctx, p, a, u)
	}
	if err != nil && !c.Response().Committed { // not an error of the answer already written
		return s.renderUsers(c, p, 0, web.UsersPage{}, err)
	}
	return err
}

// usersResetForm serves POST /dashboard/users/{id}/password (csrf_token): a new one-time
// password for the account, as POST /api/v1/users/{id}/password (its sessions end), shown once.
func (s *Server) usersResetForm(c echo.Context) error {
	return s.userForm(c, func(ctx context.Context, p survey.Principal, a Accounts, u staff.User) error {
		pw, err := a.ResetPassword(ctx, p, u.ID)
		if err != nil {
			return err
		}
		return s.renderUsers(c, p, http.StatusOK, web.UsersPage{Notice: "گذرواژهٔ تازه ساخته شد؛ نشست‌های آن حساب پایان یافت.", Issued: pw, IssuedLogin: u.Login}, nil)
	})
}

// usersAccessForm serves POST /dashboard/users/{id}/access: disabled=1 turns an account off (as
// PATCH /api/v1/users/{id} {"disabled": true}: its sessions and tokens stop working at once),
// disabled=0 turns it back on; then back to the users page. Tenancy, the refusal to disable
// one's own account and the audit entry are the accounts service's, as for the API.
func (s *Server) usersAccessForm(c echo.Context) error {
	return s.userForm(c, func(ctx context.Context, p survey.Principal, a Accounts, u staff.User) error {
		var disabled bool
		switch c.FormValue("disabled") {
		case "1":
			disabled = true
		case "0":
		default:
			return &survey.Error{Code: survey.ECodeInvalid, Message: "disabled must be 1 or 0",
				MessageFA: "فعال یا غیرفعال بودن حساب روشن نیست.", Fields: map[string]survey.FieldError{"disabled": {Code: "invalid",
					Message: "1 or 0", MessageFA: "۱ یا ۰"}}}
		}
		if _, err := a.UpdateUser(ctx, p, u.ID, staff.UserPatch{Disabled: &disabled}); err != nil {
			return err
		}
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		return c.Redirect(http.StatusSeeOther, dashboardPath+"/users?"+url.Values{"done": {done}}.Encode())
	})
}
