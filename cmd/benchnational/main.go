// Command benchnational measures what staff wait for at national size (issue 9, point 8): on a
// database seeded by `afkar demo --national --responses 20000000`, against a running `afkar
// serve`, the p50 and p95 of the score endpoint over 30/90/365 days, the agency dashboard's JSON
// (score + funnel), the province table's grouped query and the time to the first row of one
// agency-month's export — each sequentially and with 8 concurrent clients, after a warm-up. It
// prints one line per figure and writes the same lines to -out (`make bench-national`).
//
// Every figure is a real HTTP request to the server, as staff get it: the score endpoint, the
// agency dashboard's JSON (score, trend and funnel) and its whole HTML page (logged in with a
// session cookie, every block rendered), the province table of every agency
// (GET /api/v1/province/agencies) and the time to the first byte of one agency-month's CSV export.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchnational:", err)
		os.Exit(1)
	}
}

type config struct {
	db, server, base, token, out string
	n, conc, warm                int
}

func run() error {
	var c config
	flag.StringVar(&c.db, "db", os.Getenv("AFKAR_DATABASE_URL"), "PostgreSQL URL of the seeded database")
	flag.StringVar(&c.server, "server", "", "afkar binary to start (serve) on the database; empty: use -url")
	flag.StringVar(&c.base, "url", "", "base URL of a running afkar serve (with -token)")
	flag.StringVar(&c.token, "token", "", "a province admin bearer token for -url")
	flag.StringVar(&c.out, "out", "bench/results.txt", "file to write the figures to")
	flag.IntVar(&c.n, "n", 200, "requests per figure and mode, after warm-up")
	flag.IntVar(&c.conc, "c", 8, "concurrent clients in the concurrent mode")
	flag.IntVar(&c.warm, "warmup", 20, "warm-up requests per figure")
	flag.Parse()
	if c.db == "" {
		return errors.New("give -db (or AFKAR_DATABASE_URL): a database seeded with afkar demo --national")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, c.db)
	if err != nil {
		return err
	}
	defer pool.Close()
	if c.server != "" {
		stop, err := startServer(ctx, &c)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.base == "" || c.token == "" {
		return errors.New("give -server, or -url and -token")
	}
	var responses int64
	if err := pool.QueryRow(ctx, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'responses'").Scan(&responses); err != nil {
		return err
	}
	var agencies []int64
	rows, err := pool.Query(ctx, "SELECT a.id FROM agencies a WHERE EXISTS (SELECT 1 FROM rollups r WHERE r.agency_id = a.id) ORDER BY a.id")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		agencies = append(agencies, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(agencies) == 0 {
		return errors.New("no agency has rollups: seed with afkar demo --national first")
	}
	var lines []string
	emit := func(s string) { fmt.Println(s); lines = append(lines, s) }
	emit(fmt.Sprintf("# benchnational %s: ~%d responses, %d agencies with data, n=%d per figure after %d warm-up, concurrent = %d clients",
		time.Now().UTC().Format("2006-01-02 15:04Z"), responses, len(agencies), c.n, c.warm, c.conc))

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(ctx context.Context, path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, b)
		}
		if !json.Valid(b) {
			return fmt.Errorf("GET %s: not JSON", path)
		}
		return nil
	}
	today := time.Now().In(tehran())
	span := func(days int) (string, string) {
		return today.AddDate(0, 0, -(days - 1)).Format("2006-01-02"), today.Format("2006-01-02")
	}
	pick := func(r *rand.Rand) int64 { return agencies[r.Intn(len(agencies))] }

	for _, days := range []int{30, 90, 365} {
		from, to := span(days)
		c.measure(ctx, emit, fmt.Sprintf("score %dd", days), "GET /api/v1/agencies/{id}/score", func(ctx context.Context, r *rand.Rand) error {
			return get(ctx, fmt.Sprintf("/api/v1/agencies/%d/score?from=%s&to=%s", pick(r), from, to))
		})
	}
	from, to := span(90)
	c.measure(ctx, emit, "agency dashboard 90d", "JSON: score + trend by week + funnel, one after another", func(ctx context.Context, r *rand.Rand) error {
		id := pick(r)
		for _, p := range []string{"score", "trend", "funnel"} {
			q := fmt.Sprintf("/api/v1/agencies/%d/%s?from=%s&to=%s", id, p, from, to)
			if p == "trend" {
				q += "&by=week"
			}
			if err := get(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	cookie, err := c.session(ctx, client)
	if err != nil {
		return err
	}
	c.measure(ctx, emit, "agency dashboard page", "HTML /dashboard/agencies/{id}, default period, every block (session cookie)", func(ctx context.Context, r *rand.Rand) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/dashboard/agencies/%d", c.base, pick(r)), nil)
		req.AddCookie(cookie)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "</html>") {
			return fmt.Errorf("dashboard page: %d", res.StatusCode)
		}
		return nil
	})
	from, to = span(30)
	c.measure(ctx, emit, "province table 30d", fmt.Sprintf("GET /api/v1/province/agencies, all %d agencies with data", len(agencies)), func(ctx context.Context, r *rand.Rand) error {
		return get(ctx, fmt.Sprintf("/api/v1/province/agencies?from=%s&to=%s", from, to))
	})
	from, to = span(365)
	c.measure(ctx, emit, "province table 365d", "GET /api/v1/province/agencies", func(ctx context.Context, r *rand.Rand) error {
		return get(ctx, fmt.Sprintf("/api/v1/province/agencies?from=%s&to=%s", from, to))
	})
	c.measure(ctx, emit, "export first byte", "GET /api/v1/agencies/{id}/responses.csv, one Gregorian month 1–23 months back", func(ctx context.Context, r *rand.Rand) error {
		m := r.Intn(23) + 1
		start := today.AddDate(0, -m, 0)
		path := fmt.Sprintf("/api/v1/agencies/%d/responses.csv?from=%s&to=%s", pick(r), start.Format("2006-01-02"), start.AddDate(0, 1, -1).Format("2006-01-02"))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, res.StatusCode)
		}
		// The first byte of the body (the BOM) is what the clock waits for; the rest is drained
		// after the clock stops would be fairer, but closing early keeps the run short.
		var one [1]byte
		if _, err := io.ReadFull(res.Body, one[:]); err != nil {
			return err
		}
		return nil
	})
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", c.out)
	}
	return nil
}

