package staff

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// API tokens are for machines (a queue system inviting by SMS, a web-form backend, a reporting
// script): admins make them here — shown once, stored hashed — name them, see when each was
// last used, and revoke them. A province admin manages every token; an agency admin only its
// agency's integration tokens. Every change is audited.

// TokenStore is what token management needs from storage (the SQL store).
type TokenStore interface {
	CreateToken(ctx context.Context, p survey.Principal) (string, error)
	Tokens(ctx context.Context, agency survey.ID) ([]survey.TokenInfo, error)
	RevokeToken(ctx context.Context, id survey.ID, now time.Time) error
	Audit(ctx context.Context, e survey.AuditEntry) error
}

// Tokens manages API tokens.
type Tokens struct {
	st    TokenStore
	clock survey.Clock
}

// NewTokens returns token management over st; a nil clock is the wall clock.
func NewTokens(st TokenStore, clock survey.Clock) *Tokens {
	if clock == nil {
		clock = survey.SystemClock{}
	}
	return &Tokens{st: st, clock: clock}
}

// NewToken is what an admin asks for: a name and the principal the token stands for.
type NewToken struct {
	Name     string         `json:"name"`
	Role     survey.Role    `json:"role"`
	AgencyID survey.ID      `json:"agency_id,omitempty"`
	OfficeID survey.ID      `json:"office_id,omitempty"`
	Channel  survey.Channel `json:"channel,omitempty"`
}

// errTokenAdmin refuses callers who manage no tokens.
func errTokenAdmin() error {
	return survey.Errorf(survey.ECodeForbidden, "مدیریت توکن‌ها با مدیر استان یا مدیر دستگاه است.",
		"tokens are managed by a province admin or an agency admin")
}

// scope is the agency whose tokens actor manages: 0 for all (a province admin).
func scope(actor survey.Principal) (survey.ID, error) {
	switch actor.Role {
	case survey.RoleProvinceAdmin:
		return 0, nil
	case survey.RoleAgencyAdmin:
		return actor.AgencyID, nil
	}
	return 0, errTokenAdmin()
}

// List returns the tokens actor manages, newest first.
func (t *Tokens) List(ctx context.Context, actor survey.Principal) ([]survey.TokenInfo, error) {
	agency, err := scope(actor)
	if err != nil {
		return nil, err
	}
	return t.st.Tokens(ctx, agency)
}

// Create makes a token and returns it (the only time it is shown) with its listing. An agency
// admin may make only integration tokens of its own agency.
func (t *Tokens) Create(ctx context.Context, actor survey.Principal, nt NewToken) (string, survey.TokenInfo, error) {
	agency, err := scope(actor)
	if err != nil {
		return "", survey.TokenInfo{}, err
	}
	nt.Name = strings.TrimSpace(nt.Name)
	if nt.Name == "" {
		return "", survey.TokenInfo{}, &survey.Error{Code: survey.ECodeInvalid, Message: "name is required", MessageFA: "نام توکن لازم است.",
			Fields: map[string]survey.FieldError{"name": {Code: "required", Message: "a token needs a name saying who uses it", MessageFA: "بنویسید این توکن برای چه سامانه‌ای است."}}}
	}
	if agency != 0 {
		if nt.AgencyID == 0 {
			nt.AgencyID = agency
		}
		if nt.Role != survey.RoleIntegration || nt.AgencyID != agency {
			return "", survey.TokenInfo{}, survey.Errorf(survey.ECodeForbidden, "مدیر دستگاه فقط توکن یکپارچه‌سازی دستگاه خود را می‌سازد.",
				"an agency admin makes only integration tokens of its own agency")
		}
	}
	p := survey.Principal{Role: nt.Role, AgencyID: nt.AgencyID, OfficeID: nt.OfficeID, Channel: nt.Channel, Name: nt.Name}
	token, err := t.st.CreateToken(ctx, p)
	if err != nil {
		return "", survey.TokenInfo{}, err
	}
	all, err := t.st.Tokens(ctx, nt.AgencyID)
	if err != nil {
		return "", survey.TokenInfo{}, err
	}
	info := survey.TokenInfo{Name: nt.Name, Role: nt.Role, AgencyID: nt.AgencyID}
	// Newest first: the first of this name and role is the one just made.
	if i := slices.IndexFunc(all, func(ti survey.TokenInfo) bool { return ti.Name == nt.Name && ti.Role == nt.Role }); i >= 0 {
		info = all[i]
	}
	return token, info, t.audit(ctx, actor, "token.create", info, nil, info)
}

// Revoke revokes token id. Another agency's token, like an unknown one, is not found; the
// bootstrap admin token is replaced at every start, so it cannot be revoked here.
func (t *Tokens) Revoke(ctx context.Context, actor survey.Principal, id survey.ID) (survey.TokenInfo, error) {
	agency, err := scope(actor)
	if err != nil {
		return survey.TokenInfo{}, err
	}
	all, err := t.st.Tokens(ctx, agency)
	if err != nil {
		return survey.TokenInfo{}, err
	}
	i := slices.IndexFunc(all, func(ti survey.TokenInfo) bool { return ti.ID == id })
	if i < 0 {
		return survey.TokenInfo{}, survey.Errorf(survey.ECodeNotFound, "این توکن پیدا نشد.", "token not found")
	}
	before := all[i]
	if before.Bootstrap {
		return survey.TokenInfo{}, survey.Errorf(survey.ECodeInvalid, "توکن راه‌اندازی با AFKAR_ADMIN_TOKEN عوض می‌شود، نه این‌جا.",
			"the bootstrap token is replaced through AFKAR_ADMIN_TOKEN, not revoked here")
	}
	now := t.clock.Now().UTC()
	if err := t.st.RevokeToken(ctx, id, now); err != nil {
		return survey.TokenInfo{}, err
	}
	after := before
	if after.RevokedAt == nil {
		after.RevokedAt = &now
	}
	return after, t.audit(ctx, actor, "token.revoke", before, before, after)
}

// audit writes one entry for a token change.
func (t *Tokens) audit(ctx context.Context, actor survey.Principal, action string, ti survey.TokenInfo, before, after any) error {
	e := survey.AuditEntry{At: t.clock.Now().UTC(), ActorUserID: actor.UserID, ActorTokenID: actor.TokenID, ActorName: actor.Name,
		Action: action, Entity: "token", EntityID: ti.ID, AgencyID: ti.AgencyID}
	if before != nil {
		b, _ := json.Marshal(before)
		e.Before = string(b)
	}
	if after != nil {
		b, _ := json.Marshal(after)
		e.After = string(b)
	}
	return t.st.Audit(ctx, e)
}
