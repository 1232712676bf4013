package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// kioskNow is the fake clock's start: Tuesday 1 December 2026, 10:00 in Tehran, when an office
// with the default hours is open.
var kioskNow = time.Date(2026, 12, 1, 10, 0, 0, 0, survey.Tehran)

// kioskEnv is the API over the real store, intake and kiosk channel, on one dialect.
type kioskEnv struct {
	*harness
	store     *sqlstore.Store
	clock     *survey.ManualClock
	f         realFixture
	taxAdmin  string
	regAdmin  string
	regOffice survey.Office
	responses map[string]survey.Response // drained from the inbox
}

func newKioskEnv(t *testing.T, store *sqlstore.Store, pairLimit int) *kioskEnv {
	t.Helper()
	ctx := context.Background()
	e := &kioskEnv{store: store, clock: survey.NewManualClock(kioskNow), f: seedStore(t, store), responses: map[string]survey.Response{}}
	var err error
	if e.taxAdmin, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.f.tax.ID, Name: "tax admin"}); err != nil {
		t.Fatal(err)
	}
	if e.regAdmin, err = store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.f.registry.ID, Name: "registry admin"}); err != nil {
		t.Fatal(err)
	}
	e.regOffice = survey.Office{AgencyID: e.f.registry.ID, Name: "دفتر ثبت"}
	if err := store.CreateOffice(ctx, &e.regOffice); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	in := intake.New(store, store.Inbox(), nil, intake.Options{Stored: store, Clock: e.clock, Logger: log})
	t.Cleanup(in.Close)
	svc := kiosk.NewService(store, in, kiosk.Options{Clock: e.clock, Logger: log})
	e.harness = start(t, api.Deps{Catalog: store, Auth: store, Intake: in, Scores: analytics.NewScores(store, store),
		Kiosks: svc, PairRateLimit: pairLimit})
	return e
}

// eachKioskDialect runs fn on a fresh environment per dialect, in parallel.
func eachKioskDialect(t *testing.T, fn func(t *testing.T, e *kioskEnv)) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) { fn(t, newKioskEnv(t, store, 0)) })
}

func (e *kioskEnv) send(t *testing.T, method, path, token string, body any) reply {
	t.Helper()
	var s string
	switch b := body.(type) {
	case nil:
	case string:
		s = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		s = string(raw)
	}
	ct := ""
	if s != "" {
		ct = "application/json"
	}
	return e.request(t, method, path, token, ct, s)
}

// created is POST /api/v1/kiosks's answer.
type created struct {
	ID               survey.ID `json:"id"`
	AgencyID         survey.ID `json:"agency_id"`
	OfficeID         survey.ID `json:"office_id"`
	Name             string    `json:"name"`
	FreeText         bool      `json:"free_text"`
	PairingCode      string    `json:"pairing_code"`
	PairingExpiresAt time.Time `json:"pairing_expires_at"`
	PairURL          string    `json:"pair_url"`
}

func (e *kioskEnv) createKiosk(t *testing.T, token string, office survey.ID, name string) created {
	t.Helper()
	var c created
	e.send(t, http.MethodPost, "/api/v1/kiosks", token, map[string]any{"office_id": office, "name": name}).
		wantStatus(t, http.StatusCreated).json(t, &c)
	return c
}

// paired is POST /api/v1/kiosk/pair's answer.
type paired struct {
	Token string         `json:"token"`
	Kiosk kiosk.Identity `json:"kiosk"`
}

func (e *kioskEnv) pair(t *testing.T, code string) paired {
	t.Helper()
	var p paired
	e.send(t, http.MethodPost, "/api/v1/kiosk/pair", "", map[string]string{"code": code}).wantStatus(t, http.StatusOK).json(t, &p)
	return p
}

// newPairedKiosk creates a kiosk in the tax office, makes the office always open unless hours
// are given, and pairs it.
func (e *kioskEnv) newPairedKiosk(t *testing.T, hours *survey.OfficeHours) (created, string) {
	t.Helper()
	h := survey.OfficeHours{AlwaysOpen: true}
	if hours != nil {
		h = *hours
	}
	e.send(t, http.MethodPut, fmt.Sprintf("/api/v1/offices/%d/hours", e.f.office.ID), e.taxAdmin, h).wantStatus(t, http.StatusOK)
	c := e.createKiosk(t, e.taxAdmin, e.f.office.ID, "کیوسک سالن")
	return c, e.pair(t, c.PairingCode).Token
}

// item is one batch item answering the tax survey's version with rating q1.
func (e *kioskEnv) item(id string, at time.Time, rating int) map[string]any {
	return map[string]any{"id": id, "survey_id": e.f.version.SurveyID, "survey_version": 1,
		"submitted_at": at.UTC().Format(time.RFC3339Nano), "answers": []map[string]any{{"question_id": "q1", "value": rating}}}
}

// batchReply is POST /api/v1/kiosk/responses's answer.
type batchReply struct {
	SkewMS    int64 `json:"skew_ms"`
	Corrected bool  `json:"corrected"`
	Results   []struct {
		ID     string        `json:"id"`
		Status string        `json:"status"`
		Flag   string        `json:"flag"`
		Error  *survey.Error `json:"error"`
	} `json:"results"`
}

func (e *kioskEnv) batch(t *testing.T, token string, sentAt time.Time, items ...any) batchReply {
	t.Helper()
	var r batchReply
	e.send(t, http.MethodPost, "/api/v1/kiosk/responses", token, map[string]any{"sent_at": sentAt.UTC().Format(time.RFC3339Nano), "items": items}).
		wantStatus(t, http.StatusOK).json(t, &r)
	if len(r.Results) != len(items) {
		t.Fatalf("%d results for %d items", len(r.Results), len(items))
	}
	return r
}

