package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	jalaali "github.com/jalaali/go-jalaali"

	"github.com/afkar-gov/afkar/api/web/browsertest"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
)

// These tests run the kiosk app in headless Chromium against the real binary on the embedded
// default (SQLite and the durable inbox), as a lobby tablet would.

const kioskAdminToken = "kiosk-browser-test-admin-token-0123456789"

// kioskSite is a running server with the demo survey (four ratings, then «why?» and a comment
// for an unhappy citizen) and one unpaired kiosk whose office is always open. extraEnv adds
// environment variables to the server's, as name, value pairs.
type kioskSite struct {
	srv     *server
	fx      fixture
	kioskID survey.ID
	code    string // the pairing code
	pairURL string
}

func newKioskSite(t *testing.T, extraEnv ...string) kioskSite {
	t.Helper()
	env, db := embeddedEnv(t)
	env["AFKAR_ADMIN_TOKEN"] = kioskAdminToken
	for i := 0; i+1 < len(extraEnv); i += 2 {
		env[extraEnv[i]] = extraEnv[i+1]
	}
	fx := newSurveyFixture(t, db, demo.Questions())
	s := kioskSite{srv: startServer(t, env), fx: fx}
	var hours struct {
		AlwaysOpen bool `json:"always_open"`
	}
	s.admin(t, http.MethodPut, fmt.Sprintf("/api/v1/offices/%d/hours", fx.office), map[string]any{"always_open": true}, http.StatusOK, &hours)
	if !hours.AlwaysOpen {
		t.Fatalf("office hours not stored: %+v", hours)
	}
	var k struct {
		ID          survey.ID `json:"id"`
		PairingCode string    `json:"pairing_code"`
		PairURL     string    `json:"pair_url"`
	}
	s.admin(t, http.MethodPost, "/api/v1/kiosks", map[string]any{"office_id": fx.office, "name": "کیوسک سالن انتظار", "free_text": true}, http.StatusCreated, &k)
	if k.ID == 0 || !strings.HasSuffix(k.PairURL, "/kiosk/#code="+k.PairingCode) {
		t.Fatalf("kiosk created as %+v", k)
	}
	s.kioskID, s.code = k.ID, k.PairingCode
	// The server names itself by the Host it was asked on: the browser uses the same address.
	s.pairURL = s.srv.url + "/kiosk/#code=" + k.PairingCode
	return s
}

// admin calls the API as the province admin with body (JSON; nil for none), decodes the answer
// into out (when not nil) and ends the test unless the status is want.
func (s kioskSite) admin(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	if code := httpJSON(t, method, s.srv.url+path, kioskAdminToken, body, out); code != want {
		t.Fatalf("%s %s: %d, want %d", method, path, code, want)
	}
}

// kioskCounts is what the score API says the agency received.
type kioskCounts struct {
	responses int64            // all channels
	kiosk     int64            // by_channel kiosk
	overall   map[string]int64 // the histogram of the faces question
	respect   int64            // answers to the first follow-up rating
	reasons   map[string]int64 // the «why?» options chosen
	flagged   int64
}

func (s kioskSite) counts(t *testing.T) kioskCounts {
	t.Helper()
	var sc struct {
		Responses  int64 `json:"responses"`
		ByQuestion []struct {
			QuestionID string           `json:"question_id"`
			N          int64            `json:"n"`
			Histogram  map[string]int64 `json:"histogram"`
		} `json:"by_question"`
		ByChannel []struct {
			Channel   string `json:"channel"`
			Responses int64  `json:"responses"`
		} `json:"by_channel"`
		Flagged *struct {
			Total int64 `json:"total"`
		} `json:"flagged"`
	}
	s.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/agencies/%d/score", s.fx.agency), nil, http.StatusOK, &sc)
	c := kioskCounts{responses: sc.Responses, overall: map[string]int64{}, reasons: map[string]int64{}}
	for _, ch := range sc.ByChannel {
		if ch.Channel == string(survey.ChannelKiosk) {
			c.kiosk = ch.Responses
		}
	}
	for _, q := range sc.ByQuestion {
		switch q.QuestionID {
		case demo.QOverall:
			for k, v := range q.Histogram {
				if v > 0 {
					c.overall[k] = v
				}
			}
		case demo.QRespect:
			c.respect = q.N
		case demo.QReasons:
			for k, v := range q.Histogram {
				if v > 0 {
					c.reasons[k] = v
				}
			}
		}
	}
	if sc.Flagged != nil {
		c.flagged = sc.Flagged.Total
	}
	return c
}

