package sqlstore_test

import (
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
	"github.com/afkar-gov/afkar/survey/staff"
)

// sameHolder reports whether an authenticated token principal is want, apart from the token
// row's id, which must be set (audit entries name it).
func sameHolder(got, want survey.Principal) bool {
	if got.TokenID == 0 {
		return false
	}
	got.TokenID = 0
	return got == want
}

// The store's side of accounts: logins unique, the lock counted in one statement, sessions and
// the audit log's filters, on both dialects.
func TestUsersSessionsAudit(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		f := newCatalog(t, s)
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		u := staff.User{Login: "mina", Name: "مینا", Role: survey.RoleAgencyAdmin, AgencyID: f.a.ID, PasswordHash: "$argon2id$x", CreatedAt: at}
		if err := s.CreateUser(ctx, &u); err != nil || u.ID == 0 {
			t.Fatalf("CreateUser = %v, id %d", err, u.ID)
		}
		dup := u
		wantCode(t, s.CreateUser(ctx, &dup), survey.ECodeConflict)
		bad := staff.User{Login: "ghost", Name: "x", Role: survey.RoleAgencyStaff, AgencyID: 9999, PasswordHash: "h"}
		wantCode(t, s.CreateUser(ctx, &bad), survey.ECodeInvalid)
		_, err := s.UserByLogin(ctx, "nobody")
		wantCode(t, err, survey.ECodeNotFound)
		// Four failures count; the fifth locks and resets the count.
		until := at.Add(15 * time.Minute)
		for i := 1; i <= 5; i++ {
			if err := s.LoginFailed(ctx, u.ID, 5, until); err != nil {
				t.Fatal(err)
			}
			got, _ := s.UserByID(ctx, u.ID)
			wantN, locked := i, false
			if i == 5 {
				wantN, locked = 0, true
			}
			if got.FailedLogins != wantN || got.LockedUntil.Equal(until) != locked {
				t.Fatalf("after %d failures: %d counted, locked until %v", i, got.FailedLogins, got.LockedUntil)
			}
		}
		if err := s.LoginSucceeded(ctx, u.ID, at); err != nil {
			t.Fatal(err)
		}
		got, _ := s.UserByID(ctx, u.ID)
		if !got.LockedUntil.IsZero() || !got.LastLoginAt.Equal(at) || got.PasswordHash != "$argon2id$x" {
			t.Fatalf("after success: %+v", got)
		}
		// Sessions: create, read, touch, delete one, delete all but one.
		for _, h := range []string{"h1", "h2", "h3"} {
			if err := s.CreateSession(ctx, staff.Session{Hash: h, UserID: u.ID, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.TouchSession(ctx, "h1", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		se, err := s.Session(ctx, "h1")
		if err != nil || !se.LastSeenAt.Equal(at.Add(time.Minute)) || se.UserID != u.ID || !se.ExpiresAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("Session = %+v, %v", se, err)
		}
		if err := s.DeleteSessions(ctx, u.ID, "h2"); err != nil {
			t.Fatal(err)
		}
		for h, alive := range map[string]bool{"h1": false, "h2": true, "h3": false} {
			if _, err := s.Session(ctx, h); (err == nil) != alive {
				t.Errorf("session %s: %v, want alive=%t", h, err, alive)
			}
		}
		// An expired session is swept when the next one is created.
		if err := s.CreateSession(ctx, staff.Session{Hash: "h4", UserID: u.ID, CreatedAt: at.Add(2 * time.Hour), LastSeenAt: at, ExpiresAt: at.Add(3 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "h2"); survey.ErrorCode(err) != survey.ECodeNotFound {
			t.Errorf("an expired session survived the sweep: %v", err)
		}
		// Audit: filters by agency, entity, before, limit; newest first.
		for i, e := range []survey.AuditEntry{
			{ActorUserID: u.ID, ActorName: "مینا", Action: "user.create", Entity: "user", EntityID: 5, AgencyID: f.a.ID, After: `{"a":1}`},
			{ActorTokenID: 3, ActorName: "cli", Action: "user.update", Entity: "user", EntityID: 5, AgencyID: f.a.ID, Before: `{"a":1}`, After: `{"a":2}`},
			{ActorName: "cli", Action: "user.create", Entity: "user", EntityID: 6},
			{ActorName: "cli", Action: "kiosk.revoke", Entity: "kiosk", EntityID: 7, AgencyID: f.a.ID},
		} {
			e.At = at.Add(time.Duration(i) * time.Second)
			if err := s.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.AuditLog(ctx, survey.AuditQuery{})
		if err != nil || len(all) != 4 || all[0].Action != "kiosk.revoke" || all[3].After != `{"a":1}` || all[2].ActorTokenID != 3 || all[2].Before != `{"a":1}` {
			t.Fatalf("AuditLog = %+v, %v", all, err)
		}
		mine, _ := s.AuditLog(ctx, survey.AuditQuery{AgencyID: f.a.ID, Entity: "user"})
		older, _ := s.AuditLog(ctx, survey.AuditQuery{BeforeID: all[1].ID, Limit: 1})
		if len(mine) != 2 || len(older) != 1 || older[0].ID != all[2].ID {
			t.Fatalf("filtered: %+v / %+v", mine, older)
		}
	})
}
