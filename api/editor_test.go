package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/authoring"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// editorEnv is the server with survey management, the kiosk channel (office hours) and poster
// links (the public web form) over the real store.
func editorEnv(t *testing.T, store *sqlstore.Store) *accountsEnv {
	t.Helper()
	keys, err := weblink.NewKeys(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	return newAccountsEnv(t, store, api.Deps{Surveys: authoring.New(store, authoring.Options{CheckSMS: sms.CheckSMS}),
		Kiosks: kiosk.NewService(store, nil, kiosk.Options{}), WebLinks: keys, LinkStore: store, FormRateLimit: -1})
}

// formValues reads the form whose action is action out of page as a browser would submit it
// with no button pressed: text and hidden inputs, checked checkboxes, each select's selected
// option (else its first), textareas; disabled controls are left out.
func formValues(t *testing.T, page []byte, action string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	text := func(n *html.Node) string {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		return b.String()
	}
	var form *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			if a, _ := attr(n, "action"); a == action && form == nil {
				form = n
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		t.Fatalf("no form with action %s in the page", action)
	}
	v := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name, named := attr(n, "name")
			_, disabled := attr(n, "disabled")
			if named && !disabled {
				switch n.Data {
				case "input":
					typ, _ := attr(n, "type")
					val, _ := attr(n, "value")
					_, checked := attr(n, "checked")
					switch typ {
					case "checkbox":
						if checked {
							v.Add(name, val)
						}
					case "submit":
					default:
						v.Add(name, val)
					}
				case "textarea":
					// The HTML parser drops the newline right after <textarea>, as browsers do.
					v.Add(name, text(n))
				case "select":
					first, chosen, has, seen := "", "", false, false
					for o := n.FirstChild; o != nil; o = o.NextSibling {
						if o.Type != html.ElementNode || o.Data != "option" {
							continue
						}
						val, ok := attr(o, "value")
						if !ok {
							val = text(o)
						}
						if !seen {
							first, seen = val, true
						}
						if _, sel := attr(o, "selected"); sel {
							chosen, has = val, true
						}
					}
					if !has {
						chosen = first
					}
					v.Add(name, chosen)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return v
}

// postForm submits values as a form with the browser's cookies.
func (b *browser) postForm(t *testing.T, path string, values url.Values) reply {
	t.Helper()
	return b.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", values.Encode())
}

// postFormAction finds the actions of a page's POST forms.
var postFormAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// checkManagePage checks what every management page owes its reader: Persian RTL with the
// embedded font, no script and nothing from outside, half-spaces kept, and the wanted texts.
func checkManagePage(t *testing.T, body []byte, want ...string) {
	t.Helper()
	s := string(body)
	for _, w := range append([]string{`<html lang="fa" dir="rtl">`, "Vazirmatn"}, want...) {
		if !strings.Contains(s, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if strings.Contains(s, "<script") || strings.Contains(s, "http://") || strings.Contains(s, "https://") {
		t.Error("a management page must have no script and nothing from outside")
	}
	if m := regexp.MustCompile(`(^|[\s«(])(ن?می) [\p{Arabic}]`).FindString(s); m != "" || !strings.Contains(s, "\u200c") {
		t.Errorf("%q needs a half-space (ZWNJ) after «می», or the page lost its half-spaces", m)
	}
}

// managementForms lists the actions of the page's POST forms other than logout.
func managementForms(body []byte) []string {
	var out []string
	for _, m := range postFormAction.FindAllSubmatch(body, -1) {
		if string(m[1]) != "/logout" {
			out = append(out, string(m[1]))
		}
	}
	return out
}

func draftOf(t *testing.T, b *browser, id survey.ID) survey.Draft {
	t.Helper()
	var d survey.Draft
	b.do(t, http.MethodGet, fmt.Sprintf("/api/v1/surveys/%d/draft", id), "", "").wantStatus(t, http.StatusOK).json(t, &d)
	return d
}

// TestSurveyEditorPages: an agency admin reaches the surveys page from the dashboard, makes a
// survey from the national template, saves the untouched form (the draft does not change),
// edits a question's text, breaks a choice question and sees the problem beside its options
// (publish refused), fixes it, publishes, and the public web form asks the new text. A reader
// sees no forms and is refused on POST; another agency's admin learns nothing; a form without
// its CSRF token is refused.
func TestSurveyEditorPages(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := editorEnv(t, store)
		admin := e.browser(t)
		admin.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		tax := e.f.tax.ID
		surveysPath := fmt.Sprintf("/dashboard/agencies/%d/surveys", tax)
		dash := admin.do(t, http.MethodGet, fmt.Sprintf("/dashboard/agencies/%d", tax), "", "").wantStatus(t, http.StatusOK)
		if !strings.Contains(string(dash.body), `href="`+surveysPath+`"`) || !strings.Contains(string(dash.body), fmt.Sprintf(`href="/dashboard/agencies/%d/offices"`, tax)) {
			t.Fatal("the agency dashboard does not link an admin to the management pages")
		}

		// A new survey from the national template, through the surveys page's form.
		list := admin.do(t, http.MethodGet, surveysPath, "", "").wantStatus(t, http.StatusOK)
		if got := managementForms(list.body); len(got) != 1 || got[0] != surveysPath {
			t.Fatalf("admin's surveys page forms %v", got)
		}
		made := admin.postForm(t, surveysPath, formValues(t, list.body, surveysPath)).wantStatus(t, http.StatusSeeOther)
		editPath := made.header.Get("Location")
		var sid survey.ID
		if _, err := fmt.Sscanf(editPath, "/dashboard/surveys/%d/edit", &sid); err != nil || sid == 0 {
			t.Fatalf("create redirects to %q", editPath)
		}
		national := authoring.Templates()[0]
		page := admin.do(t, http.MethodGet, editPath, "", "").wantStatus(t, http.StatusOK)
		checkManagePage(t, page.body, `name="csrf_token"`, "/preview?as=kiosk", "/preview?as=sms")
		checkManagePage(t, list.body, `name="csrf_token"`)
		if n := strings.Count(string(page.body), "<fieldset id=\"q"); n != len(national.Questions) || !strings.Contains(string(page.body), "data-publishable") {
			t.Fatalf("editor shows %d questions (want %d) or not publishable:\n%s", n, len(national.Questions), page.body)
		}
		list = admin.do(t, http.MethodGet, surveysPath, "", "").wantStatus(t, http.StatusOK)
		if !strings.Contains(string(list.body), fmt.Sprintf(`href="%s"`, editPath)) || !strings.Contains(string(list.body), "منتشر نشده") {
			t.Errorf("the surveys page does not list the new survey:\n%s", list.body)
		}

		// The untouched form saves the same draft: the codec loses nothing.
		form := formValues(t, page.body, editPath)
		before := draftOf(t, admin, sid)
		admin.postForm(t, editPath, form).wantStatus(t, http.StatusOK)
		after := draftOf(t, admin, sid)
		bq, _ := json.Marshal([]any{before.Title, before.Questions, before.SMS})
		aq, _ := json.Marshal([]any{after.Title, after.Questions, after.SMS})
		if string(bq) != string(aq) {
			t.Fatalf("saving the untouched form changed the draft\nbefore %s\nafter  %s", bq, aq)
		}

		// Edit the first question's text.
		const newText = "امروز از رسیدگی به کارتان چقدر راضی بودید؟"
		form.Set("q0.title", newText)
		saved := admin.postForm(t, editPath, form).wantStatus(t, http.StatusOK)
		if !strings.Contains(string(saved.body), "پیش‌نویس ذخیره شد") || !strings.Contains(string(saved.body), newText) {
			t.Errorf("save answer:\n%s", saved.body)
		}
		if got := draftOf(t, admin, sid).Questions[0].Title; got != newText {
			t.Fatalf("draft's first question %q", got)
		}

		// A choice question with one option: saved, its problem beside its options, and
		// publishing is refused with the page (422) and no version.
		reasons := -1
		for i, q := range national.Questions {
			if q.Type == survey.TypeChoice {
				reasons = i
			}
		}
		good := form.Get(fmt.Sprintf("q%d.options", reasons))
		form.Set(fmt.Sprintf("q%d.options", reasons), "waiting|صف و معطلی")
		bad := admin.postForm(t, editPath, form).wantStatus(t, http.StatusOK)
		field := fmt.Sprintf(`data-field="questions[%d].options">پرسش چندگزینه‌ای دست‌کم دو گزینه می‌خواهد.`, reasons)
		if !strings.Contains(string(bad.body), field) || strings.Contains(string(bad.body), "data-publishable") {
			t.Fatalf("the bad option's problem is not beside its field:\n%s", bad.body)
		}
		if l := admin.do(t, http.MethodGet, surveysPath, "", "").wantStatus(t, http.StatusOK); !regexp.MustCompile(
			fmt.Sprintf(`(?s)data-survey="%d".*?data-problems="[1-9]`, sid)).Match(l.body) {
			t.Errorf("the surveys page does not count the draft's problems:\n%s", l.body)
		}
		form.Set("action", "publish")
		refused := admin.postForm(t, editPath, form).wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(refused.body), "data-refused") || !strings.Contains(string(refused.body), field) {
			t.Errorf("refused publish page:\n%s", refused.body)
		}
		var vs []survey.Version
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/surveys/%d/versions", sid), "", "").wantStatus(t, http.StatusOK).json(t, &vs)
		if len(vs) != 0 {
			t.Fatalf("a refused publish made %d versions", len(vs))
		}
		// Buttons: add a question, move it up, remove it.
		form.Set(fmt.Sprintf("q%d.options", reasons), good)
		form.Set("action", "add")
		admin.postForm(t, editPath, form).wantStatus(t, http.StatusOK)
		if d := draftOf(t, admin, sid); len(d.Questions) != len(national.Questions)+1 || d.Questions[len(national.Questions)].Type != survey.TypeRating5 {
			t.Fatalf("add: %d questions", len(d.Questions))
		}
		page = admin.do(t, http.MethodGet, editPath, "", "").wantStatus(t, http.StatusOK)
		form = formValues(t, page.body, editPath)
		form.Set("action", fmt.Sprintf("up:%d", len(national.Questions)))
		admin.postForm(t, editPath, form).wantStatus(t, http.StatusOK)
		d := draftOf(t, admin, sid)
		added := d.Questions[len(national.Questions)-1].ID
		if d.Questions[len(national.Questions)].ID != national.Questions[len(national.Questions)-1].ID {
			t.Fatalf("up: order %+v", d.Questions)
		}
		page = admin.do(t, http.MethodGet, editPath, "", "").wantStatus(t, http.StatusOK)
		form = formValues(t, page.body, editPath)
		form.Set("action", fmt.Sprintf("remove:%d", len(national.Questions)-1))
		admin.postForm(t, editPath, form).wantStatus(t, http.StatusOK)
		if d := draftOf(t, admin, sid); len(d.Questions) != len(national.Questions) || d.Questions[len(d.Questions)-1].ID == added {
			t.Fatalf("remove: %+v", d.Questions)
		}

		// A form without its CSRF token is refused and changes nothing.
		page = admin.do(t, http.MethodGet, editPath, "", "").wantStatus(t, http.StatusOK)
		form = formValues(t, page.body, editPath)
		noToken := url.Values{}
		for k, v := range form {
			if k != "csrf_token" {
				noToken[k] = v
			}
		}
		noToken.Set("title", "بی‌نشانه")
		admin.postForm(t, editPath, noToken).envelope(t, http.StatusForbidden, "forbidden")
		if got := draftOf(t, admin, sid).Title; got == "بی‌نشانه" {
			t.Fatal("a form without its CSRF token was saved")
		}

		// Publish: version 1, the editor says so, and the public web form asks the new text.
		form.Set("action", "publish")
		pub := admin.postForm(t, editPath, form).wantStatus(t, http.StatusSeeOther)
		if loc := pub.header.Get("Location"); loc != editPath+"?published=1" {
			t.Fatalf("publish redirects to %q", loc)
		}
		if p := admin.do(t, http.MethodGet, editPath+"?published=1", "", "").wantStatus(t, http.StatusOK); !strings.Contains(string(p.body), "نسخهٔ ۱ منتشر شد") {
			t.Errorf("no publish notice:\n%s", p.body)
		}
		var view struct {
			URL string `json:"url"`
		}
		e.get(t, fmt.Sprintf("/api/v1/offices/%d/poster", e.f.office.ID), adminToken).wantStatus(t, http.StatusOK).json(t, &view)
		if citizen := string(getPage(t, view.URL).wantStatus(t, http.StatusOK).body); !strings.Contains(citizen, newText) {
			t.Errorf("the public web form does not ask the published text:\n%s", citizen)
		}
		list = admin.do(t, http.MethodGet, surveysPath, "", "").wantStatus(t, http.StatusOK)
		if !strings.Contains(string(list.body), "همان نسخهٔ ۱") || !strings.Contains(string(list.body), fmt.Sprintf("/surveys/%d/preview?as=web&amp;version=1", sid)) {
			t.Errorf("surveys page after publishing:\n%s", list.body)
		}

		// A reader of the agency: the pages without forms; every form refused.
		viewer := e.browser(t)
		viewer.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		vc := viewer.me(t).CSRFToken
		if b := viewer.do(t, http.MethodGet, fmt.Sprintf("/dashboard/agencies/%d", tax), "", "").wantStatus(t, http.StatusOK); strings.Contains(string(b.body), "data-manage") {
			t.Error("the viewer's dashboard links to the management pages")
		}
		for _, path := range []string{surveysPath, editPath, fmt.Sprintf("/dashboard/agencies/%d/offices", tax)} {
			b := viewer.do(t, http.MethodGet, path, "", "").wantStatus(t, http.StatusOK)
			if f := managementForms(b.body); len(f) != 0 || strings.Count(string(b.body), "<form") != 1 {
				t.Errorf("viewer sees forms on %s: %v", path, f)
			}
		}
		form.Set("csrf_token", vc)
		form.Set("action", "save")
		viewer.postForm(t, editPath, form).envelope(t, http.StatusForbidden, "forbidden")
		viewer.postForm(t, surveysPath, url.Values{"csrf_token": {vc}, "template": {"national"}}).envelope(t, http.StatusForbidden, "forbidden")

		// Another agency's admin: not found, on the pages and the forms.
		other := e.browser(t)
		other.login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther)
		oc := other.me(t).CSRFToken
		other.do(t, http.MethodGet, editPath, "", "").envelope(t, http.StatusNotFound, "not_found")
		other.do(t, http.MethodGet, surveysPath, "", "").envelope(t, http.StatusNotFound, "not_found")
		form.Set("csrf_token", oc)
		other.postForm(t, editPath, form).envelope(t, http.StatusNotFound, "not_found")
		other.postForm(t, surveysPath, url.Values{"csrf_token": {oc}}).envelope(t, http.StatusNotFound, "not_found")
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/surveys/%d/versions", sid), "", "").json(t, &vs)
		if len(vs) != 1 || vs[0].Questions[0].Title != newText {
			t.Fatalf("refused forms changed the versions: %+v", vs)
		}
	})
}

// TestOfficePages: an agency admin sets an office's hours (Persian digits, two spans on
// Saturday) and holidays typed both ways through the form and the API returns them; hours the
// kiosk channel refuses come back as the page with the problem (422); offices are created and
// renamed; a survey is assigned to an office's web channel; a reader and another agency are
// refused.
func TestOfficePages(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := editorEnv(t, store)
		admin := e.browser(t)
		admin.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		tax, office := e.f.tax.ID, e.f.office.ID
		officesPath := fmt.Sprintf("/dashboard/agencies/%d/offices", tax)
		hoursPath := fmt.Sprintf("/dashboard/offices/%d/hours", office)
		page := admin.do(t, http.MethodGet, officesPath, "", "").wantStatus(t, http.StatusOK)
		checkManagePage(t, page.body, `name="csrf_token"`, "۰۷:۳۰")
		body := string(page.body)
		// Saturday first, with the default hours in Persian digits.
		if sat, fri := strings.Index(body, `data-day="sat"`), strings.Index(body, `data-day="fri"`); sat < 0 || fri < sat ||
			!strings.Contains(body, `value="۰۷:۳۰-۱۴:۳۰"`) {
			t.Fatalf("hours form:\n%s", body)
		}

		form := formValues(t, page.body, hoursPath)
		form.Set("day_sat", "۰۸:۰۰-۱۲:۰۰، ۱۳:۰۰-۱۶:۰۰")
		form.Set("day_thu", "08:00-12:00")
		form.Set("day_wed", "")
		form.Set("holidays", "۱۴۰۵/۰۱/۰۱\n1405-01-13")
		admin.postForm(t, hoursPath, form).wantStatus(t, http.StatusSeeOther)
		var h survey.OfficeHours
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/offices/%d/hours", office), "", "").wantStatus(t, http.StatusOK).json(t, &h)
		spans := map[string][]string{}
		for _, s := range h.Weekly {
			spans[s.Day] = append(spans[s.Day], s.Open+"-"+s.Close)
		}
		if strings.Join(spans["sat"], ",") != "08:00-12:00,13:00-16:00" || strings.Join(spans["thu"], ",") != "08:00-12:00" ||
			len(spans["wed"]) != 0 || strings.Join(spans["sun"], ",") != "07:30-14:30" || h.AlwaysOpen {
			t.Errorf("stored weekly hours %+v", spans)
		}
		if strings.Join(h.Holidays, ",") != "1405-01-01,1405-01-13" {
			t.Errorf("stored holidays %q", h.Holidays)
		}
		page = admin.do(t, http.MethodGet, officesPath, "", "").wantStatus(t, http.StatusOK)
		if !strings.Contains(string(page.body), "۱۴۰۵/۰۱/۰۱\n۱۴۰۵/۰۱/۱۳") {
			t.Errorf("holidays are not shown in Jalali, Persian digits:\n%s", page.body)
		}

		// Hours the kiosk channel refuses: the page again, the problem beside the office,
		// nothing stored.
		form.Set("day_mon", "۲۵:۰۰-۲۶:۰۰")
		refused := admin.postForm(t, hoursPath, form).wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(refused.body), `data-field="office"`) {
			t.Errorf("refused hours page:\n%s", refused.body)
		}
		form.Set("day_mon", "هشت تا دو")
		admin.postForm(t, hoursPath, form).wantStatus(t, http.StatusUnprocessableEntity)
		var again survey.OfficeHours
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/offices/%d/hours", office), "", "").json(t, &again)
		if fmt.Sprint(again) != fmt.Sprint(h) {
			t.Errorf("refused forms changed the hours: %+v", again)
		}

		// A new office, renamed.
		create := admin.postForm(t, officesPath, url.Values{"csrf_token": {admin.me(t).CSRFToken}, "name": {"شعبهٔ غرب"}}).wantStatus(t, http.StatusSeeOther)
		var newID survey.ID
		if _, err := fmt.Sscanf(create.header.Get("Location"), officesPath+"#office-%d", &newID); err != nil {
			t.Fatalf("create redirects to %q", create.header.Get("Location"))
		}
		admin.postForm(t, officesPath, url.Values{"csrf_token": {admin.me(t).CSRFToken}, "name": {" "}}).wantStatus(t, http.StatusUnprocessableEntity)
		page = admin.do(t, http.MethodGet, officesPath, "", "").wantStatus(t, http.StatusOK)
		renamePath := fmt.Sprintf("/dashboard/offices/%d", newID)
		rename := formValues(t, page.body, renamePath)
		rename.Set("name", "شعبهٔ غرب شهر")
		admin.postForm(t, renamePath, rename).wantStatus(t, http.StatusSeeOther)
		var os []survey.Office
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/agencies/%d/offices", tax), "", "").json(t, &os)
		if len(os) != 2 || os[1].Name != "شعبهٔ غرب شهر" {
			t.Errorf("offices %+v", os)
		}

		// The office's web form uses the fixture's survey; the other channels stay the default.
		assignPath := fmt.Sprintf("/dashboard/agencies/%d/assignments", tax)
		page = admin.do(t, http.MethodGet, officesPath, "", "").wantStatus(t, http.StatusOK)
		// The first assignments form is the agency-wide row; build the office's row by hand.
		row := formValues(t, page.body, assignPath)
		row.Set("office_id", office.String())
		row.Set("ch_web", e.f.version.SurveyID.String())
		admin.postForm(t, assignPath, row).wantStatus(t, http.StatusSeeOther)
		var as []survey.Assignment
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/agencies/%d/assignments", tax), "", "").json(t, &as)
		if len(as) != 1 || as[0].OfficeID != office || as[0].Channel != survey.ChannelWeb || as[0].SurveyID != e.f.version.SurveyID {
			t.Fatalf("assignments %+v", as)
		}
		page = admin.do(t, http.MethodGet, officesPath, "", "").wantStatus(t, http.StatusOK)
		if !strings.Contains(string(page.body), fmt.Sprintf(`<option value="%d" selected>`, e.f.version.SurveyID)) {
			t.Errorf("the assignment is not shown selected")
		}

		// A reader: no forms, refused; another agency: not found.
		viewer := e.browser(t)
		viewer.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		vc := viewer.me(t).CSRFToken
		form.Set("csrf_token", vc)
		form.Set("day_mon", "")
		viewer.postForm(t, hoursPath, form).envelope(t, http.StatusForbidden, "forbidden")
		viewer.postForm(t, officesPath, url.Values{"csrf_token": {vc}, "name": {"نفوذی"}}).envelope(t, http.StatusForbidden, "forbidden")
		row.Set("csrf_token", vc)
		row.Set("ch_web", "0")
		viewer.postForm(t, assignPath, row).envelope(t, http.StatusForbidden, "forbidden")
		other := e.browser(t)
		other.login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther)
		oc := other.me(t).CSRFToken
		other.do(t, http.MethodGet, officesPath, "", "").envelope(t, http.StatusNotFound, "not_found")
		form.Set("csrf_token", oc)
		other.postForm(t, hoursPath, form).envelope(t, http.StatusNotFound, "not_found")
		rename.Set("csrf_token", oc)
		other.postForm(t, renamePath, rename).envelope(t, http.StatusNotFound, "not_found")
		// Without the CSRF token: refused.
		form.Del("csrf_token")
		admin.postForm(t, hoursPath, form).envelope(t, http.StatusForbidden, "forbidden")
		admin.do(t, http.MethodGet, fmt.Sprintf("/api/v1/offices/%d/hours", office), "", "").json(t, &again)
		if fmt.Sprint(again) != fmt.Sprint(h) {
			t.Errorf("refused forms changed the hours: %+v", again)
		}
	})
}

