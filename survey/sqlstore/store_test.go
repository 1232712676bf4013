package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

func TestOpenDialect(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	for _, url := range []string{
		"sqlite://" + filepath.Join(dir, "a", "x.db"),
		"file:" + filepath.Join(dir, "b", "x.db"),
		filepath.Join(dir, "c", "x.db"),
	} {
		s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		if s.Dialect() != sqlstore.DialectSQLite {
			t.Fatalf("Open(%s).Dialect() = %s", url, s.Dialect())
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := s.TestDB().Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
		}
		var sync int
		if err := s.TestDB().Raw("PRAGMA synchronous").Scan(&sync).Error; err != nil || sync != 2 {
			t.Fatalf("synchronous = %d (%v), want 2 (FULL)", sync, err)
		}
		var fk int
		if err := s.TestDB().Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
			t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
		}
		s.Close()
	}
	pg := sqltest.PostgresURL(t)
	s := sqltest.OpenURL(t, strings.Replace(pg, "postgres://", "postgresql://", 1))
	if s.Dialect() != sqlstore.DialectPostgres {
		t.Fatalf("postgresql:// opened %s", s.Dialect())
	}
	if _, err := sqlstore.Open(ctx, "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2", sqlstore.Options{}); survey.ErrorCode(err) != survey.ECodeUnavailable {
		t.Fatalf("Open on a closed port: %v, want an unavailable error", err)
	}
}

func TestMigrations(t *testing.T) {
	if sqlstore.LatestVersion() < 1 {
		t.Fatalf("LatestVersion = %d", sqlstore.LatestVersion())
	}
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		url := sqltest.URL(t, d)
		s := sqltest.OpenURL(t, url)

		wantCode(t, s.CheckSchema(ctx), survey.ECodeSchemaBehind)

		// Two stores migrating the same fresh database at once: one applies, neither fails.
		other := sqltest.OpenURL(t, url)
		var wg sync.WaitGroup
		applied := make([]int, 2)
		errs := make([]error, 2)
		for i, st := range []*sqlstore.Store{s, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				applied[i], errs[i] = st.Migrate(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Migrate: %v", err)
			}
		}
		if applied[0]+applied[1] != sqlstore.MigrationCount() {
			t.Fatalf("concurrent Migrate applied %v, want %d in total", applied, sqlstore.MigrationCount())
		}
		if n, err := s.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Migrate: %v", err)
		}
		var versions []int
		if err := s.TestDB().Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&versions).Error; err != nil {
			t.Fatal(err)
		}
		if len(versions) != sqlstore.MigrationCount() || versions[len(versions)-1] != sqlstore.LatestVersion() {
			t.Fatalf("schema_migrations = %v", versions)
		}

		// Behind: a version is missing.
		if err := s.TestDB().Exec("DELETE FROM schema_migrations WHERE version = ?", sqlstore.LatestVersion()).Error; err != nil {
			t.Fatal(err)
		}
		se := wantCode(t, s.CheckSchema(ctx), survey.ECodeSchemaBehind)
		if !strings.Contains(se.Message, "afkar migrate") || !strings.Contains(se.MessageFA, "afkar migrate") {
			t.Fatalf("behind message does not say to run afkar migrate: %q / %q", se.Message, se.MessageFA)
		}
		if err := s.TestDB().Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", sqlstore.LatestVersion(), time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}

		// Ahead: the database knows a version this binary does not.
		if err := s.TestDB().Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", sqlstore.LatestVersion()+1, time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.CheckSchema(ctx), survey.ECodeConflict)
		if _, err := s.Migrate(ctx); survey.ErrorCode(err) != survey.ECodeConflict {
			t.Fatalf("Migrate on a newer schema: %v, want a conflict", err)
		}
	})
}

// catalogFixture creates a province, two agencies, an office and a survey with one version.
type catalogFixture struct {
	province survey.Province
	a, b     survey.Agency
	office   survey.Office
	sv       survey.Survey
	v1       survey.Version
}

