package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/authoring"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// surveysEnv is the API over the real store with the accounts and authoring services.
func surveysEnv(t *testing.T, store *sqlstore.Store) *accountsEnv {
	t.Helper()
	return newAccountsEnv(t, store, api.Deps{Surveys: authoring.New(store, authoring.Options{CheckSMS: sms.CheckSMS})})
}

// fresh zeroes *d before a reply is decoded into it (decoding merges into a non-nil map).
func fresh(d *draftReply) *draftReply {
	*d = draftReply{}
	return d
}

type draftReply struct {
	Draft       survey.Draft                 `json:"draft"`
	Problems    map[string]survey.FieldError `json:"problems"`
	Publishable bool                         `json:"publishable"`
}

func TestSurveyDraftsPublishAndVersions(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := surveysEnv(t, store)
		admin := e.browser(t)
		admin.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		csrf := admin.me(t).CSRFToken

		var ts []authoring.Template
		admin.do(t, http.MethodGet, "/api/v1/templates", "", "").wantStatus(t, http.StatusOK).json(t, &ts)
		if len(ts) != 1 || ts[0].ID != "national" || len(ts[0].Questions) != 6 {
			t.Fatalf("templates %+v", ts)
		}

		// A new survey from the national template: a draft, nothing published.
		list := fmt.Sprintf("/api/v1/agencies/%d/surveys", e.f.tax.ID)
		admin.do(t, http.MethodPost, list, "application/json", `{"template":"national"}`).envelope(t, http.StatusForbidden, "forbidden") // no CSRF token
		var made struct {
			Survey survey.Survey `json:"survey"`
			Draft  survey.Draft  `json:"draft"`
		}
		admin.send(t, http.MethodPost, list, csrf, map[string]any{"template": "national"}).wantStatus(t, http.StatusCreated).json(t, &made)
		if made.Survey.ID == 0 || made.Survey.ActiveVersion != 0 || made.Survey.Title == "" || len(made.Draft.Questions) != 6 {
			t.Fatalf("made %+v", made)
		}
		admin.send(t, http.MethodPost, list, csrf, map[string]any{"template": "nope"}).envelope(t, http.StatusUnprocessableEntity, "invalid")
		var svs []survey.Survey
		admin.do(t, http.MethodGet, list, "", "").wantStatus(t, http.StatusOK).json(t, &svs)
		if len(svs) != 2 || svs[1].ID != made.Survey.ID {
			t.Fatalf("surveys %+v", svs)
		}
		base := fmt.Sprintf("/api/v1/surveys/%d", made.Survey.ID)

		// An incomplete draft is saved and its problems reported; publishing it is refused.
		bad := map[string]any{"title": "نیمه‌کاره", "questions": []map[string]any{
			{"id": "pick", "type": "choice", "title": "یکی را برگزینید", "options": []map[string]string{{"id": "a", "label": "الف"}}}}}
		var dr draftReply
		admin.send(t, http.MethodPut, base+"/draft", csrf, bad).wantStatus(t, http.StatusOK).json(t, fresh(&dr))
		if dr.Publishable || dr.Problems["questions[0].options"].Code == "" || dr.Draft.UpdatedBy == "" {
			t.Fatalf("incomplete draft answer %+v", dr)
		}
		var got survey.Draft
		admin.do(t, http.MethodGet, base+"/draft", "", "").wantStatus(t, http.StatusOK).json(t, &got)
		if got.Title != "نیمه‌کاره" || len(got.Questions) != 1 {
			t.Fatalf("saved draft %+v", got)
		}
		eb := admin.send(t, http.MethodPost, base+"/publish", csrf, nil).envelope(t, http.StatusUnprocessableEntity, "invalid")
		if eb.Error.Fields["questions[0].options"].Code == "" {
			t.Fatalf("publish refusal without the field: %+v", eb)
		}

		// A draft whose SMS follow-up does not fit in an SMS passes Check but not CheckSMS.
		long := strings.Repeat("گزینه‌ای بسیار طولانی ", 4)
		tooLong := map[string]any{"title": "پیامکی", "sms": map[string]any{"follow_up": []string{"why"}},
			"questions": []map[string]any{
				{"id": "overall", "type": "rating5", "title": "رضایت کلی", "required": true},
				{"id": "why", "type": "choice", "title": "چرا؟", "show_if": map[string]any{"question_id": "overall", "op": "lte", "value": 2},
					"options": []map[string]string{{"id": "a", "label": long + "۱"}, {"id": "b", "label": long + "۲"}, {"id": "c", "label": long + "۳"}}}}}
		admin.send(t, http.MethodPut, base+"/draft", csrf, tooLong).wantStatus(t, http.StatusOK).json(t, fresh(&dr))
		if dr.Publishable || dr.Problems["sms"].Code == "" {
			t.Fatalf("SMS problem not reported: %+v", dr)
		}
		admin.send(t, http.MethodPost, base+"/publish", csrf, nil).envelope(t, http.StatusUnprocessableEntity, "invalid")
		var vs []survey.Version
		admin.do(t, http.MethodGet, base+"/versions", "", "").wantStatus(t, http.StatusOK).json(t, &vs)
		if len(vs) != 0 {
			t.Fatalf("refused publishes made versions %+v", vs)
		}

		// The template's questions publish as version 1, an edit as version 2; 1 never changes.
		qs := ts[0].Questions
		admin.send(t, http.MethodPut, base+"/draft", csrf, map[string]any{"title": "رضایت", "questions": qs, "sms": ts[0].SMS}).
			wantStatus(t, http.StatusOK).json(t, fresh(&dr))
		if !dr.Publishable || len(dr.Problems) != 0 {
			t.Fatalf("national draft not publishable: %+v", dr.Problems)
		}
		var v1, v2 survey.Version
		admin.send(t, http.MethodPost, base+"/publish", csrf, nil).wantStatus(t, http.StatusCreated).json(t, &v1)
		if v1.Version != 1 || len(v1.Questions) != 6 {
			t.Fatalf("v1 %+v", v1)
		}
		first := qs[0].Title
		qs[0].Title = "از خدمت امروز چقدر راضی هستید؟"
		admin.send(t, http.MethodPut, base+"/draft", csrf, map[string]any{"title": "رضایت", "questions": qs, "sms": ts[0].SMS}).wantStatus(t, http.StatusOK)
		admin.send(t, http.MethodPost, base+"/publish", csrf, nil).wantStatus(t, http.StatusCreated).json(t, &v2)
		admin.do(t, http.MethodGet, base+"/versions", "", "").wantStatus(t, http.StatusOK).json(t, &vs)
		if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || vs[1].Questions[0].Title != first || vs[0].Questions[0].Title != qs[0].Title {
			t.Fatalf("versions %+v", vs)
		}
		// The agency now offers the survey published last.
		var offered survey.Version
		e.get(t, fmt.Sprintf("/api/v1/agencies/%d/survey", e.f.tax.ID), "").wantStatus(t, http.StatusOK).json(t, &offered)
		if offered.SurveyID != made.Survey.ID || offered.Version != 2 {
			t.Fatalf("offered %d v%d", offered.SurveyID, offered.Version)
		}

		// Tenancy: another agency's admin is told nothing exists; a viewer reads but cannot write.
		other := e.browser(t)
		other.login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther)
		oc := other.me(t).CSRFToken
		other.do(t, http.MethodGet, base+"/draft", "", "").envelope(t, http.StatusNotFound, "not_found")
		other.send(t, http.MethodPut, base+"/draft", oc, bad).envelope(t, http.StatusNotFound, "not_found")
		other.send(t, http.MethodPost, base+"/publish", oc, nil).envelope(t, http.StatusNotFound, "not_found")
		other.do(t, http.MethodGet, base+"/versions", "", "").envelope(t, http.StatusNotFound, "not_found")
		other.do(t, http.MethodGet, list, "", "").envelope(t, http.StatusNotFound, "not_found")
		other.send(t, http.MethodPost, list, oc, map[string]any{"title": "نفوذی"}).envelope(t, http.StatusNotFound, "not_found")
		viewer := e.browser(t)
		viewer.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		vc := viewer.me(t).CSRFToken
		viewer.do(t, http.MethodGet, base+"/draft", "", "").wantStatus(t, http.StatusOK)
		viewer.send(t, http.MethodPut, base+"/draft", vc, bad).envelope(t, http.StatusForbidden, "forbidden")
		viewer.send(t, http.MethodPost, base+"/publish", vc, nil).envelope(t, http.StatusForbidden, "forbidden")
		viewer.send(t, http.MethodPost, list, vc, map[string]any{"title": "تازه"}).envelope(t, http.StatusForbidden, "forbidden")
		admin.do(t, http.MethodGet, base+"/versions", "", "").json(t, &vs)
		if len(vs) != 2 {
			t.Fatalf("refused calls changed the versions: %d", len(vs))
		}

		// The audit log has every change, with before and after.
		var log []survey.AuditEntry
		admin.do(t, http.MethodGet, "/api/v1/audit", "", "").wantStatus(t, http.StatusOK).json(t, &log)
		var actions []string
		for _, en := range log {
			if en.Entity != "survey" {
				continue
			}
			actions = append(actions, en.Action)
			if en.EntityID != made.Survey.ID || en.ActorUserID != e.taxAdmin.ID || en.After == "" {
				t.Errorf("entry %+v", en)
			}
			if en.Action != "survey.create" && en.Before == "" {
				t.Errorf("entry without before: %+v", en)
			}
		}
		want := "survey.publish,survey.draft_save,survey.publish,survey.draft_save,survey.draft_save,survey.draft_save,survey.create"
		if got := strings.Join(actions, ","); got != want {
			t.Errorf("survey audit actions\n got %s\nwant %s", got, want)
		}
	})
}

