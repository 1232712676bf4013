package api_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// dashEnv is the API over the real store with the real scores, dashboards and comments services,
// and responses folded into the rollups on known Tehran days.
type dashEnv struct {
	*accountsEnv
	comment string // the response id of the comment with a phone number
}

// Days of the fixture and what each holds (ratings of the headline question q1).
var dashDays = []struct {
	iso     string
	ratings []int
}{
	{"2026-10-21", []int{5, 4}}, // 1405-07-29, Mehr
	{"2026-10-23", []int{3}},    // 1405-08-01, Aban
	{"2026-11-20", []int{1, 2, 5}},
	{"2026-11-21", []int{4}},
}

func newDashEnv(t *testing.T, store *sqlstore.Store, hours ...api.HourReader) *dashEnv {
	t.Helper()
	return newDashEnvWith(t, store, func(d *api.Deps) {
		if len(hours) > 0 {
			d.Hours = hours[0]
		}
	})
}

// newDashEnvWith is newDashEnv with more dependencies wired by more (alerts, cases, …).
func newDashEnvWith(t *testing.T, store *sqlstore.Store, more func(*api.Deps)) *dashEnv {
	t.Helper()
	scores := analytics.NewScores(store, store)
	dash := analytics.NewDashboard(store, store)
	dash.Clock = survey.NewManualClock(time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC))
	d := api.Deps{Scores: scores, Dashboard: dash, Comments: analytics.NewComments(store, store)}
	more(&d)
	e := &dashEnv{accountsEnv: newAccountsEnv(t, store, d)}
	ctx := context.Background()
	var rs []survey.Response
	n := 0
	id := func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
	for _, d := range dashDays {
		day, _ := time.ParseInLocation(survey.DayFormat, d.iso, survey.Tehran)
		for i, v := range d.ratings {
			v := v
			r := survey.Response{ID: id(), AgencyID: e.f.tax.ID, OfficeID: e.f.office.ID, SurveyID: e.f.version.SurveyID,
				SurveyVersion: e.f.version.Version, Channel: survey.ChannelKiosk,
				SubmittedAt: day.Add(time.Duration(10+i) * time.Hour), ReceivedAt: day.Add(time.Duration(10+i) * time.Hour),
				Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &v, Headline: true}}}
			if d.iso == "2026-11-20" && i == 0 {
				r.Answers = append(r.Answers, survey.Answer{QuestionID: "q3", Type: survey.TypeText, Text: "با ۰۹۱۲ ۳۴۵ ۶۷۸۹ تماس بگیرید، کد ملی 0012345678"})
				e.comment = r.ID
			}
			if d.iso == "2026-11-21" {
				r.Answers = append(r.Answers, survey.Answer{QuestionID: "q3", Type: survey.TypeText, Text: "باجهٔ ۳ خوب بود"})
			}
			rs = append(rs, r)
		}
	}
	three := 3
	day, _ := time.ParseInLocation(survey.DayFormat, "2026-11-20", survey.Tehran)
	rs = append(rs, survey.Response{ID: id(), AgencyID: e.f.registry.ID, SurveyID: e.f.version.SurveyID, SurveyVersion: 1,
		Channel: survey.ChannelWeb, SubmittedAt: day.Add(9 * time.Hour), ReceivedAt: day.Add(9 * time.Hour),
		Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &three, Headline: true},
			{QuestionID: "q3", Type: survey.TypeText, Text: "نظر ثبت اسناد"}}})
	if _, err := store.Fold(ctx, rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDashboardTrend checks the trend's periods against the folded data: per day, Jalali week and
// month, with n, mean and interval; empty periods are gaps (null), never zero.
func TestDashboardTrend(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newDashEnv(t, store)
		path := fmt.Sprintf("/api/v1/agencies/%d/trend", e.f.tax.ID)
		var tr analytics.TrendSeries
		e.get(t, path+"?from=1405-07-01&to=1405-08-30&by=month", e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &tr)
		if len(tr.Points) != 2 || tr.Points[0].Key != "1405-07" || tr.Points[1].Key != "1405-08" || tr.Span.From != "2026-09-23" {
			t.Fatalf("months: %+v", tr)
		}
		check := func(p analytics.TrendPoint, n int64, mean float64) {
			t.Helper()
			if p.Mean.N != n || p.Mean.Value == nil || *p.Mean.Value < mean-1e-9 || *p.Mean.Value > mean+1e-9 ||
				!p.Mean.HasInterval() || *p.Mean.Low >= *p.Mean.High || p.Index.N != n {
				t.Fatalf("%s: %+v, want n %d mean %v", p.Key, p, n, mean)
			}
		}
		check(tr.Points[0], 2, 4.5)
		check(tr.Points[1], 5, 3.0)
		if tr.Points[1].CSAT.Value == nil || *tr.Points[1].CSAT.Value != 0.4 { // 5 and 4 of 3,1,2,5,4
			t.Fatalf("csat: %+v", tr.Points[1].CSAT)
		}

		e.get(t, path+"?from=2026-11-20&to=2026-11-22&by=day&office_id=۹۹۹۹", e.f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, fmt.Sprintf("%s?from=2026-11-20&to=2026-11-22&by=day&office_id=%d", path, e.f.office.ID), e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &tr)
		if len(tr.Points) != 3 || tr.Points[0].Key != "1405-08-29" || tr.Points[2].Key != "1405-09-01" {
			t.Fatalf("days: %+v", tr.Points)
		}
		check(tr.Points[0], 3, 8.0/3)
		check(tr.Points[1], 1, 4)
		if tr.Points[2].Mean.Value != nil || tr.Points[2].Mean.N != 0 {
			t.Fatalf("an empty day must be a gap: %+v", tr.Points[2])
		}

		// Weeks start on Saturday: 2026-11-21 is a Saturday, so the 20th and the 21st are apart.
		e.get(t, path+"?from=2026-11-14&to=2026-11-27&by=week", e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &tr)
		if len(tr.Points) != 2 || tr.Points[0].Mean.N != 3 || tr.Points[1].Mean.N != 1 || !strings.HasPrefix(tr.Points[0].Label, "هفتهٔ") {
			t.Fatalf("weeks: %+v", tr.Points)
		}

		// Errors and tenancy.
		e.get(t, path+"?by=year", e.f.taxStaff).envelope(t, http.StatusUnprocessableEntity, "invalid")
		e.get(t, path+"?from=1405-09-01&to=1405-08-01", e.f.taxStaff).envelope(t, http.StatusUnprocessableEntity, "invalid")
		e.get(t, fmt.Sprintf("/api/v1/agencies/%d/trend", e.f.registry.ID), e.f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, "/api/v1/agencies/999999/trend", e.f.province).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, path, "").envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, path, e.f.kiosk).envelope(t, http.StatusForbidden, "forbidden")
	})
}

