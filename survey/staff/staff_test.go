package staff_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
	"github.com/afkar-gov/afkar/survey/staff"
)

// fixture is a migrated store of one dialect with two agencies, a service on a manual clock,
// and a province admin principal to act with.
type fixture struct {
	st     *sqlstore.Store
	svc    *staff.Service
	clock  *survey.ManualClock
	a1, a2 survey.ID
	admin  survey.Principal
}

func eachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range sqltest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := sqltest.Open(t, d)
			p := survey.Province{Name: "استان"}
			if err := st.CreateProvince(ctx, &p); err != nil {
				t.Fatal(err)
			}
			a1 := survey.Agency{ProvinceID: p.ID, Name: "اداره مالیات"}
			a2 := survey.Agency{ProvinceID: p.ID, Name: "ثبت اسناد"}
			if err := st.CreateAgency(ctx, &a1); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateAgency(ctx, &a2); err != nil {
				t.Fatal(err)
			}
			clock := survey.NewManualClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
			f := &fixture{st: st, clock: clock, a1: a1.ID, a2: a2.ID,
				svc:   staff.New(st, staff.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: clock}),
				admin: survey.Principal{Role: survey.RoleProvinceAdmin, Name: "cli", Via: survey.ViaToken, TokenID: 7}}
			fn(t, f)
		})
	}
}

func wantCode(t *testing.T, err error, code survey.Code) {
	t.Helper()
	if got := survey.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error %v (code %s), want code %s", err, got, code)
	}
}

func (f *fixture) user(t *testing.T, login string, role survey.Role, agency survey.ID) (staff.User, string) {
	t.Helper()
	u, pw, err := f.svc.CreateUser(context.Background(), f.admin, staff.NewUser{Login: login, Name: "کاربر " + login, Role: role, AgencyID: agency})
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) != 16 {
		t.Fatalf("generated password %q", pw)
	}
	return u, pw
}

func TestPasswordHashFormatAndRules(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	h, err := staff.HashPassword(ctx, "درست-و-بلند-۱۲۳")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("argon2id hash took %v: %s", time.Since(start), h)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Count(h, "$") != 5 {
		t.Fatalf("hash %q is not the PHC string of the current parameters", h)
	}
	if ok, _ := staff.VerifyPassword(ctx, h, "درست-و-بلند-۱۲۳"); !ok {
		t.Error("the right password does not verify")
	}
	if ok, _ := staff.VerifyPassword(ctx, h, "درست-و-بلند-۱۲۴"); ok {
		t.Error("a wrong password verifies")
	}
	if ok, _ := staff.VerifyPassword(ctx, "garbage", "x"); ok {
		t.Error("an unreadable hash verifies")
	}
	if staff.NeedsRehash(h) || !staff.NeedsRehash(strings.Replace(h, "m=19456,t=2", "m=8192,t=1", 1)) {
		t.Error("NeedsRehash wrong")
	}
	for pw, code := range map[string]string{"short": "too_short", "mina.rahimi": "same_as_login", "MINA.RAHIMI": "same_as_login", "a good long passphrase": ""} {
		err := staff.CheckPassword("password", "mina.rahimi", pw)
		var se *survey.Error
		switch {
		case code == "" && err != nil:
			t.Errorf("%q refused: %v", pw, err)
		case code != "" && (!errors.As(err, &se) || se.Fields["password"].Code != code):
			t.Errorf("%q: %v, want %s", pw, err, code)
		}
	}
}

