package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// The SMS follow-up through the real binary on PostgreSQL + Redis: a rating of 1 is answered by
// the reasons question (numbered options) at the fake gateway; the citizen's «۱ ۳» joins the
// rating in one response, counted once with both reasons; a rating of 5 from another citizen is
// counted at once and asks nothing.
func TestSMSDialogueThroughTheBinary(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	const secret = "push-secret-dialogue-0123456789"
	fake := kavenegartest.New(t)
	env, db := productionEnv(t, testRedisURL())
	f := newSurveyFixtureWith(t, db, []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Title: "رضایت کلی", Required: true},
		{ID: "reasons", Type: survey.TypeChoice, Multiple: true, Title: "چه چیزی باعث نارضایتی شد؟",
			ShowIf: &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2},
			Options: []survey.Option{{ID: "waiting", Label: "معطلی"}, {ID: "behaviour", Label: "رفتار کارکنان"},
				{ID: "confusing", Label: "راهنمایی ناروشن"}}},
	}, &survey.SMSSettings{FollowUp: []string{"reasons"}})
	useFakeKavenegar(env, fake)
	env["AFKAR_KAVENEGAR_WEBHOOK_SECRET"] = secret
	srv := startServer(t, env)
	token := afkarCmd(t, env, "token", "--role", "integration", "--agency", fmt.Sprint(f.agency), "--channel", "sms", "--name", "queue")
	visited := time.Now().Add(-time.Hour).Format(time.RFC3339)
	body := map[string]any{"items": []map[string]any{
		{"phone": "09121112233", "office_id": f.office, "visited_at": visited},
		{"phone": "09131112233", "office_id": f.office, "visited_at": visited}}}
	if st := httpJSON(t, "POST", srv.url+"/api/v1/invitations", token, body, nil); st != 200 {
		t.Fatalf("invite: %d", st)
	}
	waitFor(t, 20*time.Second, "both invitations at the fake", func() bool { return len(fake.Sent()) == 2 })
	push := func(from, text string) {
		t.Helper()
		res, err := http.PostForm(srv.url+"/api/v1/sms/kavenegar/inbound/"+secret, url.Values{"from": {from}, "message": {text}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("push: %d", res.StatusCode)
		}
	}
	push("09121112233", "۱")
	push("09131112233", "۵")
	var followUp kavenegartest.SentSMS
	waitFor(t, 20*time.Second, "the follow-up question at the fake", func() bool {
		for _, m := range fake.Sent() {
			if strings.Contains(m.Text, "نارضایتی") {
				followUp = m
				return true
			}
		}
		return false
	})
	if followUp.Receptor != "09121112233" || !strings.Contains(followUp.Text, "معطلی") || !strings.HasSuffix(followUp.Text, "لغو ۱۱") {
		t.Fatalf("follow-up %+v", followUp)
	}
	var sc struct {
		Responses  int64 `json:"responses"`
		ByQuestion []struct {
			QuestionID string           `json:"question_id"`
			Histogram  map[string]int64 `json:"histogram"`
		} `json:"by_question"`
	}
	scoreURL := fmt.Sprintf("%s/api/v1/agencies/%d/score", srv.url, f.agency)
	// The 5 is counted at once; the 1 waits for its reasons.
	waitFor(t, 20*time.Second, "the 5 in the score", func() bool {
		return httpJSON(t, "GET", scoreURL, env["AFKAR_ADMIN_TOKEN"], nil, &sc) == 200 && sc.Responses == 1
	})
	push("09121112233", "1 3")
	waitFor(t, 20*time.Second, "the 1 with its reasons in the score", func() bool {
		return httpJSON(t, "GET", scoreURL, env["AFKAR_ADMIN_TOKEN"], nil, &sc) == 200 && sc.Responses == 2
	})
	reasons := map[string]int64{}
	for _, q := range sc.ByQuestion {
		if q.QuestionID == "reasons" {
			reasons = q.Histogram
		}
	}
	if reasons["waiting"] != 1 || reasons["confusing"] != 1 || reasons["behaviour"] != 0 {
		t.Fatalf("reasons %v", reasons)
	}
	// The conversation over, the unhappy citizen gets ONE offer to be contacted; «۱» opens a
	// follow-up case with the number it came from.
	waitFor(t, 20*time.Second, "the case offer at the fake", func() bool {
		for _, m := range fake.Sent() {
			if strings.Contains(m.Text, "پیگیری") && m.Receptor == "09121112233" {
				return true
			}
		}
		return false
	})
	if n := len(fake.Sent()); n != 4 {
		t.Fatalf("%d SMS sent; want 2 invitations, 1 follow-up and 1 case offer", n)
	}
	push("09121112233", "بله") // not «۱» again: the same text from one number within a minute is one message
	var cs struct {
		Cases []struct {
			Channel     string `json:"channel"`
			Rating      int    `json:"rating"`
			PhoneMasked string `json:"phone_masked"`
		} `json:"cases"`
	}
	casesURL := fmt.Sprintf("%s/api/v1/agencies/%d/cases", srv.url, f.agency)
	waitFor(t, 20*time.Second, "the follow-up case", func() bool {
		return httpJSON(t, "GET", casesURL, env["AFKAR_ADMIN_TOKEN"], nil, &cs) == 200 && len(cs.Cases) == 1
	})
	if c := cs.Cases[0]; c.Channel != "sms" || c.Rating != 1 || c.PhoneMasked != "0912***2233" {
		t.Fatalf("case %+v", c)
	}
	srv.stop()
	if strings.Contains(srv.out.String(), "1112233") {
		t.Fatalf("a number reached the logs")
	}
}

// newSurveyFixtureWith is newSurveyFixture with the version's SMS settings.
func newSurveyFixtureWith(t *testing.T, dbURL string, questions []survey.Question, settings *survey.SMSSettings) fixture {
	t.Helper()
	f := newSurveyFixture(t, dbURL, questions)
	if settings == nil {
		return f
	}
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := survey.Version{SurveyID: f.version.SurveyID, AgencyID: f.agency, Title: f.version.Title, Questions: questions, SMS: settings}
	must(t, st.PublishVersion(ctx, &v))
	f.version = v
	return f
}
