// Command loadgen measures Afkar end to end: it starts the real afkar binary on PostgreSQL + Redis
// or on the embedded default, drives POST /api/v1/responses at a fixed concurrency for a fixed
// time, and prints one line per figure — ingest rate and latency, aggregator fold rate, visibility
// lag (submit → counted in the score) and the server's peak RSS. It is what `make bench` runs; the
// figures go in the closing notes, so it measures, it does not assert.
package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver to create the bench database
)

func main() {
	server := flag.String("server", "./bin/afkar", "afkar binary")
	mode := flag.String("mode", "postgres", "postgres (PostgreSQL + Redis) or embedded (SQLite + inbox)")
	duration := flag.Duration("duration", 20*time.Second, "load duration of the ingest phase")
	conc := flag.Int("concurrency", 64, "concurrent clients")
	pgURL := flag.String("pg", envOr("AFKAR_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server for a scratch database")
	redisURL := flag.String("redis", envOr("AFKAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis for the stream")
	flag.Parse()
	if err := bench(*server, *mode, *duration, *conc, *pgURL, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func bench(bin, mode string, d time.Duration, conc int, pgURL, redisURL string) error {
	dir, err := os.MkdirTemp("", "afkar-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := []string{"AFKAR_DATA_DIR=" + dir, "AFKAR_RATE_LIMIT=0", "AFKAR_LOG_LEVEL=warn", "AFKAR_DEMO=1",
		"AFKAR_ADMIN_TOKEN=bench-admin-token-0123456789", "AFKAR_SECRET_KEY=" + strings.Repeat("b", 40)}
	switch mode {
	case "postgres":
		dbURL, drop, err := scratchDatabase(pgURL)
		if err != nil {
			return err
		}
		defer drop()
		prefix := fmt.Sprintf("afkarbench:%d:", time.Now().UnixNano())
		defer exec.Command("sh", "-c", fmt.Sprintf("redis-cli -u %s --scan --pattern '%s*' | xargs -r redis-cli -u %s DEL >/dev/null", redisURL, prefix, redisURL)).Run()
		env = append(env, "AFKAR_DATABASE_URL="+dbURL, "AFKAR_REDIS_URL="+redisURL, "AFKAR_REDIS_PREFIX="+prefix, "AFKAR_DEMO=1")
	case "embedded":
		env = append(env, "AFKAR_DATABASE_URL=sqlite://"+filepath.Join(dir, "afkar.db"))
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	token := "bench-admin-token-0123456789"

	// Phase 1: ingest only (aggregator off), so the figures are the intake's alone.
	srv, err := start(bin, "serve", append(env, "AFKAR_WORKER=0"))
	if err != nil {
		return err
	}
	targets, probe, err := surveys(srv.url, token)
	if err != nil {
		srv.stop()
		return err
	}
	res := drive(srv.url, targets, conc, d)
	rss1 := srv.peakRSS()
	srv.stop()
	fmt.Printf("%s ingest: %.0f responses/s sustained (%d accepted, %d errors, %d clients, %s)\n", mode, res.rate(), res.ok, res.errs, conc, d)
	fmt.Printf("%s ingest latency: p50 %.2f ms, p99 %.2f ms\n", mode, res.pct(0.50), res.pct(0.99))

	// Phase 2: a standalone worker drains the backlog; its rate is the fold rate.
	w, err := start(bin, "worker", append(env, "AFKAR_ADDR=127.0.0.1:0"))
	if err != nil {
		return err
	}
	foldStart := time.Now()
	folded, err := waitDrained(w.url, res.ok)
	foldTime := time.Since(foldStart)
	w.stop()
	if err != nil {
		return err
	}
	fmt.Printf("%s fold: %.0f responses/s into the database (%d responses in %s)\n", mode, float64(folded)/foldTime.Seconds(), folded, foldTime.Round(time.Millisecond))

	// Phase 3: server with its aggregator under full load, probing visibility lag.
	srv, err = start(bin, "serve", env)
	if err != nil {
		return err
	}
	lags := make(chan []time.Duration, 1)
	stopProbe := make(chan struct{})
	go func() { lags <- probeLag(srv.url, token, probe, stopProbe) }()
	res3 := drive(srv.url, targets, conc, d/2)
	close(stopProbe)
	lag := <-lags
	rss3 := srv.peakRSS()
	srv.stop()
	sort.Slice(lag, func(i, j int) bool { return lag[i] < lag[j] })
	p95 := time.Duration(0)
	if len(lag) > 0 {
		p95 = lag[min(len(lag)-1, len(lag)*95/100)]
	}
	fmt.Printf("%s visibility lag: p95 %s over %d probes, under %.0f responses/s with the aggregator in-process\n", mode, p95.Round(time.Millisecond), len(lag), res3.rate())
	fmt.Printf("%s server peak RSS: %.0f MB\n", mode, float64(max(rss1, rss3))/1024)
	return nil
}

// scratchDatabase creates a database for one run and returns its URL and a drop function.
func scratchDatabase(adminURL string) (string, func(), error) {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("afkar_bench_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u := regexp.MustCompile(`/[^/?]*(\?|$)`).ReplaceAllString(adminURL[strings.Index(adminURL, "://")+3:], "/"+name+"$1")
	url := adminURL[:strings.Index(adminURL, "://")+3] + u
	return url, func() {
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	}, nil
}

type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var listenRe = regexp.MustCompile(`listening on (http://\S+)|"metrics":"([^"]+)"|metrics=(\S+)`)

func start(bin, sub string, env []string) (*proc, error) {
	cmd := exec.Command(bin, sub)
	cmd.Env = append(os.Environ(), env...)
	if sub == "serve" {
		cmd.Env = append(cmd.Env, "AFKAR_ADDR=127.0.0.1:0")
	}
	out, _ := cmd.StdoutPipe()
	errOut, _ := cmd.StderrPipe()
	cmd.Env = append(cmd.Env, "AFKAR_LOG_LEVEL=info")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 2)
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			m := listenRe.FindStringSubmatch(sc.Text())
			switch {
			case m == nil:
			case m[1] != "":
				urls <- m[1]
			case m[2] != "":
				urls <- "http://" + m[2]
			case m[3] != "":
				urls <- "http://" + strings.Trim(m[3], `"`)
			}
		}
	}
	go scan(out)
	go scan(errOut)
	go func() { cmd.Wait(); close(p.done) }()
	select {
	case p.url = <-urls:
	case <-p.done:
		return nil, fmt.Errorf("afkar %s exited at start", sub)
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, fmt.Errorf("afkar %s did not start", sub)
	}
	for i := 0; i < 600; i++ {
		if r, err := http.Get(p.url + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("afkar %s never became ready", sub)
}

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// peakRSS reads the process's high-water resident set, in KiB.
func (p *proc) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// target is a survey to answer; the probe agency is kept out of the load.
type target struct {
	Agency, Survey int64
	Version        int
	Questions      []string
}

func surveys(url, token string) ([]target, target, error) {
	var agencies []struct{ ID int64 }
	if err := getJSON(url+"/api/v1/agencies", token, &agencies); err != nil {
		return nil, target{}, err
	}
	var ts []target
	for _, a := range agencies {
		var v struct {
			ID        int64
			Version   int
			Questions []struct {
				ID   string
				Type string
			}
		}
		if err := getJSON(fmt.Sprintf("%s/api/v1/agencies/%d/survey", url, a.ID), "", &v); err != nil {
			continue
		}
		t := target{Agency: a.ID, Survey: v.ID, Version: v.Version}
		for _, q := range v.Questions {
			if q.Type == "rating5" {
				t.Questions = append(t.Questions, q.ID)
			}
		}
		ts = append(ts, t)
	}
	if len(ts) < 2 {
		return nil, target{}, errors.New("the demo province has fewer than two agencies with a survey")
	}
	return ts[1:], ts[0], nil
}

func getJSON(url, token string, v any) error {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

func body(t target, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"id":%q,"agency_id":%d,"survey_id":%d,"survey_version":%d,"answers":[`, uuid.Must(uuid.NewV7()).String(), t.Agency, t.Survey, t.Version)
	for i, q := range t.Questions {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"question_id":%q,"value":%d}`, q, 3+(n+i)%3)
	}
	b.WriteString("]}")
	return b.Bytes()
}

type result struct {
	ok, errs int64
	elapsed  time.Duration
	lat      []time.Duration
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r result) pct(p float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	return float64(r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))].Microseconds()) / 1000
}

func newClient(conc int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2}}
}

