package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// nationalOptions are the flags of `afkar demo --national`.
type nationalOptions struct {
	responses int
	catalog   demo.NationalOptions
	seed      int64
	workers   int
	progress  time.Duration // how often to print progress (0: never)
}

// seedNational creates the national catalog on an empty database and n synthetic responses over
// the period, agency by agency: each worker generates all of one agency's responses, computes
// their rollups in Go with the fold function itself (analytics.Delta), and writes responses and
// cells with COPY in one transaction (Store.CopyFold; multi-row inserts on SQLite). The agencies'
// cells are disjoint, so workers never touch the same row, and the rollups equal what folding
// the same responses would give (TestNationalSeedMatchesReaggregate).
func seedNational(ctx context.Context, store *sqlstore.Store, log *slog.Logger, o nationalOptions, stdout io.Writer) error {
	empty, err := store.IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return survey.Errorf(survey.ECodeConflict, "پایگاه داده خالی نیست؛ دادهٔ ملی فقط در پایگاه خالی ساخته می‌شود.",
			"the database is not empty; the national demo seeds only an empty database")
	}
	start := time.Now()
	o.catalog.Now = start
	if o.catalog.Days <= 0 {
		o.catalog.Days = demo.DefaultNationalDays
	}
	agencies, err := demo.National(ctx, store, o.catalog)
	if err != nil {
		return err
	}
	gens, err := demo.Generators(ctx, store, agencies, start, o.catalog.Days)
	if err != nil {
		return err
	}
	counts := demo.Split(o.responses, gens)
	fmt.Fprintf(stdout, "created %d agencies in %d provinces in %s; seeding %d responses over %d days with %d workers (%s)\n",
		len(agencies), provincesOf(agencies), time.Since(start).Round(time.Millisecond), o.responses, o.catalog.Days, o.workers, store.Dialect())

	var done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if o.progress > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(o.progress)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					n := done.Load()
					el := time.Since(start)
					fmt.Fprintf(stdout, "  %d/%d responses (%.0f%%) in %s, %.0f/s\n", n, o.responses,
						100*float64(n)/float64(max(o.responses, 1)), el.Round(time.Second), float64(n)/el.Seconds())
				}
			}
		}()
	}
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		firstErr error
		errOnce  sync.Once
		workers  sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err; cancel() }) }
	for w := 0; w < max(o.workers, 1); w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range jobs {
				if err := seedAgency(gctx, store, gens[i], counts[i], o.seed+int64(i)*1_000_003, &done); err != nil {
					fail(err)
				}
			}
		}()
	}
	for i := range gens {
		if counts[i] == 0 {
			continue
		}
		select {
		case jobs <- i:
		case <-gctx.Done():
		}
	}
	close(jobs)
	workers.Wait()
	err = firstErr
	if err == nil {
		err = ctx.Err()
	}
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	loaded := time.Since(start)
	if err := store.Analyze(ctx); err != nil {
		return err
	}
	log.Info("seeded the national demo", "agencies", len(agencies), "responses", o.responses, "took", time.Since(start))
	fmt.Fprintf(stdout, "seeded %d responses for %d agencies in %s (%.0f responses/s; ANALYZE %s)\n",
		o.responses, len(agencies), loaded.Round(time.Millisecond), float64(o.responses)/loaded.Seconds(),
		(time.Since(start) - loaded).Round(time.Millisecond))
	return nil
}

// seedAgency generates n responses of one agency from its own rng — seeded from the seed and the
// agency's position, so the same seed gives the same data whatever the number of workers — and
// writes them with their rollups.
func seedAgency(ctx context.Context, store *sqlstore.Store, gen *demo.Generator, n int, seed int64, done *atomic.Int64) error {
	rng := rand.New(rand.NewSource(seed))
	rs := make([]survey.Response, n)
	for k := range rs {
		if k%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := gen.Response(rng)
		if err != nil {
			return err
		}
		rs[k] = r
	}
	if err := store.CopyFold(ctx, rs, analytics.Delta(rs)); err != nil {
		return fmt.Errorf("agency %d: %w", gen.Agency().ID, err)
	}
	done.Add(int64(n))
	return nil
}

func provincesOf(as []survey.Agency) int {
	seen := map[survey.ID]bool{}
	for _, a := range as {
		seen[a.ProvinceID] = true
	}
	return len(seen)
}
