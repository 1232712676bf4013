package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// These tests run the real afkar binary, built once, and talk HTTP to it.

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "afkar-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "afkar")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building afkar:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running afkar process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs `afkar serve` with env and waits until it is ready.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	cmd := exec.Command(binPath, "serve")
	cmd.Env = append(os.Environ(), "AFKAR_ADDR=127.0.0.1:0", "AFKAR_LOG_LEVEL=info", "AFKAR_RATE_LIMIT=0", "AFKAR_TOKEN_RATE_LIMIT=0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.out.Write([]byte(line + "\n"))
			if m := listenLine.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
		}
	}()
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.kill() })
	select {
	case s.url = <-urls:
	case <-s.done:
		t.Fatalf("afkar exited before listening:\n%s", s.out)
	case <-time.After(60 * time.Second):
		t.Fatalf("afkar did not start in time:\n%s", s.out)
	}
	waitFor(t, 30*time.Second, "readyz", func() bool {
		res, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return s
}

func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop sends SIGTERM and expects a clean exit: in-flight requests finished, intake flushed, the
// aggregator's batch folded.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			s.t.Errorf("afkar exited with %d after SIGTERM:\n%s", code, s.out)
		}
		if !strings.Contains(s.out.String(), "stopped") {
			s.t.Errorf("afkar did not log a clean stop:\n%s", s.out)
		}
	case <-time.After(30 * time.Second):
		s.t.Errorf("afkar did not stop on SIGTERM:\n%s", s.out)
		s.kill()
	}
}

// afkarCmd runs the afkar binary with env and returns its standard output, trimmed; a failure
// ends the test with what the command wrote to standard error.
func afkarCmd(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("afkar %v: %v\n%s", args, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fixture is a published survey in a fresh database.
type fixture struct {
	dbURL   string
	agency  survey.ID
	office  survey.ID
	version survey.Version
}

func newFixture(t *testing.T, dbURL string) fixture {
	t.Helper()
	return newSurveyFixture(t, dbURL, []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Title: "رضایت کلی", Required: true},
		{ID: "respect", Type: survey.TypeRating5, Title: "احترام"},
		{ID: "speed", Type: survey.TypeRating5, Title: "سرعت"},
	})
}

// newSurveyFixture is newFixture with the survey's questions given.
func newSurveyFixture(t *testing.T, dbURL string, questions []survey.Question) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := survey.Province{Name: "استان آزمون"}
	must(t, st.CreateProvince(ctx, &p))
	a := survey.Agency{ProvinceID: p.ID, Name: "اداره آزمون", Slug: "test"}
	must(t, st.CreateAgency(ctx, &a))
	o := survey.Office{AgencyID: a.ID, Name: "دفتر مرکزی"}
	must(t, st.CreateOffice(ctx, &o))
	s := survey.Survey{AgencyID: a.ID, Title: "نظرسنجی"}
	must(t, st.CreateSurvey(ctx, &s))
	v := survey.Version{SurveyID: s.ID, AgencyID: a.ID, Title: "نظرسنجی", Questions: questions}
	must(t, st.PublishVersion(ctx, &v))
	return fixture{dbURL: dbURL, agency: a.ID, office: o.ID, version: v}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// submission builds a valid response body with a fixed id; overall is 1–5 from the id's hash so a
// test can recompute expected sums.
func (f fixture) submission(id string, rating int) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "agency_id": f.agency, "office_id": f.office, "survey_id": f.version.SurveyID,
		"survey_version": f.version.Version,
		"answers":        []map[string]any{{"question_id": "overall", "value": rating}, {"question_id": "speed", "value": 6 - rating}},
	})
	return b
}

var client = &http.Client{Timeout: 10 * time.Second}

// post submits one response anonymously; ok is true only for an acknowledgement (202/200 with
// the same id).
func post(url string, body []byte, id string) (ok bool, err error) { return postAs(url, "", body, id) }

// postAs submits one response with a bearer token (none when token is empty).
func postAs(url, token string, body []byte, id string) (ok bool, err error) {
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/responses", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 202 && res.StatusCode != 200 {
		return false, fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	var out struct{ ID string }
	if err := json.Unmarshal(b, &out); err != nil || out.ID != id {
		return false, fmt.Errorf("bad ack %s", b)
	}
	return true, nil
}

// expectation tracks what the server acknowledged.
type expectation struct {
	mu      sync.Mutex
	acked   map[string]int // id → rating
	unacked map[string]int // sent but not acknowledged (connection died): may or may not be stored
}

func newExpectation() *expectation {
	return &expectation{acked: map[string]int{}, unacked: map[string]int{}}
}

// load submits n responses from conc goroutines until stop is closed or n is reached.
func (e *expectation) load(f fixture, url func() string, n, conc int, stop <-chan struct{}) {
	e.loadAs("", f, url, n, conc, stop)
}