// waitCounted waits until the aggregator has counted n responses, then checks they all came by
// the kiosk channel, none was flagged, and the faces add up to want.
func (s kioskSite) waitCounted(t *testing.T, n int64, want map[string]int64) kioskCounts {
	t.Helper()
	var c kioskCounts
	waitFor(t, 30*time.Second, fmt.Sprintf("%d responses counted", n), func() bool {
		c = s.counts(t)
		return c.responses >= n
	})
	if c.responses != n || c.kiosk != n || c.flagged != 0 {
		t.Fatalf("counted %d responses (%d by kiosk, %d flagged), want exactly %d by kiosk", c.responses, c.kiosk, c.flagged, n)
	}
	if fmt.Sprint(c.overall) != fmt.Sprint(want) {
		t.Fatalf("faces counted %v, want %v", c.overall, want)
	}
	return c
}

// requestsServed is how many requests the server has answered on any route but /metrics, from its
// own metrics: the test's proof that nothing reached it while the tablet was offline.
func (s kioskSite) requestsServed(t *testing.T) float64 {
	t.Helper()
	res, err := client.Get(s.srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var total float64
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "afkar_http_requests_total{") || strings.Contains(line, `route="/metrics"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += v
	}
	if total == 0 {
		t.Fatal("no afkar_http_requests_total in /metrics")
	}
	return total
}

// tablet is the kiosk app in a browser.
type tablet struct {
	t       *testing.T
	b       *browsertest.Browser
	seq     int          // the last screen showing seen
	cutOff  atomic.Int64 // requests failed by setOffline's interception
	cutting bool         // the interception's event loop runs
}

// openTablet starts a browser of w×h, opens the pairing link (the app pairs by itself) and waits
// for the faces.
func openTablet(t *testing.T, s kioskSite, w, h int) *tablet {
	t.Helper()
	tb := &tablet{t: t, b: browsertest.Start(t, w, h, 4*time.Minute)}
	tb.b.Do(chromedp.EmulateViewport(int64(w), int64(h)), chromedp.Navigate(s.pairURL))
	tb.await("rating")
	if got := browsertest.Eval[string](tb.b, `location.hash`); got != "" {
		t.Fatalf("the pairing code stays in the address bar: %q", got)
	}
	tb.b.CheckPage()
	return tb
}

// await waits for a new showing of screen, ready to take presses.
func (tb *tablet) await(screen string) {
	tb.t.Helper()
	tb.b.WaitJS(20*time.Second, "screen "+screen, fmt.Sprintf(
		`document.body.dataset.current === %q && document.body.dataset.armed === "true" && +document.body.dataset.seq > %d`, screen, tb.seq))
	tb.seq = browsertest.Eval[int](tb.b, `+document.body.dataset.seq`)
}

func (tb *tablet) click(css string) {
	tb.t.Helper()
	tb.b.Do(chromedp.Click(chromedp.CSS(css)))
}

// answer gives one citizen's answers with real mouse clicks: a face, then the follow-ups — the
// first follow-up rating when respect > 0, the first reason and a comment when the face is 2 or
// less (the demo survey asks «why?» only then), every other question skipped — and waits for
// the thank-you screen. It starts from the faces.
func (tb *tablet) answer(face, respect int, comment string) {
	tb.t.Helper()
	tb.click(fmt.Sprintf(`section[data-screen="rating"] [data-rating="%d"]`, face))
	tb.followUps(respect, comment)
}

// followUps answers the questions after the face, as answer does, until the thank-you screen.
func (tb *tablet) followUps(respect int, comment string) {
	tb.t.Helper()
	for {
		tb.b.WaitJS(20*time.Second, "the next screen", fmt.Sprintf(`+document.body.dataset.seq > %d && document.body.dataset.armed === "true"`, tb.seq))
		tb.seq = browsertest.Eval[int](tb.b, `+document.body.dataset.seq`)
		switch screen := browsertest.Eval[string](tb.b, `document.body.dataset.current`); screen {
		case "thanks":
			return
		case "contact": // the offer of a follow-up call after a low rating: declined here
			tb.click(`#contact-no`)
			continue
		case "question":
		default:
			tb.t.Fatalf("screen %q in the middle of a survey", screen)
		}
		kind := browsertest.Eval[string](tb.b, `document.getElementById("question-body").className`)
		title := browsertest.Eval[string](tb.b, `document.getElementById("question-title").textContent`)
		switch {
		case strings.Contains(kind, "type-rating5") && respect > 0 && strings.Contains(title, "احترام"):
			tb.click(fmt.Sprintf(`#question-body [data-rating="%d"]`, respect))
		case strings.Contains(kind, "type-choice multiple"):
			tb.click(`#question-body button.choice`)
			tb.click(`#question-actions .primary`)
		case strings.Contains(kind, "type-text") && comment != "":
			tb.b.Do(chromedp.SendKeys(chromedp.CSS(`#question-body textarea`), comment))
			tb.click(`#question-actions .primary`)
		default:
			tb.click(`#question-actions .secondary`)
		}
	}
}