// statuses lists each result as "status" or "status/flag".
func (r batchReply) statuses() string {
	var out []string
	for _, x := range r.Results {
		s := x.Status
		if x.Flag != "" {
			s += "/" + x.Flag
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func (r batchReply) want(t *testing.T, want string) {
	t.Helper()
	if got := r.statuses(); got != want {
		t.Fatalf("results %q, want %q (%+v)", got, want, r.Results)
	}
}

// drain reads what intake buffered since the last drain into e.responses.
func (e *kioskEnv) drain(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for {
		ds, err := e.store.Inbox().Read(ctx, "kiosk-test", 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			return
		}
		refs := make([]string, 0, len(ds))
		for _, d := range ds {
			if d.Err != nil {
				t.Fatal(d.Err)
			}
			if _, dup := e.responses[d.Response.ID]; dup {
				t.Fatalf("response %s buffered twice", d.Response.ID)
			}
			e.responses[d.Response.ID] = d.Response
			refs = append(refs, d.Ref)
		}
		if err := e.store.Inbox().Ack(ctx, refs); err != nil {
			t.Fatal(err)
		}
	}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func TestKioskPairing(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		office := e.f.office.ID
		c := e.createKiosk(t, e.taxAdmin, office, "  کیوسک سالن انتظار  ")
		if c.ID == 0 || c.AgencyID != e.f.tax.ID || c.OfficeID != office || c.Name != "کیوسک سالن انتظار" || c.FreeText ||
			len(c.PairingCode) != 8 || !c.PairingExpiresAt.Equal(kioskNow.Add(15*time.Minute)) {
			t.Fatalf("created %+v", c)
		}
		if want := e.url + "/kiosk/#code=" + c.PairingCode; c.PairURL != want {
			t.Fatalf("pair_url %q, want %q", c.PairURL, want)
		}
		var ft created
		e.send(t, http.MethodPost, "/api/v1/kiosks", adminToken, map[string]any{"office_id": office, "name": "با متن", "free_text": true}).
			wantStatus(t, http.StatusCreated).json(t, &ft)
		if !ft.FreeText || ft.PairingCode == c.PairingCode {
			t.Fatalf("free-text kiosk %+v", ft)
		}

		// Who may create where: another agency's office is not found, like an unknown one.
		create := func(token string, office survey.ID, name string) reply {
			return e.send(t, http.MethodPost, "/api/v1/kiosks", token, map[string]any{"office_id": office, "name": name})
		}
		create(e.regAdmin, office, "x").envelope(t, http.StatusNotFound, "not_found")
		create(e.taxAdmin, e.regOffice.ID, "x").envelope(t, http.StatusNotFound, "not_found")
		create(e.taxAdmin, office+1000, "x").envelope(t, http.StatusNotFound, "not_found")
		create(e.f.taxStaff, office, "x").envelope(t, http.StatusForbidden, "forbidden")
		create(e.f.province, office, "x").envelope(t, http.StatusForbidden, "forbidden")
		create(e.f.kiosk, office, "x").envelope(t, http.StatusForbidden, "forbidden")
		create("", office, "x").envelope(t, http.StatusUnauthorized, "unauthorized")
		if f := create(e.taxAdmin, office, " ").envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["name"].Code != "required" {
			t.Fatalf("empty name: %+v", f)
		}
		if f := create(e.taxAdmin, office, strings.Repeat("ک", 101)).envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["name"].Code != "too_long" {
			t.Fatalf("long name: %+v", f)
		}
		e.send(t, http.MethodPost, "/api/v1/kiosks", e.taxAdmin, `{"office_id":1,"name":"x","color":"red"}`).envelope(t, http.StatusBadRequest, "bad_request")
		e.request(t, http.MethodPost, "/api/v1/kiosks", e.taxAdmin, "text/plain", `{}`).envelope(t, http.StatusUnsupportedMediaType, "unsupported_media_type")

		// The printable sheet and the QR code, while the code is pending.
		sheet := e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), e.taxAdmin).wantStatus(t, http.StatusOK)
		html := string(sheet.body)
		display := c.PairingCode[:4] + "-" + c.PairingCode[4:]
		for _, want := range []string{`lang="fa"`, `dir="rtl"`, "@page", "A4", display, survey.FormatPersianDigits(display),
			"data:image/png;base64,", "کیوسک سالن انتظار", e.f.tax.Name, e.f.office.Name, "۱۰ آذر ۱۴۰۵، ساعت ۱۰:۱۵", "جفت‌سازی"} {
			if !strings.Contains(html, want) {
				t.Errorf("pairing sheet lacks %q", want)
			}
		}
		if ct := sheet.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("sheet content type %q", ct)
		}
		if csp := sheet.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src data:") {
			t.Errorf("sheet CSP %q", csp)
		}
		qr := e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing.png", c.ID), e.taxAdmin).wantStatus(t, http.StatusOK)
		if qr.header.Get("Content-Type") != "image/png" {
			t.Fatalf("QR content type %q", qr.header.Get("Content-Type"))
		}
		if img, err := png.Decode(bytes.NewReader(qr.body)); err != nil || img.Bounds().Dx() < 256 {
			t.Fatalf("QR is not a usable PNG: %v", err)
		}
		e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing.png", c.ID), e.f.taxStaff).envelope(t, http.StatusForbidden, "forbidden")
		e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing.png", c.ID), e.regAdmin).envelope(t, http.StatusNotFound, "not_found")

		// Pairing with the code as a person types it: lower case, a space, Persian digits.
		typed := strings.ToLower(c.PairingCode[:4]) + " " + survey.FormatPersianDigits(c.PairingCode[4:])
		p := e.pair(t, typed)
		if !strings.HasPrefix(p.Token, "afkk_") || p.Kiosk.ID != c.ID || p.Kiosk.AgencyID != e.f.tax.ID || p.Kiosk.OfficeID != office ||
			p.Kiosk.AgencyName != e.f.tax.Name || p.Kiosk.OfficeName != e.f.office.Name || p.Kiosk.Name != c.Name {
			t.Fatalf("paired %+v", p)
		}
		pairErr := func(code, want string) {
			t.Helper()
			env := e.send(t, http.MethodPost, "/api/v1/kiosk/pair", "", map[string]string{"code": code}).envelope(t, http.StatusUnprocessableEntity, "invalid")
			if f := env.Error.Fields["code"]; f.Code != want || f.MessageFA == "" {
				t.Fatalf("pairing with %q: fields %+v, want code: %s", code, env.Error.Fields, want)
			}
		}
		// Single use; the sheet and QR code are gone with it.
		pairErr(c.PairingCode, "pairing_code_used")
		e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing.png", c.ID), e.taxAdmin).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), e.taxAdmin).envelope(t, http.StatusNotFound, "not_found")
		pairErr("ZZZZ2222", "pairing_code_unknown")
		pairErr("not a code", "pairing_code_unknown")
		pairErr("", "pairing_code_unknown")
		// Expiry: the free-text kiosk's code outlives 15 minutes by nothing.
		e.clock.Advance(15 * time.Minute)
		pairErr(ft.PairingCode, "pairing_code_expired")
		e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing.png", ft.ID), e.taxAdmin).envelope(t, http.StatusNotFound, "not_found")
		// A fresh code works, for another 15 minutes.
		var np struct {
			Code      string    `json:"pairing_code"`
			ExpiresAt time.Time `json:"pairing_expires_at"`
			PairURL   string    `json:"pair_url"`
		}
		e.send(t, http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", ft.ID), e.taxAdmin, nil).wantStatus(t, http.StatusOK).json(t, &np)
		if np.Code == ft.PairingCode || !np.ExpiresAt.Equal(e.clock.Now().Add(15*time.Minute)) || !strings.HasSuffix(np.PairURL, "#code="+np.Code) {
			t.Fatalf("new pairing %+v", np)
		}
		e.send(t, http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", ft.ID), e.f.taxStaff, nil).envelope(t, http.StatusForbidden, "forbidden")
		e.send(t, http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", ft.ID), e.regAdmin, nil).envelope(t, http.StatusNotFound, "not_found")
		e.send(t, http.MethodPost, "/api/v1/kiosks/99999/pairing", adminToken, nil).envelope(t, http.StatusNotFound, "not_found")
		pairErr(ft.PairingCode, "pairing_code_unknown") // replaced
		e.pair(t, kiosk.DisplayCode(np.Code))

		// Malformed bodies.
		e.send(t, http.MethodPost, "/api/v1/kiosk/pair", "", `{"code":"ABCD2345","x":1}`).envelope(t, http.StatusBadRequest, "bad_request")
		e.send(t, http.MethodPost, "/api/v1/kiosk/pair", "", `{"code":12}`).envelope(t, http.StatusUnprocessableEntity, "invalid")
	})
}

// Pairing attempts are limited per client IP.
func TestKioskPairRateLimit(t *testing.T) {
	t.Parallel()
	e := newKioskEnv(t, sqltest.Open(t, sqlstore.DialectSQLite), 3)
	for i := 0; i < 3; i++ {
		e.send(t, http.MethodPost, "/api/v1/kiosk/pair", "", map[string]string{"code": "ZZZZ2222"}).envelope(t, http.StatusUnprocessableEntity, "invalid")
	}
	r := e.send(t, http.MethodPost, "/api/v1/kiosk/pair", "", map[string]string{"code": "ZZZZ2222"})
	r.envelope(t, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// The limit is the pairing route's own: other routes are not affected.
	e.get(t, "/api/v1/agencies", adminToken).wantStatus(t, http.StatusOK)
}

func TestKioskTokens(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		c, first := e.newPairedKiosk(t, nil)
		config := func(token string) reply { return e.get(t, "/api/v1/kiosk/config", token) }
		config(first).wantStatus(t, http.StatusOK)

		// Device routes take device tokens only; device tokens open nothing else.
		for _, tok := range []string{"", adminToken, e.taxAdmin, e.f.kiosk, "afkk_" + strings.Repeat("A", 43), first + "x"} {
			config(tok).envelope(t, http.StatusUnauthorized, "unauthorized")
			e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", tok, map[string]any{"clock": kioskNow}).envelope(t, http.StatusUnauthorized, "unauthorized")
		}
		e.get(t, "/api/v1/agencies", first).envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, "/api/v1/kiosks", first).envelope(t, http.StatusUnauthorized, "unauthorized")
		e.post(t, first, validBody("")).envelope(t, http.StatusUnauthorized, "unauthorized")

		// Re-pairing rotates the token: the old one works until the new code is used.
		var np struct {
			Code string `json:"pairing_code"`
		}
		e.send(t, http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), e.taxAdmin, nil).wantStatus(t, http.StatusOK).json(t, &np)
		config(first).wantStatus(t, http.StatusOK)
		second := e.pair(t, np.Code).Token
		if second == first {
			t.Fatal("re-pairing returned the same token")
		}
		config(first).envelope(t, http.StatusUnauthorized, "unauthorized")
		config(second).wantStatus(t, http.StatusOK)

		// Revoking: 204, the token stops working, the kiosk is unpaired; only managers may.
		path := fmt.Sprintf("/api/v1/kiosks/%d/token", c.ID)
		e.send(t, http.MethodDelete, path, e.f.taxStaff, nil).envelope(t, http.StatusForbidden, "forbidden")
		e.send(t, http.MethodDelete, path, e.regAdmin, nil).envelope(t, http.StatusNotFound, "not_found")
		e.send(t, http.MethodDelete, "/api/v1/kiosks/99999/token", adminToken, nil).envelope(t, http.StatusNotFound, "not_found")
		e.send(t, http.MethodDelete, "/api/v1/kiosks/abc/token", adminToken, nil).envelope(t, http.StatusNotFound, "not_found")
		e.send(t, http.MethodDelete, path, e.taxAdmin, nil).wantStatus(t, http.StatusNoContent)
		config(second).envelope(t, http.StatusUnauthorized, "unauthorized")
		var list struct {
			Kiosks []kiosk.Listing `json:"kiosks"`
		}
		e.get(t, "/api/v1/kiosks", e.taxAdmin).wantStatus(t, http.StatusOK).json(t, &list)
		if len(list.Kiosks) != 1 || list.Kiosks[0].Status != kiosk.StatusUnpaired {
			t.Fatalf("after revoking: %+v", list.Kiosks)
		}
		// Revoking again is harmless.
		e.send(t, http.MethodDelete, path, e.taxAdmin, nil).wantStatus(t, http.StatusNoContent)
	})
}

