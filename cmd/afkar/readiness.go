package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/cache"
)

// Readiness answers one question for a load balancer: can this replica accept a response and make
// it durable now? That needs a buffer that answers (Redis, or the SQL inbox behind it) and the
// catalog data validation reads (cached, so it outlives a database outage). The database's own
// health is reported beside it (a detail of /readyz, and afkar_database_up) but does not make the
// replica unready: pulling every replica during a PostgreSQL outage would waste the buffer that
// keeps citizens answered.

// dbMonitorEvery is how often the database is pinged in the background.
const dbMonitorEvery = 2 * time.Second

// dbMonitor pings the database in the background and remembers the outcome, so that /readyz and
// /metrics answer at once instead of waiting on a database that hangs.
type dbMonitor struct {
	ping func(context.Context) error
	log  *slog.Logger
	up   atomic.Bool
	mu   sync.Mutex
	err  error
}

func newDBMonitor(ping func(context.Context) error, log *slog.Logger) *dbMonitor {
	m := &dbMonitor{ping: ping, log: log}
	m.up.Store(true) // the store was just opened; a first failure is news
	m.probe()
	return m
}

// probe pings once and records a change.
func (m *dbMonitor) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := m.ping(ctx)
	cancel()
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
	was := m.up.Swap(err == nil)
	switch {
	case was && err != nil:
		m.log.Warn("database unreachable; intake goes on through the buffer and the catalog cache", "err", err)
	case !was && err == nil:
		m.log.Info("database answers again")
	}
}

// run probes every dbMonitorEvery until ctx is done.
func (m *dbMonitor) run(ctx context.Context) {
	t := time.NewTicker(dbMonitorEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.probe()
		}
	}
}

// check returns the last probe's error.
func (m *dbMonitor) check(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

var errCatalogCold = survey.Errorf(survey.ECodeUnavailable, "داده‌های پرسشنامه هنوز بارگیری نشده است.", "the catalog cache has not been loaded yet")

// intakeChecks are serve's readiness checks: a buffer to append to (either one), the warmed
// catalog, and the database as a detail.
func intakeChecks(primary, fallback survey.Buffer, cat *cache.Catalog, db *dbMonitor) []api.Check {
	pings := []func(context.Context) error{primary.Ping}
	if fallback != nil {
		pings = append(pings, fallback.Ping)
	}
	return []api.Check{
		{Name: "intake", Ping: anyOK(pings...)},
		{Name: "catalog", Ping: func(context.Context) error {
			if cat.Ready() {
				return nil
			}
			return errCatalogCold
		}},
		{Name: "database", Ping: db.check, Detail: true},
	}
}

// anyOK runs the pings concurrently and succeeds as soon as one does (a frozen Redis must not
// hide a working inbox); it fails with every error when none does.
func anyOK(pings ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make(chan error, len(pings))
		for _, p := range pings {
			go func() { errs <- p(ctx) }()
		}
		var all []error
		for range pings {
			err := <-errs
			if err == nil {
				return nil
			}
			all = append(all, err)
		}
		return errors.Join(all...)
	}
}