// TestProvinceTable checks the province table: every agency the caller may read with n, mean,
// interval and funnel position, the median over agencies with enough citizens, the funnel's
// curves, sorting with small agencies last, and an agency's staff seeing only its own row.
func TestProvinceTable(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newDashEnv(t, store)
		var pt analytics.ProvinceTable
		e.get(t, "/api/v1/province/agencies?from=1405-07-01&to=1405-09-10&sort=name", e.f.province).wantStatus(t, http.StatusOK).json(t, &pt)
		if len(pt.Agencies) != 2 || pt.MinCitizens != analytics.MinCitizens {
			t.Fatalf("table: %+v", pt)
		}
		// Neither agency has 30 citizens: both are "not enough", listed by name («امور» before «ثبت»).
		tax, reg := pt.Agencies[0], pt.Agencies[1]
		if tax.AgencyID != e.f.tax.ID || reg.AgencyID != e.f.registry.ID {
			t.Fatalf("order: %+v", pt.Agencies)
		}
		if tax.Citizens != 7 || tax.Mean.Value == nil || *tax.Mean.Value < 24.0/7-1e-9 || *tax.Mean.Value > 24.0/7+1e-9 || tax.Enough ||
			reg.Citizens != 1 || reg.Mean.Value == nil || *reg.Mean.Value != 3 || !reg.Mean.HasInterval() {
			t.Fatalf("rows: %+v / %+v", tax, reg)
		}
		if pt.Province.Citizens != 8 || pt.Province.Mean.Value == nil || *pt.Province.Mean.Value != 27.0/8 {
			t.Fatalf("province: %+v", pt.Province)
		}
		if pt.Median != nil {
			t.Fatalf("no agency has enough citizens, yet median %v", *pt.Median)
		}
		if tax.Position == analytics.NoData || tax.Limits.N != 7 || !(tax.Limits.Low998 < tax.Limits.Low95 && tax.Limits.High95 < tax.Limits.High998) ||
			len(pt.Funnel.Points) < 2 || pt.Funnel.Target != 27.0/8 || pt.SD <= 0 {
			t.Fatalf("funnel: %+v sd %v curve %d", tax, pt.SD, len(pt.Funnel.Points))
		}
		e.get(t, "/api/v1/province/agencies?from=1405-07-01&to=1405-09-10", e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &pt)
		if len(pt.Agencies) != 1 || pt.Agencies[0].AgencyID != e.f.tax.ID || pt.Agencies[0].Citizens != 7 {
			t.Fatalf("agency staff sees %+v", pt.Agencies)
		}
		e.get(t, "/api/v1/province/agencies", "").envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, "/api/v1/province/agencies?to=x", e.f.province).envelope(t, http.StatusUnprocessableEntity, "invalid")
	})
}

