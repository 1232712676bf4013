package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestLoginInBrowser logs in through the Persian form in a real browser (the page has no script:
// its CSP allows none), on a phone-sized and a desktop-sized screen: the page is RTL in Vazirmatn, loads nothing from
// outside, and lands on the dashboard.
func TestLoginInBrowser(t *testing.T) {
	e := newAccountsEnv(t, sqltest.Open(t, sqltest.Dialects[0]), api.Deps{Version: "test"})
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
				chromedp.WaitVisible(chromedp.CSS("[data-agencies]")))
			b.CheckPage()
			if path := browsertest.Eval[string](b, `location.pathname`); path != "/dashboard" {
				t.Fatalf("after login the browser is at %s", path)
			}
			items := browsertest.Eval[string](b, `document.querySelector("[data-agencies]").textContent`)
			if !strings.Contains(items, e.f.tax.Name) || strings.Contains(items, e.f.registry.Name) {
				t.Errorf("the tax admin's dashboard lists %q", items)
			}
			b.Screenshot("dashboard-placeholder-" + size.name + ".png")
			b.CheckRequests(e.url)
		})
	}
}
