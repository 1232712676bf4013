package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestPostgresOutage stops a private PostgreSQL for ten seconds under load, with Redis up.
// Kiosks (token-bearing posts) and citizens (anonymous posts, the survey page) must keep being
// answered from Redis and the caches, /readyz must stay 200 (reporting the database as a failed
// detail, and afkar_database_up 0), and once PostgreSQL is back every acknowledged response must
// be counted exactly once.
func TestPostgresOutage(t *testing.T) {
	pg := sqltest.StartServer(t)
	rd := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	f := newFixture(t, pg.URL())
	env := map[string]string{
		"AFKAR_DATABASE_URL": pg.URL(), "AFKAR_REDIS_URL": rd.URL(), "AFKAR_REDIS_PREFIX": "afkar:",
		"AFKAR_SECRET_KEY": strings.Repeat("k", 40), "AFKAR_ADMIN_TOKEN": strings.Repeat("a", 32),
		"AFKAR_DATA_DIR": t.TempDir(),
	}
	token := afkarCmd(t, env, "token", "--role", "integration", "--agency", fmt.Sprint(f.agency), "--channel", "kiosk", "--name", "kiosk-1")
	s := startServer(t, env)
	exp := newExpectation()
	// The kiosk has posted before the outage, as kiosks do all day: its token is cached.
	exp.loadAs(token, f, func() string { return s.url }, 20, 2, nil)

	var (
		mu       sync.Mutex
		probes   int
		failures []string
	)
	probe := func(path string, check func(*http.Response, []byte) error) {
		res, err := client.Get(s.url + path)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			err = check(res, body)
		}
		mu.Lock()
		probes++
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), path, err))
		}
		mu.Unlock()
	}
	status200 := func(res *http.Response, body []byte) error {
		if res.StatusCode != 200 {
			return fmt.Errorf("status %d: %s", res.StatusCode, body)
		}
		return nil
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); exp.load(f, func() string { return s.url }, 1_000_000, 4, stop) }()
	go func() { defer wg.Done(); exp.loadAs(token, f, func() string { return s.url }, 1_000_000, 4, stop) }()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			probe(fmt.Sprintf("/api/v1/agencies/%d/survey", f.agency), status200)
			probe("/readyz", status200)
		}
	}()

	time.Sleep(time.Second)
	pg.Stop()
	down := time.Now()
	sawDown := false
	for time.Since(down) < 10*time.Second {
		time.Sleep(500 * time.Millisecond)
		var ready struct{ Checks map[string]string }
		if res, err := client.Get(s.url + "/readyz"); err == nil {
			json.NewDecoder(res.Body).Decode(&ready)
			res.Body.Close()
		}
		if ready.Checks["database"] == "failed" && metric(t, s.url, "afkar_database_up") == "0" {
			sawDown = true
		}
	}
	pg.Start()
	back := time.Now()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	exp.mu.Lock()
	acked, unacked := len(exp.acked), len(exp.unacked)
	exp.mu.Unlock()
	if unacked != 0 {
		t.Errorf("%d submissions were refused or unanswered while PostgreSQL was down (of %d)", unacked, acked+unacked)
	}
	mu.Lock()
	if len(failures) > 0 {
		t.Errorf("%d of %d survey and readiness probes failed during the outage; first: %s", len(failures), probes, failures[0])
	}
	mu.Unlock()
	if !sawDown {
		t.Error("/readyz never reported the database failed (or afkar_database_up never 0) during the outage")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.out)
		}
	})
	took := exp.waitCounted(t, f, back)
	t.Logf("PostgreSQL down %v: %d responses acknowledged, %d probes; all counted %v after it came back",
		back.Sub(down).Round(time.Millisecond), acked, probes, took.Round(time.Millisecond))
	exp.verify(t, f)
	s.stop()
}

// metric returns the value of an unlabelled metric on url's /metrics ("" when absent).
func metric(t *testing.T, url, name string) string {
	res, err := client.Get(url + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}