func TestLoginSessionsAndLockout(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, pw := f.user(t, "Mina.Rahimi", survey.RoleAgencyAdmin, f.a1)
		if u.Login != "mina.rahimi" {
			t.Fatalf("login stored as %q", u.Login)
		}
		// Login ok (login case-insensitive), principal from the session.
		tok, got, err := f.svc.Login(ctx, " MINA.rahimi ", pw, "10.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || !strings.HasPrefix(tok, staff.SessionPrefix) {
			t.Fatalf("login returned %+v, %q", got, tok)
		}
		p, err := f.svc.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if p.UserID != u.ID || p.Role != survey.RoleAgencyAdmin || p.AgencyID != f.a1 || p.Via != survey.ViaSession {
			t.Fatalf("principal %+v", p)
		}
		// Wrong password and unknown login: the same error.
		_, _, errWrong := f.svc.Login(ctx, "mina.rahimi", pw+"x", "10.0.0.2", "")
		_, _, errUnknown := f.svc.Login(ctx, "nobody", pw, "10.0.0.2", "")
		wantCode(t, errWrong, survey.ECodeUnauthorized)
		wantCode(t, errUnknown, survey.ECodeUnauthorized)
		if errWrong.Error() != errUnknown.Error() {
			t.Errorf("wrong password %q and unknown login %q differ", errWrong, errUnknown)
		}
		// Four more failures (five in all) lock the account: the right password is refused.
		for i := 0; i < 4; i++ {
			_, _, err := f.svc.Login(ctx, "mina.rahimi", "wrong-password", "10.0.0.3", "")
			wantCode(t, err, survey.ECodeUnauthorized)
		}
		_, _, err = f.svc.Login(ctx, "mina.rahimi", pw, "10.0.0.4", "")
		wantCode(t, err, survey.ECodeUnauthorized)
		if err.Error() != errWrong.Error() {
			t.Errorf("the lock says %q, not the one refusal", err)
		}
		f.clock.Advance(staff.LockFor - time.Second)
		_, _, err = f.svc.Login(ctx, "mina.rahimi", pw, "10.0.0.4", "")
		wantCode(t, err, survey.ECodeUnauthorized)
		f.clock.Advance(2 * time.Second)
		tok2, _, err := f.svc.Login(ctx, "mina.rahimi", pw, "10.0.0.4", tok)
		if err != nil {
			t.Fatalf("login after the lock ended: %v", err)
		}
		// The previous session was rotated away by the new login.
		_, err = f.svc.Authenticate(ctx, tok)
		wantCode(t, err, survey.ECodeUnauthorized)
		// Idle timeout: active within two hours stays, two hours idle ends it.
		f.clock.Advance(staff.IdleTimeout - time.Minute)
		if _, err := f.svc.Authenticate(ctx, tok2); err != nil {
			t.Fatalf("session ended before its idle timeout: %v", err)
		}
		f.clock.Advance(staff.IdleTimeout)
		_, err = f.svc.Authenticate(ctx, tok2)
		wantCode(t, err, survey.ECodeUnauthorized)
		// Absolute timeout: used every hour, still ends after twelve hours.
		tok3, _, err := f.svc.Login(ctx, "mina.rahimi", pw, "10.0.0.4", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 11; i++ {
			f.clock.Advance(time.Hour)
			if _, err := f.svc.Authenticate(ctx, tok3); err != nil {
				t.Fatalf("hour %d: %v", i+1, err)
			}
		}
		f.clock.Advance(time.Hour)
		_, err = f.svc.Authenticate(ctx, tok3)
		wantCode(t, err, survey.ECodeUnauthorized)
		// Logout revokes.
		tok4, _, err := f.svc.Login(ctx, "mina.rahimi", pw, "10.0.0.4", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Logout(ctx, tok4); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, tok4)
		wantCode(t, err, survey.ECodeUnauthorized)
	})
}

