package sqltest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/afkar-gov/afkar/survey/testenv"
)

// Server is a private PostgreSQL cluster (initdb + pg_ctl) on a free port, for tests that stop
// and restart their database and so must never touch the shared one. It is stopped and removed
// when the test ends. PostgreSQL refuses to run as root, so under root the cluster belongs to
// the postgres user and its commands run through runuser.
type Server struct {
	Port int
	Dir  string
	bin  string
	as   string // "postgres" when run through runuser, else ""
	t    testing.TB
}

// StartServer initialises a cluster in a fresh directory (trust authentication, fsync off,
// synchronous commits) and starts it. Without PostgreSQL's server programs the test is skipped, or fails under CI=true.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := serverBin(t)
	dir, err := os.MkdirTemp("", "afkar-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Port: testenv.FreePort(t), Dir: dir, bin: bin, t: t}
	t.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testenv.Missing(t, "sqltest: running as root needs a postgres user to own the test cluster", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = "postgres"
	}
	if out, err := s.command(filepath.Join(bin, "initdb"), "-D", s.data(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("sqltest: initdb: %v\n%s", err, out)
	}
	s.Start()
	return s
}

// URL is the cluster's postgres database, as a URL for sqlstore.Open.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
}

// Start (re)starts the cluster and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	// fsync off is safe for a test: Stop kills processes, not the machine, and the kernel keeps
	// what was written. synchronous_commit stays on: without it a commit is acknowledged before
	// its WAL is written, and an immediate stop loses it (as it would in production).
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c full_page_writes=off", s.Port, s.Dir)
	if out, err := s.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(s.Dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.Dir, "log"))
		s.t.Fatalf("sqltest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	db, err := gorm.Open(postgres.Open(s.URL()+"&connect_timeout=2"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		s.t.Fatalf("sqltest: connect to the test cluster: %v", err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := sqlDB.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sqltest: the test cluster does not answer: %v", err)
		}
	}
}

// Stop shuts the cluster down at once ("immediate": no checkpoint, connections cut, like a
// crash), keeping its data for Start.
func (s *Server) Stop() {
	s.t.Helper()
	if out, err := s.pgctl("stop", "-w", "-m", "immediate"); err != nil {
		s.t.Fatalf("sqltest: pg_ctl stop: %v\n%s", err, out)
	}
}

func (s *Server) data() string { return filepath.Join(s.Dir, "data") }

func (s *Server) pgctl(args ...string) ([]byte, error) {
	return s.command(filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", s.data()}, args...)...).CombinedOutput()
}

// command runs a PostgreSQL program as the cluster's owner.
func (s *Server) command(prog string, args ...string) *exec.Cmd {
	if s.as == "" {
		return exec.Command(prog, args...)
	}
	return exec.Command("runuser", append([]string{"-u", s.as, "--", prog}, args...)...)
}

// serverBin finds the directory of initdb and pg_ctl: on PATH, or the newest
// /usr/lib/postgresql/*/bin (Debian keeps them off PATH).
func serverBin(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	testenv.Missing(t, "sqltest: PostgreSQL's initdb is not installed (apt-get install postgresql)", exec.ErrNotFound)
	return ""
}