func TestSortAgencies(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	rows := []analytics.AgencyRow{
		{Name: "ب", Figures: analytics.Figures{Citizens: 40, Enough: true, Mean: analytics.Estimate{Value: v(3)}}},
		{Name: "الف", Figures: analytics.Figures{Citizens: 5, Mean: analytics.Estimate{Value: v(5)}}},
		{Name: "پ", Figures: analytics.Figures{Citizens: 90, Enough: true, Mean: analytics.Estimate{Value: v(4)}}},
	}
	analytics.SortAgencies(rows, "-mean")
	if rows[0].Name != "پ" || rows[1].Name != "ب" || rows[2].Name != "الف" {
		t.Fatalf("-mean: %v %v %v", rows[0].Name, rows[1].Name, rows[2].Name)
	}
	analytics.SortAgencies(rows, "mean")
	if rows[0].Name != "ب" || rows[2].Name != "الف" {
		t.Fatalf("mean: the agency below the minimum n must stay last: %v %v %v", rows[0].Name, rows[1].Name, rows[2].Name)
	}
}

// TestComments lists comments redacted and newest first, and moderates them: an agency's
// viewer may not, its admin may (audited), another agency's admin gets not found.
func TestComments(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newDashEnv(t, store)
		path := fmt.Sprintf("/api/v1/agencies/%d/comments", e.f.tax.ID)
		var page analytics.CommentPage
		e.get(t, path, e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &page)
		if len(page.Comments) != 2 || page.Comments[0].Text != "باجهٔ ۳ خوب بود" || page.Comments[1].ResponseID != e.comment {
			t.Fatalf("comments: %+v", page.Comments)
		}
		if got := page.Comments[1].Text; got != "با "+survey.Redacted+" تماس بگیرید، کد ملی "+survey.Redacted || page.Comments[1].State != survey.CommentVisible {
			t.Fatalf("redaction: %q", got)
		}
		e.get(t, path+"?limit=1", e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &page)
		if len(page.Comments) != 1 || page.Next == "" {
			t.Fatalf("first page: %+v", page)
		}
		e.get(t, path+"?limit=1&before="+url.QueryEscape(page.Next), e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &page)
		if len(page.Comments) != 1 || page.Comments[0].ResponseID != e.comment {
			t.Fatalf("second page: %+v", page)
		}
		e.get(t, fmt.Sprintf("/api/v1/agencies/%d/comments", e.f.registry.ID), e.f.taxStaff).envelope(t, http.StatusNotFound, "not_found")

		mod := fmt.Sprintf("/api/v1/comments/%s/q3/moderation", e.comment)
		e.request(t, http.MethodPost, mod, e.f.taxStaff, "application/json", `{"state":"hidden"}`).envelope(t, http.StatusForbidden, "forbidden")
		reg := e.browser(t)
		reg.login(t, "reg.admin", e.pw["reg.admin"]).wantStatus(t, http.StatusSeeOther)
		reg.send(t, http.MethodPost, mod, reg.me(t).CSRFToken, map[string]string{"state": "hidden"}).envelope(t, http.StatusNotFound, "not_found")
		adm := e.browser(t)
		adm.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		csrf := adm.me(t).CSRFToken
		adm.send(t, http.MethodPost, mod, "", map[string]string{"state": "hidden"}).wantStatus(t, http.StatusForbidden) // no CSRF token
		adm.send(t, http.MethodPost, mod, csrf, map[string]string{"state": "gone"}).envelope(t, http.StatusUnprocessableEntity, "invalid")
		adm.send(t, http.MethodPost, fmt.Sprintf("/api/v1/comments/%s/q1/moderation", e.comment), csrf, map[string]string{"state": "hidden"}).envelope(t, http.StatusNotFound, "not_found")
		adm.send(t, http.MethodPost, mod, csrf, map[string]string{"state": "abusive"}).wantStatus(t, http.StatusOK)
		e.get(t, path, e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &page)
		if page.Comments[1].State != survey.CommentAbusive || page.Comments[1].ModeratedBy == "" || page.Comments[1].ModeratedAt == nil {
			t.Fatalf("after moderation: %+v", page.Comments[1])
		}
		log, err := store.AuditLog(context.Background(), survey.AuditQuery{AgencyID: e.f.tax.ID, Entity: "comment"})
		if err != nil || len(log) != 1 || log[0].Action != "moderate" || !strings.Contains(log[0].After, "abusive") || log[0].ActorUserID != e.taxAdmin.ID {
			t.Fatalf("audit: %+v %v", log, err)
		}
		// The dashboard's no-JavaScript form does the same and comes back to the comments.
		form := url.Values{"state": {"visible"}, "csrf_token": {csrf}, "back": {e.f.tax.ID.String()}}
		r := adm.do(t, http.MethodPost, "/dashboard/comments/"+e.comment+"/q3", "application/x-www-form-urlencoded", form.Encode()).wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/dashboard/agencies/"+e.f.tax.ID.String()+"#comments" {
			t.Fatalf("back to %q", loc)
		}
		e.get(t, path, e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &page)
		if page.Comments[1].State != survey.CommentVisible {
			t.Fatalf("restored: %+v", page.Comments[1])
		}
	})
}