// queued is how many answers wait on the tablet, from its status corner.
func (tb *tablet) queued() int {
	return browsertest.Eval[int](tb.b, `+document.getElementById("status").dataset.queued`)
}

// setOffline cuts the tablet off, or brings it back. Offline, navigator.onLine is false (the
// app sees "offline"), the network conditions of page and service worker say offline, and every
// request that would still leave the browser is failed as "internet disconnected" by DevTools
// interception: with emulation alone, a request of the reloaded page reached the server (seen
// as a 503 for an aborted GET /api/v1/kiosk/config in three runs out of four).
func (tb *tablet) setOffline(off bool) {
	tb.t.Helper()
	conds := []*network.Conditions{}
	if off {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(tb.b.Ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &off, MatchedNetworkConditions: conds,
	}); err != nil {
		tb.t.Fatal(err)
	}
	if _, err := chromedp.Call(tb.b.Ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: off, DownloadThroughput: -1, UploadThroughput: -1,
	}); err != nil {
		tb.t.Fatal(err)
	}
	if !off {
		if _, err := chromedp.Call(tb.b.Ctx, fetch.Disable, cdp.Empty{}); err != nil {
			tb.t.Fatal(err)
		}
		return
	}
	if _, err := chromedp.Call(tb.b.Ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		tb.t.Fatal(err)
	}
	if tb.cutting {
		return
	}
	tb.cutting = true
	paused := chromedp.Events(tb.b.Ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			tb.cutOff.Add(1)
			chromedp.Call(tb.b.Ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
		}
	}()
}

// watchSync makes the page keep every answer the server gives to a batch from now on
// (window.__results).
func (tb *tablet) watchSync() {
	browsertest.Eval[bool](tb.b, `(() => {
		window.__results = [];
		if (window.__watching) return true;
		window.__watching = true;
		const f = window.fetch;
		window.fetch = function (url) {
			return f.apply(this, arguments).then(r => {
				if (String(url).indexOf("/api/v1/kiosk/responses") >= 0) r.clone().json().then(j => window.__results.push(...j.results));
				return r;
			});
		};
		return true;
	})()`)
}

// syncResults returns, by answer id, the statuses the server gave since watchSync.
func (tb *tablet) syncResults() map[string][]string {
	var out map[string][]string
	raw := browsertest.Eval[string](tb.b, `JSON.stringify(window.__results.reduce((m, r) => { (m[r.id] = m[r.id] || []).push(r.status + (r.flag ? ":" + r.flag : "")); return m; }, {}))`)
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		tb.t.Fatal(err)
	}
	return out
}

// idbQueue is the tablet's queue, straight from IndexedDB, as JSON.
const idbQueue = `new Promise((ok, fail) => {
	const open = indexedDB.open("afkar-kiosk");
	open.onerror = () => fail(open.error);
	open.onsuccess = () => {
		const get = open.result.transaction("queue").objectStore("queue").getAll();
		get.onsuccess = () => ok(JSON.stringify(get.result));
		get.onerror = () => fail(get.error);
	};
})`

