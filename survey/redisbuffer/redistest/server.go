package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afkar-gov/afkar/survey/testenv"
)

// Server is a private redis-server on a free port, for tests that kill, freeze or fill their
// Redis and so must never touch the shared one. It is killed when the test ends.
type Server struct {
	Port int
	Dir  string
	args []string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartServer starts redis-server on a free loopback port with its data in a temporary
// directory and the given extra arguments (e.g. "--appendonly", "yes"), and waits until it
// answers PING. Without persistence arguments it keeps nothing on disk.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{Port: testenv.FreePort(t), Dir: t.TempDir(), args: args, t: t}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// URL is the server's redis:// URL (database 0).
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

// Start (re)starts the server on its port and directory, so a test can bring back a killed
// Redis with whatever it persisted.
func (s *Server) Start() {
	s.t.Helper()
	bin := testenv.LookPath(s.t, "redis-server", "apt-get install redis-server")
	args := append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", s.Dir, "--loglevel", "warning"}, s.args...)
	s.cmd = exec.Command(bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.Port), DialerRetries: 1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on port %d did not start", s.Port)
		}
	}
}

// Kill stops the server with SIGKILL (a crash) and waits for it; killing a stopped server is a
// no-op.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a frozen process must run to die cleanly
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// Freeze suspends the server (SIGSTOP): connections stay open but nothing answers, like a Redis
// stuck on a slow disk. Thaw resumes it.
func (s *Server) Freeze() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }
