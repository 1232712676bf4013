package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestWithRealStore wires the real SQL store (catalog and tokens), the real intake over the SQL
// inbox and the real scores service, on SQLite and PostgreSQL, and walks a response from the HTTP
// request to the score a staff member reads.
func TestWithRealStore(t *testing.T) {
	t.Parallel()
	onEachDialect(t, testRealStore)
}

// onEachDialect runs fn as a parallel subtest per dialect, each on a fresh migrated store.
func onEachDialect(t *testing.T, fn func(t *testing.T, store *sqlstore.Store)) {
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			fn(t, sqltest.Open(t, dialect))
		})
	}
}

// realFixture is what seedStore created.
type realFixture struct {
	tax, registry survey.Agency
	office        survey.Office
	version       survey.Version
	taxStaff      string
	province      string
	kiosk         string
	registryKiosk string
}

func seedStore(t *testing.T, store *sqlstore.Store) realFixture {
	t.Helper()
	ctx := context.Background()
	var f realFixture
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	prov := survey.Province{Name: "استان نمونه"}
	must(store.CreateProvince(ctx, &prov))
	f.tax = survey.Agency{ProvinceID: prov.ID, Name: "اداره کل امور مالیاتی", Slug: "tax"}
	must(store.CreateAgency(ctx, &f.tax))
	f.registry = survey.Agency{ProvinceID: prov.ID, Name: "اداره کل ثبت اسناد", Slug: "registry"}
	must(store.CreateAgency(ctx, &f.registry))
	f.office = survey.Office{AgencyID: f.tax.ID, Name: "دفتر مرکزی"}
	must(store.CreateOffice(ctx, &f.office))
	sv := survey.Survey{AgencyID: f.tax.ID, Title: "رضایت از خدمات"}
	must(store.CreateSurvey(ctx, &sv))
	f.version = taxVersion()
	f.version.SurveyID, f.version.AgencyID, f.version.Version = sv.ID, f.tax.ID, 0
	must(store.PublishVersion(ctx, &f.version))

	var err error
	f.taxStaff, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: f.tax.ID, Name: "tax staff"})
	must(err)
	f.province, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleProvinceStaff, Name: "province staff"})
	must(err)
	f.kiosk, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleIntegration, AgencyID: f.tax.ID, Channel: survey.ChannelKiosk, Name: "kiosks"})
	must(err)
	f.registryKiosk, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleIntegration, AgencyID: f.registry.ID, Channel: survey.ChannelKiosk, Name: "registry kiosks"})
	must(err)
	must(store.RegisterBootstrapToken(ctx, adminToken))
	return f
}