// TestSurveyEditorInBrowser: the editor at 360 px in headless Chromium — Persian RTL with
// Vazirmatn, no sideways scroll, a button press (add a question) works without JavaScript, and
// nothing is fetched from outside the server.
func TestSurveyEditorInBrowser(t *testing.T) {
	store := sqltest.Open(t, sqltest.Dialects[0])
	e := editorEnv(t, store)
	admin := e.browser(t)
	admin.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
	var made struct {
		Survey survey.Survey `json:"survey"`
	}
	admin.send(t, http.MethodPost, fmt.Sprintf("/api/v1/agencies/%d/surveys", e.f.tax.ID), admin.me(t).CSRFToken,
		map[string]any{"template": "national"}).wantStatus(t, http.StatusCreated).json(t, &made)

	b := browsertest.Start(t, 360, 740, 90*time.Second)
	b.Do(chromedp.EmulateViewport(360, 740), chromedp.Navigate(e.url+"/login"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys("#login", "tax.admin"), chromedp.SendKeys("#password", e.pw["tax.admin"]), chromedp.Submit("#password"),
		chromedp.WaitVisible(chromedp.CSS("[data-kpi]")),
		chromedp.Click(chromedp.CSS(`[data-manage] a[href$="/surveys"]`)), chromedp.WaitVisible(chromedp.CSS("#surveys-table")),
		chromedp.Navigate(fmt.Sprintf("%s/dashboard/surveys/%d/edit", e.url, made.Survey.ID)), chromedp.WaitVisible(chromedp.CSS("#editor")))
	b.CheckPage()
	noSideScroll := func(what string) {
		t.Helper()
		if over := browsertest.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); over {
			t.Errorf("%s scrolls sideways at 360 px (%d > %d)", what, browsertest.Eval[int](b, `document.documentElement.scrollWidth`),
				browsertest.Eval[int](b, `window.innerWidth`))
		}
	}
	noSideScroll("the editor")
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#editor fieldset[data-q]").length`); n != 6 {
		t.Fatalf("%d questions in the editor", n)
	}
	b.Screenshot("survey-editor-360.png")
	b.Do(chromedp.Click(chromedp.CSS(`button[value="add"]`)), chromedp.WaitVisible(chromedp.CSS("[data-notice]")))
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#editor fieldset[data-q]").length`); n != 7 {
		t.Errorf("after «افزودن پرسش» %d questions", n)
	}
	noSideScroll("the editor after adding a question")
	b.Do(chromedp.Navigate(fmt.Sprintf("%s/dashboard/agencies/%d/offices", e.url, e.f.tax.ID)), chromedp.WaitVisible(chromedp.CSS("#offices-h")))
	b.CheckPage()
	noSideScroll("the offices page")
	b.Screenshot("offices-360.png")
	b.CheckRequests(e.url)
}
