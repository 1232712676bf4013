package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// load is a running generator: conc workers, each on its own keep-alive connection speaking
// HTTP/1.1 directly (write a prepared request, read the status), which costs a fraction of
// net/http's client — the generator shares the cores with the server, so every microsecond it
// spends is taken from the server. With rate 0 it is closed loop (each worker sends as soon as
// its previous answer arrives); with a rate it is open loop: a pacer issues send times at that
// rate and latency is measured from the planned send time, so a server that falls behind shows
// the queueing its users would see (no coordinated omission).
type load struct {
	host string
	rate float64

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	workers []*worker

	windowFrom atomic.Int64 // unix nanos; requests planned from then on are measured
	windowTo   time.Time

	acked   atomic.Int64 // every 202 since the start, measured or not: the accounting's "acknowledged"
	unknown atomic.Int64 // requests written whose answer never came: outcome unknown
}

// worker is one client; its counters are its own, merged when the load stops.
type worker struct {
	reqs  []prepared
	base  [16]byte
	count uint32

	lat      []time.Duration
	ok       int64
	statuses map[string]int64
}

// startLoad starts conc workers over reqs (each worker cycles its own share, so the whole pool's
// mix is sent) at rate per second, 0 meaning closed loop.
func startLoad(url string, reqs []prepared, conc int, rate float64) *load {
	l := &load{host: hostOf(url), rate: rate}
	l.windowFrom.Store(1<<63 - 1)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	var tickets chan time.Time
	if rate > 0 {
		tickets = make(chan time.Time, 1<<16)
		go pace(ctx, rate, tickets)
	}
	for w := 0; w < conc; w++ {
		wk := &worker{statuses: map[string]int64{}, lat: make([]time.Duration, 0, 1<<16)}
		for i := w; i < len(reqs); i += conc {
			r := reqs[i]
			wk.reqs = append(wk.reqs, prepared{buf: append([]byte(nil), r.buf...), idAt: r.idAt})
		}
		if len(wk.reqs) == 0 {
			r := reqs[w%len(reqs)]
			wk.reqs = append(wk.reqs, prepared{buf: append([]byte(nil), r.buf...), idAt: r.idAt})
		}
		u := uuid.Must(uuid.NewV7())
		copy(wk.base[:], u[:])
		wk.base[10], wk.base[11] = byte(w>>8), byte(w)
		l.workers = append(l.workers, wk)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.run(ctx, wk, tickets)
		}()
	}
	return l
}

func hostOf(url string) string {
	if i := bytes.Index([]byte(url), []byte("://")); i >= 0 {
		url = url[i+3:]
	}
	return url
}