func TestPasswordChangeAndResetRevokeSessions(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, pw := f.user(t, "reza", survey.RoleProvinceStaff, 0)
		a, _, err := f.svc.Login(ctx, "reza", pw, "ip", "")
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := f.svc.Login(ctx, "reza", pw, "ip", "")
		if err != nil {
			t.Fatal(err)
		}
		pa, _ := f.svc.Authenticate(ctx, a)
		wantCode(t, f.svc.ChangePassword(ctx, pa, a, "wrong-old-password", "a new long password"), survey.ECodeInvalid)
		wantCode(t, f.svc.ChangePassword(ctx, pa, a, pw, "short"), survey.ECodeInvalid)
		if err := f.svc.ChangePassword(ctx, pa, a, pw, "a new long password"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, a); err != nil {
			t.Errorf("the session that changed the password ended: %v", err)
		}
		_, err = f.svc.Authenticate(ctx, b)
		wantCode(t, err, survey.ECodeUnauthorized)
		_, _, err = f.svc.Login(ctx, "reza", pw, "ip", "")
		wantCode(t, err, survey.ECodeUnauthorized)
		// An admin's reset ends every session and gives a one-time password that works.
		npw, err := f.svc.ResetPassword(ctx, f.admin, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, a)
		wantCode(t, err, survey.ECodeUnauthorized)
		if _, _, err := f.svc.Login(ctx, "reza", npw, "ip", ""); err != nil {
			t.Fatalf("login with the reset password: %v", err)
		}
		// Disabling ends sessions and refuses logins.
		c, _, _ := f.svc.Login(ctx, "reza", npw, "ip", "")
		yes := true
		if _, err := f.svc.UpdateUser(ctx, f.admin, u.ID, staff.UserPatch{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, c)
		wantCode(t, err, survey.ECodeUnauthorized)
		_, _, err = f.svc.Login(ctx, "reza", npw, "ip", "")
		wantCode(t, err, survey.ECodeUnauthorized)
		// Audit: create, password change, reset, update — no hash anywhere.
		log, err := f.svc.AuditLog(ctx, f.admin, survey.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
			if strings.Contains(e.Before+e.After, "argon2") || strings.Contains(e.Before+e.After, "password_hash") {
				t.Errorf("audit entry %d carries a hash: %s %s", e.ID, e.Before, e.After)
			}
		}
		if got := strings.Join(actions, ","); got != "user.update,user.password_reset,user.password_change,user.create" {
			t.Errorf("audit actions %s", got)
		}
		if log[3].ActorTokenID != 7 || log[3].ActorName != "cli" || log[2].ActorUserID != u.ID || log[0].EntityID != u.ID {
			t.Errorf("audit actors: %+v", log)
		}
		if !strings.Contains(log[0].Before, `"disabled":false`) || !strings.Contains(log[0].After, `"disabled":true`) {
			t.Errorf("update entry before/after: %s → %s", log[0].Before, log[0].After)
		}
	})
}

func TestRehashOnLoginWhenParametersChange(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, pw := f.user(t, "old.hash", survey.RoleProvinceStaff, 0)
		// A hash made with weaker parameters (as an older release would have stored).
		weak := staff.WeakHash(t, pw)
		u.PasswordHash = weak
		if err := f.st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Login(ctx, "old.hash", pw, "ip", ""); err != nil {
			t.Fatal(err)
		}
		after, _ := f.st.UserByID(ctx, u.ID)
		if after.PasswordHash == weak || staff.NeedsRehash(after.PasswordHash) {
			t.Fatalf("hash not upgraded: %s", after.PasswordHash)
		}
	})
}