// request is one client's reusable POST: whole HTTP/1.1 requests per survey target, built once,
// with the response id patched in place before each send. The generator shares the two cores
// with the server, so every microsecond it spends formatting is taken from the server.
type request struct {
	bufs  [][]byte // one complete request per target × rating pattern
	idAt  []int    // offset of the 36-character id in each
	base  [16]byte // random UUID bytes; the last 6 carry a per-client counter
	count uint64
}

func newRequest(host string, ts []target, w int) *request {
	r := &request{}
	u := uuid.Must(uuid.NewV7())
	copy(r.base[:], u[:])
	r.base[10], r.base[11] = byte(w>>8), byte(w)
	for i := 0; i < len(ts)*3; i++ {
		b := body(ts[i%len(ts)], i)
		var req bytes.Buffer
		fmt.Fprintf(&req, "POST /api/v1/responses HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", host, len(b))
		head := req.Len()
		req.Write(b)
		r.bufs = append(r.bufs, req.Bytes())
		r.idAt = append(r.idAt, head+bytes.Index(b, []byte(`"id":"`))+6)
	}
	return r
}

// next returns the request for the n-th submission with a fresh, valid UUID (version 7 layout:
// the current time, the client's random bytes plus a counter), written over the previous one.
func (r *request) next(n int) []byte {
	i := n % len(r.bufs)
	b := r.bufs[i]
	r.count++
	id := r.base
	for k := 0; k < 4; k++ {
		id[15-k] = byte(r.count >> (8 * k))
	}
	// A UUIDv7 starts with the time it was made, as a kiosk's or a form's ids do: the server
	// treats a fresh id as a first submission and an old one as a possible resend.
	ms := time.Now().UnixMilli()
	for k := 0; k < 6; k++ {
		id[k] = byte(ms >> (40 - 8*k))
	}
	hex.Encode(b[r.idAt[i]:], id[0:4])
	b[r.idAt[i]+8] = '-'
	hex.Encode(b[r.idAt[i]+9:], id[4:6])
	b[r.idAt[i]+13] = '-'
	hex.Encode(b[r.idAt[i]+14:], id[6:8])
	b[r.idAt[i]+18] = '-'
	hex.Encode(b[r.idAt[i]+19:], id[8:10])
	b[r.idAt[i]+23] = '-'
	hex.Encode(b[r.idAt[i]+24:], id[10:16])
	return b
}

