package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
	"github.com/afkar-gov/afkar/survey"
)

// smsLink is the web-form link an invitation via "link" carries in its text.
var smsLink = regexp.MustCompile(`https?://\S+/s/[A-Za-z0-9_-]+`)

// An invitation via "link" on the real binary against the fake Kavenegar: the SMS carries a
// /s/{token} link; the form it opens is answered once, counted once in the score on the web
// channel for the invitation's office and as answered_link in that day's funnel; a second submit
// of the same link is the "used" page and counts nothing; no number reaches the logs.
func TestLinkInvitationAnsweredThroughTheBinary(t *testing.T) {
	t.Parallel()
	fake := kavenegartest.New(t)
	env, db := embeddedEnv(t)
	f := newFixture(t, db)
	useFakeKavenegar(env, fake)
	const secret = "push-secret-link-0123456789abcdef"
	env["AFKAR_KAVENEGAR_WEBHOOK_SECRET"] = secret
	admin := env["AFKAR_ADMIN_TOKEN"]
	srv := startServer(t, env)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", srv.out)
		}
	})
	token := afkarCmd(t, env, "token", "--role", "integration", "--agency", fmt.Sprint(f.agency), "--channel", "sms", "--name", "queue")

	visited := time.Now().Add(-time.Hour)
	var inv struct {
		Results []struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"results"`
	}
	body := map[string]any{"phone": "0912 123 4567", "office_id": f.office, "visited_at": visited.Format(time.RFC3339), "via": "link"}
	if st := httpJSON(t, "POST", srv.url+"/api/v1/invitations", token, body, &inv); st != 200 || len(inv.Results) != 1 || inv.Results[0].Status != "queued" {
		t.Fatalf("invite: %d %+v", st, inv)
	}
	waitFor(t, 20*time.Second, "the SMS at the fake", func() bool { return len(fake.Sent()) == 1 })
	text := fake.Sent()[0].Text
	link := smsLink.FindString(text)
	if !strings.HasPrefix(link, srv.url+"/s/") {
		t.Fatalf("no link on this server in the SMS %q", text)
	}
	tok := link[strings.LastIndex(link, "/")+1:]

	get := formRequest(t, "GET", link, nil)
	if get.status != 200 || !strings.Contains(get.body, `dir="rtl"`) || !strings.Contains(get.body, "رضایت کلی") ||
		!strings.Contains(get.body, `name="t" value="`+tok+`"`) || !strings.Contains(get.body, `name="q_overall"`) {
		t.Fatalf("GET form: %d\n%s", get.status, get.body)
	}
	answer := url.Values{"t": {tok}, "q_overall": {"4"}}
	if res := formRequest(t, "POST", link, answer); res.status != 200 || !strings.Contains(res.body, "سپاس از شما") {
		t.Fatalf("valid answer: %d\n%s", res.status, res.body)
	}

	var sc officeScore
	scoreURL := fmt.Sprintf("%s/api/v1/agencies/%d/score?office_id=%d", srv.url, f.agency, f.office)
	waitFor(t, 20*time.Second, "the answer in the score", func() bool {
		return httpJSON(t, "GET", scoreURL, admin, nil, &sc) == 200 && sc.Responses >= 1
	})
	tehran, err := time.LoadLocation("Asia/Tehran")
	if err != nil {
		t.Fatal(err)
	}
	day := visited.In(tehran).Format(time.DateOnly)
	var funnel struct {
		Days []struct {
			Day          string    `json:"day"`
			OfficeID     survey.ID `json:"office_id"`
			Invitations  int64     `json:"invitations"`
			AnsweredLink int64     `json:"answered_link"`
		} `json:"days"`
	}
	answeredLink := func() int64 {
		if st := httpJSON(t, "GET", fmt.Sprintf("%s/api/v1/agencies/%d/funnel", srv.url, f.agency), admin, nil, &funnel); st != 200 {
			t.Fatalf("funnel: %d", st)
		}
		var n int64
		for _, d := range funnel.Days {
			if d.Day == day && d.OfficeID == f.office {
				n += d.AnsweredLink
			}
		}
		return n
	}
	waitFor(t, 20*time.Second, "answered_link in the funnel", func() bool { return answeredLink() >= 1 })

	// The citizen also replies «۵» to the SMS: the visit was answered by its link, so the reply
	// is kept but not counted.
	res, err := http.PostForm(srv.url+"/api/v1/sms/kavenegar/inbound/"+secret, url.Values{"from": {"09121234567"}, "message": {"۵"}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("push: %v %v", res, err)
	}
	res.Body.Close()
	var replies struct {
		Messages []struct {
			Outcome string `json:"outcome"`
		} `json:"messages"`
	}
	waitFor(t, 20*time.Second, "the SMS reply processed", func() bool {
		st := httpJSON(t, "GET", fmt.Sprintf("%s/api/v1/agencies/%d/sms/inbound", srv.url, f.agency), admin, nil, &replies)
		return st == 200 && len(replies.Messages) == 1 && replies.Messages[0].Outcome != ""
	})
	if replies.Messages[0].Outcome != string(survey.InboundAnsweredBefore) {
		t.Fatalf("the SMS reply after the link's answer: %+v", replies.Messages)
	}

	if res := formRequest(t, "POST", link, answer); res.status != 410 || !strings.Contains(res.body, "قبلاً استفاده شده") {
		t.Fatalf("second submit: %d\n%s", res.status, res.body)
	}
	// Nothing more is counted: a later answer through a fresh link of the office is a barrier —
	// once it is in the score, anything the refused submit had let through would be too.
	barrier := issueLink(t, env, f, srv.url)
	bv := url.Values{"t": {barrier[strings.LastIndex(barrier, "/")+1:]}, "q_overall": {"5"}}
	if res := formRequest(t, "POST", barrier, bv); res.status != 200 {
		t.Fatalf("barrier answer: %d", res.status)
	}
	waitFor(t, 20*time.Second, "the barrier answer in the score", func() bool {
		return httpJSON(t, "GET", scoreURL, admin, nil, &sc) == 200 && sc.Responses >= 2
	})
	if sc.Responses != 2 {
		t.Fatalf("score %+v, want the link's answer and the barrier only", sc)
	}
	for _, c := range sc.ByChannel {
		if c.Responses != 0 && (c.Channel != "web" || c.Responses != 2) {
			t.Fatalf("by channel %+v; want both responses on web", sc.ByChannel)
		}
	}
	if n := answeredLink(); n != 1 {
		t.Fatalf("answered_link %d on %s, want 1: %+v", n, day, funnel.Days)
	}

	srv.stop()
	if strings.Contains(srv.out.String(), "1234567") {
		t.Fatalf("the number reached the logs:\n%s", srv.out)
	}
}
