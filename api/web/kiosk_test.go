package web

import (
	"bytes"
	"regexp"
	"testing"
)

// TestKioskCacheVersion: the service worker's cache name is a hash of what the tablet caches, so
// the same build always yields the same worker (no needless re-download) and any other build a
// new one (tablets pick up the new app on their own).
func TestKioskCacheVersion(t *testing.T) {
	version := regexp.MustCompile(`var VERSION = '([0-9a-f]{16})';`)
	cacheOf := func(v string) string {
		m := version.FindSubmatch(kioskFiles(v)["sw.js"].body)
		if m == nil {
			t.Fatalf("no cache version in sw.js of %q", v)
		}
		return string(m[1])
	}
	if a, b := cacheOf("v1"), cacheOf("v1"); a != b {
		t.Fatalf("the same build gives cache versions %s and %s", a, b)
	}
	if a, b := cacheOf("v1"), cacheOf("v2"); a == b {
		t.Fatalf("builds v1 and v2 share cache version %s", a)
	}
	shell := kioskFiles("v1")[""].body
	if !bytes.Contains(shell, []byte(`content="v1+`+cacheOf("v1")[:8]+`"`)) {
		t.Fatalf("the shell does not carry the app version v1+%s", cacheOf("v1")[:8])
	}
}