func TestKioskConfig(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		hours := survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "tue", Open: "07:30", Close: "14:30"}},
			Holidays: []string{"1405-01-01", "1406-01-01", "1399-01-01"}}
		c, token := e.newPairedKiosk(t, &hours)
		var cfg struct {
			Kiosk             kiosk.Identity     `json:"kiosk"`
			Survey            *json.RawMessage   `json:"survey"`
			Hours             survey.OfficeHours `json:"hours"`
			HolidaysGregorian []string           `json:"holidays_gregorian"`
			OpenNow           bool               `json:"open_now"`
			ServerTime        time.Time          `json:"server_time"`
			Settings          kiosk.Settings     `json:"settings"`
		}
		e.get(t, "/api/v1/kiosk/config", token).wantStatus(t, http.StatusOK).json(t, &cfg)
		if cfg.Kiosk.ID != c.ID || cfg.Kiosk.AgencyName != e.f.tax.Name || cfg.Kiosk.OfficeName != e.f.office.Name || cfg.Kiosk.FreeText {
			t.Fatalf("kiosk %+v", cfg.Kiosk)
		}
		if len(cfg.Hours.Weekly) != 1 || !cfg.OpenNow || !cfg.ServerTime.Equal(kioskNow) ||
			strings.Join(cfg.HolidaysGregorian, ",") != "2026-03-21,2027-03-21" {
			t.Fatalf("config %+v", cfg)
		}
		if cfg.Settings != (kiosk.Settings{IdleSeconds: 20, ThanksSeconds: 3, MinIntervalSeconds: 4, HeartbeatSeconds: 60, SyncBatch: 50}) {
			t.Fatalf("settings %+v", cfg.Settings)
		}
		// The survey exactly as GET /agencies/{id}/survey gives it.
		public := e.get(t, fmt.Sprintf("/api/v1/agencies/%d/survey", e.f.tax.ID), "").wantStatus(t, http.StatusOK)
		var a, b any
		if cfg.Survey == nil || json.Unmarshal(*cfg.Survey, &a) != nil || json.Unmarshal(public.body, &b) != nil || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("config survey %s\nwant %s", func() []byte {
				if cfg.Survey == nil {
					return nil
				}
				return *cfg.Survey
			}(), public.body)
		}
		// Wednesday at 10:00 the office is closed.
		e.clock.Advance(24 * time.Hour)
		e.get(t, "/api/v1/kiosk/config", token).wantStatus(t, http.StatusOK).json(t, &cfg)
		if cfg.OpenNow {
			t.Fatal("open on Wednesday")
		}
	})
}