// TestKioskOfflineExactlyOnce is the tablet's promise: an answer given offline survives a reload
// and is counted once when the network returns, however often it is sent.
func TestKioskOfflineExactlyOnce(t *testing.T) {
	s := newKioskSite(t)
	tb := openTablet(t, s, 1280, 800)
	tb.b.WaitJS(20*time.Second, "the service worker to control the page", `navigator.serviceWorker.controller !== null`)

	// Online: one answer goes straight through.
	tb.answer(5, 0, "")
	tb.await("rating")
	tb.b.WaitJS(20*time.Second, "the first answer sent", `document.getElementById("status").dataset.queued === "0"`)
	s.waitCounted(t, 1, map[string]int64{"5": 1})

	// Offline: three more, kept on the tablet.
	before := s.requestsServed(t)
	tb.setOffline(true)
	tb.b.WaitJS(5*time.Second, "the offline dot", `document.getElementById("status").dataset.online === "false"`)
	tb.answer(2, 0, "صف خیلی طولانی بود")
	tb.await("rating")
	tb.answer(4, 3, "")
	tb.await("rating")
	tb.answer(1, 0, "")
	tb.await("rating")
	if n := tb.queued(); n != 3 {
		t.Fatalf("%d answers queued offline, want 3", n)
	}
	var queued []struct {
		ID      string            `json:"id"`
		Answers []json.RawMessage `json:"answers"`
	}
	offlineQueue := browsertest.Eval[string](tb.b, idbQueue)
	if err := json.Unmarshal([]byte(offlineQueue), &queued); err != nil || len(queued) != 3 {
		t.Fatalf("IndexedDB queue %s: %v", offlineQueue, err)
	}

	// A reload with no network: the service worker serves the app, the queue is still there.
	tb.b.Do(chromedp.Reload())
	tb.seq = 0
	tb.await("rating")
	tb.b.CheckPage()
	if n := tb.queued(); n != 3 {
		t.Fatalf("%d answers queued after the reload, want 3", n)
	}
	if served := browsertest.Eval[bool](tb.b, `performance.getEntriesByType("navigation")[0].workerStart > 0`); !served {
		t.Fatal("the reloaded page did not come through the service worker")
	}
	if after := s.requestsServed(t); after != before {
		t.Fatalf("the server answered %v requests while the tablet was offline", after-before)
	}
	t.Logf("offline: %d requests stopped in the browser", tb.cutOff.Load())
	if c := s.counts(t); c.responses != 1 {
		t.Fatalf("%d responses counted while offline, want 1", c.responses)
	}

	// Back online: the three are sent, accepted once each.
	tb.watchSync()
	tb.setOffline(false)
	tb.b.WaitJS(60*time.Second, "the queue to drain", `document.getElementById("status").dataset.queued === "0"`)
	for _, q := range queued {
		if got := tb.syncResults()[q.ID]; len(got) != 1 || got[0] != "accepted" {
			t.Errorf("answer %s: server said %v, want [accepted]", q.ID, got)
		}
	}
	c := s.waitCounted(t, 4, map[string]int64{"1": 1, "2": 1, "4": 1, "5": 1})
	if c.respect != 1 || fmt.Sprint(c.reasons) != "map[waiting:2]" {
		t.Fatalf("follow-ups counted: respect n=%d, reasons %v; want 1 and map[waiting:2]", c.respect, c.reasons)
	}

	// An extra sync cycle that sends the same three again (as after a lost reply) changes nothing.
	tb.watchSync()
	browsertest.Eval[bool](tb.b, `new Promise((ok, fail) => {
		const open = indexedDB.open("afkar-kiosk");
		open.onsuccess = () => {
			const tx = open.result.transaction("queue", "readwrite");
			for (const item of `+offlineQueue+`) tx.objectStore("queue").put(item);
			tx.oncomplete = () => { window.dispatchEvent(new Event("online")); ok(true); };
			tx.onerror = () => fail(tx.error);
		};
	})`)
	tb.b.WaitJS(60*time.Second, "the server's answers to the resend", `window.__results.length >= 3`)
	if left := browsertest.Eval[string](tb.b, idbQueue); left != "[]" {
		t.Fatalf("after the resend the queue holds %s", left)
	}
	for _, q := range queued {
		if got := tb.syncResults()[q.ID]; len(got) != 1 || got[0] != "duplicate" {
			t.Errorf("resent answer %s: server said %v, want [duplicate]", q.ID, got)
		}
	}
	// One more answer, counted after the resends: the total moves by exactly one.
	tb.answer(3, 0, "")
	s.waitCounted(t, 5, map[string]int64{"1": 1, "2": 1, "3": 1, "4": 1, "5": 1})
	tb.b.CheckRequests(s.srv.url)
}