var questions = []survey.Question{
	{ID: "q1", Type: survey.TypeRating5, Title: "از خدمت راضی بودید؟", Required: true},
	{ID: "why", Type: survey.TypeChoice, Title: "چرا؟", Options: []survey.Option{{ID: "slow", Label: "کند"}, {ID: "rude", Label: "بی‌احترامی"}},
		ShowIf: &survey.Condition{QuestionID: "q1", Op: "lte", Value: 2}},
}

func newCatalog(t *testing.T, s *sqlstore.Store) catalogFixture {
	t.Helper()
	ctx := testCtx(t)
	var f catalogFixture
	f.province = survey.Province{Name: "استان نمونه"}
	if err := s.CreateProvince(ctx, &f.province); err != nil || f.province.ID == 0 {
		t.Fatalf("CreateProvince: %v (id %d)", err, f.province.ID)
	}
	f.a = survey.Agency{ProvinceID: f.province.ID, Name: "اداره کل مالیات", Slug: "tax"}
	f.b = survey.Agency{ProvinceID: f.province.ID, Name: "اداره کل ثبت", Slug: "registry"}
	for _, a := range []*survey.Agency{&f.a, &f.b} {
		if err := s.CreateAgency(ctx, a); err != nil || a.ID == 0 {
			t.Fatalf("CreateAgency: %v", err)
		}
	}
	f.office = survey.Office{AgencyID: f.a.ID, Name: "شعبه مرکزی"}
	if err := s.CreateOffice(ctx, &f.office); err != nil || f.office.ID == 0 {
		t.Fatalf("CreateOffice: %v", err)
	}
	f.sv = survey.Survey{AgencyID: f.a.ID, Title: "رضایت مراجعان"}
	if err := s.CreateSurvey(ctx, &f.sv); err != nil || f.sv.ID == 0 {
		t.Fatalf("CreateSurvey: %v", err)
	}
	f.v1 = survey.Version{SurveyID: f.sv.ID, Questions: questions}
	if err := s.PublishVersion(ctx, &f.v1); err != nil {
		t.Fatalf("PublishVersion: %v", err)
	}
	return f
}