func TestOfficesAndAssignmentsAPI(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := surveysEnv(t, store)
		admin := e.browser(t)
		admin.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		csrf := admin.me(t).CSRFToken
		offices := fmt.Sprintf("/api/v1/agencies/%d/offices", e.f.tax.ID)

		var o survey.Office
		admin.send(t, http.MethodPost, offices, csrf, map[string]any{"name": "شعبهٔ شمال"}).wantStatus(t, http.StatusCreated).json(t, &o)
		if o.ID == 0 || o.AgencyID != e.f.tax.ID {
			t.Fatalf("office %+v", o)
		}
		admin.send(t, http.MethodPost, offices, csrf, map[string]any{"name": " "}).envelope(t, http.StatusUnprocessableEntity, "invalid")
		path := fmt.Sprintf("/api/v1/offices/%d", o.ID)
		admin.send(t, http.MethodPatch, path, csrf, map[string]any{"name": "شعبهٔ شمال‌غرب"}).wantStatus(t, http.StatusOK).json(t, &o)
		if o.Name != "شعبهٔ شمال‌غرب" {
			t.Fatalf("renamed %+v", o)
		}
		var os []survey.Office
		admin.do(t, http.MethodGet, offices, "", "").wantStatus(t, http.StatusOK).json(t, &os)
		if len(os) != 2 || os[1].Name != o.Name {
			t.Fatalf("offices %+v", os)
		}
		other := e.browser(t)
		other.login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther)
		other.send(t, http.MethodPatch, path, other.me(t).CSRFToken, map[string]any{"name": "x"}).envelope(t, http.StatusNotFound, "not_found")
		viewer := e.browser(t)
		viewer.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		viewer.send(t, http.MethodPatch, path, viewer.me(t).CSRFToken, map[string]any{"name": "x"}).envelope(t, http.StatusForbidden, "forbidden")
		viewer.send(t, http.MethodPost, offices, viewer.me(t).CSRFToken, map[string]any{"name": "x"}).envelope(t, http.StatusForbidden, "forbidden")

		// Assignments: the kiosk channel of the new office uses the tax survey; another agency's
		// survey or office cannot be assigned.
		assign := fmt.Sprintf("/api/v1/agencies/%d/assignments", e.f.tax.ID)
		var as []survey.Assignment
		admin.send(t, http.MethodPut, assign, csrf, map[string]any{"office_id": o.ID, "channel": "kiosk", "survey_id": e.f.version.SurveyID}).
			wantStatus(t, http.StatusOK).json(t, &as)
		if len(as) != 1 || as[0].OfficeID != o.ID || as[0].Channel != survey.ChannelKiosk {
			t.Fatalf("assignments %+v", as)
		}
		admin.send(t, http.MethodPut, assign, csrf, map[string]any{"office_id": o.ID, "channel": "fax", "survey_id": e.f.version.SurveyID}).
			envelope(t, http.StatusUnprocessableEntity, "invalid")
		regSurvey := survey.Survey{AgencyID: e.f.registry.ID, Title: "ثبت"}
		if err := store.CreateSurvey(t.Context(), &regSurvey); err != nil {
			t.Fatal(err)
		}
		admin.send(t, http.MethodPut, assign, csrf, map[string]any{"survey_id": regSurvey.ID}).envelope(t, http.StatusUnprocessableEntity, "invalid")
		other.send(t, http.MethodPut, assign, other.me(t).CSRFToken, map[string]any{"survey_id": e.f.version.SurveyID}).envelope(t, http.StatusNotFound, "not_found")
		viewer.do(t, http.MethodGet, assign, "", "").wantStatus(t, http.StatusOK).json(t, &as)
		if len(as) != 1 {
			t.Fatalf("viewer reads %+v", as)
		}

		var log []survey.AuditEntry
		admin.do(t, http.MethodGet, "/api/v1/audit", "", "").wantStatus(t, http.StatusOK).json(t, &log)
		var actions []string
		for _, en := range log {
			if en.Entity == "office" || en.Entity == "survey_assignment" {
				actions = append(actions, en.Action)
				if en.After == "" || en.AgencyID != e.f.tax.ID {
					t.Errorf("entry %+v", en)
				}
			}
			if en.Action == "office.rename" && !strings.Contains(en.Before, "شعبهٔ شمال\"") {
				t.Errorf("rename's before %s", en.Before)
			}
		}
		if got := strings.Join(actions, ","); got != "survey.assign,office.rename,office.create" {
			t.Errorf("actions %s", got)
		}
	})
}