// TestKioskDoublePress: a double tap answers once. The second press of a pair either hits the
// same face again or lands on the next screen a moment later; both are ignored, and presses
// during the thank-you screen do nothing.
func TestKioskDoublePress(t *testing.T) {
	s := newKioskSite(t)
	tb := openTablet(t, s, 800, 1280)
	ratingSeq := tb.seq

	// Two clicks on the same face, in the same task: the screen takes one.
	browsertest.Eval[bool](tb.b, `(() => { const b = document.querySelector('section[data-screen="rating"] [data-rating="4"]'); b.click(); b.click(); return true; })()`)
	tb.await("question")
	if tb.seq != ratingSeq+1 || !strings.Contains(browsertest.Eval[string](tb.b, `document.getElementById("question-title").textContent`), "احترام") {
		t.Fatalf("after a double press the app is at showing %d (%s), want the first follow-up", tb.seq,
			browsertest.Eval[string](tb.b, `document.getElementById("question-title").textContent`))
	}
	tb.skipToThanks()

	// A real double tap: two mouse clicks at the face's centre, the second landing on the next
	// screen while it is still arming.
	tb.await("rating")
	ratingSeq = tb.seq
	x := browsertest.Eval[float64](tb.b, `(() => { const r = document.querySelector('section[data-screen="rating"] [data-rating="2"]').getBoundingClientRect(); return r.left + r.width / 2; })()`)
	y := browsertest.Eval[float64](tb.b, `(() => { const r = document.querySelector('section[data-screen="rating"] [data-rating="2"]').getBoundingClientRect(); return r.top + r.height / 2; })()`)
	tb.b.Do(chromedp.MouseClickXY(x, y), chromedp.MouseClickXY(x, y))
	tb.await("question")
	if tb.seq != ratingSeq+1 {
		t.Fatalf("after a double tap the app is at showing %d, want %d (the first follow-up)", tb.seq, ratingSeq+1)
	}
	tb.skipToThanks()
	// Presses on the thank-you screen are ignored.
	tb.b.Do(chromedp.MouseClickXY(x, y), chromedp.MouseClickXY(x, y))
	if cur := browsertest.Eval[string](tb.b, `document.body.dataset.current`); cur != "thanks" {
		t.Fatalf("a press on the thank-you screen led to %q", cur)
	}
	tb.await("rating")
	tb.b.WaitJS(20*time.Second, "the queue to drain", `document.getElementById("status").dataset.queued === "0"`)
	c := s.waitCounted(t, 2, map[string]int64{"2": 1, "4": 1})
	if c.respect != 0 {
		t.Fatalf("a double press answered the follow-up too: respect n=%d", c.respect)
	}
	tb.b.CheckRequests(s.srv.url)
}

// skipToThanks skips every follow-up, and declines the offer of a follow-up call, until the
// thank-you screen.
func (tb *tablet) skipToThanks() {
	tb.t.Helper()
	for cur := ""; ; {
		if cur = browsertest.Eval[string](tb.b, `document.body.dataset.current`); cur != "question" && cur != "contact" {
			break
		}
		if cur == "contact" {
			tb.click(`#contact-no`)
		} else {
			tb.click(`#question-actions .secondary, #question-actions .primary`)
		}
		tb.b.WaitJS(20*time.Second, "the next screen", fmt.Sprintf(`+document.body.dataset.seq > %d && document.body.dataset.armed === "true"`, tb.seq))
		tb.seq = browsertest.Eval[int](tb.b, `+document.body.dataset.seq`)
	}
	if cur := browsertest.Eval[string](tb.b, `document.body.dataset.current`); cur != "thanks" {
		tb.t.Fatalf("screen %q after the follow-ups, want thanks", cur)
	}
}

// TestKioskScreensInBrowser looks at the faces and the thank-you screen on a 10" tablet held
// either way and on a small phone: big enough faces, nothing scrolls, focus visible, text
// readable, and (with AFKAR_SCREENSHOTS) screenshots for the README.
func TestKioskScreensInBrowser(t *testing.T) {
	s := newKioskSite(t)
	tb := openTablet(t, s, 800, 1280)
	for _, v := range []struct {
		name    string
		w, h    int64
		minFace float64
	}{
		{"portrait", 800, 1280, 96},
		{"landscape", 1280, 800, 96},
		{"phone", 360, 740, 48},
	} {
		opts := []chromedp.EmulateViewportOption{}
		if v.name == "phone" {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		tb.b.Do(chromedp.EmulateViewport(v.w, v.h, opts...))
		tb.b.WaitJS(5*time.Second, "the new viewport", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, v.w, v.h))
		tb.b.CheckPage()
		tb.checkLayout(v.name, v.minFace)
		tb.b.Screenshot("kiosk-rating-" + v.name + ".png")
		tb.pressWithFeedback(`section[data-screen="rating"] [data-rating="5"]`)
		tb.followUps(0, "")
		tb.checkLayout(v.name, 0)
		tb.b.Screenshot("kiosk-thanks-" + v.name + ".png")
		tb.await("rating")
	}
	tb.b.CheckRequests(s.srv.url)
}