func TestCatalog(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		if empty, err := s.IsEmpty(ctx); err != nil || !empty {
			t.Fatalf("IsEmpty on a fresh database = %v, %v", empty, err)
		}
		f := newCatalog(t, s)
		if empty, err := s.IsEmpty(ctx); err != nil || empty {
			t.Fatalf("IsEmpty after a province = %v, %v", empty, err)
		}

		if ps, err := s.Provinces(ctx); err != nil || !reflect.DeepEqual(ps, []survey.Province{f.province}) {
			t.Fatalf("Provinces = %v, %v", ps, err)
		}
		if a, err := s.Agency(ctx, f.a.ID); err != nil || a != f.a {
			t.Fatalf("Agency = %+v, %v; want %+v", a, err, f.a)
		}
		if os, err := s.Offices(ctx, f.a.ID); err != nil || !reflect.DeepEqual(os, []survey.Office{f.office}) {
			t.Fatalf("Offices = %v, %v", os, err)
		}
		if os, err := s.Offices(ctx, f.b.ID); err != nil || len(os) != 0 {
			t.Fatalf("Offices of an agency without offices = %v, %v", os, err)
		}
		if v := f.v1; v.Version != 1 || v.AgencyID != f.a.ID || v.Title != f.sv.Title || v.PublishedAt.IsZero() {
			t.Fatalf("published version = %+v", v)
		}

		// Input errors.
		wantCode(t, s.CreateProvince(ctx, &survey.Province{}), survey.ECodeInvalid)
		wantCode(t, s.CreateAgency(ctx, &survey.Agency{ProvinceID: f.province.ID, Name: "x", Slug: "tax"}), survey.ECodeConflict)
		wantCode(t, s.CreateAgency(ctx, &survey.Agency{ProvinceID: f.province.ID, Name: "x", Slug: "Not A Slug"}), survey.ECodeInvalid)
		wantCode(t, s.CreateAgency(ctx, &survey.Agency{ProvinceID: 9999, Name: "x"}), survey.ECodeInvalid)
		wantCode(t, s.CreateOffice(ctx, &survey.Office{AgencyID: 9999, Name: "x"}), survey.ECodeInvalid)
		wantCode(t, s.CreateSurvey(ctx, &survey.Survey{AgencyID: 9999, Title: "x"}), survey.ECodeInvalid)
		// Agencies without slugs do not collide.
		for range 2 {
			if err := s.CreateAgency(ctx, &survey.Agency{ProvinceID: f.province.ID, Name: "بی‌نشانک"}); err != nil {
				t.Fatalf("CreateAgency without slug: %v", err)
			}
		}
		wantCode(t, s.PublishVersion(ctx, &survey.Version{SurveyID: f.sv.ID}), survey.ECodeInvalid)
		err := s.PublishVersion(ctx, &survey.Version{SurveyID: 9999, Questions: questions})
		if !errors.Is(err, survey.ErrNotFound) {
			t.Fatalf("PublishVersion of an unknown survey: %v, want not found", err)
		}
		wantCode(t, s.PublishVersion(ctx, &survey.Version{SurveyID: f.sv.ID, AgencyID: f.b.ID, Questions: questions}), survey.ECodeInvalid)

		// Versions: a new one is numbered next and becomes active; old ones stay as they were.
		v2 := survey.Version{SurveyID: f.sv.ID, Title: "نسخه دوم", Questions: questions[:1]}
		if err := s.PublishVersion(ctx, &v2); err != nil || v2.Version != 2 {
			t.Fatalf("PublishVersion v2 = %d, %v", v2.Version, err)
		}
		got1, err := s.Version(ctx, f.sv.ID, 1)
		if err != nil || !reflect.DeepEqual(got1, f.v1) {
			t.Fatalf("Version 1 = %+v, %v\nwant %+v", got1, err, f.v1)
		}
		if act, err := s.ActiveVersion(ctx, f.a.ID); err != nil || !reflect.DeepEqual(act, v2) {
			t.Fatalf("ActiveVersion = %+v, %v; want v2 %+v", act, err, v2)
		}
		if svs, err := s.Surveys(ctx, f.a.ID); err != nil || len(svs) != 1 || svs[0].ActiveVersion != 2 {
			t.Fatalf("Surveys = %+v, %v", svs, err)
		}
		if err := s.TestDB().Exec("UPDATE survey_versions SET title = 'changed' WHERE survey_id = ?", int64(f.sv.ID)).Error; err == nil {
			t.Fatal("a published version could be updated")
		}
		// A second survey published later becomes the agency's active one.
		sv2 := survey.Survey{AgencyID: f.a.ID, Title: "پرسشنامه کوتاه"}
		if err := s.CreateSurvey(ctx, &sv2); err != nil {
			t.Fatal(err)
		}
		if svs, _ := s.Surveys(ctx, f.a.ID); len(svs) != 2 || svs[1].ActiveVersion != 0 {
			t.Fatalf("unpublished survey = %+v", svs)
		}
		if act, err := s.ActiveVersion(ctx, f.a.ID); err != nil || act.SurveyID != f.sv.ID {
			t.Fatalf("an unpublished survey changed the active version: %+v, %v", act, err)
		}
		time.Sleep(2 * time.Millisecond)
		w := survey.Version{SurveyID: sv2.ID, Questions: questions[:1]}
		if err := s.PublishVersion(ctx, &w); err != nil || w.Version != 1 {
			t.Fatalf("PublishVersion sv2: %d, %v", w.Version, err)
		}
		if act, err := s.ActiveVersion(ctx, f.a.ID); err != nil || act.SurveyID != sv2.ID || act.Version != 1 {
			t.Fatalf("ActiveVersion = %+v, %v; want survey %d v1", act, err, sv2.ID)
		}

		// Concurrent publishers get distinct, consecutive version numbers.
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got []int
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := survey.Version{SurveyID: sv2.ID, Questions: questions}
				err := s.PublishVersion(ctx, &v)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("concurrent PublishVersion: %v", err)
				}
				got = append(got, v.Version)
			}()
		}
		wg.Wait()
		slices.Sort(got)
		if !reflect.DeepEqual(got, []int{2, 3, 4, 5}) {
			t.Fatalf("concurrent publishes got versions %v, want 2..5", got)
		}
		if act, err := s.ActiveVersion(ctx, f.a.ID); err != nil || act.SurveyID != sv2.ID || act.Version != 5 {
			t.Fatalf("ActiveVersion after concurrent publishes = %d/%d, %v", act.SurveyID, act.Version, err)
		}

		// Not found, in every reader.
		for name, err := range map[string]error{
			"Agency":        func() error { _, err := s.Agency(ctx, 9999); return err }(),
			"Offices":       func() error { _, err := s.Offices(ctx, 9999); return err }(),
			"Surveys":       func() error { _, err := s.Surveys(ctx, 9999); return err }(),
			"Version":       func() error { _, err := s.Version(ctx, f.sv.ID, 99); return err }(),
			"ActiveVersion": func() error { _, err := s.ActiveVersion(ctx, f.b.ID); return err }(),
		} {
			if !errors.Is(err, survey.ErrNotFound) {
				t.Fatalf("%s of a missing row: %v, want ErrNotFound", name, err)
			}
			wantCode(t, err, survey.ECodeNotFound)
		}

		// Tenancy.
		all, err := s.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceStaff})
		if err != nil || len(all) != 4 || all[0] != f.a || all[1] != f.b {
			t.Fatalf("Agencies(province staff) = %+v, %v", all, err)
		}
		if got, _ := s.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceAdmin}); len(got) != 4 {
			t.Fatalf("Agencies(province admin) = %+v", got)
		}
		if got, err := s.Agencies(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: f.b.ID}); err != nil || !reflect.DeepEqual(got, []survey.Agency{f.b}) {
			t.Fatalf("Agencies(staff of b) = %+v, %v", got, err)
		}
		for _, p := range []survey.Principal{{Role: survey.RoleAgencyStaff}, {Role: survey.RoleIntegration, AgencyID: f.a.ID}, {}} {
			if got, err := s.Agencies(ctx, p); err != nil || len(got) != 0 {
				t.Fatalf("Agencies(%+v) = %+v, %v; want none", p, got, err)
			}
		}
	})
}