// TestKioskConfigFollowsAssignment: a kiosk offers the survey assigned to its office and the
// kiosk channel, and the agency's active survey when the assignment is removed.
func TestKioskConfigFollowsAssignment(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newKioskEnv(t, store, -1)
		_, device := e.newPairedKiosk(t, nil)
		ctx := t.Context()
		// A second survey, published after the fixture's: the agency's active one from now on.
		later := survey.Survey{AgencyID: e.f.tax.ID, Title: "دومی"}
		if err := store.CreateSurvey(ctx, &later); err != nil {
			t.Fatal(err)
		}
		v := survey.Version{SurveyID: later.ID, Questions: []survey.Question{{ID: "q", Type: survey.TypeRating5, Title: "چطور بود؟", Required: true}}}
		if err := store.PublishVersion(ctx, &v); err != nil {
			t.Fatal(err)
		}
		surveyOf := func() survey.ID {
			var cfg struct {
				Survey *survey.Version `json:"survey"`
			}
			e.get(t, "/api/v1/kiosk/config", device).wantStatus(t, http.StatusOK).json(t, &cfg)
			if cfg.Survey == nil {
				t.Fatal("no survey in the kiosk config")
			}
			return cfg.Survey.SurveyID
		}
		if got := surveyOf(); got != later.ID {
			t.Fatalf("kiosk offers survey %d, want the active %d", got, later.ID)
		}
		a := survey.Assignment{AgencyID: e.f.tax.ID, OfficeID: e.f.office.ID, Channel: survey.ChannelKiosk, SurveyID: e.f.version.SurveyID}
		if err := store.SetAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := surveyOf(); got != e.f.version.SurveyID {
			t.Fatalf("kiosk offers survey %d, want the assigned %d", got, e.f.version.SurveyID)
		}
		a.SurveyID = 0
		if err := store.SetAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := surveyOf(); got != later.ID {
			t.Fatalf("after removal the kiosk offers survey %d, want %d", got, later.ID)
		}
	})
}

