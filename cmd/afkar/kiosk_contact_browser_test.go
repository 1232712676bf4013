package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api/web/browsertest"
)

// contactPhone is the number the citizen types on the pad, and how the case must show it.
const (
	contactPhone       = "09123456789"
	contactPhoneMasked = "0912***6789"
)

// TestKioskContactInBrowser is the kiosk's part of closing the loop, through the real binary and
// store: after a low headline rating the tablet offers a follow-up call with its own number pad;
// a number typed there travels with the answer through the offline queue and, once the server
// has it, opens a case with consent for the kiosk's agency — and is gone from the tablet. A
// happy citizen is never asked; «نه، ممنون» and walking away are counted answers without a case.
func TestKioskContactInBrowser(t *testing.T) {
	s := newKioskSite(t, "AFKAR_KIOSK_IDLE", "15s")
	tb := openTablet(t, s, 800, 1280)
	offer := browsertest.Eval[string](tb.b, `new Promise(ok => { const o = indexedDB.open("afkar-kiosk"); o.onsuccess = () => { const g = o.result.transaction("kv").objectStore("kv").get("config"); g.onsuccess = () => ok(JSON.stringify(g.result.contact_offer)); }; })`)
	if !strings.Contains(offer, `"question_id":"overall"`) || !strings.Contains(offer, `"max_rating":2`) {
		t.Fatalf("the cached config's contact_offer is %s", offer)
	}

	// 1. Rate 1 while offline: the pad appears after the follow-ups; a short number is refused in
	// Persian; the full one is kept in the queue with the answer until the network returns.
	tb.setOffline(true)
	tb.b.WaitJS(5*time.Second, "the offline dot", `document.getElementById("status").dataset.online === "false"`)
	tb.click(`section[data-screen="rating"] [data-rating="1"]`)
	if screen := tb.untilDone(); screen != "contact" {
		t.Fatalf("after a rating of 1 the survey ended on %q, want the contact screen", screen)
	}
	tb.checkContactLayout("portrait")
	for _, k := range "0912" {
		tb.click(fmt.Sprintf(`#contact-pad [data-key="%c"]`, k))
	}
	if shown := browsertest.Eval[string](tb.b, `document.getElementById("contact-number").textContent`); shown != "۰۹۱۲" {
		t.Fatalf("the pad shows %q, want Persian digits ۰۹۱۲", shown)
	}
	tb.click(`#contact-yes`)
	msg := browsertest.Eval[string](tb.b, `document.getElementById("contact-message").textContent`)
	if cur := browsertest.Eval[string](tb.b, `document.body.dataset.current`); cur != "contact" || !strings.Contains(msg, "۱۱ رقم") {
		t.Fatalf("a 4-digit number led to screen %q with message %q; want to stay, told it needs ۱۱ digits", cur, msg)
	}
	tb.b.Screenshot("kiosk-contact-error-portrait.png")
	// A twelfth digit is refused; ⌫ takes one back.
	for _, k := range contactPhone[4:] + "9" {
		tb.click(fmt.Sprintf(`#contact-pad [data-key="%c"]`, k))
	}
	if typed := browsertest.Eval[string](tb.b, `document.getElementById("contact-number").dataset.digits`); typed != contactPhone ||
		!strings.Contains(browsertest.Eval[string](tb.b, `document.getElementById("contact-message").textContent`), "۱۱ رقم") {
		t.Fatalf("after a twelfth digit the pad holds %q, want %q and a word about 11 digits", typed, contactPhone)
	}
	tb.click(`#contact-pad [data-key="back"]`)
	if typed := browsertest.Eval[string](tb.b, `document.getElementById("contact-number").dataset.digits`); typed != contactPhone[:10] {
		t.Fatalf("⌫ left %q, want %q", typed, contactPhone[:10])
	}
	tb.click(fmt.Sprintf(`#contact-pad [data-key="%c"]`, contactPhone[10]))
	if typed := browsertest.Eval[string](tb.b, `document.getElementById("contact-number").dataset.digits`); typed != contactPhone {
		t.Fatalf("the pad holds %q, want %q", typed, contactPhone)
	}
	tb.b.WaitJS(2*time.Second, "the last key to look released", `!document.querySelector(".pressed")`)
	tb.b.Screenshot("kiosk-contact-portrait.png")
	tb.click(`#contact-yes`)
	tb.await("thanks")
	if notice := browsertest.Eval[string](tb.b, `document.getElementById("thanks-notice").hidden ? "" : document.getElementById("thanks-notice").textContent`); !strings.Contains(notice, "۱۱۱") {
		t.Errorf("the thank-you screen after consent shows the complaint notice as %q", notice)
	}
	tb.checkLayout("portrait", 0)
	tb.b.Screenshot("kiosk-contact-thanks-portrait.png")
	var queued []struct {
		ID      string `json:"id"`
		Contact *struct {
			Phone   string `json:"phone"`
			Consent bool   `json:"consent"`
		} `json:"contact"`
	}
	raw := browsertest.Eval[string](tb.b, idbQueue)
	if err := json.Unmarshal([]byte(raw), &queued); err != nil || len(queued) != 1 || queued[0].Contact == nil ||
		queued[0].Contact.Phone != contactPhone || !queued[0].Contact.Consent {
		t.Fatalf("the offline queue holds %s (%v); want one answer carrying the number with consent", raw, err)
	}
	if ls := browsertest.Eval[string](tb.b, `JSON.stringify(Object.assign({}, localStorage))`); strings.Contains(ls, contactPhone[1:]) {
		t.Fatalf("the number is in localStorage: %s", ls)
	}
	tb.await("rating")
	tb.watchSync()
	tb.setOffline(false)
	tb.b.WaitJS(60*time.Second, "the queue to drain", `document.getElementById("status").dataset.queued === "0"`)
	results := browsertest.Eval[string](tb.b, `JSON.stringify(window.__results)`)
	if !strings.Contains(results, `"id":"`+queued[0].ID+`","status":"accepted"`) || !strings.Contains(results, `"case":"opened"`) {
		t.Fatalf("the server answered the queued answer with %s; want accepted, case opened", results)
	}
	if left := browsertest.Eval[string](tb.b, idbQueue); left != "[]" {
		t.Fatalf("after it was sent the tablet still holds %s", left)
	}

	// 2. Rate 5: nobody is asked for a number (untilDone fails on any screen but the questions
	// and the thank-you one).
	tb.click(`section[data-screen="rating"] [data-rating="5"]`)
	if screen := tb.untilDone(); screen != "thanks" {
		t.Fatalf("after a rating of 5 the survey ended on %q, want thanks", screen)
	}
	if shown := browsertest.Eval[bool](tb.b, `!document.getElementById("thanks-case").hidden || !document.getElementById("thanks-notice").hidden`); shown {
		t.Error("a citizen who gave no number is told someone will call")
	}
	tb.await("rating")

	// 3. Rate 2, then «نه، ممنون» (looked at on a tablet on its side and on a phone first): an
	// answer, thanks, no case.
	tb.click(`section[data-screen="rating"] [data-rating="2"]`)
	if screen := tb.untilDone(); screen != "contact" {
		t.Fatalf("after a rating of 2 the survey ended on %q, want the contact screen", screen)
	}
	for _, v := range []struct {
		name string
		w, h int64
	}{{"landscape", 1280, 800}, {"phone", 360, 740}, {"portrait", 800, 1280}} {
		opts := []chromedp.EmulateViewportOption{}
		if v.name == "phone" {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		tb.b.Do(chromedp.EmulateViewport(v.w, v.h, opts...))
		tb.b.WaitJS(5*time.Second, "the new viewport", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, v.w, v.h))
		tb.checkContactLayout(v.name)
		if v.name != "portrait" {
			tb.b.Screenshot("kiosk-contact-" + v.name + ".png")
		}
	}
	tb.click(`#contact-pad [data-key="0"]`) // a digit typed, then declined: it goes nowhere
	tb.click(`#contact-no`)
	tb.await("thanks")
	if shown := browsertest.Eval[bool](tb.b, `!document.getElementById("thanks-case").hidden`); shown {
		t.Error("«نه، ممنون» led to «someone will call»")
	}
	tb.await("rating")

	// 4. Rate 1 and walk away from the pad: back to the faces after idle_seconds, with no
	// thank-you screen; the answers are counted, the number is not sent.
	tb.click(`section[data-screen="rating"] [data-rating="1"]`)
	if screen := tb.untilDone(); screen != "contact" {
		t.Fatalf("after a rating of 1 the survey ended on %q, want the contact screen", screen)
	}
	for _, k := range contactPhone[:6] {
		tb.click(fmt.Sprintf(`#contact-pad [data-key="%c"]`, k))
	}
	browsertest.Eval[bool](tb.b, `(window.__screens = [], new MutationObserver(() => window.__screens.push(document.body.dataset.current)).observe(document.body, {attributes: true, attributeFilter: ["data-current"]}), true)`)
	tb.await("rating")
	if seen := browsertest.Eval[[]string](tb.b, `window.__screens`); len(seen) != 1 || seen[0] != "rating" {
		t.Fatalf("screens after the citizen walked away from the pad: %v, want straight back to the faces", seen)
	}
	tb.b.WaitJS(30*time.Second, "the queue to drain", `document.getElementById("status").dataset.queued === "0"`)
	if sent := browsertest.Eval[string](tb.b, `JSON.stringify(window.__results)`); strings.Count(sent, `"case"`) != 1 {
		t.Fatalf("the server's answers since going online: %s; want a case only for the first", sent)
	}

	// Four answers counted, one case: the first, with consent, for the kiosk's agency and office.
	c := s.waitCounted(t, 4, map[string]int64{"1": 2, "2": 1, "5": 1})
	if c.reasons["waiting"] != 3 {
		t.Errorf("reasons counted %v, want waiting 3 (every unhappy citizen's follow-ups kept)", c.reasons)
	}
	var list struct {
		Cases []struct {
			AgencyID    int64  `json:"agency_id"`
			OfficeID    int64  `json:"office_id"`
			ResponseID  string `json:"response_id"`
			Channel     string `json:"channel"`
			Rating      int    `json:"rating"`
			Status      string `json:"status"`
			Consent     bool   `json:"contact_consent"`
			PhoneMasked string `json:"phone_masked"`
			Phone       string `json:"phone"`
		} `json:"cases"`
	}
	s.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/agencies/%d/cases", s.fx.agency), nil, http.StatusOK, &list)
	if len(list.Cases) != 1 {
		t.Fatalf("%d cases for the agency, want 1: %+v", len(list.Cases), list.Cases)
	}
	k := list.Cases[0]
	if k.AgencyID != int64(s.fx.agency) || k.OfficeID != int64(s.fx.office) || k.ResponseID != queued[0].ID || k.Channel != "kiosk" ||
		k.Rating != 1 || k.Status != "open" || !k.Consent || k.PhoneMasked != contactPhoneMasked || k.Phone != "" {
		t.Fatalf("case %+v; want agency %d office %d, response %s by kiosk, rating 1, open, consent, %s (masked only)",
			k, s.fx.agency, s.fx.office, queued[0].ID, contactPhoneMasked)
	}
	tb.b.CheckRequests(s.srv.url)
}

