package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// caseView is a case as the API answers it.
type caseJSON struct {
	ID               survey.ID `json:"id"`
	AgencyID         survey.ID `json:"agency_id"`
	Channel          string    `json:"channel"`
	Rating           int       `json:"rating"`
	Status           string    `json:"status"`
	PhoneMasked      string    `json:"phone_masked"`
	Phone            string    `json:"phone"`
	ResolutionSMSAt  *string   `json:"resolution_sms_at"`
	ComplaintNotice  string    `json:"complaint_notice"`
	AckDueJalali     string    `json:"ack_due_jalali"`
	ResolutionAnswer string    `json:"resolution_answer"`
}

// The loop closed over real HTTP on both dialects: a poster-form answer rated 1 with the consent
// box ticked opens a case whose number is stored sealed (never in the logs); a high rating or no
// box opens none, a bad number is a form error; then staff work the case — another agency's staff
// get 404, a viewer 403 on resolve, the agency's admin acknowledges, reveals (audited) and
// resolves, which queues one resolution SMS.
func TestCasesFromTheWebFormAndTheirWorkflow(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		ctx := context.Background()
		f := seedStore(t, store)
		logs := &syncBuffer{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		in := intake.New(store, store.Inbox(), nil, intake.Options{Stored: store, Logger: log})
		t.Cleanup(in.Close)
		privacy, err := sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := weblink.NewKeys(strings.Repeat("k", 40))
		if err != nil {
			t.Fatal(err)
		}
		svc := cases.New(store, privacy, cases.Options{Logger: log})
		h := start(t, api.Deps{Catalog: store, Auth: store, Intake: in, WebLinks: keys, LinkStore: store, FormRateLimit: -1,
			Cases: svc, Logger: log})
		tok, err := keys.PosterLink(f.tax.ID, f.office.ID)
		if err != nil {
			t.Fatal(err)
		}
		u := h.url + "/p/" + tok
		if r := getPage(t, u); r.status != 200 || !strings.Contains(string(r.body), "مایلم برای پیگیری با من تماس بگیرند") ||
			!strings.Contains(string(r.body), `name="contact_phone"`) {
			t.Fatalf("the form has no consent: %d", r.status)
		}
		listCases := func() []survey.Case {
			t.Helper()
			cs, err := store.Cases(ctx, f.tax.ID, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		// A happy answer with the box ticked, and a low one without it: no case.
		if r, _ := postForm(t, u, url.Values{"t": {tok}, "q_q1": {"5"}, "contact_consent": {"1"}, "contact_phone": {"09123456789"}}); r.status != 200 {
			t.Fatalf("a 5: %d", r.status)
		}
		if r, _ := postForm(t, u, url.Values{"t": {tok}, "q_q1": {"1"}, "q_q2": {"slow"}, "contact_phone": {"09123456789"}}); r.status != 200 ||
			strings.Contains(string(r.body), "سامد") {
			t.Fatalf("a 1 without consent: %d", r.status)
		}
		if n := len(listCases()); n != 0 {
			t.Fatalf("%d cases without consent", n)
		}
		// A bad number: the form again, with the error, nothing stored.
		r, _ := postForm(t, u, url.Values{"t": {tok}, "q_q1": {"1"}, "q_q2": {"slow"}, "contact_consent": {"1"}, "contact_phone": {"12345"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "data-contact") || !strings.Contains(string(r.body), `value="12345"`) {
			t.Fatalf("a bad number: %d %.300s", r.status, r.body)
		}
		// Consent with a low rating: a case, and the thank-you page names the national channels.
		r, _ = postForm(t, u, url.Values{"t": {tok}, "q_q1": {"1"}, "q_q2": {"slow"}, "contact_consent": {"1"}, "contact_phone": {"۰۹۱۲ ۳۴۵ ۶۷۸۹"}})
		if r.status != 200 || !strings.Contains(string(r.body), "تماس می‌گیرند") || !strings.Contains(string(r.body), "سامد (۱۱۱)") {
			t.Fatalf("the consenting answer: %d %.300s", r.status, r.body)
		}
		cs := listCases()
		if len(cs) != 1 || cs[0].Channel != survey.ChannelWeb || cs[0].Rating != 1 || cs[0].OfficeID != f.office.ID || !cs[0].Consent {
			t.Fatalf("cases: %+v", cs)
		}
		k := cs[0]
		if strings.Contains(string(k.PhoneEnc), "3456789") || k.PhoneHash != privacy.Hash("+989123456789") {
			t.Fatalf("the number is not sealed: %q", k.PhoneEnc)
		}
		if phone, err := privacy.Open(k.PhoneEnc, k.PhoneHash); err != nil || phone != "+989123456789" {
			t.Fatalf("the sealed number opens to %q, %v", phone, err)
		}

		// Staff work it over HTTP.
		taxAdmin, err := store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: f.tax.ID, Name: "tax admin"})
		if err != nil {
			t.Fatal(err)
		}
		regAdmin, err := store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: f.registry.ID, Name: "registry admin"})
		if err != nil {
			t.Fatal(err)
		}
		casePath := fmt.Sprintf("/api/v1/cases/%d", k.ID)
		var list struct {
			Cases []caseJSON `json:"cases"`
		}
		h.get(t, fmt.Sprintf("/api/v1/agencies/%d/cases?status=open", f.tax.ID), f.taxStaff).wantStatus(t, 200).json(t, &list)
		if len(list.Cases) != 1 || list.Cases[0].PhoneMasked != "0912***6789" || list.Cases[0].Phone != "" ||
			list.Cases[0].ComplaintNotice != survey.ComplaintNoticeFa || list.Cases[0].AckDueJalali == "" {
			t.Fatalf("the list: %+v", list)
		}
		h.get(t, fmt.Sprintf("/api/v1/agencies/%d/cases", f.tax.ID), regAdmin).wantStatus(t, 404)
		h.get(t, casePath, regAdmin).wantStatus(t, 404)
		h.request(t, http.MethodPost, casePath+"/ack", regAdmin, "application/json", "").wantStatus(t, 404)
		h.request(t, http.MethodPost, casePath+"/resolve", f.taxStaff, "application/json", `{"outcome":"x"}`).wantStatus(t, 403)
		h.request(t, http.MethodPost, casePath+"/assign", f.taxStaff, "application/json", `{"user_id":1}`).wantStatus(t, 403)
		h.request(t, http.MethodPost, casePath+"/reveal", f.taxStaff, "application/json", "").wantStatus(t, 403)
		var got caseJSON
		h.request(t, http.MethodPost, casePath+"/ack", taxAdmin, "application/json", "").wantStatus(t, 200).json(t, &got)
		if got.Status != "acknowledged" {
			t.Fatalf("after ack: %+v", got)
		}
		h.request(t, http.MethodPost, casePath+"/reveal", taxAdmin, "application/json", "").wantStatus(t, 200).json(t, &got)
		if got.Phone != "+989123456789" {
			t.Fatalf("reveal: %+v", got)
		}
		h.request(t, http.MethodPost, casePath+"/resolve", taxAdmin, "application/json", `{"outcome":"با شهروند تماس گرفته شد","ask_citizen":true}`).
			wantStatus(t, 200).json(t, &got)
		if got.Status != "resolved" || got.ResolutionSMSAt == nil {
			t.Fatalf("resolve: %+v", got)
		}
		h.request(t, http.MethodPost, casePath+"/resolve", taxAdmin, "application/json", `{"outcome":"again","ask_citizen":true}`).wantStatus(t, 409)
		msgs, err := store.RecentOutbox(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].Text != cases.ResolutionText {
			t.Fatalf("outbox: %+v", msgs)
		}
		var st survey.CaseStats
		h.get(t, fmt.Sprintf("/api/v1/agencies/%d/cases/stats", f.tax.ID), f.taxStaff).wantStatus(t, 200).json(t, &st)
		if st.Cases != 1 || st.Acknowledged != 1 || st.MedianAckHours == nil {
			t.Fatalf("stats: %+v", st)
		}
		audit, err := store.AuditLog(ctx, survey.AuditQuery{AgencyID: f.tax.ID, Entity: "case"})
		if err != nil {
			t.Fatal(err)
		}
		revealed := false
		for _, a := range audit {
			revealed = revealed || a.Action == "reveal_phone"
		}
		if !revealed {
			t.Fatalf("the reveal is not audited: %+v", audit)
		}
		for _, s := range []string{"3456789", "۳۴۵", "12345"} {
			if strings.Contains(logs.String(), s) {
				t.Fatalf("a number in the logs: %q", s)
			}
		}
	})
}

