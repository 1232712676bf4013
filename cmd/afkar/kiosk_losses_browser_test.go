package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/afkar-gov/afkar/api/web/browsertest"
)

// These tests cover the answers a tablet could lose: those its IndexedDB will not store, and
// those the server rejects. Neither may vanish silently.

// refuseQueueWrites makes the page's IndexedDB refuse every write to the answer queue, as a full
// quota does (the rest of the database keeps working).
const refuseQueueWrites = `(() => {
	const refuse = orig => function () {
		if (this.name === "queue") throw new DOMException("the quota is full", "QuotaExceededError");
		return orig.apply(this, arguments);
	};
	IDBObjectStore.prototype.put = refuse(IDBObjectStore.prototype.put);
	IDBObjectStore.prototype.add = refuse(IDBObjectStore.prototype.add);
	return true;
})()`

// status reads one data- attribute of the status corner.
func (tb *tablet) status(attr string) string {
	return browsertest.Eval[string](tb.b, `document.getElementById("status").dataset.`+attr)
}

// beat makes the app send a heartbeat (and sync) now, as it does when the network returns.
func (tb *tablet) beat() {
	browsertest.Eval[bool](tb.b, `(window.dispatchEvent(new Event("online")), true)`)
}

// TestKioskStorageFailure: with IndexedDB refusing answers, an answer is sent at once and the
// citizen thanked; offline, it is held in memory, the citizen still thanked, and it is sent when
// the network returns. Each is counted once, and staff see the storage errors in the status
// corner and in the fleet list.
func TestKioskStorageFailure(t *testing.T) {
	s := newKioskSite(t)
	tb := openTablet(t, s, 1280, 800)
	browsertest.Eval[bool](tb.b, refuseQueueWrites)
	tb.watchSync()

	// Online: sent alone, at once, acknowledged before the thank-you screen.
	tb.answer(5, 0, "")
	if left := browsertest.Eval[string](tb.b, idbQueue); left != "[]" {
		t.Fatalf("IndexedDB took an answer it should have refused: %s", left)
	}
	tb.b.WaitJS(5*time.Second, "the server's answer", `window.__results.length === 1`)
	first := tb.syncResults()
	if len(first) != 1 {
		t.Fatalf("results before the thank-you screen ended: %v", first)
	}
	for id, got := range first {
		if len(got) != 1 || got[0] != "accepted" {
			t.Fatalf("answer %s: server said %v, want [accepted]", id, got)
		}
	}
	tb.b.WaitJS(5*time.Second, "one storage error in the status corner", `document.getElementById("status").dataset.storageErrors === "1"`)
	tb.await("rating")
	s.waitCounted(t, 1, map[string]int64{"5": 1})

	// Offline: nowhere to store it, no server to take it; held in memory, the citizen thanked.
	tb.setOffline(true)
	tb.answer(4, 0, "")
	tb.await("rating")
	if n, errs := tb.queued(), tb.status("storageErrors"); n != 1 || errs != "2" {
		t.Fatalf("offline: %d queued, %s storage errors; want 1 held in memory and 2", n, errs)
	}
	if left := browsertest.Eval[string](tb.b, idbQueue); left != "[]" {
		t.Fatalf("IndexedDB took an answer it should have refused: %s", left)
	}
	if mark := browsertest.Eval[string](tb.b, `document.getElementById("status-alert").hidden ? "" : document.getElementById("status-alert").textContent`); !strings.Contains(mark, "خطای ذخیره ۲") {
		t.Errorf("the status corner shows %q, want the storage errors", mark)
	}
	if c := s.counts(t); c.responses != 1 {
		t.Fatalf("%d responses counted while offline, want 1", c.responses)
	}

	// Back online: the held answer is sent; both are counted once, and the heartbeat tells staff.
	tb.setOffline(false)
	tb.b.WaitJS(60*time.Second, "the held answer sent", `document.getElementById("status").dataset.queued === "0"`)
	s.waitCounted(t, 2, map[string]int64{"4": 1, "5": 1})
	all := tb.syncResults()
	if len(all) != 2 {
		t.Fatalf("the server answered for %d answers, want 2: %v", len(all), all)
	}
	for id, got := range all {
		if len(got) != 1 || got[0] != "accepted" {
			t.Errorf("answer %s: server said %v, want [accepted] once", id, got)
		}
	}
	tb.beat()
	var k fleetEntry
	waitFor(t, 20*time.Second, "the heartbeat's storage errors in the fleet list", func() bool {
		k = s.listed(t)
		return k.StorageErrors == 2
	})
	if k.Rejected != 0 {
		t.Fatalf("fleet list: %+v, want no rejected answers", k)
	}
	tb.b.CheckPage()
	tb.b.CheckRequests(s.srv.url)
}

