// Package testenv decides, in one place, what a test does when something it needs from the
// machine — PostgreSQL, Redis, redis-server, Chromium — is missing: outside CI it skips, so a
// developer without the service can still run the rest; under CI=true it fails, because CI must
// run every test and a skip there would hide an untested change.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test because what it needs is not available: it fails under CI=true and
// skips otherwise. why says what is missing and how to get it.
func Missing(t testing.TB, why string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: a missing dependency fails the run): %v", why, err)
	}
	t.Skipf("%s, skipping: %v", why, err)
}

// LookPath returns the path of the program name, or ends the test as Missing.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed ("+install+")", err)
	}
	return path
}

// FreePort returns a loopback TCP port that was free a moment ago, for a private server a test
// starts (redis-server, PostgreSQL) so that it never touches the shared one.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
