package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// worker is one running `afkar worker` process.
type worker struct {
	cmd     *exec.Cmd
	metrics string
	done    chan struct{}
}

var workerAddr = regexp.MustCompile(`"metrics":"([^"]+)"|metrics=(\S+)`)

func startWorker(t *testing.T, env map[string]string) *worker {
	t.Helper()
	cmd := exec.Command(binPath, "worker")
	cmd.Env = append(os.Environ(), "AFKAR_ADDR=127.0.0.1:0", "AFKAR_LOG_LEVEL=info")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := workerAddr.FindStringSubmatch(sc.Text()); m != nil {
				addr <- "http://" + strings.Trim(m[1]+m[2], `"`)
			}
		}
	}()
	go func() { cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		<-w.done
	})
	select {
	case w.metrics = <-addr:
	case <-w.done:
		t.Fatal("worker exited at start")
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not start")
	}
	return w
}

func (w *worker) counter(t *testing.T, name string) float64 {
	res, err := http.Get(w.metrics + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// deadWorkerTarget is how soon after a worker dies a live peer must have counted everything it
// held (issue 6: "within a few seconds").
const deadWorkerTarget = 10 * time.Second

// deadWorkerScenario runs two aggregator processes (distinct consumer names, default claim idle)
// on one backlog, kills one with SIGKILL while it holds delivered-but-unacknowledged entries,
// and expects the survivor to have counted every acknowledged response within deadWorkerTarget
// of the kill, exactly once. held reports how many entries a consumer holds.
func deadWorkerScenario(t *testing.T, env map[string]string, dbURL string, backlog int, held func(consumer string) int) {
	f := newFixture(t, dbURL)
	noWorker := map[string]string{"AFKAR_WORKER": "0"}
	for k, v := range env {
		noWorker[k] = v
	}
	s := startServer(t, noWorker)
	exp := newExpectation()
	exp.load(f, func() string { return s.url }, backlog, 16, nil)
	if len(exp.acked) != backlog {
		t.Fatalf("only %d of %d acknowledged", len(exp.acked), backlog)
	}

	wenv := func(consumer string) map[string]string {
		m := map[string]string{"AFKAR_FOLD_BATCH": "50", "AFKAR_CONSUMER": consumer}
		for k, v := range env {
			m[k] = v
		}
		return m
	}
	victim := startWorker(t, wenv("worker-victim"))
	survivor := startWorker(t, wenv("worker-survivor"))
	// Catch the victim holding entries it has read but not acked, and kill it there.
	n := 0
	for try := 0; try < 400 && n == 0; try++ {
		time.Sleep(time.Duration(3+try%7) * time.Millisecond)
		victim.cmd.Process.Signal(syscall.SIGSTOP)
		n = held("worker-victim")
		if n == 0 {
			victim.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	if n == 0 {
		t.Fatal("never caught the victim holding a batch")
	}
	victim.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	<-victim.done
	if missing, total, err := exp.uncounted(rawDB(t, dbURL), f); err == nil {
		t.Logf("at the kill %d of %d acknowledged responses were not yet counted", missing, total)
	}

	took := exp.waitCounted(t, f, killed)
	t.Logf("dead worker: killed holding %d entries; every acknowledged response counted %v after the kill (target %v)",
		n, took.Round(time.Millisecond), deadWorkerTarget)
	if took > deadWorkerTarget {
		t.Errorf("the survivor counted everything %v after the kill; the target is %v", took, deadWorkerTarget)
	}
	exp.verify(t, f)
	// The victim may have folded its batch before it died, leaving only the acks undone: then
	// everything is counted before the survivor takes the batch over (after the claim idle), and
	// its reclaim folds nothing new. It must take it over all the same, so nothing stays pending.
	waitFor(t, 30*time.Second, "the survivor to reclaim the victim's entries", func() bool {
		return survivor.counter(t, "afkar_fold_reclaimed_total") >= float64(n) && held("worker-victim") == 0
	})
}

// TestWorkerDiesPostgresRedis: two `afkar worker` processes on one Redis stream; one dies.
func TestWorkerDiesPostgresRedis(t *testing.T) {
	requireRedis(t)
	env, db := productionEnv(t, testRedisURL())
	deadWorkerScenario(t, env, db, 6000, heldBy(t, env, db))
}

// TestWorkerDiesEmbedded: two `afkar worker` processes on one SQLite file and its inbox; one dies.
func TestWorkerDiesEmbedded(t *testing.T) {
	env, db := embeddedEnv(t)
	deadWorkerScenario(t, env, db, 3000, inboxHeld(t, db))
}

// TestReaggregateCommandReproducesRollups folds through the running server, then runs
// `afkar reaggregate` and compares a canonical dump of the rollups byte for byte — flagged
// responses' @flagged rows and the hourly rollup_hours included.
func TestReaggregateCommandReproducesRollups(t *testing.T) {
	env, db := embeddedEnv(t)
	env["AFKAR_DEMO"] = "1"
	s := startServer(t, env)
	f := newFixture(t, db) // a second agency beside the demo province
	exp := newExpectation()
	exp.load(f, func() string { return s.url }, 500, 8, nil)
	exp.verify(t, f)
	s.stop()

	ctx := context.Background()
	foldFlagged(t, db, f, 60)
	dump := func() []byte {
		st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var b bytes.Buffer
		if err := st.DumpRollups(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	before := dump()
	if len(before) < 1000 {
		t.Fatalf("suspiciously small rollup dump (%d bytes)", len(before))
	}
	for _, fl := range survey.Flags {
		if !bytes.Contains(before, []byte(strconv.Quote(survey.FlaggedQuestion(fl)))) {
			t.Fatalf("the dump has no %s row", survey.FlaggedQuestion(fl))
		}
	}
	// The hourly per-citizen rollup (rollup_hours) is in the dump, so it is rebuilt exactly too.
	_, hours, ok := bytes.Cut(before, []byte("# rollup_hours:"))
	if !ok || bytes.Count(hours, []byte("\n")) < 10 {
		t.Fatalf("the dump has no rollup_hours rows:\n%s", hours)
	}
	out := afkarCmd(t, env, "reaggregate")
	after := dump()
	if !bytes.Equal(before, after) {
		t.Fatalf("reaggregate changed the rollups (%d → %d bytes)\n%s", len(before), len(after), out)
	}
	t.Logf("%s", out)
}

// foldFlagged stores n responses for f's office as the kiosk channel stores the ones its
// stuffing filter flags (interval, burst, after_hours in turn; answers with headline flags), and
// checks that they reached only their flag rows.
func foldFlagged(t *testing.T, db string, f fixture, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func() (counted, flagged int64) {
		tot, err := st.RollupTotals(ctx, survey.RollupFilter{AgencyID: f.agency})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tot {
			if _, ok := survey.FlagOfQuestion(r.QuestionID); ok {
				flagged += r.N
			} else if r.QuestionID == survey.ResponseQuestion {
				counted += r.N
			}
		}
		return counted, flagged
	}
	counted, _ := count()
	rs := make([]survey.Response, n)
	for i := range rs {
		rating := 1 + i%5
		at := time.Now().UTC().Add(-time.Duration(i) * time.Hour)
		rs[i] = survey.Response{
			ID: intake.NewID(), AgencyID: f.agency, OfficeID: f.office, SurveyID: f.version.SurveyID,
			SurveyVersion: f.version.Version, Channel: survey.ChannelKiosk, SubmittedAt: at, ReceivedAt: at,
			DeviceID: 1, Flag: survey.Flags[i%len(survey.Flags)],
			Answers: []survey.Answer{{QuestionID: "overall", Type: survey.TypeRating5, Number: &rating, Headline: true}},
		}
	}
	if k, err := st.Fold(ctx, rs, analytics.Delta); err != nil || k != n {
		t.Fatalf("folding flagged responses: %d, %v", k, err)
	}
	if c, fl := count(); c != counted || fl != int64(n) {
		t.Fatalf("after %d flagged responses: %d counted (was %d), %d flagged", n, c, counted, fl)
	}
}

// TestServeRefusesSchemaBehind: with automatic migration off, a database whose schema is behind
// the binary must stop the server at start with a message naming `afkar migrate`.
func TestServeRefusesSchemaBehind(t *testing.T) {
	env, db := embeddedEnv(t)
	st, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // an empty database: schema version 0
	cmd := exec.Command(binPath, "serve")
	cmd.Env = append(os.Environ(), "AFKAR_AUTO_MIGRATE=0", "AFKAR_ADDR=127.0.0.1:0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	done := make(chan []byte, 1)
	go func() {
		out, _ := cmd.CombinedOutput()
		done <- out
	}()
	select {
	case out := <-done:
		if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(string(out), "migrate") {
			t.Fatalf("exit %d, output:\n%s", cmd.ProcessState.ExitCode(), out)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve started on a schema that is behind")
	}
	// `afkar migrate` then brings it up to date, and serve starts.
	mig := exec.Command(binPath, "migrate")
	mig.Env = cmd.Env
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	env["AFKAR_AUTO_MIGRATE"] = "0"
	startServer(t, env).stop()
}

// TestDemoCommandAddsResponses: `afkar demo --responses N` seeds an empty database and adds N.
func TestDemoCommandAddsResponses(t *testing.T) {
	env, db := embeddedEnv(t)
	run := func(args ...string) string {
		cmd := exec.Command(binPath, args...)
		cmd.Env = os.Environ()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("demo")
	count := func() int64 {
		st, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n, err := st.ResponseCount(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	seeded := count()
	if seeded < 1000 {
		t.Fatalf("demo seeded only %d responses", seeded)
	}
	run("demo", "--responses", "1234")
	if got := count(); got != seeded+1234 {
		t.Fatalf("after demo --responses 1234: %d, want %d", got, seeded+1234)
	}
}

// Raw responses stored before answers carried headline flags get, on `afkar reaggregate`, the
// flags their survey version implies — the same headline cells a live fold gives new ones.
func TestReaggregateBackfillsHeadlineFlags(t *testing.T) {
	env, db := embeddedEnv(t)
	f := newFixture(t, db)
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := func(v int) *int { return &v }
	var rs []survey.Response
	for i := 0; i < 20; i++ {
		rs = append(rs, survey.Response{
			ID: intake.NewID(), AgencyID: f.agency, OfficeID: f.office, SurveyID: f.version.SurveyID,
			SurveyVersion: f.version.Version, Channel: survey.ChannelWeb,
			SubmittedAt: time.Now().UTC(), ReceivedAt: time.Now().UTC(),
			Answers: []survey.Answer{ // as stored before the flag existed: no Headline
				{QuestionID: "overall", Type: survey.TypeRating5, Number: n(1 + i%5)},
				{QuestionID: "speed", Type: survey.TypeRating5, Number: n(5 - i%5)},
			},
		})
	}
	if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
	citizens := func() int64 {
		tot, err := st.RollupTotals(ctx, survey.RollupFilter{AgencyID: f.agency})
		if err != nil {
			t.Fatal(err)
		}
		var c int64
		for _, r := range tot {
			if r.QuestionID == survey.HeadlineQuestion {
				c += r.N
			}
		}
		return c
	}
	if c := citizens(); c != 0 {
		t.Fatalf("unflagged responses already have %d headline cells", c)
	}
	st.Close()
	out := afkarCmd(t, env, "reaggregate")
	st, err = sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c := citizens(); c != int64(len(rs)) {
		t.Fatalf("after reaggregate %d citizens have a headline value, want %d\n%s", c, len(rs), out)
	}
	if !strings.Contains(out, "gave 20 responses") {
		t.Errorf("reaggregate did not report the backfill:\n%s", out)
	}
}
