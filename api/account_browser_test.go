package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
	"github.com/afkar-gov/afkar/survey/staff"
)

// TestAccountPagesInBrowser: an agency admin logs in, opens their account page from the
// dashboard header, sets the alert number with the real form (masked on the page after), and
// opens the users page — Persian RTL, Vazirmatn loaded, nothing from outside, no sideways scroll
// at 360 px; screenshots for docs (AFKAR_SCREENSHOTS).
func TestAccountPagesInBrowser(t *testing.T) {
	store := sqltest.Open(t, sqltest.Dialects[0])
	privacy, err := sms.NewPrivacy([]byte(strings.Repeat("b", 40)))
	if err != nil {
		t.Fatal(err)
	}
	e := newAccountsEnv(t, store, api.Deps{AlertPhones: sms.NewAlertPhones(store, privacy, nil), Tokens: staff.NewTokens(store, survey.SystemClock{})})
	for _, size := range []struct {
		name string
		w, h int
	}{{"360", 360, 740}, {"1280", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			b := browsertest.Start(t, size.w, size.h, 90*time.Second)
			b.Do(chromedp.EmulateViewport(int64(size.w), int64(size.h)), chromedp.Navigate(e.url+"/login"), chromedp.WaitVisible(chromedp.CSS("#login")),
				chromedp.SendKeys("#login", "tax.admin"), chromedp.SendKeys("#password", e.pw["tax.admin"]), chromedp.Submit("#password"))
			b.WaitJS(20*time.Second, "the dashboard after login", `location.pathname.indexOf("/dashboard/agencies/") === 0 && document.readyState === "complete"`)
			b.Do(chromedp.Click(chromedp.CSS(`header a[href="/dashboard/account"]`)))
			b.WaitJS(20*time.Second, "the account page", `location.pathname === "/dashboard/account" && !!document.getElementById("pw-h")`)
			b.CheckPage()
			b.Do(chromedp.SendKeys("#phone", "۰۹۱۲۱۲۳۴۵۶۷"), chromedp.Click(chromedp.CSS(`form[data-form="phone"] button[value="set"]`)))
			b.WaitJS(20*time.Second, "the notice", `!!document.querySelector("[data-notice]")`)
			if shown := browsertest.Eval[string](b, `document.querySelector("[data-phone]").textContent`); shown != "0912***4567" {
				t.Errorf("the alert number is shown as %q, want 0912***4567", shown)
			}
			if size.w == 360 && browsertest.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`) {
				t.Error("the account page scrolls sideways at 360 px")
			}
			b.Screenshot("account-" + size.name + ".png")
			b.Do(chromedp.Click(chromedp.CSS(`nav.crumbs a[href="/dashboard/users"]`)))
			b.WaitJS(20*time.Second, "the users page", `location.pathname === "/dashboard/users" && !!document.getElementById("users-table")`)
			b.CheckPage()
			if rows := browsertest.Eval[int](b, `document.querySelectorAll("#users-table tbody tr").length`); rows != 2 {
				t.Errorf("the tax admin's users page lists %d accounts, want 2 (tax.admin, tax.staff)", rows)
			}
			if size.w == 360 && browsertest.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`) {
				t.Error("the users page scrolls sideways at 360 px")
			}
			b.Screenshot("users-" + size.name + ".png")
			b.CheckRequests(e.url)
		})
	}
}