// TestKioskRejectedInBrowser: an answer the server rejects (a face of 9) leaves the queue, is
// logged with the server's code, counted in the status corner — across a reload — and reported
// by the heartbeat; it is never counted as a response.
func TestKioskRejectedInBrowser(t *testing.T) {
	s := newKioskSite(t)
	tb := openTablet(t, s, 1280, 800)
	tb.watchSync()
	id := browsertest.Eval[string](tb.b, `window.afkarKiosk.uuidv7()`)
	browsertest.Eval[bool](tb.b, `new Promise((ok, fail) => {
		const open = indexedDB.open("afkar-kiosk");
		open.onerror = () => fail(open.error);
		open.onsuccess = () => {
			const db = open.result;
			const get = db.transaction("kv").objectStore("kv").get("config");
			get.onsuccess = () => {
				const sv = get.result.survey;
				const tx = db.transaction("queue", "readwrite");
				tx.objectStore("queue").put({id: "`+id+`", survey_id: sv.id, survey_version: sv.version,
					submitted_at: new Date().toISOString(), answers: [{question_id: sv.questions[0].id, value: 9}], queued_at: Date.now()});
				tx.oncomplete = () => ok(true);
				tx.onerror = () => fail(tx.error);
			};
		};
	})`)
	tb.beat()
	tb.b.WaitJS(30*time.Second, "the rejection counted", `document.getElementById("status").dataset.rejected === "1" && document.getElementById("status").dataset.queued === "0"`)
	if got := tb.syncResults()[id]; len(got) != 1 || got[0] != "rejected" {
		t.Fatalf("the bad answer: server said %v, want [rejected]", got)
	}
	if left := browsertest.Eval[string](tb.b, idbQueue); left != "[]" {
		t.Fatalf("the rejected answer stays queued: %s", left)
	}
	var log struct {
		Rejected int `json:"rejected"`
		Log      []struct {
			ID   string    `json:"id"`
			Code string    `json:"code"`
			At   time.Time `json:"at"`
		} `json:"log"`
	}
	if err := json.Unmarshal([]byte(browsertest.Eval[string](tb.b, `localStorage.getItem("afkar-kiosk-losses")`)), &log); err != nil {
		t.Fatal(err)
	}
	if log.Rejected != 1 || len(log.Log) != 1 || log.Log[0].ID != id || log.Log[0].Code != "invalid" || time.Since(log.Log[0].At) > time.Minute {
		t.Fatalf("the rejected log: %+v", log)
	}

	// The count outlives a reload, and the heartbeat reports it.
	tb.b.Do(chromedp.Reload())
	tb.seq = 0
	tb.await("rating")
	if n := tb.status("rejected"); n != "1" {
		t.Fatalf("after a reload the status corner counts %s rejected, want 1", n)
	}
	if mark := browsertest.Eval[string](tb.b, `document.getElementById("status-alert").textContent`); !strings.Contains(mark, "ردشده ۱") {
		t.Errorf("the status corner shows %q, want the rejected count", mark)
	}
	tb.beat()
	waitFor(t, 20*time.Second, "rejected=1 in the fleet list", func() bool { return s.listed(t).Rejected == 1 })

	// A good answer afterwards is the only one counted.
	tb.answer(3, 0, "")
	s.waitCounted(t, 1, map[string]int64{"3": 1})
	if k := s.listed(t); k.Rejected != 1 || k.StorageErrors != 0 {
		t.Fatalf("fleet list %+v, want rejected 1 and no storage errors", k)
	}
	tb.b.CheckRequests(s.srv.url)
}
