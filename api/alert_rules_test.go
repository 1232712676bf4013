package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// unhappyWeek folds seven Tehran days before today of an office's citizens into the rollups: 30
// a day at 08:00–13:59, each rating the headline from the cycle 1,2,4,5,2 — a per-citizen mean
// of 2.8 with 60% unhappy (below 3).
func unhappyWeek(t *testing.T, store *sqlstore.Store, agency, office survey.ID, today time.Time) {
	t.Helper()
	cycle := []int{1, 2, 4, 5, 2}
	var rs []survey.Response
	for d := -7; d <= -1; d++ {
		day := today.AddDate(0, 0, d)
		for i := range 30 {
			v := cycle[i%len(cycle)]
			at := time.Date(day.Year(), day.Month(), day.Day(), 8+i/5, 7*(i%5), 0, 0, survey.Tehran).UTC()
			rs = append(rs, survey.Response{ID: uuid.New().String(), AgencyID: agency, OfficeID: office, SurveyID: 1,
				SurveyVersion: 1, Channel: survey.ChannelKiosk, Source: "test", SubmittedAt: at, ReceivedAt: at,
				Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &v, Headline: true}}})
		}
	}
	if _, err := store.Fold(context.Background(), rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
}

// TestAlertRulesAPI: an agency's simple alert rules over real HTTP and the real store on both
// dialects. With no rules the daily watcher opens nothing on a bad week; rules PUT by the
// agency's admin make its next run open share_unhappy and score_below for that agency's office
// only (the other agency has the same week and no rules), with the rule's level in the detail;
// the change is in the audit log; switching the rules off resolves them. Tenancy: another
// agency's rules are 404, a viewer's PUT 403; bad input is 422 with a code per field.
func TestAlertRulesAPI(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		ctx := context.Background()
		f := seedStore(t, store)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		regOffice := survey.Office{AgencyID: f.registry.ID, Name: "دفتر ثبت"}
		must(store.CreateOffice(ctx, &regOffice))
		taxAdmin, err := store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: f.tax.ID, Name: "tax admin"})
		must(err)
		today := time.Date(2026, 3, 1, 0, 0, 0, 0, survey.Tehran)
		unhappyWeek(t, store, f.tax.ID, f.office.ID, today)
		unhappyWeek(t, store, f.registry.ID, regOffice.ID, today)
		now := today.Add(time.Hour)
		h := start(t, api.Deps{Catalog: store, Auth: store, AlertRules: &analytics.AlertRuleSettings{Store: store, Now: func() time.Time { return now }}})
		watch := func(at time.Time) analytics.AlertRun {
			t.Helper()
			w := &analytics.AlertWatcher{Store: store, Now: func() time.Time { return at }, Rules: analytics.StoredAlertRules(store)}
			run, err := w.Run(ctx)
			must(err)
			return run
		}
		openKinds := func() map[string]survey.Alert {
			t.Helper()
			as, err := store.Alerts(ctx, 0, true)
			must(err)
			out := map[string]survey.Alert{}
			for _, a := range as {
				if a.OfficeID != f.office.ID || a.AgencyID != f.tax.ID {
					t.Fatalf("alert about office %d of agency %d: %+v", a.OfficeID, a.AgencyID, a)
				}
				out[a.Kind] = a
			}
			return out
		}
		taxRules := fmt.Sprintf("/api/v1/agencies/%d/alert-rules", f.tax.ID)
		regRules := fmt.Sprintf("/api/v1/agencies/%d/alert-rules", f.registry.ID)

		// Unset: nothing opens on the bad week.
		var got survey.AlertRules
		h.get(t, taxRules, f.taxStaff).wantStatus(t, http.StatusOK).json(t, &got)
		if got.Enabled() || got.AgencyID != f.tax.ID {
			t.Fatalf("rules before any were set: %+v", got)
		}
		if run := watch(now); run.Opened != 0 || len(openKinds()) != 0 {
			t.Fatalf("a run without rules opened %d alerts", run.Opened)
		}

		// Tenancy and roles.
		put := func(path, token, body string) reply {
			t.Helper()
			return h.request(t, http.MethodPut, path, token, "application/json", body)
		}
		h.get(t, regRules, f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		put(regRules, taxAdmin, `{"score_below":3.5}`).envelope(t, http.StatusNotFound, "not_found")
		put(taxRules, f.taxStaff, `{"score_below":3.5}`).envelope(t, http.StatusForbidden, "forbidden")
		put(taxRules, f.province, `{"score_below":3.5}`).envelope(t, http.StatusForbidden, "forbidden")

		// Bad input: a code per field, both languages.
		for body, want := range map[string]map[string]string{
			`{"unhappy_share":1.5}`:                  {"unhappy_share": "out_of_range"},
			`{"unhappy_share":-0.1,"score_above":6}`: {"unhappy_share": "out_of_range", "score_above": "out_of_range"},
			`{"score_below":0.5}`:                    {"score_below": "out_of_range"},
			`{"score_below":4,"score_above":3.5}`:    {"score_below": "below_not_under_above"},
			`{"score_below":3,"min_n":9}`:            {"min_n": "too_small"},
		} {
			e := put(taxRules, taxAdmin, body).envelope(t, http.StatusUnprocessableEntity, "invalid")
			if len(e.Error.Fields) != len(want) {
				t.Fatalf("%s: fields %+v, want %v", body, e.Error.Fields, want)
			}
			for k, code := range want {
				if fe := e.Error.Fields[k]; fe.Code != code || fe.Message == "" || !hasPersian(fe.MessageFA) {
					t.Fatalf("%s: field %s = %+v, want code %s with both messages", body, k, fe, code)
				}
			}
		}
		put(taxRules, taxAdmin, `{"score_below":`).envelope(t, http.StatusBadRequest, "bad_request")
		if run := watch(now); run.Opened != 0 {
			t.Fatalf("refused rules opened %d alerts", run.Opened)
		}

		// Set by the agency's admin: stored with the default n, read back by its viewer.
		put(taxRules, taxAdmin, `{"unhappy_share":0.5,"score_below":3.5,"score_above":4.8}`).wantStatus(t, http.StatusOK).json(t, &got)
		if got.UnhappyShare != 0.5 || got.ScoreBelow != 3.5 || got.ScoreAbove != 4.8 || got.MinN != survey.DefaultAlertRuleN || got.UpdatedBy != "tax admin" {
			t.Fatalf("stored rules: %+v", got)
		}
		h.get(t, taxRules, f.taxStaff).wantStatus(t, http.StatusOK).json(t, &got)
		if got.ScoreBelow != 3.5 || !got.UpdatedAt.Equal(now.UTC()) {
			t.Fatalf("rules read back: %+v", got)
		}
		audit, err := store.AuditLog(ctx, survey.AuditQuery{Entity: "alert_rules"})
		must(err)
		if len(audit) != 1 || audit[0].AgencyID != f.tax.ID || audit[0].Before != "" || !strings.Contains(audit[0].After, `"score_below":3.5`) || audit[0].ActorName != "tax admin" {
			t.Fatalf("audit: %+v", audit)
		}

		// The watcher's next run opens share_unhappy and score_below for the tax office only;
		// the mean 2.8 is not above 4.8.
		run := watch(now)
		kinds := openKinds()
		if run.Opened != 2 || len(kinds) != 2 || kinds[survey.AlertShareUnhappy].ID == 0 || kinds[survey.AlertScoreBelow].ID == 0 {
			t.Fatalf("run with rules: opened %d, alerts %+v", run.Opened, kinds)
		}
		var det analytics.ScoreAlertDetail
		must(json.Unmarshal([]byte(kinds[survey.AlertShareUnhappy].Detail), &det))
		if det.N != 210 || det.Level != 0.5 || det.Observed < 0.59 || det.Observed > 0.61 {
			t.Fatalf("share_unhappy detail: %+v", det)
		}
		must(json.Unmarshal([]byte(kinds[survey.AlertScoreBelow].Detail), &det))
		if det.N != 210 || det.Level != 3.5 || det.Observed < 2.79 || det.Observed > 2.81 {
			t.Fatalf("score_below detail: %+v", det)
		}
		if run := watch(now); run.Opened != 0 {
			t.Fatalf("a second run the same day opened %d", run.Opened)
		}

		// A minimum n above the window's citizens: nothing is judged, nothing changes.
		put(taxRules, taxAdmin, `{"unhappy_share":0.5,"score_below":3.5,"min_n":500}`).wantStatus(t, http.StatusOK)
		if run := watch(now); run.Opened != 0 || run.Resolved != 0 || len(openKinds()) != 2 {
			t.Fatalf("under min_n: %+v", run)
		}
		// Switched off: the next run resolves what the rules opened.
		put(taxRules, taxAdmin, `{}`).wantStatus(t, http.StatusOK)
		if run := watch(now); run.Resolved != 2 || len(openKinds()) != 0 {
			t.Fatalf("rules off: resolved %d, open %v", run.Resolved, openKinds())
		}
		audit, err = store.AuditLog(ctx, survey.AuditQuery{Entity: "alert_rules"})
		must(err)
		if len(audit) != 3 || !strings.Contains(audit[0].Before, `"min_n":500`) {
			t.Fatalf("audit after three changes: %+v", audit)
		}
	})
}