func TestKioskBatch(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		c, token := e.newPairedKiosk(t, nil)
		now := kioskNow
		ids := []string{newID(), newID(), newID(), newID(), newID()}
		at := func(i int) time.Time { return now.Add(time.Duration(i-10) * time.Minute) }
		items := func(idx ...int) []any {
			var out []any
			for _, i := range idx {
				out = append(out, e.item(ids[i], at(i), 3+i%3))
			}
			return out
		}
		first := e.batch(t, token, now, items(0, 1, 2)...)
		first.want(t, "accepted accepted accepted")
		if first.Corrected || first.SkewMS != 0 || first.Results[1].ID != ids[1] {
			t.Fatalf("first batch %+v", first)
		}
		// The same batch again: nothing new.
		e.batch(t, token, now, items(0, 1, 2)...).want(t, "duplicate duplicate duplicate")
		// Overlapping batches: the old items are duplicates, the new ones accepted.
		e.batch(t, token, now, items(1, 3, 2, 4)...).want(t, "duplicate accepted duplicate accepted")
		e.drain(t)
		if len(e.responses) != 5 {
			t.Fatalf("%d responses buffered, want 5", len(e.responses))
		}
		r := e.responses[ids[3]]
		if r.Channel != survey.ChannelKiosk || r.DeviceID != c.ID || r.OfficeID != e.f.office.ID || r.AgencyID != e.f.tax.ID ||
			!r.SubmittedAt.Equal(at(3)) || r.Flag != "" {
			t.Fatalf("stored response %+v", r)
		}

		// Invalid items are rejected with their reasons; the rest are accepted.
		good1, good2 := newID(), newID()
		bad := e.item(newID(), now, 9)
		otherSurvey := e.item(newID(), now, 4)
		otherSurvey["survey_id"] = 12345
		noTime := e.item(newID(), now, 4)
		delete(noTime, "submitted_at")
		noID := e.item("", now, 4)
		extra := e.item(newID(), now, 4)
		extra["agency_id"] = e.f.registry.ID
		wrongType := e.item(newID(), now, 4)
		wrongType["survey_version"] = "one"
		future := e.item(newID(), now.Add(time.Hour), 4)
		res := e.batch(t, token, now, e.item(good1, now.Add(-time.Minute), 5), bad, otherSurvey, noTime, noID, extra, wrongType,
			json.RawMessage(`"not an object"`), future, e.item(good2, now.Add(-30*time.Second), 4))
		res.want(t, "accepted rejected rejected rejected rejected rejected rejected rejected rejected accepted")
		for i, field := range map[int]string{1: "answers[0].value", 2: "survey_id", 3: "submitted_at", 4: "id", 6: "survey_version", 8: "submitted_at"} {
			x := res.Results[i]
			if x.Error == nil || x.Error.Code != survey.ECodeInvalid || x.Error.MessageFA == "" || x.Error.Fields[field].Code == "" {
				t.Errorf("item %d: error %+v, want a field error on %s", i, x.Error, field)
			}
		}
		if res.Results[2].Error.Fields["survey_id"].Code != "survey_mismatch" {
			t.Errorf("another survey: %+v", res.Results[2].Error)
		}
		if res.Results[5].Error == nil || res.Results[5].Error.Code != survey.ECodeBadRequest {
			t.Errorf("an item naming its agency: %+v", res.Results[5].Error)
		}
		if res.Results[1].ID != bad["id"] || res.Results[4].ID != "" {
			t.Errorf("result ids %q, %q", res.Results[1].ID, res.Results[4].ID)
		}
		// The same id with other answers is an id conflict, and is rejected.
		conflict := e.item(good1, now.Add(-time.Minute), 1)
		conflict["answers"] = []map[string]any{{"question_id": "q1", "value": 1}, {"question_id": "q2", "value": "slow"}}
		res = e.batch(t, token, now, conflict)
		res.want(t, "rejected")
		if res.Results[0].Error.Code != survey.ECodeIDConflict {
			t.Fatalf("reused id: %+v", res.Results[0].Error)
		}

		// A new version is published; answers given offline on the old one are still accepted.
		v2 := e.f.version
		v2.Version = 0
		v2.Questions = append(append([]survey.Question{}, v2.Questions...), survey.Question{ID: "q4", Type: survey.TypeYesNo, Title: "دوباره می‌آیید؟"})
		if err := e.store.PublishVersion(context.Background(), &v2); err != nil {
			t.Fatal(err)
		}
		onV2 := e.item(newID(), now.Add(-20*time.Second), 4)
		onV2["survey_version"] = 2
		onV9 := e.item(newID(), now.Add(-15*time.Second), 4)
		onV9["survey_version"] = 9
		e.batch(t, token, now, e.item(newID(), now.Add(-40*time.Second), 3), onV2, onV9).want(t, "accepted accepted rejected")

		// Whole-batch problems are 4xx and store nothing.
		post := func(body any) reply { return e.send(t, http.MethodPost, "/api/v1/kiosk/responses", token, body) }
		if f := post(map[string]any{"items": items(0)}).envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["sent_at"].Code != "required" {
			t.Fatalf("no sent_at: %+v", f)
		}
		if f := post(map[string]any{"sent_at": now, "items": []any{}}).envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["items"].Code != "count" {
			t.Fatalf("no items: %+v", f)
		}
		many := make([]any, 101)
		for i := range many {
			many[i] = e.item(newID(), now, 4)
		}
		post(map[string]any{"sent_at": now, "items": many}).envelope(t, http.StatusUnprocessableEntity, "invalid")
		post(`{"sent_at":"2026-12-01T06:30:00Z","items":[],"agency_id":1}`).envelope(t, http.StatusBadRequest, "bad_request")
		post(`{"sent_at":"yesterday","items":[]}`).envelope(t, http.StatusBadRequest, "bad_request")

		// A hundred items fit the body limit.
		hundred := make([]any, 100)
		for i := range hundred {
			it := e.item(newID(), now.Add(-time.Duration(100-i)*5*time.Second), 4)
			it["answers"] = []map[string]any{{"question_id": "q1", "value": 4}, {"question_id": "q3", "text": strings.Repeat("خوب بود. ", 20)}}
			hundred[i] = it
		}
		if r := e.batch(t, token, now, hundred...); strings.Count(r.statuses(), "accepted") != 100 {
			t.Fatalf("100 items: %s", r.statuses())
		}

		// Every batch is recorded.
		syncs, err := e.store.KioskSyncs(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(syncs) != 7 || syncs[0].Items != 3 || syncs[0].Accepted != 3 || syncs[1].Duplicates != 3 ||
			syncs[2].Accepted != 2 || syncs[2].Duplicates != 2 || syncs[3].Rejected != 8 || syncs[3].Accepted != 2 || syncs[4].Rejected != 1 {
			t.Fatalf("syncs %+v", syncs)
		}
	})
}

func TestKioskClockSkew(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		c, token := e.newPairedKiosk(t, nil)
		now := kioskNow
		minute := 0
		check := func(name string, tabletOff time.Duration, wantCorrected bool) {
			t.Helper()
			id := newID()
			minute++
			pressed := now.Add(-time.Duration(10+minute) * time.Minute) // the true time of the press
			r := e.batch(t, token, now.Add(-tabletOff), e.item(id, pressed.Add(-tabletOff), 4))
			r.want(t, "accepted")
			if r.Corrected != wantCorrected || r.SkewMS != tabletOff.Milliseconds() {
				t.Fatalf("%s: skew %d ms, corrected %v", name, r.SkewMS, r.Corrected)
			}
			e.drain(t)
			want := pressed
			if !wantCorrected {
				want = pressed.Add(-tabletOff)
			}
			if got := e.responses[id].SubmittedAt; !got.Equal(want) {
				t.Fatalf("%s: stored submitted_at %s, want %s", name, got, want)
			}
			k, _ := e.store.Kiosk(context.Background(), c.ID)
			if k.SkewMS != tabletOff.Milliseconds() {
				t.Fatalf("%s: kiosk skew_ms %d", name, k.SkewMS)
			}
		}
		check("3 hours slow", 3*time.Hour, true)
		check("2 years slow", now.Sub(now.AddDate(-2, 0, 0)), true)
		check("3 hours fast", -3*time.Hour, true)
		check("within tolerance", 90*time.Second, false)
		check("on time", 0, false)

		// A resend after the tablet's clock was fixed keeps the corrected time: a duplicate, not
		// a conflict.
		id := newID()
		slow := 3 * time.Hour
		e.batch(t, token, now.Add(-slow), e.item(id, now.Add(-time.Minute-slow), 4)).want(t, "accepted")
		e.clock.Advance(time.Minute)
		r := e.batch(t, token, e.clock.Now(), e.item(id, now.Add(-time.Minute-slow), 4))
		r.want(t, "duplicate")
		if r.Corrected {
			t.Fatal("a batch on time was corrected")
		}

		syncs, _ := e.store.KioskSyncs(context.Background(), c.ID)
		if len(syncs) != 7 || !syncs[0].Corrected || syncs[0].SkewMS != slow.Milliseconds() || syncs[3].Corrected ||
			!syncs[0].SentAt.Equal(now.Add(-slow)) || !syncs[0].ReceivedAt.Equal(now) {
			t.Fatalf("syncs %+v", syncs)
		}
	})
}

