package staff

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// NewUser is what an admin gives to create an account. An empty Password makes the service
// generate one, returned once by CreateUser.
type NewUser struct {
	Login    string      `json:"login"`
	Name     string      `json:"name"`
	Role     survey.Role `json:"role"`
	AgencyID survey.ID   `json:"agency_id,omitempty"`
	Password string      `json:"password,omitempty"`
}

// UserPatch is a partial change of an account; nil fields stay as they are.
type UserPatch struct {
	Name     *string      `json:"name,omitempty"`
	Role     *survey.Role `json:"role,omitempty"`
	AgencyID *survey.ID   `json:"agency_id,omitempty"`
	Disabled *bool        `json:"disabled,omitempty"`
}

var loginPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

func invalid(field, code, fa, en string) error {
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{field: {Code: code, Message: en, MessageFA: fa}}}
}

// errNoUser hides accounts outside the caller's reach: not found, like a missing one.
func errNoUser() error {
	return survey.Errorf(survey.ECodeNotFound, "این کاربر پیدا نشد.", "user not found")
}

func errCannotManage() error {
	return survey.Errorf(survey.ECodeForbidden, "شما اجازه مدیریت کاربران را ندارید.", "you may not manage users")
}

// checkShape checks a role and agency pair as an account would hold it, and the name.
func checkShape(role survey.Role, agency survey.ID, name string) error {
	if !role.PersonRole() {
		return invalid("role", "unknown_role", "نقش کاربر باید یکی از نقش‌های استانی یا دستگاهی باشد.",
			"role must be province_admin, province_staff, province_evaluator, agency_admin or agency_staff")
	}
	if err := (survey.Principal{Role: role, AgencyID: agency}).Check(); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(name)); n == 0 || n > 100 {
		return invalid("name", "required", "نام کاربر باید ۱ تا ۱۰۰ نویسه باشد.", "name must be 1 to 100 characters")
	}
	return nil
}

// CreateUser creates an account on actor's authority (province admin: anyone; agency admin: its
// own agency's agency roles) and returns it with its password — the given one or a generated
// one, which cannot be shown again.
func (s *Service) CreateUser(ctx context.Context, actor survey.Principal, nu NewUser) (User, string, error) {
	if !actor.CanManageUsers(actor.AgencyID) && actor.Role != survey.RoleProvinceAdmin {
		return User{}, "", errCannotManage()
	}
	if actor.Role == survey.RoleAgencyAdmin && nu.AgencyID == 0 && !nu.Role.ProvinceRole() {
		nu.AgencyID = actor.AgencyID // an agency admin's people belong to its agency
	}
	nu.Login = NormalizeLogin(nu.Login)
	if !loginPattern.MatchString(nu.Login) {
		return User{}, "", invalid("login", "invalid_login", "نام کاربری باید ۳ تا ۶۴ نویسه از حروف کوچک لاتین، رقم، نقطه، خط تیره یا زیرخط باشد.",
			"login must be 3 to 64 characters: a-z, 0-9, '.', '-', '_'")
	}
	if err := checkShape(nu.Role, nu.AgencyID, nu.Name); err != nil {
		return User{}, "", err
	}
	if !actor.CanGrant(nu.Role, nu.AgencyID) {
		return User{}, "", survey.Errorf(survey.ECodeForbidden, "شما نمی‌توانید این نقش را در این دستگاه بدهید.", "you may not grant this role in this agency")
	}
	password := nu.Password
	if password == "" {
		password = GeneratePassword()
	}
	if err := CheckPassword("password", nu.Login, password); err != nil {
		return User{}, "", err
	}
	h, err := HashPassword(ctx, password)
	if err != nil {
		return User{}, "", err
	}
	now := s.now()
	u := User{Login: nu.Login, Name: strings.TrimSpace(nu.Name), Role: nu.Role, AgencyID: nu.AgencyID,
		PasswordHash: h, CreatedAt: now, PasswordChangedAt: now}
	if err := s.st.CreateUser(ctx, &u); err != nil {
		return User{}, "", err
	}
	if err := s.audit(ctx, actor, "user.create", u.AgencyID, u.ID, nil, u); err != nil {
		return User{}, "", err
	}
	return u, password, nil
}

// Users lists the accounts actor may manage: every account for a province admin, its agency's
// for an agency admin.
func (s *Service) Users(ctx context.Context, actor survey.Principal) ([]User, error) {
	switch {
	case actor.Role == survey.RoleProvinceAdmin:
		return s.st.Users(ctx, 0)
	case actor.CanManageUsers(actor.AgencyID):
		return s.st.Users(ctx, actor.AgencyID)
	}
	return nil, errCannotManage()
}

