package main

import (
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openFiles counts the file descriptors process pid holds.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("reading /proc/%d/fd: %v", pid, err)
	}
	return len(ents)
}

// Thousands of slow connections must not take every file descriptor: beyond
// AFKAR_MAX_CONNECTIONS they wait in the accept queue, and once they go the server answers at
// once. The soft open-file limit is raised to the hard one at start.
func TestConnectionCapKeepsFileDescriptors(t *testing.T) {
	env, _ := embeddedEnv(t)
	env["AFKAR_MAX_CONNECTIONS"] = "40"
	// Start the server with a low soft limit (inherited from this process) so that raising it is
	// observable whatever limits the machine runs tests with.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = min(lim.Max, 512)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, env)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	pid := s.cmd.Process.Pid
	base := openFiles(t, pid)

	host := strings.TrimPrefix(s.url, "http://")
	var conns []net.Conn
	for i := 0; i < 300; i++ {
		c, err := net.DialTimeout("tcp", host, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c) // idle: sends nothing, like a slowloris client
	}
	time.Sleep(500 * time.Millisecond) // let the server accept what it will
	held := openFiles(t, pid)
	if held > base+40+5 {
		t.Errorf("with 300 idle connections and a cap of 40 the server holds %d descriptors (%d before)", held, base)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, 20*time.Second, "healthz after the slow clients left", func() bool {
		cl := http.Client{Timeout: 2 * time.Second}
		res, err := cl.Get(s.url + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	limits, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Max open files\s+(\S+)\s+(\S+)`).FindSubmatch(limits)
	if m == nil || string(m[1]) != string(m[2]) {
		t.Errorf("soft open-file limit not raised to the hard one: %q", m)
	}
	s.stop()
}

// An admin token the operator supplied is never printed; a generated one is (once, to stdout).
func TestOperatorAdminTokenIsNotPrinted(t *testing.T) {
	env, _ := embeddedEnv(t)
	token := "operator-chosen-admin-token-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	env["AFKAR_ADMIN_TOKEN"] = token
	s := startServer(t, env)
	s.stop()
	if strings.Contains(s.out.String(), token) {
		t.Fatalf("the operator's admin token was printed:\n%s", s.out)
	}

	env2, _ := embeddedEnv(t)
	s2 := startServer(t, env2)
	s2.stop()
	if !regexp.MustCompile(`Admin token \(province admin\): [0-9a-f]{64}`).MatchString(s2.out.String()) {
		t.Fatalf("a generated admin token must be printed for the operator:\n%s", s2.out)
	}
}