// pressWithFeedback presses the button css with the mouse and, before releasing it, checks that
// it already looks pressed: feedback comes with the press, not with the click.
func (tb *tablet) pressWithFeedback(css string) {
	tb.t.Helper()
	x := browsertest.Eval[float64](tb.b, `(() => { const r = document.querySelector('`+css+`').getBoundingClientRect(); return r.left + r.width / 2; })()`)
	y := browsertest.Eval[float64](tb.b, `(() => { const r = document.querySelector('`+css+`').getBoundingClientRect(); return r.top + r.height / 2; })()`)
	tb.b.Do(chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	looks := browsertest.Eval[string](tb.b, `(() => { const b = document.querySelector('`+css+`'); return b.classList.contains("pressed") + " " + b.matches(":active"); })()`)
	tb.b.Do(chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if looks != "true true" {
		tb.t.Errorf("a held press on %s: pressed class, :active = %s; want both at once", css, looks)
	}
}

// checkLayout asserts the screen fits without scrolling and, on the faces screen, that every face
// is a labelled button at least minFace CSS pixels each way, in the order the app documents
// (خیلی بد at the right, where a Persian reader starts), that text contrast passes WCAG AA and
// that keyboard focus is visible.
func (tb *tablet) checkLayout(name string, minFace float64) {
	tb.t.Helper()
	fits := browsertest.Eval[bool](tb.b, `document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight`)
	if !fits {
		tb.t.Errorf("%s: the %s screen scrolls", name, browsertest.Eval[string](tb.b, `document.body.dataset.current`))
	}
	if minFace == 0 {
		return
	}
	var faces []struct {
		Rating string  `json:"rating"`
		Label  string  `json:"label"`
		W      float64 `json:"w"`
		H      float64 `json:"h"`
		X      float64 `json:"x"`
	}
	raw := browsertest.Eval[string](tb.b, `JSON.stringify(Array.from(document.querySelectorAll('section[data-screen="rating"] button[data-rating]')).map(b => {
		const r = b.getBoundingClientRect();
		return {rating: b.dataset.rating, label: b.getAttribute("aria-label"), w: r.width, h: r.height, x: r.left};
	}))`)
	if err := json.Unmarshal([]byte(raw), &faces); err != nil {
		tb.t.Fatal(err)
	}
	labels := []string{"خیلی بد", "بد", "متوسط", "خوب", "عالی"}
	if len(faces) != 5 {
		tb.t.Fatalf("%s: %d faces", name, len(faces))
	}
	for i, f := range faces {
		if f.Rating != strconv.Itoa(i+1) || !strings.HasPrefix(f.Label, labels[i]) {
			tb.t.Errorf("%s: face %d is rating %s labelled %q", name, i, f.Rating, f.Label)
		}
		if f.W < minFace || f.H < minFace {
			tb.t.Errorf("%s: face %s is %.0f×%.0f px, want at least %.0f", name, f.Rating, f.W, f.H, minFace)
		}
		if i > 0 && f.X >= faces[i-1].X {
			tb.t.Errorf("%s: face %s is not to the left of face %s", name, f.Rating, faces[i-1].Rating)
		}
	}
	// WCAG AA: 4.5:1 for the question and the face labels against what is behind them.
	low := browsertest.Eval[string](tb.b, `(() => {
		const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
		const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
		const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; if (!/rgba\(.*, 0\)$/.test(c) && c !== "transparent") return c; } return "rgb(255, 255, 255)"; };
		const bad = [];
		for (const el of document.querySelectorAll('section[data-screen="rating"] h1, section[data-screen="rating"] .agency, section[data-screen="rating"] .face .label')) {
			const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(bg(el)));
			const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
			if (ratio < 4.5) bad.push(el.textContent + " " + ratio.toFixed(2));
		}
		return bad.join("; ");
	})()`)
	if low != "" {
		tb.t.Errorf("%s: text below 4.5:1 contrast: %s", name, low)
	}
	// Keyboard focus shows: Tab to the first face, which must draw an outline.
	tb.b.Do(chromedp.KeyEvent("\t"))
	outline := browsertest.Eval[string](tb.b, `(() => { const a = document.activeElement; return a && a.dataset.rating ? getComputedStyle(a).outlineStyle + " " + getComputedStyle(a).outlineWidth : "no face focused"; })()`)
	if !strings.HasPrefix(outline, "solid") || strings.HasSuffix(outline, " 0px") {
		tb.t.Errorf("%s: a focused face shows %q, want a visible outline", name, outline)
	}
	browsertest.Eval[bool](tb.b, `(document.activeElement && document.activeElement.blur(), true)`)
}

// TestKioskPairingInBrowser pairs by hand, as staff do without a QR scanner: a wrong code is
// refused in Persian, the right one typed with Persian digits, a dash and lower case is taken.
// A revoked token sends the tablet back to pairing after the citizen is done, with the answer
// kept, and it is sent once the tablet is paired again.
func TestKioskPairingInBrowser(t *testing.T) {
	s := newKioskSite(t)
	tb := &tablet{t: t, b: browsertest.Start(t, 360, 740, 4*time.Minute)}
	tb.b.Do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(s.srv.url+"/kiosk/"))
	tb.await("pair")
	tb.b.CheckPage()
	tb.typeCode("zz23-zz23")
	tb.b.WaitJS(10*time.Second, "the refusal", `document.getElementById("pair-submit").disabled === false && document.getElementById("pair-message").textContent !== ""`)
	// The page shows the server's own Persian words for the code field.
	var refusal struct {
		Error struct {
			Fields map[string]struct {
				MessageFA string `json:"message_fa"`
			} `json:"fields"`
		} `json:"error"`
	}
	s.admin(t, http.MethodPost, "/api/v1/kiosk/pair", map[string]string{"code": "ZZ23ZZ23"}, http.StatusUnprocessableEntity, &refusal)
	want := refusal.Error.Fields["code"].MessageFA
	if msg := browsertest.Eval[string](tb.b, `document.getElementById("pair-message").textContent`); want == "" || msg != want || browsertest.Eval[string](tb.b, `document.body.dataset.current`) != "pair" {
		t.Fatalf("a wrong code led to %q on screen %s, want %q", msg, browsertest.Eval[string](tb.b, `document.body.dataset.current`), want)
	}
	tb.b.Screenshot("kiosk-pair-phone.png")
	tb.typeCode(persianTyping(s.code))
	tb.await("rating")

	// Revoked: the citizen finishes, then the tablet asks to be paired again and keeps the answer.
	s.admin(t, http.MethodDelete, fmt.Sprintf("/api/v1/kiosks/%d/token", s.kioskID), nil, http.StatusNoContent, nil)
	tb.answer(4, 0, "")
	tb.await("pair")
	if msg := browsertest.Eval[string](tb.b, `document.getElementById("pair-message").textContent`); !strings.Contains(msg, "لغو") {
		t.Fatalf("the pairing screen after a revocation says %q", msg)
	}
	if n := tb.queued(); n != 1 {
		t.Fatalf("%d answers kept after the revocation, want 1", n)
	}
	var again struct {
		Code string `json:"pairing_code"`
	}
	s.admin(t, http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", s.kioskID), nil, http.StatusOK, &again)
	tb.typeCode(again.Code)
	tb.await("rating")
	tb.b.WaitJS(30*time.Second, "the kept answer sent", `document.getElementById("status").dataset.queued === "0"`)
	s.waitCounted(t, 1, map[string]int64{"4": 1})
	tb.b.CheckRequests(s.srv.url)
}

// typeCode replaces what the pairing field holds with code and submits it.
func (tb *tablet) typeCode(code string) {
	tb.t.Helper()
	browsertest.Eval[bool](tb.b, `(document.querySelector('input[name="code"]').value = "", true)`)
	tb.b.Do(chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), code))
	tb.click(`#pair-submit`)
}