// A question id keeps its type across the versions of a survey; other surveys are free to use
// the id for another type, and a version may drop or add questions.
func TestPublishVersionKeepsQuestionTypes(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		f := newCatalog(t, s) // v1: q1 rating5, why choice
		changed := survey.Version{SurveyID: f.sv.ID, Questions: []survey.Question{
			{ID: "q1", Type: survey.TypeNPS, Title: "توصیه"},
			{ID: "why", Type: survey.TypeChoice, Title: "چرا؟", Options: questions[1].Options},
		}}
		se := wantCode(t, s.PublishVersion(ctx, &changed), survey.ECodeInvalid)
		if fe, ok := se.Fields["questions[0].type"]; !ok || fe.Code != "type_changed" || fe.MessageFA == "" || len(se.Fields) != 1 {
			t.Fatalf("fields = %+v, want questions[0].type: type_changed", se.Fields)
		}
		// Nothing was published: v1 is still the active version.
		if act, err := s.ActiveVersion(ctx, f.a.ID); err != nil || act.Version != 1 {
			t.Fatalf("ActiveVersion = %d, %v", act.Version, err)
		}
		// Dropping a question, then bringing it back with another type, is still a change.
		v2 := survey.Version{SurveyID: f.sv.ID, Questions: questions[:1]}
		if err := s.PublishVersion(ctx, &v2); err != nil || v2.Version != 2 {
			t.Fatalf("v2: %d, %v", v2.Version, err)
		}
		back := survey.Version{SurveyID: f.sv.ID, Questions: []survey.Question{questions[0], {ID: "why", Type: survey.TypeText, Title: "چرا؟"}}}
		se = wantCode(t, s.PublishVersion(ctx, &back), survey.ECodeInvalid)
		if se.Fields["questions[1].type"].Code != "type_changed" {
			t.Fatalf("fields = %+v", se.Fields)
		}
		// Same types, new questions: fine. Another survey may use q1 for nps.
		v3 := survey.Version{SurveyID: f.sv.ID, Questions: append(append([]survey.Question{}, questions...), survey.Question{ID: "rec", Type: survey.TypeNPS, Title: "توصیه"})}
		if err := s.PublishVersion(ctx, &v3); err != nil || v3.Version != 3 {
			t.Fatalf("v3: %d, %v", v3.Version, err)
		}
		other := survey.Survey{AgencyID: f.a.ID, Title: "دیگر"}
		if err := s.CreateSurvey(ctx, &other); err != nil {
			t.Fatal(err)
		}
		w := survey.Version{SurveyID: other.ID, Questions: []survey.Question{{ID: "q1", Type: survey.TypeNPS, Title: "توصیه"}}}
		if err := s.PublishVersion(ctx, &w); err != nil {
			t.Fatalf("other survey: %v", err)
		}
	})
}

func TestFoldExactlyOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(1)
		rs := g.responses(300)

		if n := fold(t, s, rs[:200]); n != 200 {
			t.Fatalf("first fold inserted %d, want 200", n)
		}
		before := dump(t, s)
		if !strings.Contains(before, "\"q1\"") {
			t.Fatalf("dump has no q1 cells:\n%.500s", before)
		}
		if n := fold(t, s, rs[:200]); n != 0 {
			t.Fatalf("folding the same responses again inserted %d, want 0", n)
		}
		if after := dump(t, s); after != before {
			t.Fatal("re-folding stored responses changed the rollups")
		}
		// Overlap: 100 already stored, 100 new, in shuffled order with an in-batch duplicate
		// and an upper-case id (the same response).
		batch := append([]survey.Response{}, rs[100:300]...)
		g.rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		dupe := rs[250]
		dupe.ID = strings.ToUpper(dupe.ID)
		batch = append(batch, rs[299], dupe)
		if n := fold(t, s, batch); n != 100 {
			t.Fatalf("overlapping fold inserted %d, want 100", n)
		}
		if c, err := s.ResponseCount(ctx, 0); err != nil || c != 300 {
			t.Fatalf("ResponseCount = %d, %v; want 300", c, err)
		}
		var want1 int64
		for _, r := range rs {
			if r.AgencyID == 1 {
				want1++
			}
		}
		if c, err := s.ResponseCount(ctx, 1); err != nil || c != want1 {
			t.Fatalf("ResponseCount(1) = %d, %v; want %d", c, err, want1)
		}
		checkTotals(t, s, rs, survey.RollupFilter{})
		checkTotals(t, s, rs, survey.RollupFilter{AgencyID: 2})

		if n, err := s.Fold(ctx, nil, testDelta); err != nil || n != 0 {
			t.Fatalf("Fold(nil) = %d, %v", n, err)
		}
		// An id that is not a UUID rejects the batch before anything is stored.
		bad := g.responses(2)
		bad[1].ID = "not-a-uuid"
		if _, err := s.Fold(ctx, bad, testDelta); survey.ErrorCode(err) != survey.ECodeInvalid || !strings.Contains(err.Error(), "not-a-uuid") {
			t.Fatalf("Fold with a bad id: %v", err)
		}
		if c, _ := s.ResponseCount(ctx, 0); c != 300 {
			t.Fatalf("a rejected fold stored responses: %d", c)
		}
		// A delta with repeated, unsorted cells is merged, not rejected (PostgreSQL refuses to
		// upsert one row twice in a statement).
		fresh := g.responses(10)
		n, err := s.Fold(ctx, fresh, func(rs []survey.Response) survey.RollupDelta {
			d := testDelta(rs)
			d.Rollups = append(d.Rollups, d.Rollups...)
			d.Histogram = append(d.Histogram, d.Histogram...)
			return d
		})
		if err != nil || n != 10 {
			t.Fatalf("fold with a doubled delta = %d, %v", n, err)
		}
		checkTotals(t, s, append(append(append([]survey.Response{}, rs...), fresh...), fresh...), survey.RollupFilter{})
		if c, _ := s.ResponseCount(ctx, 0); c != 310 {
			t.Fatalf("ResponseCount = %d, want 310", c)
		}
		// A fold whose context ends before commit leaves nothing behind.
		cctx, cancel := context.WithCancel(ctx)
		more := g.responses(10)
		_, err = s.Fold(cctx, more, func(rs []survey.Response) survey.RollupDelta { cancel(); return testDelta(rs) })
		if err == nil {
			t.Fatal("Fold whose context was cancelled before commit succeeded")
		}
		if c, _ := s.ResponseCount(ctx, 0); c != 310 {
			t.Fatalf("a cancelled fold left raw rows behind: %d, want 310", c)
		}
		if n := fold(t, s, more); n != 10 {
			t.Fatalf("refolding after a cancelled fold inserted %d, want 10", n)
		}
	})
}

func TestFoldConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		s := sqltest.Open(t, d)
		g := newGen(2)
		rs := g.responses(2000)
		// Four workers, each folding 1200 of the 2000 responses (overlapping the others'), in
		// its own order and batch size: every response is counted once however the races go.
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
			errs  []error
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := append([]survey.Response{}, rs[w*200:w*200+1200]...)
				rng := newGen(uint64(10 + w)).rng
				rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
				size := 50 + 70*w
				for start := 0; start < len(mine); start += size {
					n, err := s.Fold(context.Background(), mine[start:min(start+size, len(mine))], testDelta)
					mu.Lock()
					total += n
					if err != nil {
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent folds failed: %v", errs)
		}
		covered := rs[:3*200+1200]
		if total != len(covered) {
			t.Fatalf("folds inserted %d in total, want %d", total, len(covered))
		}
		checkTotals(t, s, covered, survey.RollupFilter{})
		live := dump(t, s)
		if err := s.Reaggregate(testCtx(t), testDelta); err != nil {
			t.Fatal(err)
		}
		if again := dump(t, s); again != live {
			t.Fatal("Reaggregate after concurrent folds differs from the live rollups")
		}
	})
}

func TestRollupFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(3)
		rs := g.responses(400)
		// Around a Tehran midnight: 23:59 on the 14th and 00:01 on the 15th (UTC+03:30).
		edge := g.responses(2)
		edge[0].SubmittedAt = time.Date(2025, 11, 14, 20, 29, 0, 0, time.UTC)
		edge[1].SubmittedAt = time.Date(2025, 11, 14, 20, 31, 0, 0, time.UTC)
		edge[0].AgencyID, edge[1].AgencyID = 7, 7
		rs = append(rs, edge...)
		for start := 0; start < len(rs); start += 64 {
			fold(t, s, rs[start:min(start+64, len(rs))])
		}
		for _, f := range []survey.RollupFilter{
			{},
			{AgencyID: 1},
			{AgencyID: 2, OfficeID: 1},
			{AgencyID: 3, FromDay: "2025-11-10"},
			{AgencyID: 3, ToDay: "2025-11-10"},
			{AgencyID: 4, FromDay: "2025-11-10", ToDay: "2025-11-12"},
			{FromDay: "2025-11-11", ToDay: "2025-11-11"},
			{AgencyID: 1, FromDay: "2026-01-01"},
		} {
			checkTotals(t, s, rs, f)
		}
		for _, c := range []struct {
			from, to string
			want     int64
		}{{"2025-11-14", "2025-11-14", 1}, {"2025-11-15", "2025-11-15", 1}, {"2025-11-14", "2025-11-15", 2}} {
			tot, err := s.RollupTotals(ctx, survey.RollupFilter{AgencyID: 7, FromDay: c.from, ToDay: c.to})
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, x := range tot {
				if x.QuestionID == survey.ResponseQuestion {
					n += x.N
				}
			}
			if n != c.want {
				t.Fatalf("responses of agency 7 on %s..%s = %d, want %d (Tehran days)", c.from, c.to, n, c.want)
			}
		}
		if tot, err := s.RollupTotals(ctx, survey.RollupFilter{AgencyID: 99}); err != nil || tot == nil || len(tot) != 0 {
			t.Fatalf("RollupTotals of an agency without data = %v, %v; want an empty slice", tot, err)
		}
	})
}