// loadAs is load with a bearer token on every submission (a kiosk's, say).
func (e *expectation) loadAs(token string, f fixture, url func() string, n, conc int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	next := make(chan int)
	go func() {
		defer close(next)
		for i := 0; i < n; i++ {
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	}()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id := uuid.Must(uuid.NewV7()).String()
				rating := 1 + i%5
				ok, _ := postAs(url(), token, f.submission(id, rating), id)
				e.mu.Lock()
				if ok {
					e.acked[id] = rating
				} else {
					e.unacked[id] = rating
				}
				e.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// retryUnacked resends what was never acknowledged, as a kiosk would, until acknowledged.
func (e *expectation) retryUnacked(t *testing.T, f fixture, url string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, rating := range e.unacked {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := post(url, f.submission(id, rating), id)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("retry of %s never acknowledged: %v", id, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		e.acked[id] = rating
		delete(e.unacked, id)
	}
}

// verify waits until the store holds exactly the acknowledged responses and the rollups agree.
func (e *expectation) verify(t *testing.T, f fixture) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, f.dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := int64(len(e.acked))
	var wantSum int64
	for _, r := range e.acked {
		wantSum += int64(r)
	}
	var got int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err = st.ResponseCount(ctx, f.agency)
		if err != nil {
			t.Fatal(err)
		}
		if got >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything beyond want would show up now
	got, _ = st.ResponseCount(ctx, f.agency)
	if got != want {
		t.Fatalf("raw responses: got %d, want exactly the %d acknowledged", got, want)
	}
	totals, err := st.RollupTotals(ctx, survey.RollupFilter{AgencyID: f.agency})
	if err != nil {
		t.Fatal(err)
	}
	var responses, overallN, overallSum int64
	for _, tot := range totals {
		switch tot.QuestionID {
		case survey.ResponseQuestion:
			responses += tot.N
		case "overall":
			overallN += tot.N
			overallSum += tot.Sum
		}
	}
	if responses != want || overallN != want || overallSum != wantSum {
		t.Fatalf("rollups: responses %d, overall n %d sum %d; want %d, %d, %d", responses, overallN, overallSum, want, want, wantSum)
	}
}

func embeddedEnv(t *testing.T) (map[string]string, string) {
	dir := t.TempDir()
	db := filepath.Join(dir, "afkar.db")
	return map[string]string{"AFKAR_DATA_DIR": dir, "AFKAR_DATABASE_URL": "sqlite://" + db, "AFKAR_DEMO": "0"}, "sqlite://" + db
}

func productionEnv(t *testing.T, redisURL string) (map[string]string, string) {
	db := sqltest.PostgresURL(t)
	prefix := fmt.Sprintf("afkartest:%d:", rand.Int63())
	t.Cleanup(func() { cleanRedis(redisURL, prefix) })
	return map[string]string{
		"AFKAR_DATABASE_URL": db, "AFKAR_REDIS_URL": redisURL, "AFKAR_REDIS_PREFIX": prefix,
		"AFKAR_SECRET_KEY": strings.Repeat("k", 40), "AFKAR_ADMIN_TOKEN": strings.Repeat("a", 32),
		"AFKAR_DATA_DIR": t.TempDir(),
	}, db
}

func testRedisURL() string { return redistest.URL() }

// requireRedis skips (outside CI) or fails (CI) when the shared Redis is unreachable.
func requireRedis(t *testing.T) {
	t.Helper()
	redistest.Client(t)
}

// cleanRedis deletes the keys a test's server made under its prefix.
func cleanRedis(url, prefix string) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = redistest.DeletePrefix(ctx, c, prefix)
}

// restartTarget is how soon after a restart every response acknowledged before the crash must be
// counted (issue 6: "in seconds, not half a minute").
const restartTarget = 5 * time.Second

// crashScenario: phase 1 acknowledges responses with the aggregator off, so they sit only in
// the buffer; kill -9. Phase 2 restarts with the aggregator on under load, kill -9 mid-load.
// Phase 3 restarts: every response acknowledged so far must be counted within restartTarget of
// the restart (the process takes its predecessor's unacked batch back at once, under the same
// consumer name); then the client retries what was never acknowledged and resends some
// acknowledged ids, and every acknowledged response must be counted exactly once.
func crashScenario(t *testing.T, env map[string]string, dbURL string) {
	f := newFixture(t, dbURL)
	exp := newExpectation()

	noWorker := map[string]string{"AFKAR_WORKER": "0"}
	for k, v := range env {
		noWorker[k] = v
	}
	const backlog = 3000
	s1 := startServer(t, noWorker)
	exp.load(f, func() string { return s1.url }, backlog, 16, nil)
	if len(exp.acked) != backlog {
		t.Fatalf("phase 1: %d of %d acknowledged; unacked %d\n%s", len(exp.acked), backlog, len(exp.unacked), s1.out)
	}
	s1.kill() // between acknowledgement and aggregation

	s2 := startServer(t, env)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); exp.load(f, func() string { return s2.url }, 1_000_000, 16, stop) }()
	time.Sleep(time.Duration(200+rand.Intn(300)) * time.Millisecond)
	// Kill mid-load and mid-batch: freeze the server at a moment its aggregator holds entries it
	// read and has not acked, and kill it there.
	held, consumer := heldBy(t, env, dbURL), consumerOf(t, env, "serve")
	n := 0
	for try := 0; try < 400 && n == 0; try++ {
		s2.cmd.Process.Signal(syscall.SIGSTOP)
		if n = held(consumer); n == 0 {
			s2.cmd.Process.Signal(syscall.SIGCONT)
			time.Sleep(time.Duration(3+try%7) * time.Millisecond)
		}
	}
	s2.kill()
	close(stop)
	wg.Wait()
	if n == 0 {
		t.Fatalf("never caught the server holding a batch:\n%s", s2.out)
	}
	if len(exp.acked) <= backlog {
		t.Fatalf("phase 2 acknowledged nothing:\n%s", s2.out)
	}
	missing, total, err := exp.uncounted(rawDB(t, dbURL), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the server holding %d unacked entries as %s; %d of %d acknowledged responses not yet counted",
		n, consumer, missing, total)

	restarted := time.Now()
	s3 := startServer(t, env)
	took := exp.waitCounted(t, f, restarted)
	t.Logf("restart recovery: all %d acknowledged responses counted %v after the restart began (target %v)",
		len(exp.acked), took.Round(time.Millisecond), restartTarget)
	if took > restartTarget {
		t.Errorf("acknowledged responses counted %v after a restart; the target is %v\n%s", took, restartTarget, s3.out)
	}
	exp.retryUnacked(t, f, s3.url)
	// Resend a sample of acknowledged ids: duplicates must never be counted twice.
	resent := 0
	for id, rating := range exp.acked {
		if resent == 50 {
			break
		}
		if ok, err := post(s3.url, f.submission(id, rating), id); !ok {
			t.Fatalf("resend %s: %v", id, err)
		}
		resent++
	}
	exp.verify(t, f)
	t.Logf("acknowledged %d responses across two kill -9s; counted exactly once", len(exp.acked))
	checkMetrics(t, s3.url)
	s3.stop()
}