// persianTyping writes a pairing code as someone might type it: lower case, Persian digits, a dash
// in the middle.
func persianTyping(code string) string {
	var b strings.Builder
	for i, r := range strings.ToLower(code) {
		if i == len(code)/2 {
			b.WriteByte('-')
		}
		if r >= '0' && r <= '9' {
			r = '۰' + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestKioskSleepInBrowser: on a holiday the tablet sleeps, deciding so from the cached hours in
// Tehran time as the server does, and wakes when the office is open again.
func TestKioskSleepInBrowser(t *testing.T) {
	s := newKioskSite(t)
	tb := openTablet(t, s, 1280, 800)
	tehran, err := time.LoadLocation("Asia/Tehran")
	if err != nil {
		t.Fatal(err)
	}
	var holidays []string
	for _, d := range []int{-1, 0, 1} { // around today, so the test does not care about midnight
		day := time.Now().In(tehran).AddDate(0, 0, d)
		y, m, dd, err := jalaali.ToJalaali(day.Year(), day.Month(), day.Day())
		if err != nil {
			t.Fatal(err)
		}
		holidays = append(holidays, fmt.Sprintf(`"%04d-%02d-%02d"`, y, int(m), dd))
	}
	var weekly []string
	for _, d := range []string{"sat", "sun", "mon", "tue", "wed", "thu", "fri"} {
		weekly = append(weekly, `{"day": "`+d+`", "open": "00:00", "close": "24:00"}`)
	}
	s.admin(t, http.MethodPut, fmt.Sprintf("/api/v1/offices/%d/hours", s.fx.office),
		json.RawMessage(`{"weekly": [`+strings.Join(weekly, ",")+`], "holidays": [`+strings.Join(holidays, ",")+`]}`), http.StatusOK, nil)
	if s.openNow(t) {
		t.Fatal("the server says the office is open on a holiday")
	}
	tb.b.Do(chromedp.Reload())
	tb.seq = 0
	tb.await("sleep")
	tb.b.CheckPage()
	if title := browsertest.Eval[string](tb.b, `document.getElementById("sleep-title").textContent`); title != "امروز اداره تعطیل است" {
		t.Errorf("the sleep screen on a holiday says %q", title)
	}
	if hours := browsertest.Eval[string](tb.b, `document.getElementById("sleep-hours").textContent`); !strings.Contains(hours, "شنبه تا جمعه") {
		t.Errorf("the sleep screen shows the hours as %q", hours)
	}
	tb.checkLayout("landscape", 0)
	tb.b.Screenshot("kiosk-sleep-landscape.png")

	s.admin(t, http.MethodPut, fmt.Sprintf("/api/v1/offices/%d/hours", s.fx.office), map[string]any{"always_open": true}, http.StatusOK, nil)
	if !s.openNow(t) {
		t.Fatal("the server says an always-open office is closed")
	}
	tb.b.Do(chromedp.Reload())
	tb.seq = 0
	tb.await("rating")
	tb.b.CheckRequests(s.srv.url)
}

// openNow is the server's own verdict on the kiosk's office, from the fleet list.
func (s kioskSite) openNow(t *testing.T) bool {
	t.Helper()
	return s.listed(t).OpenNow
}

// fleetEntry is what the fleet list says of the test's kiosk.
type fleetEntry struct {
	ID            survey.ID `json:"id"`
	OpenNow       bool      `json:"open_now"`
	Rejected      int       `json:"rejected"`
	StorageErrors int       `json:"storage_errors"`
}

// listed returns the test's kiosk from the fleet list.
func (s kioskSite) listed(t *testing.T) fleetEntry {
	t.Helper()
	var list struct {
		Kiosks []fleetEntry `json:"kiosks"`
	}
	s.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/kiosks?agency_id=%d", s.fx.agency), nil, http.StatusOK, &list)
	for _, k := range list.Kiosks {
		if k.ID == s.kioskID {
			return k
		}
	}
	t.Fatalf("kiosk %d not in the fleet list", s.kioskID)
	return fleetEntry{}
}

// TestKioskIdleReset: a citizen who presses a face and walks away is reset to the faces after
// idle_seconds, without a thank-you screen, and what they answered (the required face) is kept.
func TestKioskIdleReset(t *testing.T) {
	s := newKioskSite(t, "AFKAR_KIOSK_IDLE", "5s")
	tb := openTablet(t, s, 800, 1280)
	if idle := browsertest.Eval[int](tb.b, `new Promise(ok => { const o = indexedDB.open("afkar-kiosk"); o.onsuccess = () => { const g = o.result.transaction("kv").objectStore("kv").get("config"); g.onsuccess = () => ok(g.result.settings.idle_seconds); }; })`); idle != 5 {
		t.Fatalf("idle_seconds %d in the cached config, want 5", idle)
	}
	tb.click(`section[data-screen="rating"] [data-rating="3"]`)
	tb.await("question")
	browsertest.Eval[bool](tb.b, `(window.__screens = [], new MutationObserver(() => window.__screens.push(document.body.dataset.current)).observe(document.body, {attributes: true, attributeFilter: ["data-current"]}), true)`)
	tb.await("rating")
	if seen := browsertest.Eval[[]string](tb.b, `window.__screens`); len(seen) != 1 || seen[0] != "rating" {
		t.Fatalf("screens after the citizen walked away: %v, want straight back to the faces", seen)
	}
	tb.b.WaitJS(20*time.Second, "the kept answer sent", `document.getElementById("status").dataset.queued === "0"`)
	if c := s.waitCounted(t, 1, map[string]int64{"3": 1}); c.respect != 0 {
		t.Fatalf("an idle reset answered the follow-up: respect n=%d", c.respect)
	}
	tb.b.CheckRequests(s.srv.url)
}
