package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/intake"
)

// Fixture ids and tokens shared by the tests.
const (
	taxID      survey.ID = 1 // agency with an office and a three-question survey
	registryID survey.ID = 2 // a second agency, to test tenancy
	taxSurvey  survey.ID = 10
	taxOffice  survey.ID = 100

	adminToken       = "admin-secret-token-0123456789"
	taxStaffToken    = "tax-staff-token"
	provinceToken    = "province-staff-token"
	integrationToken = "kiosk-fleet-token"      // integration: tax agency, any office, kiosk
	officeKioskToken = "office-kiosk-token"     // integration: tax agency, taxOffice only, kiosk
	registryToken    = "registry-kiosk-token"   // integration: the registry agency, kiosk
	smsBridgeToken   = "tax-sms-bridge-token"   // integration: tax agency, sms
	legacyToken      = "legacy-integration-tok" // integration made before tokens had a channel
)

// taxVersion is the tax agency's active survey: a rating, a "why" choice shown only for ratings of
// 2 or less, and an optional comment.
func taxVersion() survey.Version {
	return survey.Version{
		SurveyID: taxSurvey, AgencyID: taxID, Version: 1, Title: "رضایت از خدمات",
		Questions: []survey.Question{
			{ID: "q1", Type: survey.TypeRating5, Title: "از خدمت امروز چقدر راضی بودید؟", Required: true, Min: 1, Max: 5},
			{ID: "q2", Type: survey.TypeChoice, Title: "چرا؟", Required: true,
				Options: []survey.Option{{ID: "slow", Label: "کندی"}, {ID: "rude", Label: "بی‌احترامی"}},
				ShowIf:  &survey.Condition{QuestionID: "q1", Op: "lte", Value: 2}},
			{ID: "q3", Type: survey.TypeText, Title: "توضیح", MaxLength: 200},
		},
	}
}

// newMemCatalog is the shared in-memory store holding the fixture: two agencies, the tax
// agency's office and survey, and a token of every kind. The integration test runs the real
// store.
func newMemCatalog() *inmem.Store {
	st := inmem.New()
	st.PutAgency(survey.Agency{ID: taxID, ProvinceID: 1, Name: "اداره کل امور مالیاتی", Slug: "tax"})
	st.PutAgency(survey.Agency{ID: registryID, ProvinceID: 1, Name: "اداره کل ثبت اسناد", Slug: "registry"})
	st.PutOffice(survey.Office{ID: taxOffice, AgencyID: taxID, Name: "دفتر مرکزی"})
	st.PutVersion(taxVersion())
	for token, p := range map[string]survey.Principal{
		adminToken:       {Role: survey.RoleProvinceAdmin, Name: "admin"},
		taxStaffToken:    {Role: survey.RoleAgencyStaff, AgencyID: taxID, Name: "tax staff"},
		provinceToken:    {Role: survey.RoleProvinceStaff, Name: "province staff"},
		integrationToken: {Role: survey.RoleIntegration, AgencyID: taxID, Channel: survey.ChannelKiosk, Name: "kiosks"},
		officeKioskToken: {Role: survey.RoleIntegration, AgencyID: taxID, OfficeID: taxOffice, Channel: survey.ChannelKiosk, Name: "lobby kiosk"},
		registryToken:    {Role: survey.RoleIntegration, AgencyID: registryID, Channel: survey.ChannelKiosk, Name: "registry kiosks"},
		smsBridgeToken:   {Role: survey.RoleIntegration, AgencyID: taxID, Channel: survey.ChannelSMS, Name: "sms bridge"},
		legacyToken:      {Role: survey.RoleIntegration, Name: "old kiosks"},
	} {
		st.AddToken(token, p)
	}
	return st
}

// memBuffer is an in-memory buffer (the write side intake needs) for the fast tests: the real
// intake runs over it, so the origin, scope, validation and id rules tested here are intake's
// own. err, when set, fails every append.
type memBuffer struct {
	mu       sync.Mutex
	accepted []survey.Response
	err      error
}

func (b *memBuffer) Append(_ context.Context, rs []survey.Response) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.accepted = append(b.accepted, rs...)
	return nil
}

// testIntake is the real intake over a memBuffer. err, when set, is returned instead of calling
// it, to test how failures that intake itself never produces reach clients.
type testIntake struct {
	*intake.Intake
	buf *memBuffer

	mu  sync.Mutex
	err error
}

func (f *testIntake) Submit(ctx context.Context, o survey.Origin, s *survey.Submission) (survey.Receipt, error) {
	f.mu.Lock()
	injected := f.err
	f.mu.Unlock()
	if injected != nil {
		return survey.Receipt{}, injected
	}
	return f.Intake.Submit(ctx, o, s)
}

// count is how many responses reached the buffer.
func (f *testIntake) count() int {
	f.buf.mu.Lock()
	defer f.buf.mu.Unlock()
	return len(f.buf.accepted)
}