// pace issues planned send times at rate per second until ctx ends. A full channel blocks the
// pacer, but the times stay those of the plan, so the wait shows up in the latencies.
func pace(ctx context.Context, rate float64, tickets chan<- time.Time) {
	defer close(tickets)
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var sent int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int64(now.Sub(start).Seconds() * rate)
			for ; sent < due; sent++ {
				at := start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))
				select {
				case tickets <- at:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// markWindow starts the measured window now.
func (l *load) markWindow() time.Time {
	now := time.Now()
	l.windowFrom.Store(now.UnixNano())
	return now
}

// stop ends the load: workers finish the request in flight (so none is cut off with an unknown
// outcome) and exit.
func (l *load) stop() {
	l.windowTo = time.Now()
	l.cancel()
	l.wg.Wait()
}

func (l *load) run(ctx context.Context, w *worker, tickets <-chan time.Time) {
	var conn net.Conn
	var rd *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for n := 0; ; n++ {
		var planned time.Time
		if tickets != nil {
			at, ok := <-tickets
			if !ok || ctx.Err() != nil {
				return // tickets still queued when the load stops are not sent
			}
			planned = at
		} else {
			if ctx.Err() != nil {
				return
			}
			planned = time.Now()
		}
		measured := planned.UnixNano() >= l.windowFrom.Load()
		if conn == nil {
			c, err := net.DialTimeout("tcp", l.host, 10*time.Second)
			if err != nil {
				if measured {
					w.statuses["connect"]++
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn, rd = c, bufio.NewReaderSize(c, 4096)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		_, err := conn.Write(w.next(n))
		code, closeAfter := 0, false
		if err == nil {
			code, closeAfter, err = readStatus(rd)
		}
		if err != nil {
			l.unknown.Add(1)
			if measured {
				w.statuses["no answer"]++
			}
			conn.Close()
			conn = nil
			continue
		}
		if closeAfter {
			conn.Close()
			conn = nil
		}
		if code == 202 {
			l.acked.Add(1)
		}
		if !measured {
			continue
		}
		if code != 202 {
			w.statuses[strconv.Itoa(code)]++
			continue
		}
		w.ok++
		w.lat = append(w.lat, time.Since(planned))
	}
}

// next returns the n-th request of w with a fresh UUIDv7 written over the previous id: the
// current time in milliseconds (as a real client stamps its ids, and as the server's check for
// recently minted ids expects), the worker's version and random bytes, its number, and a
// counter.
func (w *worker) next(n int) []byte {
	r := w.reqs[n%len(w.reqs)]
	w.count++
	id := w.base
	ms := uint64(time.Now().UnixMilli())
	id[0], id[1], id[2], id[3], id[4], id[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	id[12], id[13], id[14], id[15] = byte(w.count>>24), byte(w.count>>16), byte(w.count>>8), byte(w.count)
	b, at := r.buf, r.idAt
	hex.Encode(b[at:], id[0:4])
	b[at+8] = '-'
	hex.Encode(b[at+9:], id[4:6])
	b[at+13] = '-'
	hex.Encode(b[at+14:], id[6:8])
	b[at+18] = '-'
	hex.Encode(b[at+19:], id[8:10])
	b[at+23] = '-'
	hex.Encode(b[at+24:], id[10:16])
	return b
}

// readStatus reads one HTTP/1.1 response and returns its status code and whether the server
// will close the connection, touching no more than the headers it needs and the body.
func readStatus(rd *bufio.Reader) (code int, closeAfter bool, err error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 {
		return 0, false, errors.New("short status line")
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, err
	}
	length, chunked := 0, false
	for {
		h, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(h) <= 2 {
			break
		}
		switch {
		case len(h) > 16 && bytes.EqualFold(h[:15], []byte("Content-Length:")):
			length, _ = strconv.Atoi(string(bytes.TrimSpace(h[15:])))
		case len(h) > 18 && bytes.EqualFold(h[:18], []byte("Transfer-Encoding:")):
			chunked = bytes.Contains(bytes.ToLower(h), []byte("chunked"))
		case len(h) > 11 && bytes.EqualFold(h[:11], []byte("Connection:")):
			closeAfter = bytes.Contains(bytes.ToLower(h), []byte("close"))
		}
	}
	if !chunked {
		_, err = rd.Discard(length)
		return code, closeAfter, err
	}
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
		if err != nil {
			return 0, false, err
		}
		if _, err := rd.Discard(int(size) + 2); err != nil { // the chunk and its CRLF
			return 0, false, err
		}
		if size == 0 {
			return code, closeAfter, nil
		}
	}
}

// loadResult is what a load measured in its window.
type loadResult struct {
	ok       int64
	window   time.Duration
	lat      []time.Duration // sorted
	statuses map[string]int64
}

func (l *load) result(from time.Time) loadResult {
	r := loadResult{window: l.windowTo.Sub(from), statuses: map[string]int64{}}
	for _, w := range l.workers {
		r.ok += w.ok
		r.lat = append(r.lat, w.lat...)
		for k, v := range w.statuses {
			r.statuses[k] += v
		}
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r
}

func (r loadResult) rate() float64 { return float64(r.ok) / r.window.Seconds() }

func (r loadResult) pct(p float64) time.Duration { return percentile(r.lat, p) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