// TestAlertRulesPage: the plain form over a session — an admin sees an editable form with the
// CSRF token, saves Persian digits (stored as numbers) and gets its problems back in Persian
// with 422; a viewer sees it read-only and may not post; another agency's page is 404; without
// the CSRF token the post is refused.
func TestAlertRulesPage(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newAccountsEnv(t, store, api.Deps{AlertRules: &analytics.AlertRuleSettings{Store: store}})
		page := "/dashboard/agencies/" + e.f.tax.ID.String() + "/alert-rules"
		anon := e.browser(t)
		if loc := anon.do(t, http.MethodGet, page, "", "").wantStatus(t, http.StatusSeeOther).header.Get("Location"); loc != "/login" {
			t.Fatalf("without a session → %q", loc)
		}
		b := e.browser(t)
		b.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		body := b.do(t, http.MethodGet, page, "", "").wantStatus(t, http.StatusOK).body
		for _, want := range []string{`dir="rtl"`, `method="post"`, `name="csrf_token"`, "قواعد سادهٔ هشدار", "اداره کل امور مالیاتی", `name="unhappy_percent"`, "ذخیره"} {
			if !bytes.Contains(body, []byte(want)) {
				t.Fatalf("the admin's page lacks %q", want)
			}
		}
		if bytes.Contains(body, []byte("<script")) {
			t.Fatal("a script on a form page")
		}
		halfSpaces(t, body)
		m := csrfInput.FindSubmatch(body)
		if m == nil {
			t.Fatal("no CSRF token in the form")
		}
		form := func(v url.Values, csrf bool) string {
			if csrf {
				v.Set("csrf_token", string(m[1]))
			}
			return v.Encode()
		}
		const ct = "application/x-www-form-urlencoded"
		b.do(t, http.MethodPost, page, ct, form(url.Values{"score_below": {"۳٫۵"}}, false)).wantStatus(t, http.StatusForbidden)
		bad := b.do(t, http.MethodPost, page, ct, form(url.Values{"unhappy_percent": {"۱۵۰"}, "score_below": {"۴"}, "score_above": {"۳"}, "min_n": {"۵"}}, true)).
			wantStatus(t, http.StatusUnprocessableEntity).body
		for _, want := range []string{"درصد ناراضیان باید بیشتر از ۰ و حداکثر ۱۰۰ باشد", "سطح «زیر» باید کمتر از سطح «بالای» باشد", "دست‌کم ۱۰ باشد", `value="۱۵۰"`} {
			if !bytes.Contains(bad, []byte(want)) {
				t.Fatalf("the refused form lacks %q: %s", want, bad)
			}
		}
		loc := b.do(t, http.MethodPost, page, ct, form(url.Values{"unhappy_percent": {"۳۰"}, "score_below": {"۳٫۵"}, "min_n": {"۲۰"}}, true)).
			wantStatus(t, http.StatusSeeOther).header.Get("Location")
		if loc != page+"?saved=1" {
			t.Fatalf("after saving → %q", loc)
		}
		r, err := store.AlertRules(context.Background(), e.f.tax.ID)
		if err != nil || r.UnhappyShare != 0.3 || r.ScoreBelow != 3.5 || r.ScoreAbove != 0 || r.MinN != 20 {
			t.Fatalf("stored from the form: %+v, %v", r, err)
		}
		saved := b.do(t, http.MethodGet, loc, "", "").wantStatus(t, http.StatusOK).body
		for _, want := range []string{"قواعد ذخیره شد", `value="۳۰"`, `value="۳٫۵"`, `value="۲۰"`} {
			if !bytes.Contains(saved, []byte(want)) {
				t.Fatalf("the saved page lacks %q", want)
			}
		}
		b.do(t, http.MethodGet, "/dashboard/agencies/"+e.f.registry.ID.String()+"/alert-rules", "", "").wantStatus(t, http.StatusNotFound)

		viewer := e.browser(t)
		viewer.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		vp := viewer.do(t, http.MethodGet, page, "", "").wantStatus(t, http.StatusOK).body
		if bytes.Contains(vp, []byte(`<button type="submit">ذخیره`)) || !bytes.Contains(vp, []byte("disabled")) {
			t.Fatal("a viewer's form is editable")
		}
		vm := csrfInput.FindSubmatch(vp)
		viewer.do(t, http.MethodPost, page, ct, url.Values{"score_below": {"2"}, "csrf_token": {string(vm[1])}}.Encode()).wantStatus(t, http.StatusForbidden)
	})
}