// TestSurveyPreview: staff see the draft as the web form (submit disabled), the kiosk's screens
// and the SMS texts with their part counts; another agency's admin sees nothing.
func TestSurveyPreview(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := surveysEnv(t, store)
		admin := e.browser(t)
		admin.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		var made struct {
			Survey survey.Survey `json:"survey"`
		}
		admin.send(t, http.MethodPost, fmt.Sprintf("/api/v1/agencies/%d/surveys", e.f.tax.ID), admin.me(t).CSRFToken,
			map[string]any{"template": "national"}).wantStatus(t, http.StatusCreated).json(t, &made)
		base := fmt.Sprintf("/surveys/%d/preview", made.Survey.ID)
		page := func(query string) string {
			t.Helper()
			r := admin.do(t, http.MethodGet, base+query, "", "").wantStatus(t, http.StatusOK)
			body := string(r.body)
			if !strings.Contains(body, `dir="rtl"`) || !strings.Contains(body, e.f.tax.Name) {
				t.Fatalf("%s: not an RTL page of the agency:\n%s", query, body)
			}
			return body
		}
		web := page("?as=web")
		if !strings.Contains(web, "data-preview") || !strings.Contains(web, `<button type="submit" disabled>`) || strings.Count(web, `data-q="`) != 6 {
			t.Errorf("web preview:\n%s", web)
		}
		if page("") != web {
			t.Error("the default preview is not the web form")
		}
		kiosk := page("?as=kiosk")
		if strings.Count(kiosk, "data-screen") != 6 || !strings.Contains(kiosk, "صفحهٔ ۱ از ۶") || strings.Count(kiosk, `class="face"`) != 20 ||
			!strings.Contains(kiosk, "فقط وقتی نشان داده می‌شود") {
			t.Errorf("kiosk preview:\n%s", kiosk)
		}
		text := page("?as=sms")
		if strings.Count(text, "data-sms") != 3 || strings.Count(text, "لغو ۱۱") < 2 || strings.Contains(text, "data-error") ||
			strings.Contains(text, `data-parts="3"`) || !strings.Contains(text, "afkar.example.ir/s/") {
			t.Errorf("sms preview:\n%s", text)
		}
		admin.do(t, http.MethodGet, base+"?as=fax", "", "").envelope(t, http.StatusBadRequest, "bad_request")
		admin.do(t, http.MethodGet, base+"?version=1", "", "").envelope(t, http.StatusNotFound, "not_found")
		other := e.browser(t)
		other.login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther)
		other.do(t, http.MethodGet, base+"?as=sms", "", "").envelope(t, http.StatusNotFound, "not_found")
		// A published version is previewed by its number.
		e.request(t, http.MethodPost, fmt.Sprintf("/api/v1/surveys/%d/publish", made.Survey.ID), adminToken, "", "").wantStatus(t, http.StatusCreated)
		if v1 := page("?as=kiosk&version=1"); !strings.Contains(v1, "نسخهٔ ۱") {
			t.Errorf("version preview:\n%s", v1)
		}
	})
}

