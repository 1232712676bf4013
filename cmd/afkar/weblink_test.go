package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// formFixture is a survey with every kind of question the web form draws, one conditional.
func formFixture(t *testing.T, db string) fixture {
	return newSurveyFixture(t, db, []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Title: "رضایت کلی", Required: true},
		{ID: "recommend", Type: survey.TypeNPS, Title: "پیشنهاد به دیگران"},
		{ID: "first_visit", Type: survey.TypeYesNo, Title: "بار اول بود؟"},
		{ID: "reasons", Type: survey.TypeChoice, Title: "چه چیزی بد بود؟", Multiple: true, Required: true,
			Options: []survey.Option{{ID: "wait", Label: "انتظار"}, {ID: "staff", Label: "برخورد"}},
			ShowIf:  &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}},
		{ID: "comment", Type: survey.TypeText, Title: "توضیح", MaxLength: 200},
	})
}

// page is one HTTP answer of the web form.
type page struct {
	status int
	body   string
	header http.Header
}

func formRequest(t *testing.T, method, u string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(b), header: res.Header}
}

var issuedURL = regexp.MustCompile(`(?m)^url: (\S+)$`)

// issueLink runs `afkar weblink issue` and returns the link on the server at base.
func issueLink(t *testing.T, env map[string]string, f fixture, base string, extra ...string) string {
	out := afkarCmd(t, env, append([]string{"weblink", "issue", "--office", f.office.String(), "--url", base}, extra...)...)
	m := issuedURL.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("weblink issue printed %q", out)
	}
	return m[1]
}

// The web form end to end on the real binary, on the embedded default and on PostgreSQL with
// Redis: a link from `afkar weblink issue` renders the form; an invalid answer is a 422 page with
// Persian messages beside the fields and the answers kept; a valid one is thanked and counted
// once in the score (channel web, the link's office); the link then shows the "used" page, a
// second submit is refused, two racing submits of a fresh link count one; an expired, a tampered
// link are friendly pages.
func TestWeblinkFormEndToEnd(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		env, db := embeddedEnv(t)
		weblinkScenario(t, env, db)
	})
	t.Run("postgres", func(t *testing.T) {
		requireRedis(t)
		env, db := productionEnv(t, testRedisURL())
		weblinkScenario(t, env, db)
	})
}