// TestDigestPage: GET /dashboard/digest renders the last complete week's or month's digest for
// the person's role — an agency admin its agency's (headline, movement, reasons, comments), a
// province admin every agency's table — in Persian, RTL, without scripts; a visitor without a
// session goes to /login and an unknown period is 422.
func TestDigestPage(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		scores := analytics.NewScores(store, store)
		e := newAccountsEnv(t, store, api.Deps{Scores: scores, Digests: analytics.NewDigests(scores, store, store)})
		anon := e.browser(t)
		if loc := anon.do(t, http.MethodGet, "/dashboard/digest", "", "").wantStatus(t, http.StatusSeeOther).header.Get("Location"); loc != "/login" {
			t.Fatalf("without a session → %q", loc)
		}
		check := func(body []byte, want ...string) {
			t.Helper()
			for _, w := range append(want, `dir="rtl"`, `lang="fa"`) {
				if !bytes.Contains(body, []byte(w)) {
					t.Fatalf("the digest page lacks %q: %s", w, body)
				}
			}
			if bytes.Contains(body, []byte("<script")) {
				t.Fatal("a script on the digest page")
			}
			halfSpaces(t, body)
		}
		b := e.browser(t)
		b.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		check(b.do(t, http.MethodGet, "/dashboard/digest?at=1405-09-10", "", "").wantStatus(t, http.StatusOK).body,
			"گزارش هفتگی — هفتهٔ ۳۰ آبان ۱۴۰۵", `data-kpi="index"`, `data-kpi="movement"`, "دلیل‌های پرتکرار", "نظرهای شهروندان ناراضی", "داده کافی نیست")
		check(b.do(t, http.MethodGet, "/dashboard/digest?period=month&at=1405-09-10", "", "").wantStatus(t, http.StatusOK).body, "گزارش ماهانه — آبان ۱۴۰۵")
		b.do(t, http.MethodGet, "/dashboard/digest?period=year", "", "").envelope(t, http.StatusUnprocessableEntity, "invalid")

		admin := e.browser(t)
		admin.login(t, "admin", e.pw["admin"]).wantStatus(t, http.StatusSeeOther)
		body := admin.do(t, http.MethodGet, "/dashboard/digest?period=week&at=1405-09-10", "", "").wantStatus(t, http.StatusOK).body
		check(body, `id="digest-table"`, "اداره کل امور مالیاتی", "اداره کل ثبت اسناد")
		if bytes.Contains(body, []byte(`data-kpi="index"`)) {
			t.Fatal("the province's page shows one agency's headline")
		}
	})
}

// halfSpaces fails when a page writes «می» without its half-space (ZWNJ), or has none at all.
func halfSpaces(t *testing.T, body []byte) {
	t.Helper()
	if m := regexp.MustCompile(`(^|[\s«(])(ن?می) [\p{Arabic}]`).Find(body); m != nil || !bytes.Contains(body, []byte("\u200c")) {
		t.Fatalf("%q needs a half-space (ZWNJ) after «می», or the page lost its half-spaces", m)
	}
}