func TestKioskStuffingFilter(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		def := survey.DefaultOfficeHours()
		c, token := e.newPairedKiosk(t, &def)
		base := kioskNow.Add(-time.Hour) // 09:00 Tuesday: open
		at := func(sec float64) time.Time { return base.Add(time.Duration(sec * float64(time.Second))) }
		type press struct {
			id  string
			sec float64
		}
		var all []press
		batch := func(want string, secs ...float64) batchReply {
			t.Helper()
			var items []any
			for _, s := range secs {
				p := press{newID(), s}
				all = append(all, p)
				items = append(items, e.item(p.id, at(s), 4))
			}
			r := e.batch(t, token, kioskNow, items...)
			r.want(t, want)
			return r
		}
		// Interval: 3 s after a press is too soon, 4 s is not.
		batch("accepted accepted/interval accepted", 0, 3, 7)
		// Burst (10 a minute): presses 11 to 14 of the minute are flagged.
		batch("accepted accepted accepted accepted accepted accepted accepted accepted/burst accepted/burst", 11, 15, 19, 23, 27, 31, 35, 39, 43)
		// After hours: 06:00 and 15:00 Tehran.
		early, late := newID(), newID()
		e.batch(t, token, kioskNow, e.item(early, kioskNow.Add(-4*time.Hour), 4), e.item(late, kioskNow.Add(5*time.Hour-time.Minute), 4)).
			want(t, "accepted/after_hours rejected")
		// (15:00 is in the future for the server: the late press was rejected; file one yesterday.)
		e.batch(t, token, kioskNow, e.item(late, kioskNow.Add(-19*time.Hour), 4)).want(t, "accepted/after_hours")
		// Out-of-order arrival: a press 2 s before the first arrives late; one well apart is fine.
		batch("accepted/interval accepted", -2, -30)
		// A resend keeps its verdict, whatever has been recorded since.
		resend := []any{e.item(all[1].id, at(3), 4), e.item(all[0].id, at(0), 4), e.item(all[10].id, at(39), 4), e.item(early, kioskNow.Add(-4*time.Hour), 4)}
		e.batch(t, token, kioskNow, resend...).want(t, "duplicate/interval duplicate duplicate/burst duplicate/after_hours")

		// The flags travel with the stored responses, and the presses are recorded.
		e.drain(t)
		if f := e.responses[all[1].id].Flag; f != survey.FlagInterval {
			t.Fatalf("stored flag %q", f)
		}
		if f := e.responses[early].Flag; f != survey.FlagAfterHours {
			t.Fatalf("stored flag %q", f)
		}
		if f := e.responses[all[2].id].Flag; f != "" {
			t.Fatalf("stored flag %q", f)
		}
		presses, err := e.store.KioskPresses(context.Background(), c.ID)
		if err != nil || len(presses) != len(all)+2 {
			t.Fatalf("%d presses recorded (%v), want %d", len(presses), err, len(all)+2)
		}
	})
}

func TestKioskHeartbeatAndList(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		def := survey.DefaultOfficeHours()
		c, token := e.newPairedKiosk(t, &def)
		// A kiosk of the registry, unpaired.
		e.createKiosk(t, e.regAdmin, e.regOffice.ID, "کیوسک ثبت")
		type listing struct {
			Kiosks []kiosk.Listing `json:"kiosks"`
		}
		status := func() kiosk.Listing {
			t.Helper()
			var l listing
			e.get(t, "/api/v1/kiosks", e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &l)
			if len(l.Kiosks) != 1 || l.Kiosks[0].ID != c.ID {
				t.Fatalf("tax staff sees %+v", l.Kiosks)
			}
			return l.Kiosks[0]
		}
		if s := status(); s.Status != kiosk.StatusOffline || !s.OpenNow || s.OfficeName != e.f.office.Name || s.PairedAt == nil || s.Battery != nil {
			t.Fatalf("paired, never seen: %+v", s)
		}
		beat := map[string]any{"app_version": "1.0.3", "queued": 2, "oldest_queued_s": 35, "last_sync_at": kioskNow.Add(-time.Minute),
			"clock": kioskNow.Add(-1500 * time.Millisecond), "battery": map[string]any{"level": 0.8, "charging": false},
			"rejected": 3, "storage_errors": 1}
		var hb struct {
			ServerTime time.Time `json:"server_time"`
			SkewMS     int64     `json:"skew_ms"`
			OpenNow    bool      `json:"open_now"`
		}
		e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, beat).wantStatus(t, http.StatusOK).json(t, &hb)
		if !hb.ServerTime.Equal(kioskNow) || hb.SkewMS != 1500 || !hb.OpenNow {
			t.Fatalf("heartbeat reply %+v", hb)
		}
		s := status()
		if s.Status != kiosk.StatusOnline || s.AppVersion != "1.0.3" || s.Queued != 2 || s.OldestQueuedS != 35 || s.SkewMS != 1500 ||
			s.Battery == nil || s.Battery.Level != 0.8 || s.LastSyncAt == nil || !s.LastSeenAt.Equal(kioskNow) ||
			s.Rejected != 3 || s.StorageErrors != 1 {
			t.Fatalf("after a heartbeat: %+v", s)
		}
		// The listing's JSON names them as the contract does.
		var raw struct {
			Kiosks []map[string]any `json:"kiosks"`
		}
		e.get(t, "/api/v1/kiosks", e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &raw)
		if k := raw.Kiosks[0]; k["rejected"] != 3.0 || k["storage_errors"] != 1.0 {
			t.Fatalf("listing JSON %v", k)
		}
		// An older app leaves them out: they read 0 again.
		e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, map[string]any{"clock": kioskNow}).wantStatus(t, http.StatusOK)
		if s := status(); s.Rejected != 0 || s.StorageErrors != 0 {
			t.Fatalf("after a heartbeat without counters: %+v", s)
		}
		e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, beat).wantStatus(t, http.StatusOK)
		e.clock.Advance(151 * time.Second)
		if s := status(); s.Status != kiosk.StatusStale {
			t.Fatalf("151 s later: %s", s.Status)
		}
		e.clock.Advance(15 * time.Minute)
		if s := status(); s.Status != kiosk.StatusOffline {
			t.Fatalf("17 min later: %s", s.Status)
		}
		e.clock.Set(kioskNow.Add(6 * time.Hour)) // 16:00: closed
		if s := status(); s.Status != kiosk.StatusSleeping || s.OpenNow {
			t.Fatalf("after hours: %+v", s)
		}

		// Who sees which kiosks.
		var l listing
		e.get(t, "/api/v1/kiosks", adminToken).wantStatus(t, http.StatusOK).json(t, &l)
		if len(l.Kiosks) != 2 {
			t.Fatalf("province admin sees %d kiosks", len(l.Kiosks))
		}
		e.get(t, fmt.Sprintf("/api/v1/kiosks?agency_id=%d", e.f.registry.ID), e.f.province).wantStatus(t, http.StatusOK).json(t, &l)
		if len(l.Kiosks) != 1 || l.Kiosks[0].Name != "کیوسک ثبت" || l.Kiosks[0].Status != kiosk.StatusUnpaired {
			t.Fatalf("registry kiosks %+v", l.Kiosks)
		}
		e.get(t, fmt.Sprintf("/api/v1/kiosks?agency_id=%d", e.f.registry.ID), e.f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, "/api/v1/kiosks?agency_id=99999", adminToken).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, "/api/v1/kiosks?agency_id=x", adminToken).envelope(t, http.StatusUnprocessableEntity, "invalid")
		e.get(t, "/api/v1/kiosks", e.f.kiosk).envelope(t, http.StatusForbidden, "forbidden")
		e.get(t, "/api/v1/kiosks", "").envelope(t, http.StatusUnauthorized, "unauthorized")

		// Heartbeats that cannot be a tablet's.
		for field, body := range map[string]map[string]any{
			"clock":           {"queued": 1},
			"queued":          {"clock": kioskNow, "queued": -1},
			"oldest_queued_s": {"clock": kioskNow, "oldest_queued_s": 400 * 24 * 3600},
			"battery.level":   {"clock": kioskNow, "battery": map[string]any{"level": 1.5}},
			"app_version":     {"clock": kioskNow, "app_version": strings.Repeat("v", 65)},
			"rejected":        {"clock": kioskNow, "rejected": -1},
			"storage_errors":  {"clock": kioskNow, "storage_errors": 1 << 31},
		} {
			env := e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, body).envelope(t, http.StatusUnprocessableEntity, "invalid")
			if _, ok := env.Error.Fields[field]; !ok {
				t.Errorf("heartbeat %v: fields %+v", body, env.Error.Fields)
			}
		}
	})
}