// stored returns the responses in the buffer.
func (f *testIntake) stored() []survey.Response {
	f.buf.mu.Lock()
	defer f.buf.mu.Unlock()
	return append([]survey.Response(nil), f.buf.accepted...)
}

// fakeScores stands in for analytics.Scores: it enforces tenancy the way the real one does and
// records the principal and query it was asked for.
type fakeScores struct {
	mu    sync.Mutex
	calls int
	lastP survey.Principal
	lastQ analytics.ScoreQuery
}

func (f *fakeScores) Score(_ context.Context, p survey.Principal, id survey.ID, q analytics.ScoreQuery) (analytics.Score, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.lastP, f.lastQ = p, q
	if !p.CanReadAgency(id) {
		return analytics.Score{}, survey.ErrForbiddenAgency()
	}
	mean := 4.25
	return analytics.Score{AgencyID: id, Responses: 4, Ratings: 4, Mean: &mean,
		ByQuestion: []analytics.QuestionScore{}, ByChannel: []analytics.ChannelScore{}}, nil
}

// last returns what the most recent call was asked, and how many calls there were.
func (f *fakeScores) last() (p survey.Principal, q analytics.ScoreQuery, calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastP, f.lastQ, f.calls
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a running server over real HTTP.
type harness struct {
	url    string
	srv    *api.Server
	intake *testIntake
	scores *fakeScores
	logs   *syncBuffer
}

// start runs api.New(d) behind httptest.NewServer. Unset Catalog/Auth/Intake/Scores get the
// in-memory stand-ins; logs are captured at Debug.
func start(t *testing.T, d api.Deps) *harness {
	t.Helper()
	h := &harness{logs: &syncBuffer{}}
	if d.Catalog == nil {
		cat := newMemCatalog()
		d.Catalog, d.Auth = cat, cat
	}
	if d.Intake == nil {
		cat, ok := d.Catalog.(intake.Catalog)
		if !ok {
			t.Fatal("catalog cannot read versions and offices for intake")
		}
		buf := &memBuffer{}
		in := intake.New(cat, buf, nil, intake.Options{Logger: slog.New(slog.DiscardHandler)})
		t.Cleanup(in.Close)
		h.intake = &testIntake{Intake: in, buf: buf}
		d.Intake = h.intake
	}
	if d.Scores == nil {
		h.scores = &fakeScores{}
		d.Scores = h.scores
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.srv = api.New(d)
	ts := httptest.NewServer(h.srv.Handler())
	t.Cleanup(ts.Close)
	h.url = ts.URL
	return h
}

// reply is a finished HTTP exchange.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the error envelope.
type errorBody struct {
	Error *struct {
		Code      string                       `json:"code"`
		Message   string                       `json:"message"`
		MessageFA string                       `json:"message_fa"`
		Fields    map[string]survey.FieldError `json:"fields"`
	} `json:"error"`
}

// request performs one call; token "" sends no Authorization, contentType "" sends none.
func (h *harness) request(t *testing.T, method, path, token, contentType, body string, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func (h *harness) get(t *testing.T, path, token string) reply {
	t.Helper()
	return h.request(t, http.MethodGet, path, token, "", "")
}

func (h *harness) post(t *testing.T, token, body string) reply {
	t.Helper()
	return h.request(t, http.MethodPost, "/api/v1/responses", token, "application/json", body)
}

// wantStatus fails unless r has the status.
func (r reply) wantStatus(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// envelope decodes and checks the error envelope: the code, JSON content type, both messages.
func (r reply) envelope(t *testing.T, status int, code string) errorBody {
	t.Helper()
	r.wantStatus(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q", ct)
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil {
		t.Fatalf("not an error envelope (%v): %s", err, r.body)
	}
	if e.Error.Code != code {
		t.Fatalf("code %q, want %q; body: %s", e.Error.Code, code, r.body)
	}
	if e.Error.Message == "" || !hasPersian(e.Error.MessageFA) {
		t.Fatalf("envelope lacks an English or Persian message: %s", r.body)
	}
	return e
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// hasPersian reports whether s contains Arabic-script letters.
func hasPersian(s string) bool {
	for _, r := range s {
		if r >= 0x0600 && r <= 0x06FF {
			return true
		}
	}
	return false
}

// validBody is a well-formed, valid submission to the tax survey; id may be "". It names no
// channel: the caller's origin decides it.
func validBody(id string) string {
	return bodyWith(id, nil)
}

// bodyWith is validBody with fields added or replaced (a nil value deletes the field).
func bodyWith(id string, set map[string]any) string {
	m := map[string]any{
		"agency_id": taxID, "survey_id": taxSurvey, "survey_version": 1,
		"office_id": taxOffice,
		"answers": []map[string]any{
			{"question_id": "q1", "value": 5},
			{"question_id": "q3", "text": "برخورد کارمند خیلی خوب بود"},
		},
	}
	if id != "" {
		m["id"] = id
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