// untilDone skips every follow-up question (choosing the first reason where reasons are asked,
// so an unhappy citizen's answers are complete) and returns the screen the survey ends on:
// "thanks" or "contact". Any other screen ends the test.
func (tb *tablet) untilDone() string {
	tb.t.Helper()
	for {
		tb.b.WaitJS(20*time.Second, "the next screen", fmt.Sprintf(`+document.body.dataset.seq > %d && document.body.dataset.armed === "true"`, tb.seq))
		tb.seq = browsertest.Eval[int](tb.b, `+document.body.dataset.seq`)
		switch screen := browsertest.Eval[string](tb.b, `document.body.dataset.current`); screen {
		case "thanks", "contact":
			return screen
		case "question":
		default:
			tb.t.Fatalf("screen %q in the middle of a survey", screen)
		}
		if kind := browsertest.Eval[string](tb.b, `document.getElementById("question-body").className`); strings.Contains(kind, "type-choice multiple") {
			tb.click(`#question-body button.choice`)
			tb.click(`#question-actions .primary`)
			continue
		}
		tb.click(`#question-actions .secondary`)
	}
}

// checkContactLayout asserts the offer of a call fits the screen without scrolling, that every
// key and both answers are touch targets of at least 56 px with Persian labels, that «نه، ممنون»
// is exactly as big as «بله», that the pad keeps 1 2 3 left to right, and that its text passes
// WCAG AA contrast.
func (tb *tablet) checkContactLayout(name string) {
	tb.t.Helper()
	if cur := browsertest.Eval[string](tb.b, `document.body.dataset.current`); cur != "contact" {
		tb.t.Fatalf("%s: screen %q, want contact", name, cur)
	}
	if fits := browsertest.Eval[bool](tb.b, `document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight`); !fits {
		tb.t.Errorf("%s: the contact screen scrolls", name)
	}
	if title := browsertest.Eval[string](tb.b, `document.getElementById("contact-title").textContent`); title != "می‌خواهید با شما تماس بگیریم؟" {
		tb.t.Errorf("%s: the contact screen asks %q", name, title)
	}
	if consent := browsertest.Eval[string](tb.b, `document.getElementById("contact-consent").textContent`); !strings.Contains(consent, "رمزگذاری") || !strings.Contains(consent, "پیگیری") || !strings.Contains(consent, "پاک") {
		tb.t.Errorf("%s: the consent sentence %q does not say why the number is asked, that it is sealed and that it is deleted", name, consent)
	}
	var boxes []struct {
		Key   string  `json:"key"`
		Label string  `json:"label"`
		W     float64 `json:"w"`
		H     float64 `json:"h"`
		X     float64 `json:"x"`
		Y     float64 `json:"y"`
	}
	raw := browsertest.Eval[string](tb.b, `JSON.stringify(Array.from(document.querySelectorAll('section[data-screen="contact"] button')).map(b => {
		const r = b.getBoundingClientRect();
		return {key: b.dataset.key || b.id, label: b.getAttribute("aria-label") || b.textContent, w: r.width, h: r.height, x: r.left, y: r.top};
	}))`)
	if err := json.Unmarshal([]byte(raw), &boxes); err != nil {
		tb.t.Fatal(err)
	}
	if len(boxes) != 14 {
		tb.t.Fatalf("%s: %d buttons on the contact screen, want 12 keys and two answers: %s", name, len(boxes), raw)
	}
	at := map[string]int{}
	for i, b := range boxes {
		at[b.Key] = i
		if b.W < 56 || b.H < 56 {
			tb.t.Errorf("%s: button %s is %.0f×%.0f px, want at least 56×56", name, b.Key, b.W, b.H)
		}
		if strings.ContainsAny(b.Label, "0123456789") || strings.TrimSpace(b.Label) == "" {
			tb.t.Errorf("%s: button %s is labelled %q, want Persian", name, b.Key, b.Label)
		}
	}
	yes, no := boxes[at["contact-yes"]], boxes[at["contact-no"]]
	if math.Abs(yes.W-no.W) > 1 || math.Abs(yes.H-no.H) > 1 || math.Abs(yes.Y-no.Y) > 1 {
		tb.t.Errorf("%s: «بله» is %.0f×%.0f at y=%.0f, «نه» %.0f×%.0f at y=%.0f; want the same box side by side", name, yes.W, yes.H, yes.Y, no.W, no.H, no.Y)
	}
	if one, two, three := boxes[at["1"]], boxes[at["2"]], boxes[at["3"]]; !(one.X < two.X && two.X < three.X && one.Y == three.Y) {
		tb.t.Errorf("%s: keys 1, 2, 3 at x=%.0f, %.0f, %.0f; want a keypad row left to right", name, one.X, two.X, three.X)
	}
	low := browsertest.Eval[string](tb.b, `(() => {
		const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
		const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
		const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; if (!/rgba\(.*, 0\)$/.test(c) && c !== "transparent") return c; } return "rgb(255, 255, 255)"; };
		const bad = [];
		for (const el of document.querySelectorAll('section[data-screen="contact"] h1, section[data-screen="contact"] .consent, section[data-screen="contact"] .number, section[data-screen="contact"] .message, section[data-screen="contact"] button .label')) {
			const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(bg(el)));
			const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
			if (ratio < 4.5) bad.push(el.textContent + " " + ratio.toFixed(2));
		}
		return bad.join("; ");
	})()`)
	if low != "" {
		tb.t.Errorf("%s: text below 4.5:1 contrast: %s", name, low)
	}
}