func testRealStore(t *testing.T, store *sqlstore.Store) {
	ctx := context.Background()
	f := seedStore(t, store)
	inbox := store.Inbox()
	in := intake.New(store, inbox, nil, intake.Options{Stored: store, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(in.Close)
	h := start(t, api.Deps{
		Catalog: store, Auth: store, Intake: in, Scores: analytics.NewScores(store, store),
		RateLimit: 1,
		Ready:     []api.Check{{Name: "database", Ping: store.Ping}, {Name: "buffer", Ping: inbox.Ping}},
	})
	taxPath := func(suffix string) string { return fmt.Sprintf("/api/v1/agencies/%d/%s", f.tax.ID, suffix) }
	regPath := func(suffix string) string { return fmt.Sprintf("/api/v1/agencies/%d/%s", f.registry.ID, suffix) }

	h.get(t, "/readyz", "").wantStatus(t, http.StatusOK)

	// Authentication and tenancy come from the store.
	h.get(t, "/api/v1/agencies", "").envelope(t, http.StatusUnauthorized, "unauthorized")
	h.get(t, "/api/v1/agencies", f.taxStaff+"x").envelope(t, http.StatusUnauthorized, "unauthorized")
	var as []survey.Agency
	h.get(t, "/api/v1/agencies", adminToken).wantStatus(t, http.StatusOK).json(t, &as)
	if len(as) != 2 || as[0].ID != f.tax.ID || as[1].ID != f.registry.ID {
		t.Fatalf("admin sees %+v", as)
	}
	h.get(t, "/api/v1/agencies", f.taxStaff).wantStatus(t, http.StatusOK).json(t, &as)
	if len(as) != 1 || as[0].ID != f.tax.ID {
		t.Fatalf("agency staff sees %+v", as)
	}
	var me survey.Principal
	h.get(t, "/api/v1/me", f.taxStaff).wantStatus(t, http.StatusOK).json(t, &me)
	if me.Role != survey.RoleAgencyStaff || me.AgencyID != f.tax.ID {
		t.Fatalf("me %+v", me)
	}
	h.get(t, regPath("score"), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
	h.get(t, "/api/v1/agencies", f.kiosk).envelope(t, http.StatusForbidden, "forbidden")

	// The survey as the store holds it.
	var v struct {
		ID        survey.ID         `json:"id"`
		AgencyID  survey.ID         `json:"agency_id"`
		Version   int               `json:"version"`
		Title     string            `json:"title"`
		Questions []survey.Question `json:"questions"`
		Offices   []survey.Office   `json:"offices"`
	}
	h.get(t, taxPath("survey"), "").wantStatus(t, http.StatusOK).json(t, &v)
	if v.ID != f.version.SurveyID || v.AgencyID != f.tax.ID || v.Version != 1 || len(v.Questions) != 3 ||
		len(v.Offices) != 1 || v.Offices[0].ID != f.office.ID {
		t.Fatalf("survey %+v", v)
	}
	h.get(t, regPath("survey"), "").envelope(t, http.StatusNotFound, "not_found")

	// Submissions: one anonymous (then the limit), then the kiosk's token, which has its own
	// limit, re-sending the same id.
	body := func(id string, rating int) string {
		return fmt.Sprintf(`{"id":%q,"agency_id":%d,"office_id":%d,"survey_id":%d,"survey_version":1,"answers":[{"question_id":"q1","value":%d}]}`,
			id, f.tax.ID, f.office.ID, f.version.SurveyID, rating)
	}
	const id1, id2 = "0193a1d2-7c4e-7b3a-9f00-000000000001", "0193a1d2-7c4e-7b3a-9f00-000000000002"
	var got struct{ ID string }
	h.post(t, "", body(id1, 5)).wantStatus(t, http.StatusAccepted).json(t, &got)
	if got.ID != id1 {
		t.Fatalf("acknowledged %q, want %q", got.ID, id1)
	}
	h.post(t, "", body(id2, 4)).envelope(t, http.StatusTooManyRequests, "rate_limited")
	h.post(t, f.kiosk, body(id2, 4)).wantStatus(t, http.StatusAccepted)
	for i := 0; i < 3; i++ {
		h.post(t, f.kiosk, body(id2, 4)).wantStatus(t, http.StatusOK).json(t, &got)
		if got.ID != id2 {
			t.Fatalf("resubmission acknowledged %q", got.ID)
		}
	}
	// The web response's id, claimed by the kiosk (another origin), is a conflict.
	h.post(t, f.kiosk, body(id1, 5)).envelope(t, http.StatusConflict, "id_conflict")
	// The registry's kiosk token cannot file answers for the tax agency.
	h.post(t, f.registryKiosk, body("", 5)).envelope(t, http.StatusForbidden, "forbidden")
	// Staff tokens (the bootstrap admin is a token row like any other) do not answer.
	h.post(t, adminToken, body("", 5)).envelope(t, http.StatusForbidden, "forbidden")
	e := h.post(t, f.kiosk, body("", 7)).envelope(t, http.StatusUnprocessableEntity, "invalid")
	if _, ok := e.Error.Fields["answers[0].value"]; !ok {
		t.Fatalf("fields %+v", e.Error.Fields)
	}
	// What the store cannot hold is refused before it is acknowledged: a NUL (PostgreSQL refuses
	// it in text, and the whole fold batch with it) and a version beyond the integer column.
	nul := strings.Replace(body("", 3), `"answers"`, `"source":"a\u0000b","answers"`, 1)
	if e := h.post(t, f.kiosk, nul).envelope(t, http.StatusUnprocessableEntity, "invalid"); e.Error.Fields["source"].Code != "control_character" {
		t.Fatalf("fields %+v", e.Error.Fields)
	}
	big := strings.Replace(body("", 3), `"survey_version":1`, `"survey_version":2147483648`, 1)
	if e := h.post(t, f.kiosk, big).envelope(t, http.StatusUnprocessableEntity, "invalid"); e.Error.Fields["survey_version"].Code != "out_of_range" {
		t.Fatalf("fields %+v", e.Error.Fields)
	}

	// Drain the inbox the way the aggregator does, then read the score over HTTP: the duplicate
	// submissions count once.
	ds, err := inbox.Read(ctx, "api-test", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("inbox holds %d entries, want 2 (resends are not stored again)", len(ds))
	}
	rs := make([]survey.Response, 0, len(ds))
	refs := make([]string, 0, len(ds))
	for _, d := range ds {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		rs = append(rs, d.Response)
		refs = append(refs, d.Ref)
	}
	if _, err := store.Fold(ctx, rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
	if err := inbox.Ack(ctx, refs); err != nil {
		t.Fatal(err)
	}
	var sc struct {
		AgencyID  survey.ID `json:"agency_id"`
		Responses int64     `json:"responses"`
		Mean      *float64  `json:"mean"`
	}
	today := survey.TehranDay(time.Now()).Format(survey.DayFormat)
	h.get(t, taxPath("score?from=2025-01-01&to="+today), f.taxStaff).wantStatus(t, http.StatusOK).json(t, &sc)
	if sc.AgencyID != f.tax.ID || sc.Responses != 2 || sc.Mean == nil || *sc.Mean != 4.5 {
		t.Fatalf("score %+v (mean %v), want 2 responses with mean 4.5", sc, sc.Mean)
	}
	h.get(t, taxPath("score?from=not-a-date"), f.province).envelope(t, http.StatusUnprocessableEntity, "invalid")
	// A day without a Jalali date was once a panic (500) in FormatJalali.
	e = h.get(t, taxPath("score?to=9999-12-31"), f.province).envelope(t, http.StatusUnprocessableEntity, "invalid")
	if e.Error.Fields["to"].Code != "invalid_date" {
		t.Fatalf("to=9999-12-31: fields %+v, want to: invalid_date", e.Error.Fields)
	}

	// Another process, with no memory of recent ids, asks the store: the stored id is still a
	// resend with the same answers and a conflict with others, and neither is buffered again.
	in2 := intake.New(store, inbox, nil, intake.Options{Stored: store, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(in2.Close)
	h2 := start(t, api.Deps{Catalog: store, Auth: store, Intake: in2, Scores: analytics.NewScores(store, store)})
	h2.post(t, f.kiosk, body(id2, 4)).wantStatus(t, http.StatusOK).json(t, &got)
	if got.ID != id2 {
		t.Fatalf("resend after the fold acknowledged %q", got.ID)
	}
	h2.post(t, f.kiosk, body(id2, 3)).envelope(t, http.StatusConflict, "id_conflict")
	if ds, err := inbox.Read(ctx, "api-test", 100, 0); err != nil || len(ds) != 0 {
		t.Fatalf("resends after the fold were buffered: %d entries, %v", len(ds), err)
	}
}