var (
	svgElement = regexp.MustCompile(`(?s)<svg .*?</svg>`)
	figureText = regexp.MustCompile(`(?s)<(?:div class="big"|div class="ci"|td class="n")>(.*?)</(?:div|td)>`)
)

// TestDashboardPages renders both dashboards over real HTTP with a session: RTL, Persian digits
// in every figure, well-formed SVG charts, tenancy, and /login for a visitor without a session.
func TestDashboardPages(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newDashEnv(t, store)
		anon := e.browser(t)
		for _, p := range []string{"/dashboard", "/dashboard/agencies/" + e.f.tax.ID.String()} {
			if loc := anon.do(t, http.MethodGet, p, "", "").wantStatus(t, http.StatusSeeOther).header.Get("Location"); loc != "/login" {
				t.Fatalf("%s without a session → %q", p, loc)
			}
		}
		b := e.browser(t)
		b.login(t, "tax.admin", e.pw["tax.admin"]).wantStatus(t, http.StatusSeeOther)
		agency := "/dashboard/agencies/" + e.f.tax.ID.String()
		if loc := b.do(t, http.MethodGet, "/dashboard?from=1405-07-01", "", "").wantStatus(t, http.StatusSeeOther).header.Get("Location"); loc != agency+"?from=1405-07-01" {
			t.Fatalf("an agency admin's /dashboard → %q", loc)
		}
		b.do(t, http.MethodGet, "/dashboard/agencies/"+e.f.registry.ID.String(), "", "").wantStatus(t, http.StatusNotFound)
		page := b.do(t, http.MethodGet, agency+"?from=1405-07-01&to=1405-09-10&by=week", "", "").wantStatus(t, http.StatusOK)
		checkDashboardHTML(t, page.body, 3, "اداره کل امور مالیاتی", "داده کافی نیست", `data-empty="heatmap"`, "باجهٔ ۳ خوب بود", survey.Redacted, `action="/dashboard/comments/`)
		if bytes.Contains(page.body, []byte("0912")) || bytes.Contains(page.body, []byte("۰۹۱۲")) {
			t.Fatal("a phone number reached the page")
		}

		viewer := e.browser(t)
		viewer.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
		vp := viewer.do(t, http.MethodGet, agency, "", "").wantStatus(t, http.StatusOK)
		if bytes.Contains(vp.body, []byte(`action="/dashboard/comments/`)) {
			t.Fatal("a viewer sees moderation buttons")
		}

		admin := e.browser(t)
		admin.login(t, "admin", e.pw["admin"]).wantStatus(t, http.StatusSeeOther)
		prov := admin.do(t, http.MethodGet, "/dashboard?from=1405-07-01&to=1405-09-10&sort=citizens", "", "").wantStatus(t, http.StatusOK)
		checkDashboardHTML(t, prov.body, 1, "اداره کل امور مالیاتی", "اداره کل ثبت اسناد", "نمودار قیفی", "sort=-citizens", `id="province-table"`)
	})
}

