package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
)

// The caller, not the body, says where an answer came from: anonymous callers answer on the web,
// an integration token on the channel stored with it; a body naming another channel is 422.
func TestSubmissionChannelComesFromTheCaller(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	lastChannel := func() survey.Channel {
		t.Helper()
		rs := h.intake.stored()
		if len(rs) == 0 {
			t.Fatal("nothing stored")
		}
		return rs[len(rs)-1].Channel
	}

	h.post(t, "", validBody("")).wantStatus(t, http.StatusAccepted)
	if ch := lastChannel(); ch != survey.ChannelWeb {
		t.Fatalf("anonymous submission stored as %q, want web", ch)
	}
	h.post(t, "", bodyWith("", map[string]any{"channel": "web"})).wantStatus(t, http.StatusAccepted)

	before := h.intake.count()
	for _, forged := range []string{"kiosk", "sms", "fax"} {
		e := h.post(t, "", bodyWith("", map[string]any{"channel": forged})).envelope(t, http.StatusUnprocessableEntity, "invalid")
		if f := e.Error.Fields["channel"]; f.Code != "channel_mismatch" || !hasPersian(f.MessageFA) {
			t.Fatalf("anonymous %q: fields %+v", forged, e.Error.Fields)
		}
	}
	if h.intake.count() != before {
		t.Fatal("a forged channel was stored")
	}

	h.post(t, integrationToken, validBody("")).wantStatus(t, http.StatusAccepted)
	if ch := lastChannel(); ch != survey.ChannelKiosk {
		t.Fatalf("kiosk token's submission stored as %q", ch)
	}
	h.post(t, integrationToken, bodyWith("", map[string]any{"channel": "kiosk"})).wantStatus(t, http.StatusAccepted)
	e := h.post(t, integrationToken, bodyWith("", map[string]any{"channel": "web"})).envelope(t, http.StatusUnprocessableEntity, "invalid")
	if e.Error.Fields["channel"].Code != "channel_mismatch" {
		t.Fatalf("fields %+v", e.Error.Fields)
	}
	h.post(t, smsBridgeToken, validBody("")).wantStatus(t, http.StatusAccepted)
	if ch := lastChannel(); ch != survey.ChannelSMS {
		t.Fatalf("sms token's submission stored as %q", ch)
	}
}

// High (issue 6): an agency_staff or integration token for one agency posted 120 responses for
// another, all 202. Tokens now submit only within their scope, and staff do not submit at all.
func TestTokensSubmitOnlyForTheirOwnScope(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})

	for i := 0; i < 120; i++ {
		e := h.post(t, registryToken, validBody("")).envelope(t, http.StatusForbidden, "forbidden")
		if _, ok := e.Error.Fields["agency_id"]; !ok {
			t.Fatalf("refusal does not name agency_id: %+v", e.Error.Fields)
		}
	}
	for _, tok := range []string{taxStaffToken, provinceToken, adminToken} {
		h.post(t, tok, validBody("")).envelope(t, http.StatusForbidden, "forbidden")
	}
	// An integration token from before tokens had a scope must be reissued.
	h.post(t, legacyToken, validBody("")).envelope(t, http.StatusForbidden, "forbidden")

	// An office-scoped token: its office, or none (then its office is recorded), never another.
	e := h.post(t, officeKioskToken, bodyWith("", map[string]any{"office_id": 999})).envelope(t, http.StatusForbidden, "forbidden")
	if _, ok := e.Error.Fields["office_id"]; !ok {
		t.Fatalf("refusal does not name office_id: %+v", e.Error.Fields)
	}
	if n := h.intake.count(); n != 0 {
		t.Fatalf("%d out-of-scope submissions stored", n)
	}
	h.post(t, officeKioskToken, validBody("")).wantStatus(t, http.StatusAccepted)
	h.post(t, officeKioskToken, bodyWith("", map[string]any{"office_id": nil})).wantStatus(t, http.StatusAccepted)
	for _, r := range h.intake.stored() {
		if r.OfficeID != taxOffice || r.AgencyID != taxID || r.Channel != survey.ChannelKiosk {
			t.Fatalf("office token's response stored as agency %d office %d channel %s", r.AgencyID, r.OfficeID, r.Channel)
		}
	}
	// The agency-wide token may name any office of its agency, or none.
	h.post(t, integrationToken, bodyWith("", map[string]any{"office_id": nil})).wantStatus(t, http.StatusAccepted)
}

// The same id with the same content is a resend (200, stored once); with other content it is
// 409 id_conflict, not silently dropped.
func TestResendAndIDConflict(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	const id = "0193a1d2-7c4e-7b3a-9f00-00000000c0de"
	var got struct{ ID string }
	h.post(t, integrationToken, validBody(id)).wantStatus(t, http.StatusAccepted).json(t, &got)
	for i := 0; i < 3; i++ {
		h.post(t, integrationToken, validBody(id)).wantStatus(t, http.StatusOK).json(t, &got)
		if got.ID != id {
			t.Fatalf("resend acknowledged %q", got.ID)
		}
	}
	// The same answers spelled differently are the same content; upper-case ids are the same id.
	same := bodyWith(strings.ToUpper(id), map[string]any{"answers": []map[string]any{
		{"question_id": "q1", "value": "۵"}, {"question_id": "q3", "text": "  برخورد کارمند خیلی خوب بود "}}})
	h.post(t, integrationToken, same).wantStatus(t, http.StatusOK)

	other := bodyWith(id, map[string]any{"answers": []map[string]any{{"question_id": "q1", "value": 4}}})
	e := h.post(t, integrationToken, other).envelope(t, http.StatusConflict, "id_conflict")
	if f := e.Error.Fields["id"]; f.Code != "id_conflict" || !hasPersian(f.MessageFA) {
		t.Fatalf("fields %+v", e.Error.Fields)
	}
	// Another caller reusing the id is another origin: a conflict too, even with the same answers.
	h.post(t, "", validBody(id)).envelope(t, http.StatusConflict, "id_conflict")
	if n := h.intake.count(); n != 1 {
		t.Fatalf("%d responses stored for one id", n)
	}
}