func TestReaggregate(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(4)
		g.flagged = 10
		rs := g.responses(5000) // more than one page of the rebuild, some flagged
		for start := 0; start < len(rs); start += 500 {
			fold(t, s, rs[start:min(start+500, len(rs))])
		}
		live := dump(t, s)
		if lines := strings.Count(live, "\n"); lines < 1000 {
			t.Fatalf("dump has only %d lines", lines)
		}
		if err := s.Reaggregate(ctx, testDelta); err != nil {
			t.Fatalf("Reaggregate: %v", err)
		}
		if rebuilt := dump(t, s); rebuilt != live {
			t.Fatalf("rebuilt rollups differ from live ones:\n%s", firstDiff(live, rebuilt))
		}
		rebuildRepairs(t, s, live,
			"UPDATE rollups SET n = n + 5 WHERE question_id = 'q1'",
			"DELETE FROM rollup_values WHERE value = '3'",
			"UPDATE rollup_hours SET sum = sum + 2520 WHERE hour = 10",
			"DELETE FROM rollup_hours WHERE hour = 3",
			"UPDATE rollup_months SET n = n + 1 WHERE question_id = 'q2'",
			"DELETE FROM rollup_value_months WHERE value = '4'",
			"INSERT INTO rollups (agency_id, office_id, survey_id, survey_version, question_id, channel, day, type, n, sum, sum_sq) VALUES (99, 0, 1, 1, '', 'web', '2025-01-01', '', 1, 0, 0)")
		checkTotals(t, s, rs, survey.RollupFilter{})
	})
}

