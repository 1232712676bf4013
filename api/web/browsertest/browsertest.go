// Package browsertest runs Afkar's pages in a real browser for tests: Debian's headless Chromium
// (never a downloaded one) with a fresh profile and no background traffic, a record of every
// request the page makes, and the checks every page owes its readers — Persian and right-to-left,
// the Vazirmatn font actually loaded, nothing fetched from outside the server — plus screenshots
// for the README when AFKAR_SCREENSHOTS names a directory. Outside CI a missing browser skips the
// test; in CI (CI=true) it fails (survey/testenv decides).
package browsertest

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

	"github.com/afkar-gov/afkar/survey/testenv"
)

// Browser is one headless Chromium with one tab, and the requests that tab has made.
type Browser struct {
	// Ctx runs actions in the tab (chromedp.Do, chromedp.Run).
	Ctx context.Context

	t         testing.TB
	mu        sync.Mutex
	requested []string
}

// Start launches the browser (closed when the test ends) with a window of w×h CSS pixels; every
// action in it must finish within timeout.
func Start(t testing.TB, w, h int, timeout time.Duration) *Browser {
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
		chromedp.WindowSize(w, h),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b := &Browser{Ctx: ctx, t: t}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requested = append(b.requested, e.Request.URL)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// Do runs actions in the tab and ends the test on an error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) and returns its value.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// WaitJS polls a JavaScript condition until it is true, or ends the test after d with what.
func (b *Browser) WaitJS(d time.Duration, what, js string) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for !Eval[bool](b, "!!("+js+")") {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %s waiting for %s (%s)", d, what, js)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CheckPage asserts what every Afkar page owes its readers: <html lang="fa" dir="rtl">, a
// right-to-left body, and the Vazirmatn webfont loaded (not just declared: a FontFace of that
// family in the "loaded" state, and document.fonts.check for it).
func (b *Browser) CheckPage() {
	b.t.Helper()
	b.WaitJS(10*time.Second, "the page's fonts", `document.fonts.status === "loaded"`)
	dir := Eval[string](b, `document.documentElement.dir`)
	lang := Eval[string](b, `document.documentElement.lang`)
	direction := Eval[string](b, `getComputedStyle(document.body).direction`)
	if dir != "rtl" || lang != "fa" || direction != "rtl" {
		b.t.Fatalf("page is not Persian RTL: dir=%q lang=%q computed direction=%q", dir, lang, direction)
	}
	loaded := Eval[bool](b, `Array.from(document.fonts).some(f => f.family.replace(/["']/g, "") === "Vazirmatn" && f.status === "loaded") && document.fonts.check('16px Vazirmatn')`)
	if !loaded {
		b.t.Fatal("the Vazirmatn font did not load")
	}
}

// CheckRequests asserts that the page asked for something, and only from origin (data: URIs
// aside): government networks are often cut off from the outside.
func (b *Browser) CheckRequests(origin string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requested) == 0 {
		b.t.Fatal("the browser reported no requests: the listener is broken")
	}
	for _, u := range b.requested {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") {
			b.t.Errorf("the page loads %s from outside Afkar", u)
		}
	}
}

// Screenshot captures the whole page as a PNG and, when AFKAR_SCREENSHOTS names a directory, saves
// it there under name (e.g. "kiosk-rating-phone.png").
func (b *Browser) Screenshot(name string) []byte {
	b.t.Helper()
	shot, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if dir := os.Getenv("AFKAR_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	return shot
}