// readStatus reads one HTTP/1.1 response and returns its status code, touching no more than
// the status line, the Content-Length header and the body.
func readStatus(rd *bufio.Reader) (int, error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, errors.New("short status line")
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := 0
	for {
		h, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if len(h) > 16 && bytes.EqualFold(h[:15], []byte("Content-Length:")) {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(h[15:])))
		}
	}
	_, err = rd.Discard(length)
	return code, err
}

// drive posts responses from conc clients for d. Each client keeps one keep-alive connection and
// speaks HTTP/1.1 on it directly (write a prepared request, read the status), which costs a
// fraction of net/http's client, so the generator takes as little as it can of the cores the
// server runs on.
func drive(url string, ts []target, conc int, d time.Duration) result {
	host := strings.TrimPrefix(url, "http://")
	var ok, errs atomic.Int64
	lats := make([][]time.Duration, conc)
	reqs := make([]*request, conc)
	for w := range reqs {
		reqs[w] = newRequest(host, ts, w)
		lats[w] = make([]time.Duration, 0, 1<<16)
	}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var conn net.Conn
			var rd *bufio.Reader
			for n := 0; ; n++ {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				if conn == nil {
					c, err := net.Dial("tcp", host)
					if err != nil {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					conn, rd = c, bufio.NewReader(c)
					conn.SetDeadline(deadline.Add(10 * time.Second))
				}
				_, err := conn.Write(reqs[w].next(n))
				code := 0
				if err == nil {
					code, err = readStatus(rd)
				}
				if err != nil {
					errs.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				if code != 202 {
					errs.Add(1)
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
				ok.Add(1)
			}
			if conn != nil {
				conn.Close()
			}
		}(w)
	}
	wg.Wait()
	r := result{ok: ok.Load(), errs: errs.Load(), elapsed: time.Since(start)}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r
}

var foldRe = regexp.MustCompile(`(?m)^afkar_fold_responses_total (\S+)`)
var backlogRe = regexp.MustCompile(`(?m)^afkar_buffer_backlog\{[^}]*\} (\S+)`)

// waitDrained polls the worker's metrics until it folded want responses and the buffers are empty.
func waitDrained(url string, want int64) (int64, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		res, err := http.Get(url + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var folded float64
			if m := foldRe.FindSubmatch(b); m != nil {
				folded, _ = strconv.ParseFloat(string(m[1]), 64)
			}
			var backlog float64
			for _, m := range backlogRe.FindAllSubmatch(b, -1) {
				v, _ := strconv.ParseFloat(string(m[1]), 64)
				backlog += v
			}
			if int64(folded) >= want && backlog == 0 {
				return int64(folded), nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("the worker did not drain the backlog in 10 minutes")
}

// probeLag submits one response to the probe agency at a time and measures how long until the
// score counts it.
func probeLag(url, token string, t target, stop <-chan struct{}) []time.Duration {
	c := newClient(2)
	var lags []time.Duration
	count := func() int64 {
		var s struct{ Responses int64 }
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/agencies/%d/score", url, t.Agency), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := c.Do(req)
		if err != nil {
			return -1
		}
		defer res.Body.Close()
		if json.NewDecoder(res.Body).Decode(&s) != nil {
			return -1
		}
		return s.Responses
	}
	for n := 0; ; n++ {
		select {
		case <-stop:
			return lags
		case <-time.After(100 * time.Millisecond):
		}
		before := count()
		t0 := time.Now()
		res, err := c.Post(url+"/api/v1/responses", "application/json", bytes.NewReader(body(t, n)))
		if err != nil {
			continue
		}
		res.Body.Close()
		for time.Since(t0) < 30*time.Second {
			if count() > before {
				lags = append(lags, time.Since(t0))
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
