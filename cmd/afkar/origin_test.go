package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// do sends one request to a running server and returns the status and body.
func do(t *testing.T, method, url, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// The token command issues scoped integration tokens; the server records their channel, refuses
// a body that claims another, and serves the bootstrap admin from a token row that a new
// AFKAR_ADMIN_TOKEN replaces.
func TestTokensOriginAndBootstrapAdmin(t *testing.T) {
	env, db := embeddedEnv(t)
	f := newFixture(t, db)
	ctx := context.Background()
	token := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"token"}, args...), envMap(env), &out, &errb)
		return strings.TrimSpace(out.String()), err
	}
	agency := strconv.FormatInt(int64(f.agency), 10)
	kiosk, err := token("--role", "integration", "--agency", agency, "--office", strconv.FormatInt(int64(f.office), 10), "--channel", "kiosk", "--name", "lobby")
	if err != nil || !strings.HasPrefix(kiosk, sqlstore.TokenPrefix) {
		t.Fatalf("token: %q, %v", kiosk, err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--role", "integration", "--agency", agency}, "--channel"},
		{[]string{"--role", "integration", "--channel", "kiosk"}, "--agency"},
		{[]string{"--role", "integration", "--agency", agency, "--channel", "fax"}, "--channel"},
		{[]string{"--role", "integration", "--agency", agency, "--channel", "sms", "--office", "9999"}, "--office"},
		{[]string{"--role", "agency_staff", "--agency", agency, "--channel", "web"}, "--channel"},
	} {
		if tok, err := token(bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) || tok != "" {
			t.Errorf("token %v: %q, %v; want an error naming %s", bad.args, tok, err, bad.want)
		}
	}

	first := strings.Repeat("1", 32)
	withAdmin := func(tok string) map[string]string {
		m := map[string]string{"AFKAR_ADMIN_TOKEN": tok}
		for k, v := range env {
			m[k] = v
		}
		return m
	}
	srv := startServer(t, withAdmin(first))
	body := func(extra string) []byte {
		return []byte(fmt.Sprintf(`{"id":%q,"agency_id":%d,"survey_id":%d,"survey_version":%d%s,"answers":[{"question_id":"overall","value":4}]}`,
			uuid.NewString(), f.agency, f.version.SurveyID, f.version.Version, extra))
	}
	responses := srv.url + "/api/v1/responses"
	if code, b := do(t, "POST", responses, "", "application/json", body(`,"channel":"kiosk"`)); code != 422 || !strings.Contains(string(b), "channel_mismatch") {
		t.Fatalf("anonymous kiosk claim: %d %s", code, b)
	}
	if code, b := do(t, "POST", responses, "", "", body("")); code != 415 {
		t.Fatalf("no Content-Type: %d %s", code, b)
	}
	if code, b := do(t, "POST", responses, "", "application/json", body("")); code != 202 {
		t.Fatalf("anonymous: %d %s", code, b)
	}
	kioskBody := body("")
	if code, b := do(t, "POST", responses, kiosk, "application/json", kioskBody); code != 202 {
		t.Fatalf("kiosk token: %d %s", code, b)
	}
	if code, b := do(t, "POST", responses, kiosk, "application/json", kioskBody); code != 200 {
		t.Fatalf("kiosk resend: %d %s", code, b)
	}
	if code, b := do(t, "POST", responses, first, "application/json", body("")); code != 403 {
		t.Fatalf("admin submitting: %d %s", code, b)
	}
	var me survey.Principal
	code, b := do(t, "GET", srv.url+"/api/v1/me", kiosk, "", nil)
	if err := json.Unmarshal(b, &me); code != 200 || err != nil || me.Channel != survey.ChannelKiosk || me.AgencyID != f.agency || me.OfficeID != f.office {
		t.Fatalf("kiosk token's principal: %d %s", code, b)
	}
	if code, b := do(t, "GET", srv.url+"/api/v1/agencies", first, "", nil); code != 200 {
		t.Fatalf("bootstrap admin: %d %s", code, b)
	}

	// Counted under the channel the caller stands for: one web, one kiosk, no forged kiosk.
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitFor(t, 60*time.Second, "both responses folded", func() bool {
		n, err := st.ResponseCount(ctx, f.agency)
		return err == nil && n == 2
	})
	totals, err := st.RollupTotals(ctx, survey.RollupFilter{AgencyID: f.agency})
	if err != nil {
		t.Fatal(err)
	}
	by := map[survey.Channel]int64{}
	for _, tot := range totals {
		if tot.QuestionID == survey.ResponseQuestion {
			by[tot.Channel] += tot.N
		}
	}
	if by[survey.ChannelWeb] != 1 || by[survey.ChannelKiosk] != 1 || len(by) != 2 {
		t.Fatalf("responses by channel %v, want one web and one kiosk", by)
	}
	srv.stop()

	// A new AFKAR_ADMIN_TOKEN replaces the bootstrap row: the old token stops working.
	second := strings.Repeat("2", 32)
	srv = startServer(t, withAdmin(second))
	if code, b := do(t, "GET", srv.url+"/api/v1/agencies", first, "", nil); code != 401 {
		t.Fatalf("replaced admin token: %d %s", code, b)
	}
	if code, b := do(t, "GET", srv.url+"/api/v1/agencies", second, "", nil); code != 200 {
		t.Fatalf("new admin token: %d %s", code, b)
	}
	srv.stop()
}