// checkDashboardHTML asserts what every dashboard page must be: RTL Persian, no script, at
// least svgs well-formed SVG charts each naming its table, figures in Persian digits only, and
// the given texts.
func checkDashboardHTML(t *testing.T, body []byte, svgs int, want ...string) {
	t.Helper()
	s := string(body)
	for _, w := range append([]string{`<html lang="fa" dir="rtl">`, "Vazirmatn", "@page"}, want...) {
		if !strings.Contains(s, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	outside := strings.ReplaceAll(s, `xmlns="http://www.w3.org/2000/svg"`, "")
	if strings.Contains(outside, "<script") || strings.Contains(outside, "http://") || strings.Contains(outside, "https://") {
		t.Error("a dashboard must have no script and nothing from outside")
	}
	if m := regexp.MustCompile(`(^|[\s«(])(ن?می) [\p{Arabic}]`).FindString(s); m != "" || !strings.Contains(s, "\u200c") {
		t.Errorf("%q needs a half-space (ZWNJ) after «می», or the page lost its half-spaces", m)
	}
	charts := svgElement.FindAllString(s, -1)
	if len(charts) < svgs {
		t.Errorf("%d charts, want at least %d", len(charts), svgs)
	}
	for _, c := range charts {
		c = strings.Replace(c, `xmlns="http://www.w3.org/2000/svg"`, "", 1)
		d := xml.NewDecoder(strings.NewReader(c))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("SVG not well-formed: %v\n%s", err, c)
			}
		}
		if !strings.Contains(c, `role="img"`) || !strings.Contains(c, "aria-describedby=") {
			t.Errorf("a chart without its label and table: %.200s", c)
		}
	}
	figures := figureText.FindAllStringSubmatch(s, -1)
	if len(figures) == 0 {
		t.Fatal("no figures found")
	}
	for _, f := range figures {
		if strings.ContainsAny(f[1], "0123456789") {
			t.Errorf("ASCII digits in a figure: %q", f[1])
		}
	}
	for _, m := range regexp.MustCompile(`(?s)<text[^>]*>([^<]*)<`).FindAllStringSubmatch(s, -1) {
		if strings.ContainsAny(m[1], "0123456789") {
			t.Errorf("ASCII digits in a chart's text: %q", m[1])
		}
	}
}

// fixedHours is an HourReader with one busy hour, recording what it was asked.
type fixedHours struct{ asked []string }

func (f *fixedHours) HourHeatmap(_ context.Context, agency, office survey.ID, fromDay, toDay string) ([7][24]int64, error) {
	f.asked = append(f.asked, fmt.Sprintf("%d/%d %s..%s", agency, office, fromDay, toDay))
	var m [7][24]int64
	m[0][10] = 12
	return m, nil
}

// TestDashboardHeatmap: with an HourReader wired the agency page draws the heatmap and its table
// (Saturday first) for the period picked; without one it says «داده کافی نیست» (TestDashboardPages).
func TestDashboardHeatmap(t *testing.T) {
	t.Parallel()
	store := sqltest.Open(t, sqltest.Dialects[0])
	hours := &fixedHours{}
	e := newDashEnv(t, store, hours)
	b := e.browser(t)
	b.login(t, "tax.staff", e.pw["tax.staff"]).wantStatus(t, http.StatusSeeOther)
	page := string(b.do(t, http.MethodGet, "/dashboard/agencies/"+e.f.tax.ID.String()+"?from=1405-08-01&to=1405-08-30", "", "").wantStatus(t, http.StatusOK).body)
	if !strings.Contains(page, `id="heatmap-table"`) || strings.Contains(page, `data-empty="heatmap"`) || !strings.Contains(page, "ساعت ۱۰: ۱۲ نفر") {
		t.Fatal("no heatmap on the page")
	}
	table := page[strings.Index(page, `id="heatmap-table"`):]
	if strings.Index(table, ">شنبه<") > strings.Index(table, ">جمعه<") {
		t.Error("the heatmap's table must start on Saturday")
	}
	if len(hours.asked) != 1 || hours.asked[0] != fmt.Sprintf("%d/0 2026-10-23..2026-11-21", e.f.tax.ID) {
		t.Errorf("hours asked for %v", hours.asked)
	}
}