func TestOfficeHoursAPI(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		path := fmt.Sprintf("/api/v1/offices/%d/hours", e.f.office.ID)
		var h survey.OfficeHours
		e.get(t, path, e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &h)
		if fmt.Sprint(h) != fmt.Sprint(survey.DefaultOfficeHours()) {
			t.Fatalf("default hours %+v", h)
		}
		put := func(token string, body any) reply { return e.send(t, http.MethodPut, path, token, body) }
		in := map[string]any{"always_open": false,
			"weekly":   []map[string]string{{"day": "sun", "open": "۸:۰۰", "close": "12:00"}, {"day": "sat", "open": "07:30", "close": "13:30"}},
			"holidays": []string{"1405/01/13", "1405-01-01"}}
		put(e.taxAdmin, in).wantStatus(t, http.StatusOK).json(t, &h)
		want := `{"always_open":false,"weekly":[{"day":"sat","open":"07:30","close":"13:30"},{"day":"sun","open":"08:00","close":"12:00"}],"holidays":["1405-01-01","1405-01-13"]}`
		if b, _ := json.Marshal(h); string(b) != want {
			t.Fatalf("stored hours %s\nwant %s", b, want)
		}
		got := e.get(t, path, e.f.province).wantStatus(t, http.StatusOK)
		if strings.TrimSpace(string(got.body)) != want {
			t.Fatalf("GET after PUT %s", got.body)
		}
		// Only managers may change them; another agency's admin cannot even see them.
		put(e.f.taxStaff, in).envelope(t, http.StatusForbidden, "forbidden")
		put(e.f.province, in).envelope(t, http.StatusForbidden, "forbidden")
		put(e.regAdmin, in).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, path, e.regAdmin).envelope(t, http.StatusNotFound, "not_found")
		put(e.f.kiosk, in).envelope(t, http.StatusForbidden, "forbidden")
		put("", in).envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, path, "").envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, "/api/v1/offices/99999/hours", adminToken).envelope(t, http.StatusNotFound, "not_found")
		put(adminToken, map[string]any{"always_open": true}).wantStatus(t, http.StatusOK).json(t, &h)
		if !h.AlwaysOpen {
			t.Fatal("province admin could not set always open")
		}
		// Per-field problems.
		bad := put(e.taxAdmin, map[string]any{"weekly": []map[string]string{{"day": "sat", "open": "14:00", "close": "08:00"}}})
		if f := bad.envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["weekly[0].close"].Code != "close_before_open" {
			t.Fatalf("fields %+v", f)
		}
		bad = put(e.taxAdmin, map[string]any{"holidays": []string{"1404-12-30"}})
		if f := bad.envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["holidays[0]"].Code != "no_such_day" {
			t.Fatalf("fields %+v", f)
		}
		put(e.taxAdmin, `{"always_open":true,"timezone":"UTC"}`).envelope(t, http.StatusBadRequest, "bad_request")
		e.request(t, http.MethodPut, path, e.taxAdmin, "", `{}`).envelope(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.get(t, path, e.taxAdmin).wantStatus(t, http.StatusOK).json(t, &h)
		if !h.AlwaysOpen {
			t.Fatal("a refused PUT changed the hours")
		}
	})
}

func TestKioskStats(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		c, token := e.newPairedKiosk(t, nil)
		yesterday := kioskNow.Add(-24 * time.Hour)
		e.batch(t, token, kioskNow, e.item(newID(), yesterday, 4), e.item(newID(), yesterday.Add(time.Second), 4),
			e.item(newID(), yesterday.Add(time.Minute), 5)).want(t, "accepted accepted/interval accepted")
		e.batch(t, token, kioskNow, e.item(newID(), kioskNow.Add(-time.Minute), 4)).want(t, "accepted")
		path := fmt.Sprintf("/api/v1/kiosks/%d/stats", c.ID)
		var st struct {
			KioskID survey.ID `json:"kiosk_id"`
			Days    []struct {
				Day       string           `json:"day"`
				DayJalali string           `json:"day_jalali"`
				Accepted  int64            `json:"accepted"`
				Flagged   map[string]int64 `json:"flagged"`
				LastPress time.Time        `json:"last_press"`
			} `json:"days"`
		}
		e.get(t, path, e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &st)
		if st.KioskID != c.ID || len(st.Days) != 2 {
			t.Fatalf("stats %+v", st)
		}
		d := st.Days[0]
		if d.Day != "2026-11-30" || d.DayJalali != "1405-09-09" || d.Accepted != 2 || d.Flagged["interval"] != 1 ||
			d.Flagged["burst"] != 0 || d.Flagged["after_hours"] != 0 || len(d.Flagged) != 3 || !d.LastPress.Equal(yesterday.Add(time.Minute)) {
			t.Fatalf("yesterday %+v", d)
		}
		if st.Days[1].Day != "2026-12-01" || st.Days[1].Accepted != 1 {
			t.Fatalf("today %+v", st.Days[1])
		}
		// from and to as the score API reads them: Jalali, Persian digits.
		e.get(t, path+"?from=۱۴۰۵-۰۹-۱۰&to=1405-09-10", e.f.province).wantStatus(t, http.StatusOK).json(t, &st)
		if len(st.Days) != 1 || st.Days[0].Day != "2026-12-01" {
			t.Fatalf("one day: %+v", st.Days)
		}
		e.get(t, path+"?to=2026-11-30", e.taxAdmin).wantStatus(t, http.StatusOK).json(t, &st)
		if len(st.Days) != 1 || st.Days[0].Day != "2026-11-30" {
			t.Fatalf("until yesterday: %+v", st.Days)
		}
		if f := e.get(t, path+"?from=nope", e.taxAdmin).envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["from"].Code != "invalid_date" {
			t.Fatalf("bad from: %+v", f)
		}
		if f := e.get(t, path+"?from=2026-12-02&to=2026-12-01", e.taxAdmin).envelope(t, http.StatusUnprocessableEntity, "invalid").Error.Fields; f["from"].Code != "after_to" {
			t.Fatalf("from after to: %+v", f)
		}
		e.get(t, path, e.regAdmin).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, path, token).envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, "/api/v1/kiosks/99999/stats", adminToken).envelope(t, http.StatusNotFound, "not_found")
	})
}

// Without a kiosk channel wired the routes explain themselves instead of failing.
func TestKioskRoutesUnwired(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	h.get(t, "/api/v1/kiosks", adminToken).envelope(t, http.StatusServiceUnavailable, "unavailable")
	h.request(t, http.MethodPost, "/api/v1/kiosk/pair", "", "application/json", `{"code":"x"}`).envelope(t, http.StatusServiceUnavailable, "unavailable")
	h.get(t, "/api/v1/kiosk/config", "afkk_x").envelope(t, http.StatusUnauthorized, "unauthorized")
}

