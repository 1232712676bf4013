package main

import (
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"golang.org/x/net/netutil"
)

// maxHeaderBytes bounds a request's line and headers. Afkar's clients send a few hundred bytes;
// the net/http default of 1 MB let one connection hold a megabyte of memory with a made-up
// method or header.
const maxHeaderBytes = 64 << 10

// listen opens the TCP listener and caps how many connections are open at once. Beyond the cap
// new connections wait in the kernel's accept queue instead of taking file descriptors: ~20,000
// slow connections once exhausted the open-file limit, after which the database, Redis and the
// SQLite file could not be opened either and every citizen got errors. Idle and slow clients are
// cut by the http.Server timeouts, which frees their slots.
func listen(addr string, maxConns int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		ln = netutil.LimitListener(ln, maxConns)
	}
	return ln, nil
}

// newHTTPServer returns the http.Server both serve and worker use: bounded header size and
// timeouts so that slow or idle clients give their connection back.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one. Linux's usual soft limit of
// 1,024 is far below what a server with thousands of kiosks and phones connected needs, while
// the hard limit (often 500k+) is what the operator allowed. It returns the soft limit now in
// force, so the connection cap can be checked against it.
func raiseFileLimit(log *slog.Logger) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open-file limit", "err", err)
		return 0
	}
	if lim.Cur < lim.Max {
		old := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("cannot raise the open-file limit", "soft", old, "hard", lim.Max, "err", err)
			lim.Cur = old
		} else {
			log.Debug("raised the open-file limit", "from", old, "to", lim.Cur)
		}
	}
	return lim.Cur
}