// Cross-site POSTs: a third-party page can make a browser send a form or text/plain without a
// preflight, or a body with no Content-Type at all; none of them may vote.
func TestSubmissionsMustBeDeclaredJSON(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	for _, ct := range []string{"", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/jsonx", "application/json; charset=latin1"} {
		h.request(t, http.MethodPost, "/api/v1/responses", "", ct, validBody(""), "Origin", "https://evil.example").
			envelope(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	if n := h.intake.count(); n != 0 {
		t.Fatalf("%d cross-site submissions stored", n)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
		h.request(t, http.MethodPost, "/api/v1/responses", "", ct, validBody("")).wantStatus(t, http.StatusAccepted)
	}
}

// Hostile strings and numbers are 422 naming the field, before anything is stored: control
// characters (NUL made PostgreSQL refuse the fold batch forever), invalid UTF-8, and numbers
// beyond what their columns hold.
func TestHostileInputsAreRefused(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{})
	cases := []struct {
		name, body string
		status     int
		field      string
		code       string
	}{
		{"NUL in source", bodyWith("", map[string]any{"source": "a\u0000b"}), 422, "source", "control_character"},
		{"escape in source", bodyWith("", map[string]any{"source": "qr\u001b[2J"}), 422, "source", "control_character"},
		{"C1 control in source", bodyWith("", map[string]any{"source": "post\u0085er"}), 422, "source", "control_character"},
		{"DEL in source", bodyWith("", map[string]any{"source": "x\u007f"}), 422, "source", "control_character"},
		{"NUL in a text answer", bodyWith("", map[string]any{"answers": []map[string]any{
			{"question_id": "q1", "value": 5}, {"question_id": "q3", "text": "خوب\u0000بود"}}}), 422, "answers[1].text", "control_character"},
		{"NUL in a text value", bodyWith("", map[string]any{"answers": []map[string]any{
			{"question_id": "q1", "value": 5}, {"question_id": "q3", "value": "bell\u0007"}}}), 422, "answers[1].value", "control_character"},
		{"control in a question id", bodyWith("", map[string]any{"answers": []map[string]any{
			{"question_id": "q1\u0000", "value": 5}}}), 422, "answers[0].question_id", "control_character"},
		{"control in a choice id", bodyWith("", map[string]any{"answers": []map[string]any{
			{"question_id": "q1", "value": 1}, {"question_id": "q2", "value": []string{"slow\u0000"}}}}), 422, "answers[1].value", "control_character"},
		{"NUL in the id", bodyWith("0193a1d2-7c4e-7b3a-9f00-00000000000\u0000", nil), 422, "id", "control_character"},
		{"survey_version beyond 32 bits", bodyWith("", map[string]any{"survey_version": int64(1) << 31}), 422, "survey_version", "out_of_range"},
		{"negative survey_version", bodyWith("", map[string]any{"survey_version": -1}), 422, "survey_version", "out_of_range"},
		{"survey_version beyond 64 bits", strings.Replace(validBody(""), `"survey_version":1`, `"survey_version":99999999999999999999`, 1), 422, "survey_version", "wrong_type"},
		{"agency_id beyond 64 bits", strings.Replace(validBody(""), fmt.Sprintf(`"agency_id":%d`, taxID), `"agency_id":1e30`, 1), 422, "agency_id", "wrong_type"},
		{"negative survey_id", strings.Replace(validBody(""), fmt.Sprintf(`"survey_id":%d`, taxSurvey), `"survey_id":-10`, 1), 422, "survey_id", "wrong_type"},
		{"text as survey_version", strings.Replace(validBody(""), `"survey_version":1`, `"survey_version":"1"`, 1), 422, "survey_version", "wrong_type"},
	}
	for _, c := range cases {
		r := h.post(t, "", c.body)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
			continue
		}
		e := r.envelope(t, c.status, "invalid")
		if f, ok := e.Error.Fields[c.field]; !ok || f.Code != c.code {
			t.Errorf("%s: fields %+v, want %s: %s", c.name, e.Error.Fields, c.field, c.code)
		}
	}
	// Not UTF-8 at all: unreadable (encoding/json would have turned it into U+FFFD).
	h.post(t, "", strings.Replace(validBody(""), "برخورد", "\xff\xfe", 1)).envelope(t, http.StatusBadRequest, "bad_request")
	if n := h.intake.count(); n != 0 {
		t.Fatalf("%d hostile submissions stored", n)
	}

	// Line breaks and tabs are fine in free text, and only there.
	h.post(t, "", bodyWith("", map[string]any{"answers": []map[string]any{
		{"question_id": "q1", "value": 5}, {"question_id": "q3", "text": "خط یک\nخط دو\r\n\tپایان"}}})).wantStatus(t, http.StatusAccepted)
	h.post(t, "", bodyWith("", map[string]any{"source": "poster\n"})).wantStatus(t, http.StatusAccepted) // trimmed
	h.post(t, "", bodyWith("", map[string]any{"source": "a\nb"})).envelope(t, http.StatusUnprocessableEntity, "invalid")
}