// A kiosk item may carry the citizen's contact: with consent and a rating of 1 it opens a case,
// without consent or with a high rating none; a resend is one case.
func TestKioskContactOpensACase(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		ctx := context.Background()
		ke := newKioskEnv(t, store, 0)
		privacy, err := sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		svc := cases.New(store, privacy, cases.Options{Clock: ke.clock, Logger: log})
		in := intake.New(store, store.Inbox(), nil, intake.Options{Stored: store, Clock: ke.clock, Logger: log})
		t.Cleanup(in.Close)
		ke.harness = start(t, api.Deps{Catalog: store, Auth: store, Intake: in,
			Kiosks: kiosk.NewService(store, in, kiosk.Options{Clock: ke.clock, Logger: log, Cases: svc})})
		_, device := ke.newPairedKiosk(t, nil)
		now := ke.clock.Now()
		low := ke.item("0193a0c0-0000-7000-8000-000000000001", now, 1)
		low["answers"] = []map[string]any{{"question_id": "q1", "value": 1}, {"question_id": "q2", "value": []string{"slow"}}}
		low["contact"] = map[string]any{"phone": "09121112233", "consent": true}
		high := ke.item("0193a0c0-0000-7000-8000-000000000002", now.Add(10*time.Second), 5)
		high["contact"] = map[string]any{"phone": "09121112244", "consent": true}
		noConsent := ke.item("0193a0c0-0000-7000-8000-000000000003", now.Add(20*time.Second), 1)
		noConsent["answers"] = low["answers"]
		noConsent["contact"] = map[string]any{"phone": "09121112255", "consent": false}
		var r struct {
			Results []struct {
				Status, Case string
			} `json:"results"`
		}
		body := map[string]any{"sent_at": now.UTC().Format(time.RFC3339Nano), "items": []any{low, high, noConsent}}
		ke.send(t, http.MethodPost, "/api/v1/kiosk/responses", device, body).wantStatus(t, 200).json(t, &r)
		if len(r.Results) != 3 || r.Results[0].Status != "accepted" || r.Results[0].Case != "opened" || r.Results[1].Case != "" || r.Results[2].Case != "" {
			t.Fatalf("results: %+v", r.Results)
		}
		ke.send(t, http.MethodPost, "/api/v1/kiosk/responses", device, body).wantStatus(t, 200).json(t, &r)
		cs, err := store.Cases(ctx, ke.f.tax.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Channel != survey.ChannelKiosk || cs[0].ResponseID != "0193a0c0-0000-7000-8000-000000000001" ||
			cs[0].OfficeID != ke.f.office.ID {
			t.Fatalf("cases: %+v", cs)
		}
	})
}
