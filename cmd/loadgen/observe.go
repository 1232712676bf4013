package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// sample is one scrape of the server's /metrics.
type sample struct {
	at       time.Time
	backlog  float64 // afkar_buffer_backlog, summed over the buffers
	folded   float64 // afkar_fold_responses_total
	accepted float64 // afkar_ingest_accepted_total
}

var (
	foldRe     = regexp.MustCompile(`(?m)^afkar_fold_responses_total (\S+)`)
	acceptedRe = regexp.MustCompile(`(?m)^afkar_ingest_accepted_total (\S+)`)
	backlogRe  = regexp.MustCompile(`(?m)^afkar_buffer_backlog\{[^}]*\} (\S+)`)
)

var metricsClient = &http.Client{Timeout: 10 * time.Second}

func scrape(url string) (sample, error) {
	res, err := metricsClient.Get(url + "/metrics")
	if err != nil {
		return sample{}, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return sample{}, err
	}
	s := sample{at: time.Now()}
	num := func(re *regexp.Regexp) float64 {
		if m := re.FindSubmatch(b); m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			return v
		}
		return 0
	}
	s.folded, s.accepted = num(foldRe), num(acceptedRe)
	ms := backlogRe.FindAllSubmatch(b, -1)
	if len(ms) == 0 {
		return s, errors.New("no afkar_buffer_backlog in /metrics")
	}
	for _, m := range ms {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		s.backlog += v
	}
	return s, nil
}

// sampler scrapes /metrics every second while a load runs.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	stopped chan struct{}
	done    chan struct{}
}

func startSampler(url string) *sampler {
	s := &sampler{stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if x, err := scrape(url); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, x)
				s.mu.Unlock()
			}
			select {
			case <-s.stopped:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() { close(s.stopped); <-s.done }

// between returns the samples taken in [from, to].
func (s *sampler) between(from, to time.Time) []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sample
	for _, x := range s.samples {
		if !x.at.Before(from) && !x.at.After(to) {
			out = append(out, x)
		}
	}
	return out
}

// backlogTrend is how the buffer backlog moved over a window. The backlog saws: it fills while
// the aggregator folds a batch (or waits for a core) and empties when the fold catches up, so a
// straight line through it (slope) swings with where the window cuts the saw. What tells a
// sustainable rate from one that is not is the troughs: an aggregator that keeps up drains the
// buffer back to near empty again and again, one that falls behind leaves more each time. So
// growth compares the lowest backlog of the window's last third with that of its first third.
type backlogTrend struct {
	slope, growth     float64 // responses per second: least-squares slope, trough growth
	first, peak, last float64
	foldRate          float64 // responses folded per second over the window
	n                 int
}

func trend(ss []sample) backlogTrend {
	var t backlogTrend
	t.n = len(ss)
	if len(ss) < 2 {
		return t
	}
	t0 := ss[0].at
	var sx, sy, sxx, sxy float64
	for _, x := range ss {
		dx := x.at.Sub(t0).Seconds()
		sx += dx
		sy += x.backlog
		sxx += dx * dx
		sxy += dx * x.backlog
		t.peak = max(t.peak, x.backlog)
	}
	n := float64(len(ss))
	if d := n*sxx - sx*sx; d > 0 {
		t.slope = (n*sxy - sx*sy) / d
	}
	t.growth = t.slope
	if third := len(ss) / 3; third >= 1 {
		lo := func(part []sample) sample {
			m := part[0]
			for _, x := range part[1:] {
				if x.backlog < m.backlog {
					m = x
				}
			}
			return m
		}
		a, b := lo(ss[:third]), lo(ss[len(ss)-third:])
		if dt := b.at.Sub(a.at).Seconds(); dt > 0 {
			t.growth = (b.backlog - a.backlog) / dt
		}
	}
	t.first, t.last = ss[0].backlog, ss[len(ss)-1].backlog
	last := ss[len(ss)-1]
	t.foldRate = (last.folded - ss[0].folded) / last.at.Sub(t0).Seconds()
	return t
}

// flat reports whether the backlog's troughs grew by at most frac of the accepted rate.
func (t backlogTrend) flat(rate, frac float64) bool { return t.n >= 2 && t.growth <= frac*rate }