// session creates a province admin account through the API (with the bearer token) and logs it
// in through the login form, as a person would, returning the session cookie.
func (c *config) session(ctx context.Context, client *http.Client) (*http.Cookie, error) {
	login, password := fmt.Sprintf("bench%d", time.Now().UnixNano()), fmt.Sprintf("Bench-%d-password", rand.Int63())
	body := fmt.Sprintf(`{"login":%q,"name":"bench","role":"province_admin","password":%q}`, login, password)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("create user: %d %s", res.StatusCode, b)
	}
	res, err = client.Get(c.base + "/login")
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindSubmatch(page)
	if m == nil {
		return nil, errors.New("login page: no csrf_token")
	}
	form := url.Values{"login": {login}, "password": {password}, "csrf_token": {string(m[1])}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range res.Cookies() {
		req.AddCookie(ck)
	}
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err = noRedirect.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "afkar_session" && ck.Value != "" {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("login: %d, no session cookie", res.StatusCode)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// measure runs fn warm-up times, then n times sequentially and n times across c.conc clients,
// and emits p50/p95 of each mode.
func (c *config) measure(ctx context.Context, emit func(string), name, what string, fn func(context.Context, *rand.Rand) error) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < c.warm; i++ {
		if err := fn(ctx, r); err != nil {
			emit(fmt.Sprintf("%-22s error: %v", name, err))
			return
		}
	}
	for _, conc := range []int{1, c.conc} {
		lat := make([]time.Duration, 0, c.n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		var firstErr error
		per := c.n / conc
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				r := rand.New(rand.NewSource(seed))
				for i := 0; i < per; i++ {
					t0 := time.Now()
					err := fn(ctx, r)
					d := time.Since(t0)
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					lat = append(lat, d)
					mu.Unlock()
				}
			}(int64(w + 2))
		}
		wg.Wait()
		mode := "sequential"
		if conc > 1 {
			mode = fmt.Sprintf("%d clients", conc)
		}
		if firstErr != nil {
			emit(fmt.Sprintf("%-22s %-10s error: %v", name, mode, firstErr))
			continue
		}
		slices.Sort(lat)
		emit(fmt.Sprintf("%-22s %-10s p50 %7.1f ms  p95 %7.1f ms  (n=%d; %s)", name, mode, ms(pct(lat, 50)), ms(pct(lat, 95)), len(lat), what))
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func tehran() *time.Location {
	if l, err := time.LoadLocation("Asia/Tehran"); err == nil {
		return l
	}
	return time.FixedZone("IRST", 3*3600+1800)
}

// startServer runs `afkar serve` on the database with a fresh admin token on a free loopback
// port and waits until it is ready.
func startServer(ctx context.Context, c *config) (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	c.token = fmt.Sprintf("bench%027d", rand.Int63())
	c.base = "http://" + addr
	dir, err := os.MkdirTemp("", "benchnational")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.server, "serve")
	cmd.Env = append(os.Environ(), "AFKAR_DATABASE_URL="+c.db, "AFKAR_ADDR="+addr, "AFKAR_ADMIN_TOKEN="+c.token,
		"AFKAR_DEMO=0", "AFKAR_DATA_DIR="+dir, "AFKAR_SECRET_KEY="+strings.Repeat("b", 40), "AFKAR_REDIS_URL=")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait(); os.RemoveAll(dir) }
	deadline := time.Now().Add(10 * time.Minute) // migrations may build indexes on 20 M rows
	for time.Now().Before(deadline) {
		if res, err := http.Get(c.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return stop, nil
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop()
	return nil, errors.New("afkar serve did not become ready in 10 minutes")
}
