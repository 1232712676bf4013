package sqlstore_test

import (
	"reflect"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// Two different bodies under one id that slipped past intake are not dropped silently: the fold
// keeps the first and reports the others by position, so the aggregator can set them aside.
func TestFoldReportsIDConflicts(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(7)
		withHash := func(r survey.Response, h string) survey.Response { r.Hash = h; return r }
		a, b, c, legacy := g.response(), g.response(), g.response(), g.response()
		const h1, h2, h3 = "11111111111111111111111111111111", "22222222222222222222222222222222", "33333333333333333333333333333333"
		legacy.Hash = ""

		res, err := s.FoldResponses(ctx, []survey.Response{withHash(a, h1), legacy}, testDelta)
		if err != nil || res.Inserted != 2 || len(res.Conflicts) != 0 {
			t.Fatalf("first fold: %+v, %v", res, err)
		}
		batch := []survey.Response{
			withHash(a, h2),      // 0: a is stored with h1: conflict
			withHash(b, h3),      // 1: new, kept
			withHash(a, h1),      // 2: a resend of the stored a
			withHash(b, h3),      // 3: a resend of b within the batch
			withHash(c, h1),      // 4: new, kept (first of c)
			withHash(b, h1),      // 5: other content under b, kept from this batch: conflict
			withHash(c, h2),      // 6: conflict with the c kept at 4
			withHash(legacy, h2), // 7: the stored row has no hash: cannot tell, not a conflict
			withHash(c, ""),      // 8: no hash (buffered by an older binary): not a conflict
		}
		res, err = s.FoldResponses(ctx, batch, testDelta)
		if err != nil || res.Inserted != 2 {
			t.Fatalf("second fold: %+v, %v", res, err)
		}
		if want := []int{0, 5, 6}; !reflect.DeepEqual(res.Conflicts, want) {
			t.Fatalf("conflicts %v, want %v", res.Conflicts, want)
		}
		// The first content of each id is what is stored and counted.
		hashes, err := s.ContentHashes(ctx, []string{a.ID, b.ID, c.ID, legacy.ID})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{a.ID: h1, b.ID: h3, c.ID: h1, legacy.ID: ""}; !reflect.DeepEqual(hashes, want) {
			t.Fatalf("stored hashes %v, want %v", hashes, want)
		}
		checkTotals(t, s, []survey.Response{a, legacy, b, c}, survey.RollupFilter{})

		// Fold, the counting form, is unchanged for its callers.
		if n, err := s.Fold(ctx, batch, testDelta); err != nil || n != 0 {
			t.Fatalf("Fold again = %d, %v", n, err)
		}
	})
}

func TestContentHashes(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		rs := newGen(3).responses(1200) // more than one SQLite statement's worth of ids
		ids := make([]string, 0, len(rs)+3)
		for i := range rs {
			rs[i].Hash = "0123456789abcdef0123456789abcdef"
			ids = append(ids, rs[i].ID)
		}
		fold(t, s, rs)
		unknown := "0193a1d2-7c4e-7b3a-9f00-000000000999"
		ids = append(ids, unknown, "not-a-uuid", "")
		got, err := s.ContentHashes(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rs) {
			t.Fatalf("%d hashes for %d stored ids", len(got), len(rs))
		}
		if _, ok := got[unknown]; ok {
			t.Fatal("an id never stored has a hash")
		}
		if h, ok := got[rs[0].ID]; !ok || h != rs[0].Hash {
			t.Fatalf("hash of %s = %q, %v", rs[0].ID, h, ok)
		}
		if got, err := s.ContentHashes(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("no ids: %v, %v", got, err)
		}
	})
}

// Integration tokens carry their scope (agency, optional office) and channel through the store.
func TestScopedTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		f := newCatalog(t, s)
		for _, p := range []survey.Principal{
			{Role: survey.RoleIntegration, AgencyID: f.a.ID, Channel: survey.ChannelKiosk, Name: "kiosks"},
			{Role: survey.RoleIntegration, AgencyID: f.a.ID, OfficeID: f.office.ID, Channel: survey.ChannelKiosk, Name: "lobby"},
			{Role: survey.RoleIntegration, AgencyID: f.b.ID, Channel: survey.ChannelSMS, Name: "sms"},
		} {
			tok, err := s.CreateToken(ctx, p)
			if err != nil {
				t.Fatalf("CreateToken(%+v): %v", p, err)
			}
			if got, err := s.Authenticate(ctx, tok); err != nil || !sameHolder(got, p) {
				t.Fatalf("Authenticate = %+v, %v; want %+v", got, err, p)
			}
		}
		for _, c := range []struct {
			p     survey.Principal
			field string
		}{
			{survey.Principal{Role: survey.RoleIntegration, Name: "unscoped"}, "agency_id"},
			{survey.Principal{Role: survey.RoleIntegration, AgencyID: f.a.ID}, "channel"},
			{survey.Principal{Role: survey.RoleIntegration, AgencyID: f.b.ID, OfficeID: f.office.ID, Channel: survey.ChannelKiosk}, "office_id"},
			{survey.Principal{Role: survey.RoleIntegration, AgencyID: f.a.ID, OfficeID: 9999, Channel: survey.ChannelKiosk}, "office_id"},
			{survey.Principal{Role: survey.RoleIntegration, AgencyID: 9999, Channel: survey.ChannelKiosk}, "agency_id"},
		} {
			_, err := s.CreateToken(ctx, c.p)
			if se := wantCode(t, err, survey.ECodeInvalid); se.Fields[c.field].Code == "" {
				t.Fatalf("%+v: fields %+v do not name %s", c.p, se.Fields, c.field)
			}
		}
	})
}

// The bootstrap admin is a token row; registering a new one revokes the previous, so a rotated
// AFKAR_ADMIN_TOKEN (or one generated for a single process) does not stay valid.
func TestBootstrapToken(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		const first, second = "first-admin-token-0123456789", "second-admin-token-0123456789"
		admin := survey.Principal{Role: survey.RoleProvinceAdmin, Name: sqlstore.BootstrapName}
		for range 2 { // every start registers it again
			if err := s.RegisterBootstrapToken(ctx, first); err != nil {
				t.Fatal(err)
			}
		}
		other, err := s.CreateToken(ctx, survey.Principal{Role: survey.RoleProvinceAdmin, Name: "another admin"})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := s.Authenticate(ctx, first); err != nil || !sameHolder(p, admin) {
			t.Fatalf("Authenticate(bootstrap) = %+v, %v", p, err)
		}
		if err := s.RegisterBootstrapToken(ctx, second); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, first); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("the replaced bootstrap token still works: %v", err)
		}
		if p, err := s.Authenticate(ctx, second); err != nil || !sameHolder(p, admin) {
			t.Fatalf("Authenticate(new bootstrap) = %+v, %v", p, err)
		}
		if _, err := s.Authenticate(ctx, other); err != nil {
			t.Fatalf("an ordinary admin token was revoked with the bootstrap one: %v", err)
		}
		wantCode(t, s.RegisterBootstrapToken(ctx, "short"), survey.ECodeInvalid)
	})
}