// Every staff kiosk and office route, for every kind of caller: another agency's admin and
// staff get 404 and learn nothing of the kiosk; province staff read but do not manage; machine
// tokens (integration: 403, as everywhere; a device token: 401) are refused. Nothing a refused
// call asked for happens.
func TestKioskTenancyMatrix(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		ctx := context.Background()
		regStaff, err := e.store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: e.f.registry.ID, Name: "registry staff"})
		if err != nil {
			t.Fatal(err)
		}
		_, device := e.newPairedKiosk(t, nil)
		c := e.createKiosk(t, e.taxAdmin, e.f.office.ID, "کیوسک محرمانهٔ مالیات")
		hours := `{"always_open":false,"weekly":[{"day":"fri","open":"01:00","close":"02:00"}]}`
		type route struct {
			name, method, path, body string
			read                     bool // a read: province staff may
		}
		routes := []route{
			{"list of the agency", http.MethodGet, fmt.Sprintf("/api/v1/kiosks?agency_id=%d", e.f.tax.ID), "", true},
			{"create", http.MethodPost, "/api/v1/kiosks", fmt.Sprintf(`{"office_id":%d,"name":"نفوذی"}`, e.f.office.ID), false},
			{"re-pair", http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), "", false},
			{"pairing sheet", http.MethodGet, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), "", false},
			{"pairing.png", http.MethodGet, fmt.Sprintf("/api/v1/kiosks/%d/pairing.png", c.ID), "", false},
			{"revoke", http.MethodDelete, fmt.Sprintf("/api/v1/kiosks/%d/token", c.ID), "", false},
			{"stats", http.MethodGet, fmt.Sprintf("/api/v1/kiosks/%d/stats", c.ID), "", true},
			{"hours", http.MethodGet, fmt.Sprintf("/api/v1/offices/%d/hours", e.f.office.ID), "", true},
			{"set hours", http.MethodPut, fmt.Sprintf("/api/v1/offices/%d/hours", e.f.office.ID), hours, false},
		}
		call := func(r route, token string) reply {
			ct := ""
			if r.body != "" {
				ct = "application/json"
			}
			return e.request(t, r.method, r.path, token, ct, r.body)
		}
		secrets := []string{c.Name, c.PairingCode, kiosk.DisplayCode(c.PairingCode), e.f.office.Name, e.f.tax.Name, "always_open"}
		for _, r := range routes {
			for who, token := range map[string]string{"registry admin": e.regAdmin, "registry staff": regStaff} {
				got := call(r, token)
				if got.status != http.StatusNotFound {
					t.Errorf("%s → %s: %d, want 404; %s", who, r.name, got.status, got.body)
					continue
				}
				got.envelope(t, http.StatusNotFound, "not_found")
				for _, s := range secrets {
					if strings.Contains(string(got.body), s) {
						t.Errorf("%s → %s: the answer names %q: %s", who, r.name, s, got.body)
					}
				}
			}
			want, code := http.StatusForbidden, "forbidden"
			if r.read {
				want = http.StatusOK
			}
			if got := call(r, e.f.province); got.status != want {
				t.Errorf("province staff → %s: %d, want %d; %s", r.name, got.status, want, got.body)
			} else if !r.read {
				got.envelope(t, want, code)
			}
			if got := call(r, e.f.kiosk); got.status != http.StatusForbidden {
				t.Errorf("integration token → %s: %d, want 403; %s", r.name, got.status, got.body)
			}
			if got := call(r, device); got.status != http.StatusUnauthorized {
				t.Errorf("device token → %s: %d, want 401; %s", r.name, got.status, got.body)
			}
		}
		// The list without a filter: others' kiosks are simply not in it.
		for who, token := range map[string]string{"registry admin": e.regAdmin, "registry staff": regStaff} {
			got := e.get(t, "/api/v1/kiosks", token).wantStatus(t, http.StatusOK)
			if strings.Contains(string(got.body), c.Name) || strings.Contains(string(got.body), fmt.Sprintf(`"agency_id":%d`, e.f.tax.ID)) {
				t.Errorf("%s's list shows the tax kiosks: %s", who, got.body)
			}
		}
		// Nothing changed: no kiosk was created, the pending code is the same and the device
		// token works, the hours are as they were.
		var l struct {
			Kiosks []kiosk.Listing `json:"kiosks"`
		}
		e.get(t, "/api/v1/kiosks", e.taxAdmin).wantStatus(t, http.StatusOK).json(t, &l)
		if len(l.Kiosks) != 2 {
			t.Errorf("%d tax kiosks after the refused calls, want 2", len(l.Kiosks))
		}
		sheet := e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), e.taxAdmin).wantStatus(t, http.StatusOK)
		if !strings.Contains(string(sheet.body), kiosk.DisplayCode(c.PairingCode)) {
			t.Error("a refused re-pairing replaced the pending code")
		}
		e.get(t, "/api/v1/kiosk/config", device).wantStatus(t, http.StatusOK)
		var h survey.OfficeHours
		e.get(t, fmt.Sprintf("/api/v1/offices/%d/hours", e.f.office.ID), e.taxAdmin).wantStatus(t, http.StatusOK).json(t, &h)
		if !h.AlwaysOpen {
			t.Errorf("a refused PUT changed the hours: %+v", h)
		}
	})
}

