package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
)

// TestLandingPageInBrowser renders the landing page in a real browser: it must be Persian and
// right-to-left, in Vazirmatn, and load nothing from anywhere but Afkar itself (government
// networks are often cut off from the outside).
func TestLandingPageInBrowser(t *testing.T) {
	h := start(t, api.Deps{Version: "test"})
	b := browsertest.Start(t, 1024, 900, 60*time.Second)
	b.Do(chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.CheckPage()
	heading, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(heading) != "افکار" {
		t.Fatalf("heading %q", heading)
	}
	b.Screenshot("landing.png")
	b.CheckRequests(h.url)
}
