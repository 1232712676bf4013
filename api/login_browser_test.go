package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestLoginInBrowser logs in through the Persian form in a real browser (the page has no script:
// its CSP allows none), on a phone-sized and a desktop-sized screen: the page is RTL in Vazirmatn, loads nothing from
// outside, and lands on the agency's dashboard.
func TestLoginInBrowser(t *testing.T) {
	store := sqltest.Open(t, sqltest.Dialects[0])
	e := newAccountsEnv(t, store, api.Deps{Version: "test", Scores: analytics.NewScores(store, store),
		Dashboard: analytics.NewDashboard(store, store), Comments: analytics.NewComments(store, store)})
	for _, size := range []struct {
		name string
		w, h int
	}{{"phone", 360, 740}, {"desktop", 1280, 800}} {
		t.Run(size.name, func(t *testing.T) {
			b := browsertest.Start(t, size.w, size.h, 60*time.Second)
			b.Do(chromedp.EmulateViewport(int64(size.w), int64(size.h)), chromedp.Navigate(e.url+"/login"), chromedp.WaitVisible(chromedp.CSS("form[data-login]")))
			b.CheckPage()
			b.Screenshot("login-" + size.name + ".png")
			b.Do(chromedp.Navigate(e.url+"/login"), chromedp.WaitVisible(chromedp.CSS("#login")),
				chromedp.SendKeys("#login", "tax.admin"), chromedp.SendKeys("#password", "wrong password here"),
				chromedp.Submit("#password"), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
			alert := browsertest.Eval[string](b, `document.querySelector("[role=alert]").textContent`)
			if !strings.Contains(alert, "نادرست") {
				t.Errorf("refusal reads %q", alert)
			}
			b.Do(chromedp.SendKeys("#password", e.pw["tax.admin"]), chromedp.Submit("#password"),
				chromedp.WaitVisible(chromedp.CSS("[data-kpi]")))
			b.CheckPage()
			if path := browsertest.Eval[string](b, `location.pathname`); path != "/dashboard/agencies/"+e.f.tax.ID.String() {
				t.Fatalf("after login the browser is at %s", path)
			}
			if h1 := browsertest.Eval[string](b, `document.querySelector("h1").textContent`); !strings.Contains(h1, e.f.tax.Name) {
				t.Errorf("the tax admin lands on %q", h1)
			}
			b.CheckRequests(e.url)
		})
	}
}
