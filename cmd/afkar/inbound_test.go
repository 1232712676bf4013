package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
)

// useFakeKavenegar points the binary's SMS gateway at the fake Kavenegar, with no quiet hours, a
// 1 s frequency cap, and an admin token for reading the score.
func useFakeKavenegar(env map[string]string, fake *kavenegartest.Server) {
	env["AFKAR_KAVENEGAR_API_KEY"] = fake.APIKey
	env["AFKAR_KAVENEGAR_SENDER"] = kavenegartest.Line
	env["AFKAR_KAVENEGAR_BASE_URL"] = fake.URL()
	env["AFKAR_SMS_QUIET_HOURS"] = "off"
	env["AFKAR_SMS_FREQUENCY_CAP"] = "1s"
	env["AFKAR_ADMIN_TOKEN"] = strings.Repeat("a", 32)
}

// officeScore is the part of GET /api/v1/agencies/{id}/score the tests check: responses, in all
// and by channel.
type officeScore struct {
	Responses int64 `json:"responses"`
	ByChannel []struct {
		Channel   string `json:"channel"`
		Responses int64  `json:"responses"`
	} `json:"by_channel"`
}

// The SMS loop on the real binary against the fake Kavenegar: an invitation is sent, the reply
// is pushed to the inbound URL (twice, and also fetched by the receive poller) and counted once
// in the score on the sms channel; an opt-out then makes the next invitation skipped.
func TestSMSReplyLoopThroughTheBinary(t *testing.T) {
	t.Parallel()
	const secret = "push-secret-0123456789abcdef"
	fake := kavenegartest.New(t)
	env, db := embeddedEnv(t)
	f := newFixture(t, db)
	useFakeKavenegar(env, fake)
	env["AFKAR_KAVENEGAR_WEBHOOK_SECRET"] = secret
	env["AFKAR_SMS_RECEIVE_EVERY"] = "1s"
	srv := startServer(t, env)
	token := afkarCmd(t, env, "token", "--role", "integration", "--agency", fmt.Sprint(f.agency), "--channel", "sms", "--name", "queue")

	invite := func() string {
		var out struct {
			Results []struct {
				Status string `json:"status"`
				Reason string `json:"reason"`
			} `json:"results"`
		}
		body := map[string]any{"phone": "0912 123 4567", "office_id": f.office, "visited_at": time.Now().Add(-time.Hour).Format(time.RFC3339)}
		if st := httpJSON(t, "POST", srv.url+"/api/v1/invitations", token, body, &out); st != 200 || len(out.Results) != 1 {
			t.Fatalf("invite: %d %+v", st, out)
		}
		return out.Results[0].Status + "/" + out.Results[0].Reason
	}
	if got := invite(); got != "queued/" {
		t.Fatalf("invitation %s", got)
	}
	waitFor(t, 20*time.Second, "the SMS at the fake", func() bool { return len(fake.Sent()) == 1 })

	// The citizen replies «۴»: the fake holds it unread (the poller will fetch it) and pushes it,
	// twice, with its message id.
	id := fake.Inject("09121234567", "۴ ممنون")
	pushTo := func(secret string, fields url.Values) int {
		res, err := http.PostForm(srv.url+"/api/v1/sms/kavenegar/inbound/"+secret, fields)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	push := func(fields url.Values) int { return pushTo(secret, fields) }
	for range 2 {
		if st := push(url.Values{"from": {"09121234567"}, "message": {"۴ ممنون"}, "messageid": {id}, "to": {kavenegartest.Line}}); st != 200 {
			t.Fatalf("push: %d", st)
		}
	}
	if st := pushTo(secret[1:], url.Values{"from": {"09121234567"}, "message": {"5"}}); st != 404 {
		t.Fatalf("a push with a wrong secret: %d, want 404", st)
	}
	calls := fake.Calls("sms/receive")
	waitFor(t, 20*time.Second, "the poller to fetch the reply too", func() bool { return fake.Calls("sms/receive") >= calls+2 })

	var sc officeScore
	scoreURL := fmt.Sprintf("%s/api/v1/agencies/%d/score?office_id=%d", srv.url, f.agency, f.office)
	waitFor(t, 20*time.Second, "the reply in the score", func() bool {
		return httpJSON(t, "GET", scoreURL, env["AFKAR_ADMIN_TOKEN"], nil, &sc) == 200 && sc.Responses >= 1
	})
	waitFor(t, 20*time.Second, "another poll", func() bool { return fake.Calls("sms/receive") >= calls+3 })
	if httpJSON(t, "GET", scoreURL, env["AFKAR_ADMIN_TOKEN"], nil, &sc) != 200 || sc.Responses != 1 {
		t.Fatalf("score %+v, want 1 response", sc)
	}
	for _, c := range sc.ByChannel {
		if c.Responses != 0 && (c.Channel != "sms" || c.Responses != 1) {
			t.Fatalf("by channel %+v; want the one response on sms", sc.ByChannel)
		}
	}

	// «لغو»: the next invitation (past the 1 s cap) is skipped as opted out.
	if st := push(url.Values{"From": {"+989121234567"}, "Message": {"لغو"}}); st != 200 {
		t.Fatalf("opt-out push: %d", st)
	}
	waitFor(t, 20*time.Second, "the opt-out to be honoured", func() bool { return invite() == "skipped/opted_out" })
	if n := len(fake.Sent()); n != 1 {
		t.Fatalf("%d SMS sent; the opted-out number got more", n)
	}

	srv.stop()
	if strings.Contains(srv.out.String(), "1234567") || strings.Contains(srv.out.String(), secret) {
		t.Fatalf("a number or the push secret reached the logs:\n%s", srv.out)
	}
}
