package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loginOver logs in through the server's HTML form as a browser would and reports the status
// of the form's POST (303 on success) and whether a session cookie came back.
func loginOver(t *testing.T, base, login, password string) (int, bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("GET /login: %d %s", res.StatusCode, page)
	}
	res, err = c.PostForm(base+"/login", url.Values{"login": {login}, "password": {password}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "afkar_session" && ck.Value != "" {
			return res.StatusCode, true
		}
	}
	return res.StatusCode, false
}

// afkar user add / reset / list, then a login with the printed password through the binary.
func TestUserCommands(t *testing.T) {
	env, db := embeddedEnv(t)
	f := newFixture(t, db)
	ctx := context.Background()
	user := func(in string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		old := stdin
		stdin = strings.NewReader(in)
		defer func() { stdin = old }()
		err := run(ctx, append([]string{"user"}, args...), envMap(env), &out, &errb)
		return out.String(), err
	}
	pwLine := regexp.MustCompile(`password \(shown once\): (\S+)`)
	out, err := user("", "add", "--login", "Sara", "--name", "سارا", "--role", "province_admin")
	m := pwLine.FindStringSubmatch(out)
	if err != nil || m == nil || len(m[1]) != 16 {
		t.Fatalf("user add: %q, %v", out, err)
	}
	adminPW := m[1]
	agency := strconv.FormatInt(int64(f.agency), 10)
	out, err = user("my own long password\n", "add", "--login", "ali", "--name", "علی", "--role", "agency_staff", "--agency", agency, "--password-stdin")
	if err != nil || strings.Contains(out, "shown once") {
		t.Fatalf("user add --password-stdin: %q, %v", out, err)
	}
	for _, bad := range [][]string{
		{"add", "--login", "x1y", "--name", "n", "--role", "integration"},
		{"add", "--login", "x2y", "--name", "n", "--role", "agency_staff"},
		{"add", "--login", "sara", "--name", "n", "--role", "province_staff"},
		{"reset", "--login", "nobody"},
		{"fly"},
	} {
		if out, err := user("", bad...); err == nil {
			t.Errorf("user %v: %q, want an error", bad, out)
		}
	}
	if _, err := user("short\n", "add", "--login", "x3y", "--name", "n", "--role", "province_staff", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "10") {
		t.Errorf("a short password on stdin: %v", err)
	}
	out, err = user("", "list")
	if err != nil || !strings.Contains(out, "sara") || !strings.Contains(out, "ali") || strings.Contains(out, "argon2") {
		t.Fatalf("user list: %q, %v", out, err)
	}
	out, err = user("", "reset", "--login", "ali")
	m = regexp.MustCompile(`\(shown once\): (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("user reset: %q, %v", out, err)
	}
	aliPW := m[1]

	s := startServer(t, env)
	if code, ok := loginOver(t, s.url, "sara", adminPW); code != http.StatusSeeOther || !ok {
		t.Errorf("login with the printed password: %d, session %t", code, ok)
	}
	if code, ok := loginOver(t, s.url, "ali", "my own long password"); code != http.StatusUnauthorized || ok {
		t.Errorf("login with the password before the reset: %d, session %t", code, ok)
	}
	if code, ok := loginOver(t, s.url, "ali", aliPW); code != http.StatusSeeOther || !ok {
		t.Errorf("login with the reset password: %d, session %t", code, ok)
	}
}

// On the embedded demo the first start makes two demo accounts and prints their passwords once,
// on standard output and never in a log line; the next start makes none.
func TestDemoAccounts(t *testing.T) {
	env, _ := embeddedEnv(t)
	env["AFKAR_DEMO"] = "1"
	s := startServer(t, env)
	// The accounts are made (two argon2id hashes) while the server starts; on a loaded machine
	// the lines may come a moment after it listens.
	var out string
	var m, a []string
	waitFor(t, 30*time.Second, "the demo accounts printed", func() bool {
		out = s.out.String()
		m = regexp.MustCompile(`(?m)^  admin / (\S+) `).FindStringSubmatch(out)
		a = regexp.MustCompile(`(?m)^  agency-admin / (\S+) `).FindStringSubmatch(out)
		return m != nil && a != nil
	})
	if m == nil || a == nil {
		t.Fatalf("no demo accounts printed:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=") && (strings.Contains(line, m[1]) || strings.Contains(line, a[1])) {
			t.Errorf("a log line carries a demo password: %s", line)
		}
	}
	if code, ok := loginOver(t, s.url, "admin", m[1]); code != http.StatusSeeOther || !ok {
		t.Errorf("demo admin login: %d, session %t", code, ok)
	}
	if code, ok := loginOver(t, s.url, "agency-admin", a[1]); code != http.StatusSeeOther || !ok {
		t.Errorf("demo agency admin login: %d, session %t", code, ok)
	}
	s.stop()
	again := startServer(t, env)
	if strings.Contains(again.out.String(), "Demo accounts") {
		t.Errorf("the second start printed demo accounts again:\n%s", again.out)
	}
}
