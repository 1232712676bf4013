package staff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// Token management: made once and shown once, named, listed by tenancy with the last use,
// revoked for good, audited.
func TestTokenManagement(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		tokens := staff.NewTokens(f.st, f.clock)
		admin1 := survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: f.a1, Name: "admin1", UserID: 1}
		viewer := survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: f.a1, Name: "viewer"}

		tok, info, err := tokens.Create(ctx, admin1, staff.NewToken{Name: "سامانهٔ نوبت‌دهی", Role: survey.RoleIntegration, Channel: survey.ChannelSMS})
		if err != nil || !strings.HasPrefix(tok, "afk_") || info.ID == 0 || info.AgencyID != f.a1 || info.LastUsedAt != nil {
			t.Fatalf("create: %q %+v %v", tok, info, err)
		}
		p, err := f.st.Authenticate(ctx, tok)
		if err != nil || p.Role != survey.RoleIntegration || p.AgencyID != f.a1 || p.Channel != survey.ChannelSMS {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
		mine, err := tokens.List(ctx, admin1)
		if err != nil || len(mine) != 1 || mine[0].LastUsedAt == nil || mine[0].Name != "سامانهٔ نوبت‌دهی" {
			t.Fatalf("list: %+v %v", mine, err)
		}
		// Refusals: another agency, a province role, a viewer, no name.
		_, _, err = tokens.Create(ctx, admin1, staff.NewToken{Name: "x", Role: survey.RoleIntegration, AgencyID: f.a2, Channel: survey.ChannelSMS})
		wantCode(t, err, survey.ECodeForbidden)
		_, _, err = tokens.Create(ctx, admin1, staff.NewToken{Name: "x", Role: survey.RoleProvinceAdmin})
		wantCode(t, err, survey.ECodeForbidden)
		_, err = tokens.List(ctx, viewer)
		wantCode(t, err, survey.ECodeForbidden)
		_, _, err = tokens.Create(ctx, f.admin, staff.NewToken{Role: survey.RoleProvinceStaff})
		wantCode(t, err, survey.ECodeInvalid)

		// The province admin's token of the other agency is invisible to admin1.
		_, other, err := tokens.Create(ctx, f.admin, staff.NewToken{Name: "گزارش", Role: survey.RoleIntegration, AgencyID: f.a2, Channel: survey.ChannelWeb})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tokens.Revoke(ctx, admin1, other.ID)
		wantCode(t, err, survey.ECodeNotFound)
		if all, _ := tokens.List(ctx, f.admin); len(all) != 2 {
			t.Fatalf("province list: %d", len(all))
		}
		// Revoked: authenticates nothing, listed with its time.
		rev, err := tokens.Revoke(ctx, admin1, info.ID)
		if err != nil || rev.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", rev, err)
		}
		if _, err := f.st.Authenticate(ctx, tok); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("a revoked token authenticated: %v", err)
		}
		// The bootstrap token is replaced through its setting, never revoked here.
		if err := f.st.RegisterBootstrapToken(ctx, strings.Repeat("b", 32)); err != nil {
			t.Fatal(err)
		}
		all, _ := tokens.List(ctx, f.admin)
		for _, ti := range all {
			if ti.Bootstrap {
				_, err := tokens.Revoke(ctx, f.admin, ti.ID)
				wantCode(t, err, survey.ECodeInvalid)
			}
		}
		log, err := f.st.AuditLog(ctx, survey.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range log {
			if e.Entity == "token" {
				actions[e.Action]++
				if strings.Contains(e.Before+e.After, tok) {
					t.Fatal("the token in the audit log")
				}
			}
		}
		if actions["token.create"] != 2 || actions["token.revoke"] != 1 {
			t.Fatalf("audit %v", actions)
		}
	})
}