func TestAgencyAdminTenancy(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		adm, pw := f.user(t, "tax.admin", survey.RoleAgencyAdmin, f.a1)
		other, _ := f.user(t, "reg.staff", survey.RoleAgencyStaff, f.a2)
		tok, _, err := f.svc.Login(ctx, "tax.admin", pw, "ip", "")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.svc.Authenticate(ctx, tok)
		// Creates its own agency's staff; never a province role, never another agency's.
		mine, _, err := f.svc.CreateUser(ctx, p, staff.NewUser{Login: "tax.staff", Name: "کارمند", Role: survey.RoleAgencyStaff})
		if err != nil || mine.AgencyID != f.a1 {
			t.Fatalf("agency admin creates %+v, %v; want a user of its agency", mine, err)
		}
		for _, nu := range []staff.NewUser{
			{Login: "boss", Name: "x", Role: survey.RoleProvinceAdmin},
			{Login: "eval", Name: "x", Role: survey.RoleProvinceEvaluator},
			{Login: "spy", Name: "x", Role: survey.RoleAgencyStaff, AgencyID: f.a2},
		} {
			_, _, err := f.svc.CreateUser(ctx, p, nu)
			wantCode(t, err, survey.ECodeForbidden)
		}
		// Lists only its agency.
		us, err := f.svc.Users(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) != 2 || us[0].ID != adm.ID || us[1].ID != mine.ID {
			t.Fatalf("agency admin sees %+v", us)
		}
		// Another agency's user is not found, for reading, changing or resetting.
		_, err = f.svc.User(ctx, p, other.ID)
		wantCode(t, err, survey.ECodeNotFound)
		yes := true
		_, err = f.svc.UpdateUser(ctx, p, other.ID, staff.UserPatch{Disabled: &yes})
		wantCode(t, err, survey.ECodeNotFound)
		_, err = f.svc.ResetPassword(ctx, p, other.ID)
		wantCode(t, err, survey.ECodeNotFound)
		// Cannot promote its own staff to a province role, nor move them to another agency.
		prov := survey.RoleProvinceStaff
		zero := survey.ID(0)
		_, err = f.svc.UpdateUser(ctx, p, mine.ID, staff.UserPatch{Role: &prov, AgencyID: &zero})
		wantCode(t, err, survey.ECodeForbidden)
		_, err = f.svc.UpdateUser(ctx, p, mine.ID, staff.UserPatch{AgencyID: &f.a2})
		wantCode(t, err, survey.ECodeForbidden)
		// Nor disable itself.
		_, err = f.svc.UpdateUser(ctx, p, adm.ID, staff.UserPatch{Disabled: &yes})
		wantCode(t, err, survey.ECodeForbidden)
		// Its audit log holds only its agency's entries.
		log, err := f.svc.AuditLog(ctx, p, survey.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 {
			t.Fatalf("agency admin's audit log: %+v", log)
		}
		for _, e := range log {
			if e.AgencyID != f.a1 {
				t.Errorf("entry of agency %d in agency %d's log", e.AgencyID, f.a1)
			}
		}
		// Staff (not admins) manage nobody.
		_, err = f.svc.Users(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: f.a1})
		wantCode(t, err, survey.ECodeForbidden)
		_, err = f.svc.AuditLog(ctx, survey.Principal{Role: survey.RoleProvinceEvaluator}, survey.AuditQuery{})
		wantCode(t, err, survey.ECodeForbidden)
		// A taken login is a conflict.
		_, _, err = f.svc.CreateUser(ctx, f.admin, staff.NewUser{Login: "TAX.ADMIN", Name: "x", Role: survey.RoleProvinceStaff})
		wantCode(t, err, survey.ECodeConflict)
	})
}

func TestCSRFTokens(t *testing.T) {
	svc := staff.New(nil, staff.Options{Secret: []byte("0123456789abcdef")})
	other := staff.New(nil, staff.Options{Secret: []byte("fedcba9876543210")})
	tok := svc.CSRFToken("afks_session")
	if !svc.CheckCSRF("afks_session", tok) {
		t.Error("the right token is refused")
	}
	if svc.CheckCSRF("afks_other", tok) || svc.CheckCSRF("afks_session", "") || svc.CheckCSRF("afks_session", other.CSRFToken("afks_session")) {
		t.Error("a wrong token is accepted")
	}
	if svc.CheckLoginCSRF("pre", svc.CSRFToken("pre")) || !svc.CheckLoginCSRF("pre", svc.LoginCSRF("pre")) || svc.CheckLoginCSRF("", svc.LoginCSRF("")) {
		t.Error("login CSRF tokens mix with session ones or accept an empty cookie")
	}
}

func TestIPThrottle(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		_, pw := f.user(t, "victim", survey.RoleProvinceStaff, 0)
		for i := 0; i < staff.IPFailures; i++ {
			_, _, err := f.svc.Login(ctx, "nobody"+string(rune('a'+i)), "whatever-long", "10.9.9.9", "")
			wantCode(t, err, survey.ECodeUnauthorized)
		}
		_, _, err := f.svc.Login(ctx, "victim", pw, "10.9.9.9", "")
		wantCode(t, err, survey.ECodeRateLimited)
		if _, _, err := f.svc.Login(ctx, "victim", pw, "10.1.1.1", ""); err != nil {
			t.Fatalf("another address is throttled too: %v", err)
		}
		f.clock.Advance(staff.IPWindow)
		if _, _, err := f.svc.Login(ctx, "victim", pw, "10.9.9.9", ""); err != nil {
			t.Fatalf("still throttled after the window: %v", err)
		}
	})
}
