package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"log/slog"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/analytics/export"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// foldMonths folds n responses per agency spread over the six months before 1 Dec 2026, with
// ratings around mean (a fixed seed: the same screenshots every run).
func foldMonths(t *testing.T, store *sqlstore.Store, agency, office, surveyID survey.ID, n int, mean float64, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2026, 6, 1, 8, 0, 0, 0, survey.Tehran)
	var rs []survey.Response
	for i := range n {
		v := int(mean + rng.NormFloat64()*1.1 + 0.5)
		v = max(1, min(5, v))
		at := start.Add(time.Duration(rng.IntN(182*24)) * time.Hour)
		ch := []survey.Channel{survey.ChannelKiosk, survey.ChannelWeb, survey.ChannelSMS}[i%3]
		r := survey.Response{ID: fmt.Sprintf("%08x-0000-4000-8000-%012d", uint32(agency), i+1), AgencyID: agency, OfficeID: office,
			SurveyID: surveyID, SurveyVersion: 1, Channel: ch, SubmittedAt: at, ReceivedAt: at,
			Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &v, Headline: true}}}
		if v <= 2 {
			r.Answers = append(r.Answers, survey.Answer{QuestionID: "q2", Type: survey.TypeChoice, Choices: []string{[]string{"slow", "rude"}[i%2]}})
		}
		if i%40 == 0 {
			r.Answers = append(r.Answers, survey.Answer{QuestionID: "q3", Type: survey.TypeText, Text: "صف طولانی بود؛ شمارهٔ من ۰۹۱۲۳۴۵۶۷۸۹"})
		}
		rs = append(rs, r)
	}
	if _, err := store.Fold(context.Background(), rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
}