func TestCrashSafetyEmbedded(t *testing.T) {
	env, db := embeddedEnv(t)
	crashScenario(t, env, db)
}

func TestCrashSafetyPostgresRedis(t *testing.T) {
	requireRedis(t)
	env, db := productionEnv(t, testRedisURL())
	crashScenario(t, env, db)
}

// TestRedisOutage stops Redis mid-load: intake must fall back to the SQL inbox and keep
// answering 202, and once Redis is back the totals must be exact.
func TestRedisOutage(t *testing.T) {
	r := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	url := r.URL()
	env, db := productionEnv(t, url)
	f := newFixture(t, db)
	s := startServer(t, env)
	exp := newExpectation()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); exp.load(f, func() string { return s.url }, 1_000_000, 8, stop) }()
	time.Sleep(800 * time.Millisecond)
	r.Kill()
	time.Sleep(1500 * time.Millisecond) // load continues against a dead Redis
	r.Start()
	time.Sleep(1500 * time.Millisecond) // and after it returns
	close(stop)
	wg.Wait()

	exp.mu.Lock()
	unacked := len(exp.unacked)
	exp.mu.Unlock()
	if unacked != 0 {
		t.Fatalf("%d submissions were not acknowledged during the Redis outage; the fallback must answer 202\n%s", unacked, s.out)
	}
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`(?m)^afkar_ingest_fallback_total (\d+)`).FindSubmatch(body)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("no responses went to the fallback inbox during the outage: %s", m)
	}
	exp.verify(t, f)
	t.Logf("acknowledged %d responses, %s through the fallback inbox", len(exp.acked), m[1])
	s.stop()
}

// checkMetrics asserts /metrics exposes what operators watch: ingest, fold, errors, the buffer
// backlog and lag, and HTTP traffic.
func checkMetrics(t *testing.T, url string) {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{
		"afkar_ingest_accepted_total", "afkar_ingest_rejected_total", "afkar_ingest_fallback_total",
		"afkar_fold_responses_total", "afkar_fold_duplicates_total", "afkar_fold_errors_total",
		"afkar_buffer_backlog{", "afkar_buffer_pending{", "afkar_buffer_lag_seconds{", "afkar_buffer_up{",
		"afkar_http_requests_total{", "afkar_http_request_duration_seconds_bucket{",
	} {
		if !bytes.Contains(body, []byte("\n"+name)) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	m := regexp.MustCompile(`(?m)^afkar_ingest_accepted_total (\d+)`).FindSubmatch(body)
	if m == nil || string(m[1]) == "0" {
		t.Errorf("afkar_ingest_accepted_total does not count the accepted responses: %q", m)
	}
}
