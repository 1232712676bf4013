package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
)

func TestConfigSMS(t *testing.T) {
	c, err := LoadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMSFrequencyCap != 720*time.Hour || c.SMSInviteWindow != 48*time.Hour || c.SMSRate != sms.DefaultRate ||
		c.SMSQuietHours.String() != "22:00-08:00" {
		t.Fatalf("SMS defaults: cap %v window %v rate %v quiet %q", c.SMSFrequencyCap, c.SMSInviteWindow, c.SMSRate, c.SMSQuietHours)
	}
	c, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_FREQUENCY_CAP": "168h", "AFKAR_SMS_INVITE_WINDOW": "24h",
		"AFKAR_SMS_RATE": "0.5", "AFKAR_SMS_QUIET_HOURS": "21:30-07:00"}))
	if err != nil || c.SMSFrequencyCap != 168*time.Hour || c.SMSInviteWindow != 24*time.Hour || c.SMSRate != 0.5 ||
		c.SMSQuietHours.String() != "21:30-07:00" {
		t.Fatalf("SMS settings: %+v, %v", c, err)
	}
	// Set and empty (or "off") disables quiet hours; unset keeps the default.
	defer func(f func(string) bool) { envSet = f }(envSet)
	envSet = func(k string) bool { return k == "AFKAR_SMS_QUIET_HOURS" }
	if c, err = LoadConfig(envMap(nil)); err != nil || c.SMSQuietHours.Enabled() {
		t.Fatalf("empty quiet hours: %q, %v", c.SMSQuietHours, err)
	}
	if c, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_QUIET_HOURS": "off"})); err != nil || c.SMSQuietHours.Enabled() {
		t.Fatalf("off: %v", err)
	}
	_, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_QUIET_HOURS": "late", "AFKAR_SMS_RATE": "0",
		"AFKAR_SMS_INVITE_WINDOW": "0s"}))
	for _, want := range []string{"AFKAR_SMS_QUIET_HOURS", "AFKAR_SMS_RATE", "AFKAR_SMS_INVITE_WINDOW"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad %s not reported: %v", want, err)
		}
	}
}

// TestSMSInvitationThroughTheBinary: the real binary with the fake Kavenegar: an SMS integration
// token minted on the command line records an invitation, the sender texts it, and no number
// reaches the logs; a wrong key shows in /readyz's detail without making the server unready.
func TestSMSInvitationThroughTheBinary(t *testing.T) {
	t.Parallel()
	fake := kavenegartest.New(t)
	env, db := embeddedEnv(t)
	f := newFixture(t, db)
	env["AFKAR_KAVENEGAR_API_KEY"] = fake.APIKey
	env["AFKAR_KAVENEGAR_SENDER"] = kavenegartest.Line
	env["AFKAR_KAVENEGAR_BASE_URL"] = fake.URL()
	env["AFKAR_SMS_QUIET_HOURS"] = "off"
	srv := startServer(t, env)
	token := afkarCmd(t, env, "token", "--role", "integration", "--agency", fmt.Sprint(f.agency), "--channel", "sms", "--name", "queue")
	body := fmt.Sprintf(`{"items":[{"phone":"۰۹۱۲۱۲۳۴۵۶۷","office_id":%d,"visited_at":%q},{"phone":"0912","office_id":%d,"visited_at":%q}]}`,
		f.office, time.Now().Add(-time.Hour).Format(time.RFC3339), f.office, time.Now().Format(time.RFC3339))
	req, _ := http.NewRequest("POST", srv.url+"/api/v1/invitations", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Results []sms.InviteResult `json:"results"`
	}
	err = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(out.Results) != 2 || out.Results[0].Status != sms.ResultQueued ||
		out.Results[1].Status != sms.ResultRejected {
		t.Fatalf("%d %+v %v", res.StatusCode, out, err)
	}
	waitFor(t, 20*time.Second, "the SMS at the fake", func() bool { return len(fake.Sent()) == 1 })
	if s := fake.Sent()[0]; s.Receptor != "09121234567" || !strings.Contains(s.Text, "اداره آزمون") {
		t.Fatalf("sent %+v", s)
	}
	checks := readyChecks(t, srv.url)
	if checks["sms"] != "ok" {
		t.Fatalf("readyz checks %v", checks)
	}
	srv.stop()
	if strings.Contains(srv.out.String(), "1234567") {
		t.Fatalf("a number reached the logs:\n%s", srv.out)
	}

	// A wrong key: the server starts, says so in its log and in /readyz's detail, and stays ready.
	env2, _ := embeddedEnv(t)
	env2["AFKAR_KAVENEGAR_API_KEY"] = "WRONGKEY"
	env2["AFKAR_KAVENEGAR_SENDER"] = kavenegartest.Line
	env2["AFKAR_KAVENEGAR_BASE_URL"] = fake.URL()
	srv2 := startServer(t, env2)
	waitFor(t, 20*time.Second, "the sms check to fail", func() bool { return readyChecks(t, srv2.url)["sms"] == "failed" })
	if !strings.Contains(srv2.out.String(), "misconfigured") || strings.Contains(srv2.out.String(), "WRONGKEY") {
		t.Fatalf("start-up log:\n%s", srv2.out)
	}
}

// readyChecks returns /readyz's checks (which answers 200 while only detail checks fail).
func readyChecks(t *testing.T, url string) map[string]string {
	t.Helper()
	res, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz %d %v", res.StatusCode, err)
	}
	return r.Checks
}

func TestSMSGatewayChoice(t *testing.T) {
	c, err := LoadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if g, err := newGateway(c, nil); err != nil || fmt.Sprintf("%T", g) != "*sms.Console" {
		t.Fatalf("no key: %T %v", g, err)
	}
	c, err = LoadConfig(envMap(map[string]string{"AFKAR_KAVENEGAR_API_KEY": "K", "AFKAR_KAVENEGAR_SENDER": "10008663"}))
	if err != nil {
		t.Fatal(err)
	}
	if g, err := newGateway(c, nil); err != nil || fmt.Sprintf("%T", g) != "*sms.Kavenegar" {
		t.Fatalf("with a key: %T %v", g, err)
	}
	c.KavenegarSender = ""
	if _, err := newGateway(c, nil); err == nil {
		t.Fatal("a key without a sender line must be refused")
	}
}