// User returns one account actor may manage; others are not found.
func (s *Service) User(ctx context.Context, actor survey.Principal, id survey.ID) (User, error) {
	if !actor.CanManageUsers(actor.AgencyID) && actor.Role != survey.RoleProvinceAdmin {
		return User{}, errCannotManage()
	}
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	if !actor.CanManageUsers(u.AgencyID) {
		return User{}, errNoUser()
	}
	return u, nil
}

// Me returns the account of a session principal (ECodeNotFound for a token's).
func (s *Service) Me(ctx context.Context, p survey.Principal) (User, error) {
	if p.UserID == 0 {
		return User{}, errNoUser()
	}
	return s.st.UserByID(ctx, p.UserID)
}

// UserByLogin returns the account with login, for the command line (no principal involved).
func (s *Service) UserByLogin(ctx context.Context, login string) (User, error) {
	return s.st.UserByLogin(ctx, NormalizeLogin(login))
}

// UpdateUser applies a patch on actor's authority. The result must be a role actor may grant;
// nobody disables or demotes their own account (an admin cannot lock the door behind them).
// Disabling an account ends its sessions.
func (s *Service) UpdateUser(ctx context.Context, actor survey.Principal, id survey.ID, patch UserPatch) (User, error) {
	u, err := s.User(ctx, actor, id)
	if err != nil {
		return User{}, err
	}
	before := u
	if patch.Name != nil {
		u.Name = strings.TrimSpace(*patch.Name)
	}
	if patch.Role != nil {
		u.Role = *patch.Role
	}
	if patch.AgencyID != nil {
		u.AgencyID = *patch.AgencyID
	}
	if patch.Disabled != nil {
		u.Disabled = *patch.Disabled
	}
	if err := checkShape(u.Role, u.AgencyID, u.Name); err != nil {
		return User{}, err
	}
	if (u.Role != before.Role || u.AgencyID != before.AgencyID) && !actor.CanGrant(u.Role, u.AgencyID) {
		return User{}, survey.Errorf(survey.ECodeForbidden, "شما نمی‌توانید این نقش را در این دستگاه بدهید.", "you may not grant this role in this agency")
	}
	if actor.UserID == u.ID && (u.Disabled || u.Role != before.Role || u.AgencyID != before.AgencyID) {
		return User{}, survey.Errorf(survey.ECodeForbidden, "نمی‌توانید حساب خودتان را غیرفعال کنید یا نقش آن را تغییر دهید.", "you may not disable your own account or change its role")
	}
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	if u.Disabled && !before.Disabled || u.Role != before.Role || u.AgencyID != before.AgencyID {
		if err := s.st.DeleteSessions(ctx, u.ID, ""); err != nil {
			return User{}, err
		}
	}
	if err := s.audit(ctx, actor, "user.update", u.AgencyID, u.ID, before, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// ResetPassword gives the account a new generated password on actor's authority, ends all its
// sessions and lifts a lock; the password is returned once.
func (s *Service) ResetPassword(ctx context.Context, actor survey.Principal, id survey.ID) (string, error) {
	u, err := s.User(ctx, actor, id)
	if err != nil {
		return "", err
	}
	password := GeneratePassword()
	if err := s.setPassword(ctx, actor, u, password, "", "user.password_reset"); err != nil {
		return "", err
	}
	return password, nil
}

// AuditLog lists audit entries actor may read: a province admin every entry, an agency admin
// its agency's; anyone else is refused.
func (s *Service) AuditLog(ctx context.Context, actor survey.Principal, q survey.AuditQuery) ([]survey.AuditEntry, error) {
	switch {
	case actor.Role == survey.RoleProvinceAdmin:
	case actor.CanManageUsers(actor.AgencyID):
		q.AgencyID = actor.AgencyID
	default:
		return nil, survey.Errorf(survey.ECodeForbidden, "شما اجازه دیدن گزارش تغییرات را ندارید.", "you may not read the audit log")
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	return s.st.AuditLog(ctx, q)
}

// audit writes one entry for a change by actor; before and after are marshalled as JSON (nil:
// none). User's JSON has no password hash.
func (s *Service) audit(ctx context.Context, actor survey.Principal, action string, agency, id survey.ID, before, after any) error {
	e := survey.AuditEntry{At: s.now(), ActorUserID: actor.UserID, ActorTokenID: actor.TokenID, ActorName: actor.Name,
		Action: action, Entity: "user", EntityID: id, AgencyID: agency}
	if before != nil {
		b, _ := json.Marshal(before)
		e.Before = string(b)
	}
	if after != nil {
		b, _ := json.Marshal(after)
		e.After = string(b)
	}
	return s.st.Audit(ctx, e)
}
