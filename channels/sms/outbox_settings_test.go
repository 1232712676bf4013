package sms_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// The sender asks the question of the agency's active survey version: Question when the
// citizen replies by SMS, LinkQuestion beside a link; the defaults when the version sets none,
// when its settings cannot be read (logged), or when its question does not fit.
func TestSMSSenderUsesSurveySettings(t *testing.T) {
	const question, linkQuestion = "از پاسخگویی امروز راضی بودید؟ عدد ۱ تا ۵ بفرستید", "از پاسخگویی راضی بودید؟"
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		var mu sync.Mutex
		var asked []survey.ID
		var settings *survey.SMSSettings
		var fail error
		s := e.sender(sms.SenderOptions{Link: sms.PlaceholderLink("https://afkar.example/"),
			Settings: func(_ context.Context, agency, _ survey.ID) (*survey.SMSSettings, error) {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, agency)
				return settings, fail
			}})
		must(t, s.Start(ctx))
		set := func(st *survey.SMSSettings, err error) {
			mu.Lock()
			defer mu.Unlock()
			settings, fail = st, err
		}
		send := func(phone, via string) string {
			t.Helper()
			before := len(e.fake.Sent())
			e.invite(t, phone, via)
			if n := e.runOnce(t, s); n != 1 {
				t.Fatalf("handled %d", n)
			}
			sent := e.fake.Sent()
			if len(sent) != before+1 {
				t.Fatalf("sent %d, want %d", len(sent), before+1)
			}
			return sent[len(sent)-1].Text
		}

		set(&survey.SMSSettings{Question: question, LinkQuestion: linkQuestion}, nil)
		if text := send("09121000001", "sms"); !strings.Contains(text, question) {
			t.Errorf("via sms: %q, want the survey's question", text)
		}
		if text := send("09121000002", "link"); !strings.Contains(text, linkQuestion+" یا: https://afkar.example/s/") {
			t.Errorf("via link: %q, want the survey's link question", text)
		}
		set(&survey.SMSSettings{Question: question}, nil) // no link question: the default beside a link
		if text := send("09121000003", "link"); !strings.Contains(text, sms.DefaultLinkQuestion) {
			t.Errorf("via link without a link question: %q", text)
		}
		set(nil, nil)
		if text := send("09121000004", "sms"); !strings.Contains(text, sms.DefaultQuestion) {
			t.Errorf("no settings: %q", text)
		}
		set(&survey.SMSSettings{Question: question}, errors.New("catalog down"))
		if text := send("09121000005", "sms"); !strings.Contains(text, sms.DefaultQuestion) {
			t.Errorf("settings failed: %q, want the default", text)
		}
		if !strings.Contains(e.logs.String(), "catalog down") {
			t.Error("the failure to read the settings was not logged")
		}
		set(&survey.SMSSettings{Question: strings.Repeat("😀", 60)}, nil) // 120 units: never fits
		if text := send("09121000006", "sms"); !strings.Contains(text, sms.DefaultQuestion) {
			t.Errorf("question too long: %q, want the default", text)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(asked) != 6 || asked[0] != e.agency.ID {
			t.Errorf("settings asked for %v, want 6× agency %d", asked, e.agency.ID)
		}
	})
}
