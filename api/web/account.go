package web

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// AccountPage is a person's own account page (GET /dashboard/account): who they are, a form to
// change their password, and the number their agency's alerts reach them on. Plain forms with
// the session's CSRF token, so it works with JavaScript off. Notice is what the last form did
// («گذرواژه تغییر کرد»); Error, with ErrorField naming the form it belongs to ("password",
// "phone"), is why the last form was refused, in Persian.
type AccountPage struct {
	StaffBar
	Now        time.Time
	Login      string
	Role       survey.Role
	AlertPhone string // masked, "" when none
	// AlertPhones is false when the server keeps no alert numbers (the form is not shown).
	AlertPhones bool
	Notice      string
	Error       string
	ErrorField  string
	// TokenAdmin is true for the roles that manage API tokens (province and agency admins):
	// the tokens section is shown with Tokens, those the person may see.
	TokenAdmin bool
	// ProvinceAdmin picks the token form: any role and agency, or the agency's integration only.
	ProvinceAdmin bool
	AgencyID      survey.ID
	Tokens        []TokenLine
	// NewToken is the secret of the token just created, shown this once.
	NewToken string
	// UsersAdmin links to the users page (province and agency admins).
	UsersAdmin bool
}

// TokenLine is one API token as the account page lists it (never its secret).
type TokenLine struct {
	ID       survey.ID
	Name     string
	Role     string
	Scope    string
	Created  string
	LastUsed string
	Revoked  string
	// Revocable is false for revoked tokens and the bootstrap token (replaced by configuration).
	Revocable bool
}

// NewTokenLine describes ti for the page, dates in Jalali.
func NewTokenLine(ti survey.TokenInfo) TokenLine {
	l := TokenLine{ID: ti.ID, Name: ti.Name, Role: RoleFA(ti.Role), Created: FormatJalaliTime(ti.CreatedAt), LastUsed: "هرگز",
		Revocable: ti.RevokedAt == nil && !ti.Bootstrap}
	if ti.Role == survey.RoleIntegration {
		l.Role = "یکپارچه‌سازی (ماشین)"
	}
	var scope []string
	if ti.AgencyID != 0 {
		scope = append(scope, "دستگاه "+survey.FormatPersianDigits(ti.AgencyID.String()))
	}
	if ti.OfficeID != 0 {
		scope = append(scope, "دفتر "+survey.FormatPersianDigits(ti.OfficeID.String()))
	}
	if ti.Channel != "" {
		scope = append(scope, "روش "+channelFA(ti.Channel))
	}
	if len(scope) == 0 {
		scope = append(scope, "همهٔ استان")
	}
	l.Scope = strings.Join(scope, "، ")
	if ti.LastUsedAt != nil {
		l.LastUsed = FormatJalaliTime(*ti.LastUsedAt)
	}
	if ti.RevokedAt != nil {
		l.Revoked = FormatJalaliTime(*ti.RevokedAt)
	}
	return l
}

// Title is the page's heading.
func (AccountPage) Title() string { return "حساب من" }

// MinPassword is the shortest password the accounts service takes (the form's minlength).
func (AccountPage) MinPassword() int { return staff.MinPasswordLen }

// MinPasswordFA is MinPassword in Persian digits.
func (AccountPage) MinPasswordFA() string {
	return survey.FormatPersianDigits(strconv.Itoa(staff.MinPasswordLen))
}

// RoleFA names the person's role in Persian.
func (d AccountPage) RoleFA() string { return RoleFA(d.Role) }

// RoleFA names a role in Persian, as staff read it.
func RoleFA(r survey.Role) string {
	switch r {
	case survey.RoleProvinceAdmin:
		return "مدیر استان"
	case survey.RoleProvinceStaff:
		return "کارشناس استان"
	case survey.RoleProvinceEvaluator:
		return "ارزیاب استان"
	case survey.RoleAgencyAdmin:
		return "مدیر دستگاه"
	case survey.RoleAgencyStaff:
		return "کارشناس دستگاه (فقط خواندن)"
	}
	return string(r)
}

// Account renders the account page with status (200, or the status of the refused form).
func (p *Pages) Account(c echo.Context, status int, d AccountPage) error {
	var buf bytes.Buffer
	if err := dashPages.ExecuteTemplate(&buf, "dash_account.html", dashData[AccountPage]{D: d, FontURL: fontURL}); err != nil {
		return err
	}
	return writeStaffPage(c, status, buf.Bytes())
}

// UsersPage is the admins' page of people's accounts (GET /dashboard/users): the accounts the
// admin manages (a province admin every one, an agency admin its agency's), a form to add one
// and a button per account to reset its password. A password the server generated (a new
// account without one, or a reset) is shown once, on the page that answers the form.
type UsersPage struct {
	StaffBar
	Now           time.Time
	ProvinceAdmin bool
	AgencyID      survey.ID
	Users         []UserLine
	// Issued is the one-time password just generated, for the account Login.
	Issued      string
	IssuedLogin string
	Notice      string
	Error       string
}

// Title is the page's heading.
func (UsersPage) Title() string { return "کاربران" }

// MinPasswordFA is the shortest password, in Persian digits.
func (UsersPage) MinPasswordFA() string { return AccountPage{}.MinPasswordFA() }

// UserLine is one account as the users page lists it.
type UserLine struct {
	ID        survey.ID
	Login     string
	Name      string
	Role      string
	Agency    string
	Disabled  bool
	LastLogin string
	// Self marks the reader's own account, which the page does not offer to disable.
	Self bool
}

// NewUserLine describes u for the page, dates in Jalali.
func NewUserLine(u staff.User) UserLine {
	l := UserLine{ID: u.ID, Login: u.Login, Name: u.Name, Role: RoleFA(u.Role), Disabled: u.Disabled, LastLogin: "هرگز"}
	if u.AgencyID != 0 {
		l.Agency = survey.FormatPersianDigits(u.AgencyID.String())
	}
	if !u.LastLoginAt.IsZero() {
		l.LastLogin = FormatJalaliTime(u.LastLoginAt)
	}
	return l
}

// Users renders the users page with status.
func (p *Pages) Users(c echo.Context, status int, d UsersPage) error {
	var buf bytes.Buffer
	if err := dashPages.ExecuteTemplate(&buf, "dash_users.html", dashData[UsersPage]{D: d, FontURL: fontURL}); err != nil {
		return err
	}
	return writeStaffPage(c, status, buf.Bytes())
}