// TestDumpAcrossDialects: the same folds give byte-identical dumps on both dialects.
func TestDumpAcrossDialects(t *testing.T) {
	dumps := map[string]string{}
	g := newGen(5)
	g.flagged = 5
	rs := g.responses(500)
	for _, d := range sqltest.Dialects {
		s := sqltest.Open(t, d)
		fold(t, s, rs)
		dumps[d] = dump(t, s)
	}
	if dumps["sqlite"] != dumps["postgres"] {
		t.Fatalf("dumps differ between dialects:\n%s", firstDiff(dumps["sqlite"], dumps["postgres"]))
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return "line " + itoa(i+1) + ":\n want " + la[i] + "\n  got " + lb[i]
		}
	}
	return "lengths differ: " + itoa(len(la)) + " vs " + itoa(len(lb)) + " lines"
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		f := newCatalog(t, s)
		admin := survey.Principal{Role: survey.RoleProvinceAdmin, Name: "مدیر"}
		tok, err := s.CreateToken(ctx, admin)
		if err != nil || !strings.HasPrefix(tok, sqlstore.TokenPrefix) || len(tok) < 40 {
			t.Fatalf("CreateToken = %q, %v", tok, err)
		}
		if p, err := s.Authenticate(ctx, tok); err != nil || !sameHolder(p, admin) {
			t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, admin)
		}
		staff := survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: f.a.ID, Name: "کارشناس"}
		tok2, err := s.CreateToken(ctx, staff)
		if err != nil || tok2 == tok {
			t.Fatalf("second CreateToken = %q, %v", tok2, err)
		}
		if p, err := s.Authenticate(ctx, tok2); err != nil || !sameHolder(p, staff) {
			t.Fatalf("Authenticate staff = %+v, %v", p, err)
		}
		// Only hashes are stored.
		var hashes []string
		if err := s.TestDB().Raw("SELECT token_hash FROM api_tokens ORDER BY id").Scan(&hashes).Error; err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(tok))
		if len(hashes) != 2 || hashes[0] != hex.EncodeToString(sum[:]) {
			t.Fatalf("stored hashes = %v", hashes)
		}
		for _, bad := range []string{"", "   ", tok + "x", tok[:len(tok)-1], "afk_unknown"} {
			if _, err := s.Authenticate(ctx, bad); survey.ErrorCode(err) != survey.ECodeUnauthorized {
				t.Fatalf("Authenticate(%q) = %v, want unauthorized", bad, err)
			}
		}
		wantCode(t, func() error { _, err := s.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyStaff}); return err }(), survey.ECodeInvalid)
		wantCode(t, func() error { _, err := s.CreateToken(ctx, survey.Principal{Role: "root"}); return err }(), survey.ECodeInvalid)
		wantCode(t, func() error {
			_, err := s.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 9999})
			return err
		}(), survey.ECodeInvalid)

		// A configured token (AFKAR_ADMIN_TOKEN) registers idempotently.
		const fixed = "a-configured-admin-token-0123456789"
		for range 2 {
			if err := s.RegisterToken(ctx, fixed, admin); err != nil {
				t.Fatalf("RegisterToken: %v", err)
			}
		}
		if p, err := s.Authenticate(ctx, fixed); err != nil || !sameHolder(p, admin) {
			t.Fatalf("Authenticate(registered) = %+v, %v", p, err)
		}
		wantCode(t, s.RegisterToken(ctx, "short", admin), survey.ECodeInvalid)
	})
}

func TestQuarantine(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		raw := []byte("{\"id\": \x00\xff\\x41 'bad'")
		if err := s.Quarantine(ctx, "inbox", raw, "undecodable"); err != nil {
			t.Fatalf("Quarantine: %v", err)
		}
		if err := s.Quarantine(ctx, "redis", nil, "empty"); err != nil {
			t.Fatalf("Quarantine(nil): %v", err)
		}
		type row struct {
			Source, Reason string
			Payload        []byte
		}
		var rows []row
		if err := s.TestDB().Raw("SELECT source, reason, payload FROM dead_letters ORDER BY id").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Source != "inbox" || rows[0].Reason != "undecodable" || string(rows[0].Payload) != string(raw) || len(rows[1].Payload) != 0 {
			t.Fatalf("dead letters = %+v", rows)
		}
	})
}

// TestReaggregateWhileFolding: a rebuild running beside live folds neither deadlocks with them
// nor loses or double-counts what they store.
func TestReaggregateWhileFolding(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(6)
		first := g.responses(2000)
		fold(t, s, first)
		more := [][]survey.Response{g.responses(300), g.responses(300), g.responses(300), g.responses(300)}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for _, rs := range more {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for start := 0; start < len(rs); start += 50 {
					if _, err := s.Fold(ctx, rs[start:start+50], testDelta); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}()
		}
		for range 3 {
			if err := s.Reaggregate(ctx, testDelta); err != nil {
				t.Fatalf("Reaggregate during folds: %v", err)
			}
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("folds during Reaggregate failed: %v", errs)
		}
		all := first
		for _, rs := range more {
			all = append(all, rs...)
		}
		checkTotals(t, s, all, survey.RollupFilter{})
	})
}
