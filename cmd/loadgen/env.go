package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the scratch database
	"github.com/redis/go-redis/v9"
)

// machine describes where the figures were taken, printed with every result: figures from a
// loaded 2-core box and from an idle 16-core one are different facts.
func machine(bin string) string {
	commit := "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && strings.TrimSpace(string(st)) != "" {
			commit += "+dirty"
		}
	}
	ver := "unknown"
	if out, err := exec.Command(bin, "version").Output(); err == nil {
		ver = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "afkar"))
	}
	return fmt.Sprintf("%d cores (GOMAXPROCS %d), load average %s, %s %s/%s, commit %s, afkar %s",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAvg(), runtime.Version(), runtime.GOOS, runtime.GOARCH, commit, ver)
}

// loadAvg is the 1-, 5- and 15-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// scratchDatabase creates a database for one pass and returns its URL, its durability settings
// and a drop function.
func scratchDatabase(adminURL string) (string, string, func(), error) {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", "", nil, err
	}
	name := fmt.Sprintf("afkar_bench_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		return "", "", nil, fmt.Errorf("create database: %w", err)
	}
	var fsync, syncCommit string
	_ = db.QueryRow("SHOW fsync").Scan(&fsync)
	_ = db.QueryRow("SHOW synchronous_commit").Scan(&syncCommit)
	u := regexp.MustCompile(`/[^/?]*(\?|$)`).ReplaceAllString(adminURL[strings.Index(adminURL, "://")+3:], "/"+name+"$1")
	url := adminURL[:strings.Index(adminURL, "://")+3] + u
	return url, fmt.Sprintf("PostgreSQL fsync=%s synchronous_commit=%s", fsync, syncCommit), func() {
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	}, nil
}

// redisProc is a redis-server of the bench's own, on a free port in a temporary directory, so
// its persistence settings are the ones being measured and the shared Redis is left alone.
type redisProc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startRedis starts redis-server with the append-only file on and the given appendfsync.
func startRedis(bin, dir, fsync string) (*redisProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", fsync, "--save", "", "--daemonize", "no", "--loglevel", "warning")
	logFile := filepath.Join(dir, "redis.log")
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	failed := func(why string) error {
		b, _ := os.ReadFile(logFile)
		return fmt.Errorf("redis-server %s:\n%s", why, b)
	}
	r := &redisProc{cmd: cmd, url: fmt.Sprintf("redis://127.0.0.1:%d/0", port), done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	opt, _ := redis.ParseURL(r.url)
	c := redis.NewClient(opt)
	defer c.Close()
	for i := 0; i < 100; i++ {
		select {
		case <-r.done:
			return nil, failed("exited at start")
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			return r, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.stop()
	return nil, failed("did not answer PING in 10 s")
}

// settings reads back the persistence settings Redis is actually running with.
func (r *redisProc) settings() string {
	opt, _ := redis.ParseURL(r.url)
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	get := func(k string) string {
		m, err := c.ConfigGet(ctx, k).Result()
		if err != nil {
			return "?(" + err.Error() + ")"
		}
		return m[k]
	}
	return fmt.Sprintf("Redis appendonly=%s appendfsync=%s", get("appendonly"), get("appendfsync"))
}

func (r *redisProc) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// afkarCmd runs a short afkar subcommand (demo, token) against the pass's database and returns
// its standard output; the error carries the combined output.
func afkarCmd(bin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("afkar %s: %w: %s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// proc is a running afkar serve or worker.
type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var listenRe = regexp.MustCompile(`listening on (http://\S+)|"metrics":"([^"]+)"|metrics=(\S+)`)

// start runs `afkar sub` with env on a free port and waits until it is ready.
func start(bin, sub string, env []string) (*proc, error) {
	cmd := exec.Command(bin, sub)
	cmd.Env = append(append(os.Environ(), env...), "AFKAR_ADDR=127.0.0.1:0")
	out, _ := cmd.StdoutPipe()
	errOut, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 2)
	tail := make(chan string, 64)
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			select {
			case tail <- line:
			default:
			}
			m := listenRe.FindStringSubmatch(line)
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
		var lines []string
		for len(tail) > 0 {
			lines = append(lines, <-tail)
		}
		return nil, fmt.Errorf("afkar %s exited at start:\n%s", sub, strings.Join(lines, "\n"))
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
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

var hwmRe = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// peakRSS reads the process's high-water resident set, in bytes.
func (p *proc) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	m := hwmRe.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n << 10
}
