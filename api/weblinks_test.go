package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
)

// memLinks is an in-memory LinkStore for the fast tests; the SQL store's claim is tested on
// both dialects in sqlstore and end to end in cmd/afkar.
type memLinks struct {
	mu     sync.Mutex
	used   map[string]string
	claims map[survey.ID]string // invitation → its answer's claim
}

func (m *memLinks) ClaimInvitation(_ context.Context, inv survey.ID, claim string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims == nil {
		m.claims = map[survey.ID]string{}
	}
	if held, ok := m.claims[inv]; ok && held != claim {
		return false, nil
	}
	m.claims[inv] = claim
	return true, nil
}

func (m *memLinks) ReleaseInvitation(_ context.Context, inv survey.ID, claim string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims[inv] == claim {
		delete(m.claims, inv)
	}
	return nil
}

func (m *memLinks) ClaimLink(_ context.Context, id, resp string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.used[id]; ok {
		return false, nil
	}
	m.used[id] = resp
	return true, nil
}

func (m *memLinks) ReleaseLink(_ context.Context, id, resp string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used[id] == resp {
		delete(m.used, id)
	}
	return nil
}

func (m *memLinks) LinkUsed(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.used[id]
	return ok, nil
}

func (m *memLinks) Office(_ context.Context, id survey.ID) (survey.Office, error) {
	if id == taxOffice {
		return survey.Office{ID: taxOffice, AgencyID: taxID, Name: "دفتر مرکزی"}, nil
	}
	return survey.Office{}, survey.Errorf(survey.ECodeNotFound, "این دفتر پیدا نشد.", "office not found")
}

func startLinks(t *testing.T, rate int) (*harness, *weblink.Keys) {
	t.Helper()
	keys, err := weblink.NewKeys(strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	return start(t, api.Deps{WebLinks: keys, LinkStore: &memLinks{used: map[string]string{}}, FormRateLimit: rate}), keys
}

// postForm posts form values with the given cookies and returns the reply and its cookies.
func postForm(t *testing.T, u string, form url.Values, cookies ...*http.Cookie) (reply, []*http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return do(t, req)
}

func getPage(t *testing.T, u string, cookies ...*http.Cookie) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	r, _ := do(t, req)
	return r
}

func do(t *testing.T, req *http.Request) (reply, []*http.Cookie) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return reply{status: res.StatusCode, header: res.Header, body: []byte(b.String())}, res.Cookies()
}

// A poster link: anyone may answer, but a browser that answered today gets a signed HttpOnly
// SameSite=Lax cookie and then sees "already answered today" (GET and POST alike, nothing
// stored); another browser still answers; past the per-IP limit the page is a 429.
func TestPosterCookieAndRateLimit(t *testing.T) {
	h, keys := startLinks(t, 2)
	tok, _ := keys.PosterLink(taxID, taxOffice)
	u := h.url + "/p/" + tok
	if r := getPage(t, u); r.status != 200 || !strings.Contains(string(r.body), "دفتر مرکزی") || r.header.Get("X-Robots-Tag") == "" {
		t.Fatalf("poster form: %d", r.status)
	}
	answer := url.Values{"t": {tok}, "q_q1": {"5"}}
	r, cookies := postForm(t, u, answer)
	if r.status != 200 || !strings.Contains(string(r.body), "سپاس") || len(cookies) != 1 {
		t.Fatalf("first answer: %d, cookies %v", r.status, cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/p/" || c.MaxAge <= 0 {
		t.Errorf("cookie %+v", c)
	}
	if r := getPage(t, u, c); r.status != 200 || !strings.Contains(string(r.body), "امروز پاسخ داده‌اید") {
		t.Errorf("GET with the cookie: %d %s", r.status, r.body)
	}
	if r, _ := postForm(t, u, answer, c); !strings.Contains(string(r.body), "امروز پاسخ داده‌اید") {
		t.Errorf("POST with the cookie: %d", r.status)
	}
	if n := h.intake.count(); n != 1 {
		t.Fatalf("%d responses stored, want 1", n)
	}
	// Another browser (no cookie) answers: counted. The answer is on the web channel, in the office.
	if r, _ := postForm(t, u, answer); r.status != 200 {
		t.Fatalf("second browser: %d", r.status)
	}
	for _, resp := range h.intake.stored() {
		if resp.Channel != survey.ChannelWeb || resp.OfficeID != taxOffice {
			t.Errorf("stored %+v", resp)
		}
	}
	// The limit is 2 answers a minute per IP (a post the cookie refuses spends nothing).
	if r, _ := postForm(t, u, answer); r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), "درخواست‌ها زیاد است") {
		t.Fatalf("past the limit: %d", r.status)
	}
	if n := h.intake.count(); n != 2 {
		t.Fatalf("%d responses stored, want 2", n)
	}
	// A poster token on the invitation path (and the reverse) is not a link.
	if r := getPage(t, h.url+"/s/"+tok); r.status != 404 {
		t.Errorf("poster token under /s/: %d", r.status)
	}
}

