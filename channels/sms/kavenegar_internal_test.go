package sms

import (
	"net/http"
	"testing"
	"time"
)

// The SDK's NewClient sends with http.DefaultClient, which has no timeout; the wrapper never
// does, even when handed http.DefaultClient itself.
func TestKavenegarNeverUsesDefaultClient(t *testing.T) {
	for _, cfg := range []KavenegarConfig{
		{APIKey: "k", Sender: "1000"},
		{APIKey: "k", Sender: "1000", Timeout: 3 * time.Second},
		{APIKey: "k", Sender: "1000", HTTPClient: http.DefaultClient},
		{APIKey: "k", Sender: "1000", HTTPClient: &http.Client{Timeout: time.Minute}, Timeout: 2 * time.Second},
	} {
		k, err := NewKavenegar(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := cfg.Timeout
		if want == 0 {
			want = DefaultKavenegarTimeout
		}
		if k.client.BaseClient == http.DefaultClient || k.http == http.DefaultClient ||
			k.client.BaseClient.Timeout != want || k.client.BaseClient.CheckRedirect == nil {
			t.Errorf("%+v: client %p (default %p), timeout %v, want %v and redirects refused", cfg,
				k.client.BaseClient, http.DefaultClient, k.client.BaseClient.Timeout, want)
		}
		if k.client.BaseURL.String() != DefaultKavenegarBaseURL {
			t.Errorf("base URL %s", k.client.BaseURL)
		}
	}
	if http.DefaultClient.CheckRedirect != nil {
		t.Error("NewKavenegar changed http.DefaultClient")
	}
}
