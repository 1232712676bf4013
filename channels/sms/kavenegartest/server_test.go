package kavenegartest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
)

type reply struct {
	Return struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"return"`
	Entries []map[string]any `json:"entries"`
}

// post calls the fake the way the SDK does (form POST under /v1/{key}/…) and decodes the
// envelope, checking that the HTTP status mirrors return.status as Kavenegar's does.
func post(t *testing.T, fake *kavenegartest.Server, key, endpoint string, form url.Values) reply {
	t.Helper()
	resp, err := http.PostForm(fake.URL()+"v1/"+key+"/"+endpoint+".json", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: not an envelope: %v", endpoint, err)
	}
	if r.Return.Status != resp.StatusCode || r.Return.Message == "" {
		t.Errorf("%s: HTTP %d, return %+v", endpoint, resp.StatusCode, r.Return)
	}
	return r
}

func TestFakeSpeaksTheEnvelope(t *testing.T) {
	fake := kavenegartest.New(t)
	send := url.Values{"receptor": {"09121234567"}, "sender": {kavenegartest.Line}, "message": {"سلام"}, "localid": {"1"}}
	r := post(t, fake, fake.APIKey, kavenegartest.Send, send)
	if r.Return.Status != 200 || len(r.Entries) != 1 || r.Entries[0]["status"] != 1.0 || r.Entries[0]["cost"] != float64(kavenegartest.CostPerPart) {
		t.Fatalf("send: %+v", r)
	}
	id := r.Entries[0]["messageid"]
	send.Set("message", "متن دیگر")
	if r := post(t, fake, fake.APIKey, kavenegartest.Send, send); r.Entries[0]["messageid"] != id || len(fake.Sent()) != 1 {
		t.Errorf("a repeated localid was sent again: %+v, %d sent", r, len(fake.Sent()))
	}
	if r := post(t, fake, "other", kavenegartest.Send, send); r.Return.Status != 403 {
		t.Errorf("wrong key: %+v", r.Return)
	}
	for form, want := range map[string]int{
		"receptor=0912&sender=" + kavenegartest.Line + "&message=x":                                  411,
		"receptor=09121234567&sender=3000&message=x":                                                 412,
		"receptor=09121234567&sender=" + kavenegartest.Line + "&message=":                            413,
		"receptor=09121234567&sender=" + kavenegartest.Line + "&message=" + strings.Repeat("س", 269): 413,
	} {
		v, _ := url.ParseQuery(form)
		if r := post(t, fake, fake.APIKey, kavenegartest.Send, v); r.Return.Status != want {
			t.Errorf("%.60s: %d, want %d", form, r.Return.Status, want)
		}
	}
	r = post(t, fake, fake.APIKey, kavenegartest.StatusLocal, url.Values{"localid": {"1,2"}})
	if len(r.Entries) != 2 || r.Entries[0]["messageid"] != id || r.Entries[1]["status"] != 100.0 {
		t.Errorf("statuslocalmessageid: %+v", r.Entries)
	}
	fake.Inject("09121234567", "۵")
	// Unread once (then read), read ever after.
	for i, step := range []struct {
		isread string
		want   int
	}{{"1", 0}, {"0", 1}, {"0", 0}, {"1", 1}} {
		r = post(t, fake, fake.APIKey, kavenegartest.Receive, url.Values{"linenumber": {kavenegartest.Line}, "isread": {step.isread}})
		if len(r.Entries) != step.want {
			t.Errorf("receive call %d isread=%s: %d entries, want %d", i+1, step.isread, len(r.Entries), step.want)
		}
	}
}