// TestPosterFormFollowsAssignment: the web form of an office's poster asks the survey assigned
// to that office and the web channel, and the agency's active survey without one.
func TestPosterFormFollowsAssignment(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		keys, err := weblink.NewKeys(strings.Repeat("k", 40))
		if err != nil {
			t.Fatal(err)
		}
		e := newAccountsEnv(t, store, api.Deps{WebLinks: keys, LinkStore: store, FormRateLimit: -1})
		ctx := t.Context()
		other := survey.Survey{AgencyID: e.f.tax.ID, Title: "پوستر"}
		if err := store.CreateSurvey(ctx, &other); err != nil {
			t.Fatal(err)
		}
		ov := survey.Version{SurveyID: other.ID, Questions: []survey.Question{{ID: "poster_q", Type: survey.TypeRating5, Title: "پرسش ویژهٔ پوستر", Required: true}}}
		if err := store.PublishVersion(ctx, &ov); err != nil {
			t.Fatal(err)
		}
		var view struct {
			URL string `json:"url"`
		}
		e.get(t, fmt.Sprintf("/api/v1/offices/%d/poster", e.f.office.ID), adminToken).wantStatus(t, http.StatusOK).json(t, &view)
		form := func() string {
			t.Helper()
			return string(getPage(t, view.URL).wantStatus(t, http.StatusOK).body)
		}
		// Assigned to the office's web form: the fixture's survey, although another was published later.
		a := survey.Assignment{AgencyID: e.f.tax.ID, OfficeID: e.f.office.ID, Channel: survey.ChannelWeb, SurveyID: e.f.version.SurveyID}
		if err := store.SetAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		if page := form(); strings.Contains(page, "پرسش ویژهٔ پوستر") || !strings.Contains(page, e.f.version.Questions[0].Title) {
			t.Errorf("assigned form does not ask the assigned survey:\n%s", page)
		}
		// Without an assignment: the agency's survey published last.
		a.SurveyID = 0
		if err := store.SetAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		if page := form(); !strings.Contains(page, "پرسش ویژهٔ پوستر") {
			t.Errorf("without an assignment the form does not ask the active survey:\n%s", page)
		}
	})
}
