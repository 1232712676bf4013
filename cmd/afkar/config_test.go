package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.RateLimit != 60 || c.TokenRateLimit != 6000 || !c.Embedded() || !c.Demo || c.LogFormat != "text" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.SMSRetention != 2160*time.Hour {
		t.Fatalf("default SMS retention %s, want 90 days", c.SMSRetention)
	}
	if c.DatabaseURL != "sqlite://data/afkar.db" {
		t.Fatalf("default database %q", c.DatabaseURL)
	}
	p, err := LoadConfig(envMap(map[string]string{"AFKAR_DATABASE_URL": "postgres://u:pw@db/afkar"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Embedded() || p.Demo || p.LogFormat != "json" {
		t.Fatalf("production defaults: embedded=%v demo=%v log=%s", p.Embedded(), p.Demo, p.LogFormat)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	_, err := LoadConfig(envMap(map[string]string{
		"AFKAR_RATE_LIMIT": "lots", "AFKAR_DEMO": "maybe", "AFKAR_REDIS_URL": "http://x",
		"AFKAR_CLAIM_IDLE": "soon", "AFKAR_ADMIN_TOKEN": "short", "AFKAR_TOKEN_RATE_LIMIT": "-1",
		"AFKAR_SMS_RETENTION": "23h",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, k := range []string{"AFKAR_RATE_LIMIT", "AFKAR_DEMO", "AFKAR_REDIS_URL", "AFKAR_CLAIM_IDLE", "AFKAR_ADMIN_TOKEN", "AFKAR_TOKEN_RATE_LIMIT", "AFKAR_SMS_RETENTION"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
}

func TestConfigPrintRedactsSecrets(t *testing.T) {
	c, err := LoadConfig(envMap(map[string]string{
		"AFKAR_DATABASE_URL":      "postgres://afkar:hunter2hunter2@db:5432/afkar",
		"AFKAR_ADMIN_TOKEN":       "admin-token-0123456789",
		"AFKAR_SECRET_KEY":        strings.Repeat("s", 40),
		"AFKAR_KAVENEGAR_API_KEY": "KAVENEGAR-KEY-123",
		"AFKAR_REDIS_URL":         "redis://:redispw@cache:6379/0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b)
	out := b.String()
	for _, secret := range []string{"hunter2hunter2", "admin-token-0123456789", strings.Repeat("s", 40), "KAVENEGAR-KEY-123", "redispw"} {
		if strings.Contains(out, secret) {
			t.Errorf("config output leaks %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "AFKAR_SMS_RETENTION") || !strings.Contains(out, "2160h0m0s") {
		t.Errorf("the SMS retention is not in the dump:\n%s", out)
	}
	if !strings.Contains(out, "postgres://afkar:xxxxx@db:5432/afkar") {
		t.Errorf("database URL not shown redacted:\n%s", out)
	}
}

// A password in the query string (libpq and pgx accept ?password=) is redacted too.
func TestConfigPrintRedactsQueryPasswords(t *testing.T) {
	c, err := LoadConfig(envMap(map[string]string{
		"AFKAR_DATABASE_URL": "postgres://afkar@db:5432/afkar?sslmode=require&password=hunter2hunter2&sslpassword=keypass99",
		"AFKAR_REDIS_URL":    "redis://cache:6379/0?password=redispw42",
		"AFKAR_SECRET_KEY":   strings.Repeat("s", 40),
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b)
	out := b.String()
	for _, secret := range []string{"hunter2hunter2", "keypass99", "redispw42"} {
		if strings.Contains(out, secret) {
			t.Errorf("config output leaks %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "sslmode=require") || !strings.Contains(out, "db:5432/afkar") {
		t.Errorf("redaction hid more than the secrets:\n%s", out)
	}
}

func TestEmbeddedSecretsPersist(t *testing.T) {
	dir := t.TempDir()
	c, _ := LoadConfig(envMap(map[string]string{"AFKAR_DATA_DIR": dir}))
	if err := c.ensureSecrets(); err != nil {
		t.Fatal(err)
	}
	c2, _ := LoadConfig(envMap(map[string]string{"AFKAR_DATA_DIR": dir}))
	if err := c2.ensureSecrets(); err != nil {
		t.Fatal(err)
	}
	if c.AdminToken == "" || c.AdminToken != c2.AdminToken || c.SecretKey != c2.SecretKey {
		t.Fatal("embedded secrets are not kept across restarts")
	}
	fi, err := os.Stat(filepath.Join(dir, "secret-key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file mode: %v %v", fi, err)
	}
	p, _ := LoadConfig(envMap(map[string]string{"AFKAR_DATABASE_URL": "postgres://x/y"}))
	if err := p.ensureSecrets(); err == nil {
		t.Fatal("production without AFKAR_SECRET_KEY must refuse to start")
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"fly"}, envMap(nil), &out, &errb); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run(context.Background(), []string{"version"}, envMap(nil), &out, &errb); err != nil || !strings.Contains(out.String(), "afkar") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

// AFKAR_SMS_STATUS_EVERY defaults to five minutes, is shown in the dump, and must fall within
// Kavenegar's 48-hour status window.
func TestConfigSMSStatusEvery(t *testing.T) {
	c, err := LoadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMSStatusEvery != 5*time.Minute {
		t.Fatalf("default %s", c.SMSStatusEvery)
	}
	c, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_STATUS_EVERY": "90s"}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b)
	if !strings.Contains(b.String(), "AFKAR_SMS_STATUS_EVERY") || !strings.Contains(b.String(), "1m30s") {
		t.Fatalf("not in the dump:\n%s", b.String())
	}
	for _, bad := range []string{"0s", "500ms", "49h", "often"} {
		if _, err := LoadConfig(envMap(map[string]string{"AFKAR_SMS_STATUS_EVERY": bad})); err == nil ||
			!strings.Contains(err.Error(), "AFKAR_SMS_STATUS_EVERY") {
			t.Errorf("%q accepted or not named: %v", bad, err)
		}
	}
}