func weblinkScenario(t *testing.T, env map[string]string, db string) {
	env["AFKAR_ADMIN_TOKEN"] = "e2e-admin-token-0123456789"
	f := formFixture(t, db)
	s := startServer(t, env)
	link := issueLink(t, env, f, s.url)
	token := link[strings.LastIndex(link, "/")+1:]
	if !strings.HasPrefix(link, s.url+"/s/") || len(token) > 40 {
		t.Fatalf("link %q (token of %d characters)", link, len(token))
	}

	get := formRequest(t, "GET", link, nil)
	if get.status != 200 || get.header.Get("X-Robots-Tag") == "" || !strings.Contains(get.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("GET form: %d %v", get.status, get.header)
	}
	for _, want := range []string{`dir="rtl"`, "اداره آزمون", "دفتر مرکزی", "خیلی بد", "عالی", `name="q_recommend"`, `name="q_reasons"`, `name="q_comment"`, "ارسال", `name="t" value="` + token + `"`} {
		if !strings.Contains(get.body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	if strings.Index(get.body, "خیلی بد") > strings.Index(get.body, "عالی") {
		t.Error("faces must run خیلی بد (1) first in DOM order, at the right of an RTL page")
	}
	if len(get.body) > 100<<10 || strings.Contains(get.body, "<script") {
		t.Errorf("form page is %d bytes, or has a script", len(get.body))
	}

	// Invalid: overall 1 makes "reasons" required; the comment must be kept.
	bad := url.Values{"t": {token}, "q_overall": {"1"}, "q_comment": {"صف خیلی طولانی بود"}}
	res := formRequest(t, "POST", link, bad)
	if res.status != 422 || !strings.Contains(res.body, "لطفاً به این پرسش پاسخ دهید.") || !strings.Contains(res.body, "صف خیلی طولانی بود") ||
		!regexp.MustCompile(`value="1" checked`).MatchString(res.body) {
		t.Fatalf("invalid answer: %d\n%s", res.status, res.body)
	}
	// Without the token in the form: refused, nothing stored.
	if res := formRequest(t, "POST", link, url.Values{"q_overall": {"4"}}); res.status != 403 {
		t.Fatalf("post without the form token: %d", res.status)
	}

	good := url.Values{"t": {token}, "q_overall": {"2"}, "q_reasons": {"wait", "staff"}, "q_recommend": {"۷"}, "q_first_visit": {"1"}, "q_comment": {"سلام"}}
	if res := formRequest(t, "POST", link, good); res.status != 200 || !strings.Contains(res.body, "سپاس از شما") {
		t.Fatalf("valid answer: %d\n%s", res.status, res.body)
	}
	if res := formRequest(t, "POST", link, good); res.status != 410 || !strings.Contains(res.body, "قبلاً استفاده شده") {
		t.Fatalf("second submit: %d", res.status)
	}
	if res := formRequest(t, "GET", link, nil); res.status != 410 {
		t.Fatalf("used link GET: %d", res.status)
	}

	// Two racing submits of a fresh link: one thanked, one "used".
	race := issueLink(t, env, f, s.url)
	rv := url.Values{"t": {race[strings.LastIndex(race, "/")+1:]}, "q_overall": {"5"}}
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() { defer wg.Done(); statuses[i] = formRequest(t, "POST", race, rv).status }()
	}
	wg.Wait()
	if !(statuses[0] == 200 && statuses[1] == 410 || statuses[0] == 410 && statuses[1] == 200) {
		t.Fatalf("racing submits: %v, want one 200 and one 410", statuses)
	}

	// Expired and tampered links.
	expired := issueLink(t, env, f, s.url, "--ttl", "-1m")
	if res := formRequest(t, "GET", expired, nil); res.status != 410 || !strings.Contains(res.body, "مهلت این پیوند تمام شده") {
		t.Errorf("expired link: %d %s", res.status, res.body)
	}
	tampered := link[:len(link)-3] + "AAA"
	if res := formRequest(t, "GET", tampered, nil); res.status != 404 || !strings.Contains(res.body, "معتبر نیست") {
		t.Errorf("tampered link: %d", res.status)
	}

	// Counted once each, on the web channel, in the link's office: 2 (the link) and 5 (the race).
	var sc struct {
		Responses int64 `json:"responses"`
		ByChannel []struct {
			Channel   string `json:"channel"`
			Responses int64  `json:"responses"`
		} `json:"by_channel"`
	}
	scoreURL := fmt.Sprintf("%s/api/v1/agencies/%d/score?office_id=%d", s.url, f.agency, f.office)
	waitFor(t, 20*time.Second, "the web answers in the score", func() bool {
		return httpJSON(t, "GET", scoreURL, env["AFKAR_ADMIN_TOKEN"], nil, &sc) == 200 && sc.Responses >= 2
	})
	if sc.Responses != 2 || len(sc.ByChannel) == 0 {
		t.Fatalf("score %+v, want 2 responses", sc)
	}
	for _, c := range sc.ByChannel {
		if c.Responses != 0 && c.Channel != "web" {
			t.Errorf("channel %s has %d responses; all came by web", c.Channel, c.Responses)
		}
	}
}

// AFKAR_SECRET_KEY_PREVIOUS is a comma-separated list, each key as long as the secret key must
// be, and redacted in `afkar config`.
func TestWeblinkConfig(t *testing.T) {
	old1, old2 := strings.Repeat("o", 40), strings.Repeat("p", 40)
	c, err := LoadConfig(envMap(map[string]string{"AFKAR_SECRET_KEY_PREVIOUS": " " + old1 + ", ," + old2 + " ", "AFKAR_WEBLINK_RATE_LIMIT": "5"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKeyPrevious) != 2 || c.SecretKeyPrevious[0] != old1 || c.SecretKeyPrevious[1] != old2 || c.WeblinkRateLimit != 5 {
		t.Fatalf("previous keys %q, rate %d", c.SecretKeyPrevious, c.WeblinkRateLimit)
	}
	var b strings.Builder
	c.Print(&b)
	if strings.Contains(b.String(), old1) || !strings.Contains(b.String(), "AFKAR_SECRET_KEY_PREVIOUS") {
		t.Errorf("config output:\n%s", b.String())
	}
	if _, err := LoadConfig(envMap(map[string]string{"AFKAR_SECRET_KEY_PREVIOUS": "short"})); err == nil || !strings.Contains(err.Error(), "AFKAR_SECRET_KEY_PREVIOUS") {
		t.Errorf("a short previous key: %v", err)
	}
}
