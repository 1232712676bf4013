package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
)

func TestKioskConfig(t *testing.T) {
	c, err := LoadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.KioskPairingTTL != 15*time.Minute || c.KioskSkewTolerance != 2*time.Minute || c.KioskMinInterval != 4*time.Second ||
		c.KioskBurst != (kiosk.Burst{N: 10, Window: time.Minute}) || c.KioskWatchEvery != time.Minute || c.KioskIdle != 20*time.Second {
		t.Fatalf("kiosk defaults %+v", c)
	}
	c, err = LoadConfig(envMap(map[string]string{"AFKAR_KIOSK_PAIRING_TTL": "30m", "AFKAR_KIOSK_SKEW_TOLERANCE": "5m",
		"AFKAR_KIOSK_MIN_INTERVAL": "2s", "AFKAR_KIOSK_BURST": "20/2m", "AFKAR_KIOSK_WATCH_EVERY": "30s", "AFKAR_KIOSK_IDLE": "45s"}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b)
	for _, want := range []string{"AFKAR_KIOSK_PAIRING_TTL    30m0s", "AFKAR_KIOSK_SKEW_TOLERANCE 5m0s", "AFKAR_KIOSK_MIN_INTERVAL   2s",
		"AFKAR_KIOSK_BURST          20/2m0s", "AFKAR_KIOSK_WATCH_EVERY    30s", "AFKAR_KIOSK_IDLE           45s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("config output lacks %q:\n%s", want, b.String())
		}
	}
	bad := map[string]string{"AFKAR_KIOSK_PAIRING_TTL": "10s", "AFKAR_KIOSK_SKEW_TOLERANCE": "2h", "AFKAR_KIOSK_MIN_INTERVAL": "soon",
		"AFKAR_KIOSK_BURST": "10 a minute", "AFKAR_KIOSK_WATCH_EVERY": "0s", "AFKAR_KIOSK_IDLE": "1s"}
	_, err = LoadConfig(envMap(bad))
	if err == nil {
		t.Fatal("bad kiosk configuration accepted")
	}
	for k := range bad {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
}

// httpJSON makes one request and decodes a JSON answer into out (when not nil), an error
// envelope too; it returns the status.
func httpJSON(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	return res.StatusCode
}

// The kiosk channel end to end on the real binary: an agency admin token from the command line,
// a kiosk made over HTTP with the admin token, paired, a batch posted, and the presses counted in
// the agency's score on the kiosk channel. `afkar kiosk add` and `list` work beside the server.
func TestKioskEndToEnd(t *testing.T) {
	env, db := embeddedEnv(t)
	env["AFKAR_ADMIN_TOKEN"] = "e2e-admin-token-0123456789"
	f := newFixture(t, db)
	agencyAdmin := afkarCmd(t, env, "token", "--role", "agency_admin", "--agency", f.agency.String(), "--name", "PR lead")
	if !strings.HasPrefix(agencyAdmin, "afk_") {
		t.Fatalf("token %q", agencyAdmin)
	}
	s := startServer(t, env)
	admin := env["AFKAR_ADMIN_TOKEN"]

	var me survey.Principal
	if code := httpJSON(t, "GET", s.url+"/api/v1/me", agencyAdmin, nil, &me); code != 200 || me.Role != survey.RoleAgencyAdmin || me.AgencyID != f.agency {
		t.Fatalf("agency admin token: %d %+v", code, me)
	}
	// The office never sleeps, so the test runs at any hour.
	if code := httpJSON(t, "PUT", fmt.Sprintf("%s/api/v1/offices/%d/hours", s.url, f.office), agencyAdmin, map[string]any{"always_open": true}, nil); code != 200 {
		t.Fatalf("hours: %d", code)
	}
	var created struct {
		ID      survey.ID `json:"id"`
		Code    string    `json:"pairing_code"`
		PairURL string    `json:"pair_url"`
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosks", admin, map[string]any{"office_id": f.office, "name": "کیوسک آزمون"}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if created.PairURL != s.url+"/kiosk/#code="+created.Code {
		t.Fatalf("pair_url %q", created.PairURL)
	}
	var paired struct {
		Token string `json:"token"`
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/pair", "", map[string]string{"code": kiosk.DisplayCode(created.Code)}, &paired); code != 200 {
		t.Fatalf("pair: %d", code)
	}
	var cfg struct {
		Survey struct {
			ID      survey.ID `json:"id"`
			Version int       `json:"version"`
		} `json:"survey"`
		OpenNow bool `json:"open_now"`
	}
	if code := httpJSON(t, "GET", s.url+"/api/v1/kiosk/config", paired.Token, nil, &cfg); code != 200 || cfg.Survey.ID != f.version.SurveyID || !cfg.OpenNow {
		t.Fatalf("config: %d %+v", code, cfg)
	}

	// Four presses a minute apart (one sent twice) and one a second after another (flagged).
	now := time.Now().UTC()
	var items []any
	var ids []string
	for i, sec := range []int{-240, -180, -120, -60, -59} {
		id := uuid.Must(uuid.NewV7()).String()
		ids = append(ids, id)
		items = append(items, map[string]any{"id": id, "survey_id": f.version.SurveyID, "survey_version": f.version.Version,
			"submitted_at": now.Add(time.Duration(sec) * time.Second), "answers": []map[string]any{{"question_id": "overall", "value": 3 + i%3}}})
	}
	items = append(items, items[0])
	var res struct {
		Results []struct {
			Status string `json:"status"`
			Flag   string `json:"flag"`
		} `json:"results"`
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/responses", paired.Token, map[string]any{"sent_at": now, "items": items}, &res); code != 200 {
		t.Fatalf("batch: %d", code)
	}
	var got []string
	for _, r := range res.Results {
		got = append(got, r.Status+"/"+r.Flag)
	}
	if strings.Join(got, " ") != "accepted/ accepted/ accepted/ accepted/ accepted/interval duplicate/" {
		t.Fatalf("results %v", got)
	}
	var beat struct {
		OpenNow bool `json:"open_now"`
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/heartbeat", paired.Token, map[string]any{"clock": time.Now(), "queued": 0}, &beat); code != 200 || !beat.OpenNow {
		t.Fatalf("heartbeat: %d %+v", code, beat)
	}

	// Counted in the score, on the kiosk channel: the four counted presses. The flagged one is
	// stored too, left out of the figures and counted apart.
	type score struct {
		Responses int64 `json:"responses"`
		ByChannel []struct {
			Channel   string `json:"channel"`
			Responses int64  `json:"responses"`
		} `json:"by_channel"`
		Flagged struct {
			Total    int64 `json:"total"`
			Interval int64 `json:"interval"`
		} `json:"flagged"`
	}
	scoreURL := fmt.Sprintf("%s/api/v1/agencies/%d/score?office_id=%d", s.url, f.agency, f.office)
	var sc score
	waitFor(t, 20*time.Second, "the kiosk's presses in the score", func() bool {
		sc = score{}
		return httpJSON(t, "GET", scoreURL, agencyAdmin, nil, &sc) == 200 && sc.Responses+sc.Flagged.Total >= 5
	})
	kioskN := int64(-1)
	for _, c := range sc.ByChannel {
		if c.Channel == "kiosk" {
			kioskN = c.Responses
		}
	}
	if sc.Responses != 4 || kioskN != 4 || sc.Flagged.Total != 1 || sc.Flagged.Interval != 1 {
		t.Fatalf("score: %d responses, %d on the kiosk channel, flagged %+v; want 4, 4 and the one interval press", sc.Responses, kioskN, sc.Flagged)
	}

	// The fleet list and stats over HTTP, and the command line beside the server.
	var list struct {
		Kiosks []kiosk.Listing `json:"kiosks"`
	}
	if code := httpJSON(t, "GET", s.url+"/api/v1/kiosks", agencyAdmin, nil, &list); code != 200 || len(list.Kiosks) != 1 || list.Kiosks[0].Status != kiosk.StatusOnline {
		t.Fatalf("list: %d %+v", code, list)
	}
	var stats kiosk.Stats
	if code := httpJSON(t, "GET", fmt.Sprintf("%s/api/v1/kiosks/%d/stats", s.url, created.ID), agencyAdmin, nil, &stats); code != 200 || len(stats.Days) == 0 {
		t.Fatalf("stats: %d %+v", code, stats)
	}
	var accepted, interval int64
	for _, d := range stats.Days {
		accepted += d.Accepted
		interval += d.Flagged.Interval
	}
	if accepted != 4 || interval != 1 {
		t.Fatalf("stats: %d accepted, %d interval", accepted, interval)
	}
	out := afkarCmd(t, env, "kiosk", "add", "--office", f.office.String(), "--name", "کیوسک دوم", "--free-text", "--url", s.url)
	m := regexp.MustCompile(`(?m)^pair_url: (\S+#code=([A-Z0-9]{8}))$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "pairing_code: "+kiosk.DisplayCode(m[2])) || !strings.Contains(out, "name: کیوسک دوم") {
		t.Fatalf("kiosk add printed:\n%s", out)
	}
	firstToken := paired.Token
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/pair", "", map[string]string{"code": m[2]}, &paired); code != 200 {
		t.Fatalf("pairing the CLI's kiosk: %d", code)
	}
	out = afkarCmd(t, env, "kiosk", "list")
	if !strings.Contains(out, "کیوسک آزمون") || !strings.Contains(out, "کیوسک دوم") || !strings.Contains(out, "online") ||
		!strings.Contains(out, "offline") || strings.Count(out, "\n") != 2 {
		t.Fatalf("kiosk list printed:\n%s", out)
	}

	// Secrets stay out of the server's log, even in failed requests (logged with more detail)
	// and when a client puts them in the query string.
	if code := httpJSON(t, "GET", s.url+"/api/v1/kiosk/config?code="+created.Code+"&token="+firstToken, firstToken+"x", nil, nil); code != 401 {
		t.Fatalf("a mangled device token: %d", code)
	}
	if code := httpJSON(t, "GET", s.url+"/api/v1/kiosks/99999/stats?token="+agencyAdmin, agencyAdmin, nil, nil); code != 404 {
		t.Fatalf("an unknown kiosk's stats: %d", code)
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/pair", "", map[string]string{"code": m[2]}, nil); code != 422 {
		t.Fatalf("a used code: %d", code)
	}
	s.stop()
	logs := s.out.String()
	for name, secret := range map[string]string{"device token": firstToken, "second device token": paired.Token,
		"pairing code": created.Code, "displayed pairing code": kiosk.DisplayCode(created.Code), "CLI pairing code": m[2],
		"agency admin token": agencyAdmin, "admin token": admin} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log holds the %s:\n%s", name, logs)
		}
	}
	if !strings.Contains(logs, "/api/v1/kiosk/config") {
		t.Errorf("the failed requests were not logged at all:\n%s", logs)
	}
}

// Demo mode: the first start creates the demo kiosk and prints a pairing code and URL; a restart
// prints a fresh one while it is unpaired, and none once it is paired.
func TestDemoKiosk(t *testing.T) {
	env, _ := embeddedEnv(t)
	env["AFKAR_DEMO"] = "1"
	line := regexp.MustCompile(`Demo kiosk «` + DemoKioskName + `» .*: open (http://\S+/kiosk/#code=([A-Z0-9]{8})) in a browser`)
	codeOf := func(s *server) string {
		t.Helper()
		var m []string
		waitFor(t, 10*time.Second, "the demo kiosk's pairing line", func() bool {
			m = line.FindStringSubmatch(s.out.String())
			return m != nil
		})
		if !strings.HasPrefix(m[1], s.url+"/kiosk/") {
			t.Fatalf("pair URL %q on server %s", m[1], s.url)
		}
		return m[2]
	}
	s := startServer(t, env)
	first := codeOf(s)
	s.stop()

	s = startServer(t, env)
	second := codeOf(s)
	if second == first {
		t.Fatal("a restart printed the same code")
	}
	// The first code was replaced; the second pairs, in an office that never sleeps.
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/pair", "", map[string]string{"code": first}, nil); code != 422 {
		t.Fatalf("the replaced code: %d", code)
	}
	var paired struct {
		Token string         `json:"token"`
		Kiosk kiosk.Identity `json:"kiosk"`
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/pair", "", map[string]string{"code": second}, &paired); code != 200 || paired.Kiosk.Name != DemoKioskName {
		t.Fatalf("pairing the demo kiosk: %d %+v", code, paired)
	}
	var cfg struct {
		OpenNow bool `json:"open_now"`
		Survey  *struct {
			ID survey.ID `json:"id"`
		} `json:"survey"`
	}
	if code := httpJSON(t, "GET", s.url+"/api/v1/kiosk/config", paired.Token, nil, &cfg); code != 200 || !cfg.OpenNow || cfg.Survey == nil {
		t.Fatalf("demo kiosk config: %d %+v", code, cfg)
	}
	s.stop()

	// The pairing line is written before the server answers, so readiness means it is there if
	// it ever will be.
	s = startServer(t, env)
	if strings.Contains(s.out.String(), "Demo kiosk") {
		t.Fatalf("a paired demo kiosk printed a code:\n%s", s.out)
	}
	if !strings.Contains(s.out.String(), "the demo kiosk is paired") {
		t.Fatalf("no word about the paired demo kiosk:\n%s", s.out)
	}
	s.stop()
}
