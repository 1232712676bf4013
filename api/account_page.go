package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
)

// The account page's notices, by the ?done= a successful form redirects with.
var accountNotices = map[string]string{
	"password":    "گذرواژهٔ شما تغییر کرد؛ نشست‌های دیگرتان پایان یافت.",
	"phone":       "شمارهٔ همراه هشدارها ذخیره شد.",
	"phone_clear": "شمارهٔ همراه هشدارها حذف شد.",
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
		AlertPhones: s.d.AlertPhones != nil, Notice: notice}
	if d.AlertPhones {
		if d.AlertPhone, merr = s.d.AlertPhones.Get(ctx, p); merr != nil {
			return merr
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