// waitDrained polls /metrics until the backlog is empty (twice in a row) or limit passes, and
// returns the last sample.
func waitDrained(url string, limit time.Duration) (sample, error) {
	deadline := time.Now().Add(limit)
	zero := 0
	var last sample
	for time.Now().Before(deadline) {
		s, err := scrape(url)
		if err == nil {
			last = s
			if s.backlog == 0 {
				zero++
				if zero == 2 {
					return s, nil
				}
			} else {
				zero = 0
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return last, fmt.Errorf("backlog still %.0f after %s", last.backlog, limit)
}

// probeResult is the visibility lag of every probe: a probe is acknowledged, then the score of
// its quiet agency is polled until it counts every probe acknowledged so far. A probe not
// counted within probeLimit, or not acknowledged at all, is a failure; none is dropped.
type probeResult struct {
	lags     []time.Duration // visible probes, sorted
	failures int             // not visible within probeLimit
	refused  map[string]int  // submissions not acknowledged, by status
}

const probeLimit = 30 * time.Second

func (p probeResult) total() int {
	n := len(p.lags) + p.failures
	for _, v := range p.refused {
		n += v
	}
	return n
}

func (p probeResult) String() string {
	if p.total() == 0 {
		return "no probes"
	}
	show := func(q float64) string {
		d, ok := p.pct(q)
		if !ok {
			return "not visible in " + probeLimit.String()
		}
		return ms(d)
	}
	s := fmt.Sprintf("p50 %s, p95 %s, max %s over %d probes; %d not visible within %s",
		show(0.50), show(0.95), show(1), p.total(), p.failures, probeLimit)
	if len(p.refused) > 0 {
		s += fmt.Sprintf(", %d not acknowledged (%s)", p.total()-len(p.lags)-p.failures, statusList(toInt64(p.refused)))
	}
	return s
}

// pct is the q-th quantile over every probe, with the probes that failed (not visible, not
// acknowledged) ranked slower than any visible one: a failure cannot make a percentile look
// better. ok is false when the quantile falls among the failures.
func (p probeResult) pct(q float64) (time.Duration, bool) {
	n := p.total()
	if n == 0 {
		return 0, false
	}
	i := min(n-1, int(float64(n)*q))
	if i >= len(p.lags) {
		return probeLimit, false
	}
	return p.lags[i], true
}

func toInt64(m map[string]int) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

// prober runs sequential probes against one quiet agency.
type prober struct {
	url, token string
	t          probeTarget
	client     *http.Client
	acked      int64 // probes acknowledged: the score must reach this
	base       int64 // the agency's count before the first probe
}

// runProbes runs one prober per target until stop is closed; the probe in flight when stop
// closes is finished (counted or failed), never dropped. done counts finished probes.
func runProbes(url, token string, targets []probeTarget, stop <-chan struct{}, done *atomic.Int64) (probeResult, int64) {
	var mu sync.Mutex
	res := probeResult{refused: map[string]int{}}
	var acked atomic.Int64
	var wg sync.WaitGroup
	for _, t := range targets {
		p := &prober{url: url, token: token, t: t, client: &http.Client{Timeout: 10 * time.Second}}
		base, err := p.count()
		if err != nil {
			mu.Lock()
			res.refused["score "+err.Error()]++
			mu.Unlock()
			continue
		}
		p.base = base
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				lag, status, err := p.probe()
				mu.Lock()
				switch {
				case status != "":
					res.refused[status]++
					time.Sleep(100 * time.Millisecond)
				case err != nil:
					res.failures++
				default:
					res.lags = append(res.lags, lag)
				}
				if status == "" {
					acked.Add(1)
				}
				mu.Unlock()
				done.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	sort.Slice(res.lags, func(i, j int) bool { return res.lags[i] < res.lags[j] })
	return res, acked.Load()
}

// probe submits one response and waits until the score counts it (and every earlier probe).
// status is set when the submission was not acknowledged.
func (p *prober) probe() (lag time.Duration, status string, err error) {
	sub := p.t.body
	sub.ID = uuid.Must(uuid.NewV7()).String()
	now := time.Now().UTC()
	sub.SubmittedAt = &now
	b, _ := json.Marshal(sub)
	t0 := time.Now()
	res, err := p.client.Post(p.url+"/api/v1/responses", "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, "no answer", nil
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		return 0, strconv.Itoa(res.StatusCode), nil
	}
	p.acked++
	for time.Since(t0) < probeLimit {
		if n, err := p.count(); err == nil && n >= p.base+p.acked {
			return time.Since(t0), "", nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, "", errors.New("not visible")
}

func (p *prober) count() (int64, error) {
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/agencies/%s/score", p.url, p.t.agency), nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		io.Copy(io.Discard, res.Body)
		return 0, fmt.Errorf("%d", res.StatusCode)
	}
	var s struct{ Responses int64 }
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return 0, err
	}
	return s.Responses, nil
}