// TestDashboardsInBrowser logs in as a person would, opens the province dashboard and an agency's
// dashboard at 360, 800 and 1280 px (RTL, Vazirmatn loaded, nothing from outside, no horizontal
// scroll on a phone), downloads an export from the agency's page, and saves screenshots for the
// README (AFKAR_SCREENSHOTS=docs/screenshots).
func TestDashboardsInBrowser(t *testing.T) {
	store := sqltest.Open(t, sqltest.Dialects[0])
	scores := analytics.NewScores(store, store)
	privacy, err := sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
	if err != nil {
		t.Fatal(err)
	}
	caseClock := survey.NewManualClock(time.Now().Add(-100 * time.Hour))
	followUps := cases.New(store, privacy, cases.Options{Clock: caseClock, Logger: slog.New(slog.DiscardHandler)})
	desk := &analytics.AlertDesk{Store: store, Audit: store.Audit}
	e := newAccountsEnv(t, store, api.Deps{Version: "test", Scores: scores, Dashboard: analytics.NewDashboard(store, store),
		Comments: analytics.NewComments(store, store), Exports: export.NewService(store, store, scores), Hours: analytics.Heatmap{Hours: store},
		Alerts: desk, Cases: followUps})
	ctx := context.Background()
	foldMonths(t, store, e.f.tax.ID, e.f.office.ID, e.f.version.SurveyID, 420, 3.4, 1)
	foldMonths(t, store, e.f.registry.ID, 0, e.f.version.SurveyID, 260, 3.9, 2)
	for i, a := range []struct {
		name string
		n    int
		mean float64
	}{{"سازمان تأمین اجتماعی", 600, 2.9}, {"شهرداری", 350, 3.3}, {"اداره کل بهزیستی", 180, 3.5}, {"شرکت آب و فاضلاب", 90, 3.6}, {"اداره کل راه و شهرسازی", 12, 4.2}} {
		ag := survey.Agency{ProvinceID: e.f.tax.ProvinceID, Name: a.name, Slug: fmt.Sprintf("a%d", i)}
		if err := store.CreateAgency(ctx, &ag); err != nil {
			t.Fatal(err)
		}
		foldMonths(t, store, ag.ID, 0, e.f.version.SurveyID, a.n, a.mean, uint64(10+i))
	}
	// Alerts (one acknowledged, so the audit page has it) and follow-up cases, one overdue.
	for i, d := range []string{
		`{"office_name":"دفتر مرکزی","observed":3.1,"expected":3.6,"z":-4.2,"n":164,"window_from":"2026-11-24","window_to":"2026-11-30"}`,
		`{"office_name":"دفتر مرکزی","observed":0.31,"level":0.25,"n":164}`,
	} {
		kind := []string{survey.AlertScoreDrop, survey.AlertShareUnhappy}[i]
		if _, err := store.OpenAlert(ctx, survey.Alert{Kind: kind, AgencyID: e.f.tax.ID, OfficeID: e.f.office.ID,
			Subject: fmt.Sprintf("office:%d", e.f.office.ID), OpenedAt: time.Now().Add(-5 * time.Hour), Detail: d}); err != nil {
			t.Fatal(err)
		}
	}
	open, err := store.Alerts(ctx, e.f.tax.ID, true)
	if err != nil || len(open) != 2 {
		t.Fatalf("alerts: %v %v", open, err)
	}
	taxAdmin := survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.f.tax.ID, UserID: e.taxAdmin.ID, Name: e.taxAdmin.Name}
	if _, err := desk.Ack(ctx, taxAdmin, open[1].ID, "با سرپرست دفتر بررسی شد"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := followUps.Open(ctx, survey.NewCase{AgencyID: e.f.tax.ID, OfficeID: e.f.office.ID, ResponseID: fmt.Sprint("browser-case-", i),
			Channel: survey.ChannelKiosk, Rating: 1 + i%2, Phone: "0912345678" + fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		caseClock.Advance(30 * time.Hour)
	}
	for _, size := range []struct {
		name string
		w, h int
	}{{"360", 360, 740}, {"800", 800, 1100}, {"1280", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			b := browsertest.Start(t, size.w, size.h, 90*time.Second)
			login := func(user string) {
				b.Do(chromedp.EmulateViewport(int64(size.w), int64(size.h)), chromedp.Navigate(e.url+"/login"), chromedp.WaitVisible(chromedp.CSS("#login")),
					chromedp.SendKeys("#login", user), chromedp.SendKeys("#password", e.pw[user]), chromedp.Submit("#password"),
					chromedp.WaitVisible(chromedp.CSS("[data-kpi]")))
				b.CheckPage()
			}
			noSideScroll := func(page string) {
				if size.w == 360 {
					if over := browsertest.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); over {
						t.Errorf("the %s dashboard scrolls sideways at 360 px", page)
					}
				}
			}
			login("admin")
			if path := browsertest.Eval[string](b, `location.pathname`); path != "/dashboard" {
				t.Fatalf("the province admin lands on %s", path)
			}
			rows := browsertest.Eval[int](b, `document.querySelectorAll("#province-table tbody tr").length`)
			points := browsertest.Eval[int](b, `document.querySelectorAll("svg.chart circle").length`)
			if rows != 7 || points != 7 {
				t.Errorf("province table: %d rows, %d points, want 7 and 7", rows, points)
			}
			last := browsertest.Eval[string](b, `document.querySelector("#province-table tbody tr:last-child").textContent`)
			if !strings.Contains(last, "داده کافی نیست") {
				t.Errorf("the agency below the minimum n is not last and greyed: %q", last)
			}
			noSideScroll("province")
			b.Screenshot("dashboard-province-" + size.name + ".png")

			// The agency's dashboard, from the table, keeps the period; then an export.
			b.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#province-table a[href^="/dashboard/agencies/%d"]`, e.f.tax.ID))),
				chromedp.WaitVisible(chromedp.CSS("#trend-h")))
			b.CheckPage()
			if h1 := browsertest.Eval[string](b, `document.querySelector("h1").textContent`); !strings.Contains(h1, e.f.tax.Name) {
				t.Fatalf("agency dashboard heading %q", h1)
			}
			if n := browsertest.Eval[int](b, `document.querySelectorAll("svg.chart").length`); n < 4 {
				t.Errorf("%d charts on the agency dashboard", n)
			}
			if txt := browsertest.Eval[string](b, `document.querySelector("#comments").textContent`); strings.Contains(txt, "۰۹۱۲") || !strings.Contains(txt, survey.Redacted) {
				t.Errorf("comments not redacted: %q", txt)
			}
			noSideScroll("agency")
			b.Screenshot("dashboard-agency-" + size.name + ".png")
			if n := browsertest.Eval[int](b, `document.querySelectorAll("#alerts form[action^='/dashboard/alerts/']").length`); n != 1 {
				t.Errorf("%d acknowledgement forms in the alerts block, want 1 (the other alert is acknowledged)", n)
			}

			// The follow-up cases, from the dashboard's link: the overdue ones highlighted.
			b.Do(chromedp.Click(chromedp.CSS(`a[data-cases-link]`)), chromedp.WaitVisible(chromedp.CSS("#cases-h")))
			b.CheckPage()
			if n := browsertest.Eval[int](b, `document.querySelectorAll("ul.cases li.overdue").length`); n != 2 {
				t.Errorf("%d overdue cases highlighted, want 2", n)
			}
			noSideScroll("cases")
			b.Screenshot("dashboard-cases-" + size.name + ".png")

			// The audit log, from the header's link.
			b.Do(chromedp.Click(chromedp.CSS(`nav.staffnav a[href="/dashboard/audit"]`)), chromedp.WaitVisible(chromedp.CSS("#audit-h")))
			b.CheckPage()
			if txt := browsertest.Eval[string](b, `document.querySelector("#audit").textContent`); !strings.Contains(txt, "با سرپرست دفتر بررسی شد") {
				t.Errorf("the audit page lacks the acknowledgement: %.300s", txt)
			}
			noSideScroll("audit")
			b.Screenshot("dashboard-audit-" + size.name + ".png")

			// Back to the agency's dashboard for the export.
			b.Do(chromedp.Navigate(fmt.Sprintf("%s/dashboard/agencies/%d", e.url, e.f.tax.ID)), chromedp.WaitVisible(chromedp.CSS("#trend-h")))

			dir := t.TempDir()
			if _, err := chromedp.CallBrowser(b.Ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir}); err != nil {
				t.Fatal(err)
			}
			b.Do(chromedp.Click(chromedp.CSS(`a[href*="/score.csv"]`)))
			deadline := time.Now().Add(20 * time.Second)
			var got []byte
			for len(got) == 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				files, _ := filepath.Glob(filepath.Join(dir, "*"))
				for _, f := range files {
					if !strings.HasSuffix(f, ".crdownload") {
						got, _ = os.ReadFile(f)
					}
				}
			}
			if len(got) == 0 {
				t.Fatal("the score export did not download")
			}
			if !strings.Contains(string(got), ",") {
				t.Errorf("the export is not CSV: %.200s", got)
			}
			b.CheckRequests(e.url)
		})
	}
}