// Hostile input on the device routes: every case is a clean 4xx or a per-item rejection, never a
// 5xx, and nothing unexpected is stored.
func TestKioskHostileBatch(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		c, token := e.newPairedKiosk(t, nil)
		now := kioskNow
		post := func(body string) reply {
			return e.request(t, http.MethodPost, "/api/v1/kiosk/responses", token, "application/json", body)
		}
		// Over the 64 KiB body limit: 413, whether declared or streamed.
		big := `{"sent_at":"2026-12-01T06:30:00Z","items":[{"id":"` + strings.Repeat("a", api.DefaultMaxBodyBytes) + `"}]}`
		post(big).envelope(t, http.StatusRequestEntityTooLarge, "too_large")
		e.request(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, "application/json", `{"app_version":"`+strings.Repeat("v", api.DefaultMaxBodyBytes)+`"}`).
			envelope(t, http.StatusRequestEntityTooLarge, "too_large")

		// Items that cannot be a tablet's: each is rejected on its own.
		ctrlText := e.item(newID(), now.Add(-time.Minute), 4)
		ctrlText["answers"] = []map[string]any{{"question_id": "q1", "value": 4}, {"question_id": "q3", "text": "خوب\x00\x1b[31m\u202e"}}
		ctrlID := e.item("0190a0b0-\x00c0d0-7000-8000-000000000000", now.Add(-time.Minute), 4)
		ctrlQuestion := e.item(newID(), now.Add(-time.Minute), 4)
		ctrlQuestion["answers"] = []map[string]any{{"question_id": "q1\n", "value": 4}}
		notUUID := e.item("'; DROP TABLE kiosks; --", now.Add(-time.Minute), 4)
		longID := e.item(strings.Repeat("f", 5000), now.Add(-time.Minute), 4)
		year9999 := e.item(newID(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 4)
		year1 := e.item(newID(), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), 4)
		hugeRating := e.item(newID(), now.Add(-time.Minute), 4)
		hugeRating["answers"] = []map[string]any{{"question_id": "q1", "value": 1e300}}
		negVersion := e.item(newID(), now.Add(-time.Minute), 4)
		negVersion["survey_version"] = -1
		hugeSurvey := e.item(newID(), now.Add(-time.Minute), 4)
		hugeSurvey["survey_id"] = json.RawMessage("99999999999999999999999")
		nullAnswers := e.item(newID(), now.Add(-time.Minute), 4)
		nullAnswers["answers"] = nil
		good := newID()
		r := e.batch(t, token, now, ctrlID, ctrlQuestion, notUUID, longID, year9999, year1, hugeRating, negVersion, hugeSurvey,
			nullAnswers, json.RawMessage(`null`), json.RawMessage(`[]`), json.RawMessage(`{}`), e.item(good, now.Add(-30*time.Second), 4))
		r.want(t, strings.Repeat("rejected ", 13)+"accepted")
		for i, x := range r.Results[:13] {
			if x.Error == nil || x.Error.Code == "" || x.Error.MessageFA == "" || x.Error.Code == survey.ECodeInternal {
				t.Errorf("item %d: error %+v", i, x.Error)
			}
		}
		// Control characters in free text are the intake's business (it keeps or refuses them
		// the way it does on every channel); either way the batch is answered.
		e.batch(t, token, now, ctrlText)

		// Tablet clocks at the ends of time: no overflow, the batch is corrected and its items
		// (given on the same clock) are filed at their true time or refused, never a 5xx.
		for _, sent := range []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)} {
			res := e.batch(t, token, sent, e.item(newID(), sent.Add(-time.Minute), 4), e.item(newID(), now.Add(-10*time.Minute), 4))
			if !res.Corrected || res.SkewMS != now.Sub(sent).Milliseconds() {
				t.Errorf("sent at %s: skew %d ms, corrected %v", sent, res.SkewMS, res.Corrected)
			}
			for i, x := range res.Results {
				if x.Status != "rejected" && x.Status != "accepted" || x.Status == "rejected" && (x.Error == nil || x.Error.Code == survey.ECodeInternal) {
					t.Errorf("sent at %s, item %d: %+v", sent, i, x)
				}
			}
			e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, map[string]any{"clock": sent}).wantStatus(t, http.StatusOK)
		}
		// A heartbeat after those is sane again, and the list can show the kiosk.
		e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, map[string]any{"clock": now}).wantStatus(t, http.StatusOK)
		e.get(t, "/api/v1/kiosks", e.taxAdmin).wantStatus(t, http.StatusOK)
		e.get(t, fmt.Sprintf("/api/v1/kiosks/%d/stats", c.ID), e.taxAdmin).wantStatus(t, http.StatusOK)

		// Whole-batch nonsense: 4xx. (A sent_at in year 0 is a clock like any other: the batch
		// is answered, its items judged one by one.)
		post(`{"sent_at":"0000-01-01T00:00:00Z","items":[{}]}`).wantStatus(t, http.StatusOK)
		for _, body := range []string{
			`{"sent_at":"2026-12-01T06:30:00Z","items":{}}`,
			`{"sent_at":"2026-12-01T06:30:00Z","items":null}`,
			`{"sent_at":"2026-12-01T06:30:00Z","items":[]`,
			`{"sent_at":"2026-12-01T06:30:00Z","items":[{}]}{"x":1}`,
			`{"sent_at":"10000-01-01T00:00:00Z","items":[{}]}`,
			`{"sent_at":-1,"items":[{}]}`,
			`[]`,
		} {
			if got := post(body); got.status < 400 || got.status >= 500 {
				t.Errorf("%s: %d, want a 4xx; %s", body, got.status, got.body)
			}
		}
		// Heartbeats with a clock at the ends of time or negative counts: 200 or a field error.
		for _, body := range []string{`{"clock":"9999-12-31T23:59:59Z","queued":-5}`, `{"clock":"0001-01-01T00:00:00Z","battery":{"level":-0.1}}`,
			`{"clock":"2026-12-01T06:30:00Z","queued":1e10}`, `{"clock":"2026-12-01T06:30:00Z","last_sync_at":"9999-12-31T23:59:59Z"}`} {
			got := e.request(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, "application/json", body)
			if got.status >= 500 {
				t.Errorf("heartbeat %s: %d %s", body, got.status, got.body)
			}
		}
		e.get(t, "/api/v1/kiosks", e.taxAdmin).wantStatus(t, http.StatusOK)
	})
}

// A device token is scoped to its kiosk: it cannot file answers to another agency's survey nor
// name another office or agency, and once revoked it is refused while what it sent before stays
// settled (a resend after re-pairing is a duplicate, not a second response).
func TestKioskDeviceScope(t *testing.T) {
	eachKioskDialect(t, func(t *testing.T, e *kioskEnv) {
		ctx := context.Background()
		c, token := e.newPairedKiosk(t, nil)
		regSurvey := survey.Survey{AgencyID: e.f.registry.ID, Title: "رضایت از ثبت"}
		if err := e.store.CreateSurvey(ctx, &regSurvey); err != nil {
			t.Fatal(err)
		}
		rv := taxVersion()
		rv.SurveyID, rv.AgencyID, rv.Version = regSurvey.ID, e.f.registry.ID, 0
		if err := e.store.PublishVersion(ctx, &rv); err != nil {
			t.Fatal(err)
		}
		now := kioskNow
		other := e.item(newID(), now.Add(-time.Minute), 4)
		other["survey_id"], other["survey_version"] = regSurvey.ID, rv.Version
		withOffice := e.item(newID(), now.Add(-time.Minute), 4)
		withOffice["office_id"] = e.regOffice.ID
		kept := newID()
		r := e.batch(t, token, now, other, withOffice, e.item(kept, now.Add(-30*time.Second), 4))
		r.want(t, "rejected rejected accepted")
		if f := r.Results[0].Error; f == nil || f.Fields["survey_id"].Code != "survey_mismatch" {
			t.Fatalf("another agency's survey: %+v", f)
		}
		if f := r.Results[1].Error; f == nil || f.Code != survey.ECodeBadRequest {
			t.Fatalf("an item naming an office: %+v", f)
		}
		e.drain(t)
		if len(e.responses) != 1 || e.responses[kept].AgencyID != e.f.tax.ID || e.responses[kept].OfficeID != e.f.office.ID {
			t.Fatalf("stored %+v", e.responses)
		}

		// Revoked: every device route is 401, nothing more is stored.
		e.send(t, http.MethodDelete, fmt.Sprintf("/api/v1/kiosks/%d/token", c.ID), e.taxAdmin, nil).wantStatus(t, http.StatusNoContent)
		late := newID()
		e.send(t, http.MethodPost, "/api/v1/kiosk/responses", token, map[string]any{"sent_at": now, "items": []any{e.item(kept, now.Add(-30*time.Second), 4), e.item(late, now.Add(-20*time.Second), 4)}}).
			envelope(t, http.StatusUnauthorized, "unauthorized")
		e.send(t, http.MethodPost, "/api/v1/kiosk/heartbeat", token, map[string]any{"clock": now}).envelope(t, http.StatusUnauthorized, "unauthorized")
		e.drain(t)
		if len(e.responses) != 1 {
			t.Fatalf("a revoked token stored %d responses", len(e.responses)-1)
		}
		// Re-paired, the tablet resends its queue: the earlier answer is a duplicate.
		var np struct {
			Code string `json:"pairing_code"`
		}
		e.send(t, http.MethodPost, fmt.Sprintf("/api/v1/kiosks/%d/pairing", c.ID), e.taxAdmin, nil).wantStatus(t, http.StatusOK).json(t, &np)
		token = e.pair(t, np.Code).Token
		e.batch(t, token, now, e.item(kept, now.Add(-30*time.Second), 4), e.item(late, now.Add(-20*time.Second), 4)).want(t, "duplicate accepted")
	})
}