// Posters are made by the agency's admins: the link as JSON, the QR code as PNG and SVG, the A4
// page; staff who may only read get 403, other callers 401/404.
func TestPosterEndpoints(t *testing.T) {
	h, keys := startLinks(t, 0)
	var view struct {
		URL  string `json:"url"`
		PNG  string `json:"png"`
		HTML string `json:"html"`
	}
	h.get(t, "/api/v1/offices/100/poster", adminToken).wantStatus(t, 200).json(t, &view)
	if !strings.HasPrefix(view.URL, h.url+"/p/") || view.PNG != "/api/v1/offices/100/poster.png" {
		t.Fatalf("poster %+v", view)
	}
	c, err := keys.Verify(view.URL[strings.LastIndex(view.URL, "/")+1:], time.Now().AddDate(10, 0, 0))
	if err != nil || c.Kind != weblink.KindPoster || c.OfficeID != taxOffice || c.AgencyID != taxID {
		t.Fatalf("poster token: %+v %v", c, err)
	}
	if r := h.get(t, "/api/v1/offices/100/poster.png", adminToken).wantStatus(t, 200); r.header.Get("Content-Type") != "image/png" {
		t.Errorf("png type %q", r.header.Get("Content-Type"))
	}
	if r := h.get(t, "/api/v1/offices/100/poster.svg", adminToken).wantStatus(t, 200); !strings.HasPrefix(string(r.body), "<svg") {
		t.Errorf("svg %q", r.body[:20])
	}
	page := h.get(t, "/api/v1/offices/100/poster.html", adminToken).wantStatus(t, 200)
	for _, want := range []string{"اداره کل امور مالیاتی", "دفتر مرکزی", "data:image/png;base64,", h.url + "/p/"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("poster page lacks %q", want)
		}
	}
	h.get(t, "/api/v1/offices/100/poster", taxStaffToken).envelope(t, 403, "forbidden")
	h.get(t, "/api/v1/offices/100/poster", "").wantStatus(t, 401)
	h.get(t, "/api/v1/offices/999/poster", adminToken).wantStatus(t, 404)
}

// The invitation form in a phone-sized headless Chromium with JavaScript off: it renders
// Persian, RTL, in Vazirmatn, the faces are targets of at least 44 px, and filling it (an
// unhappy rating, which makes the "why?" question count) and pressing «ارسال» thanks the citizen.
func TestWebFormInBrowser(t *testing.T) {
	h, keys := startLinks(t, 0)
	tok, _ := keys.Issue(weblink.Link{Kind: weblink.KindInvitation, AgencyID: taxID, OfficeID: taxOffice, Expires: time.Now().Add(time.Hour)})
	b := browsertest.Start(t, 360, 740, 60*time.Second)
	if _, err := chromedp.Call(b.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 360, Height: 740, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Navigate(h.url+"/s/"+tok), chromedp.WaitVisible(chromedp.CSS("form")))
	if on := browsertest.Eval[bool](b, `(() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true'; document.head.append(s); return window.__ran === true })()`); on {
		t.Fatal("scripts still run: the test must prove the form works without JavaScript")
	}
	b.CheckPage()
	sizes := browsertest.Eval[[]float64](b, `[...document.querySelectorAll('.faces label')].map(l => Math.min(l.getBoundingClientRect().width, l.getBoundingClientRect().height))`)
	if len(sizes) != 5 {
		t.Fatalf("%d faces", len(sizes))
	}
	for i, s := range sizes {
		if s < 44 {
			t.Errorf("face %d is %.0f px, want ≥ 44", i+1, s)
		}
	}
	order := browsertest.Eval[[]float64](b, `[...document.querySelectorAll('.faces label')].map(l => l.getBoundingClientRect().left)`)
	if !(order[0] > order[4]) {
		t.Errorf("«خیلی بد» must be at the right of «عالی»: lefts %v", order)
	}
	if w := browsertest.Eval[float64](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("page is %v px wide on a 360 px screen", w)
	}
	b.Do(chromedp.Click(chromedp.CSS(`label[for="q_q1_2"]`)), chromedp.Click(chromedp.CSS(`label[for="q_q2_slow"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="q_q3"]`), "صف طولانی بود"))
	b.Screenshot("weblink-form-phone.png")
	b.Do(chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("[data-notice]")))
	b.CheckPage()
	b.Screenshot("weblink-thanks-phone.png")
	b.CheckRequests(h.url)
	if got := browsertest.Eval[string](b, `document.querySelector('h1').textContent`); got != "سپاس از شما" {
		t.Fatalf("after submit: %q", got)
	}
	stored := h.intake.stored()
	if len(stored) != 1 || len(stored[0].Answers) != 3 || stored[0].Channel != survey.ChannelWeb {
		t.Fatalf("stored %+v", stored)
	}
}

func (m *memLinks) LinkAnswered(context.Context, survey.ID, time.Time) error { return nil }
