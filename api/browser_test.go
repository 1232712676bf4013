package api_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey/testenv"
)

// browser starts Debian's headless Chromium (never a downloaded one) with a fresh profile and no
// background networking. Outside CI a missing browser skips the test; in CI it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.LookPath(t, "chromium", "apt-get install chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestLandingPageInBrowser renders the landing page in a real browser: it must be Persian and
// right-to-left, and load nothing from anywhere but Afkar itself (government networks are often
// cut off from the outside).
func TestLandingPageInBrowser(t *testing.T) {
	h := start(t, api.Deps{Version: "test"})
	ctx := browser(t)

	var mu sync.Mutex
	var requested []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	eval := func(js string) string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	dir, lang := eval(`document.documentElement.dir`), eval(`document.documentElement.lang`)
	direction := eval(`getComputedStyle(document.body).direction`)
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if dir != "rtl" || lang != "fa" || direction != "rtl" {
		t.Fatalf("page is not Persian RTL: dir=%q lang=%q computed direction=%q", dir, lang, direction)
	}
	if strings.TrimSpace(heading) != "افکار" {
		t.Fatalf("heading %q", heading)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requested) == 0 {
		t.Fatal("the browser reported no requests: the listener is broken")
	}
	for _, u := range requested {
		if !strings.HasPrefix(u, h.url) && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page loads %s from outside Afkar", u)
		}
	}
	if dir := os.Getenv("AFKAR_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "landing.png"), shot, 0o644)
	}
}
