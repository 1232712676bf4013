package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// foldShapes are the workloads of BenchmarkFold. "live" is the production shape: a batch holds
// a few seconds of traffic, so one Tehran day, across 20 agencies × 3 offices × 3 channels.
// "spread" is a worst case — offline kiosks syncing a week of two survey versions at once.
// Server work grows with the rollup cells a batch touches, which saturate in the live shape:
// "live-2000" shows what a larger aggregator batch buys.
var foldShapes = []struct {
	name                  string
	batch, days, versions int
}{{"live", 500, 1, 1}, {"spread", 500, 7, 2}, {"live-2000", 2000, 1, 1}}

// BenchmarkFold folds batches of new responses (5⅓ answers each on average) the way the
// aggregator does, delta included, and reports responses/s and the cells each batch upserts.
func BenchmarkFold(b *testing.B) {
	for _, d := range sqltest.Dialects {
		for _, shape := range foldShapes {
			b.Run(d+"/"+shape.name, func(b *testing.B) {
				s := sqltest.Open(b, d)
				g := newGen(100)
				g.agencies, g.days, g.versions = 20, shape.days, shape.versions
				ctx := context.Background()
				next := g.responses(shape.batch)
				var cells int
				b.ResetTimer()
				for range b.N {
					n, err := s.Fold(ctx, next, func(rs []survey.Response) survey.RollupDelta {
						d := testDelta(rs)
						cells += len(d.Rollups) + len(d.Histogram) + len(d.Hours)
						return d
					})
					if err != nil || n != shape.batch {
						b.Fatalf("Fold = %d, %v", n, err)
					}
					b.StopTimer()
					next = g.responses(shape.batch)
					b.StartTimer()
				}
				b.ReportMetric(float64(b.N*shape.batch)/b.Elapsed().Seconds(), "responses/s")
				b.ReportMetric(float64(cells)/float64(b.N), "cells/batch")
			})
		}
	}
}

// BenchmarkFoldParallel folds live batches of 500 from four goroutines at once, as four
// aggregator workers do, and reports the combined responses/s.
func BenchmarkFoldParallel(b *testing.B) {
	for _, d := range sqltest.Dialects {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			const batch, workers = 500, 4
			batches := make(chan []survey.Response, workers)
			go func() {
				g := newGen(200)
				g.agencies, g.days, g.versions = 20, 1, 1
				for range b.N {
					batches <- g.responses(batch)
				}
				close(batches)
			}()
			ctx := context.Background()
			var wg sync.WaitGroup
			b.ResetTimer()
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for rs := range batches {
						if n, err := s.Fold(ctx, rs, testDelta); err != nil || n != batch {
							b.Errorf("Fold = %d, %v", n, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "responses/s")
		})
	}
}

// BenchmarkInboxAppend appends batches of 100 responses durably (intake's group commit) and
// reports responses/s.
func BenchmarkInboxAppend(b *testing.B) {
	for _, d := range sqltest.Dialects {
		b.Run(d, func(b *testing.B) {
			in := sqltest.Open(b, d).Inbox()
			g := newGen(101)
			const batch = 100
			ctx := context.Background()
			rs := g.responses(batch)
			b.ResetTimer()
			for range b.N {
				for i := range rs {
					rs[i].ID = uuid.NewString()
				}
				if err := in.Append(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "responses/s")
		})
	}
}

// BenchmarkInboxCycle measures the buffer's full path per batch of 100: append, read, ack.
func BenchmarkInboxCycle(b *testing.B) {
	for _, d := range sqltest.Dialects {
		b.Run(d, func(b *testing.B) {
			in := sqltest.Open(b, d).Inbox()
			g := newGen(102)
			const batch = 100
			ctx := context.Background()
			rs := g.responses(batch)
			for range b.N {
				if err := in.Append(ctx, rs); err != nil {
					b.Fatal(err)
				}
				ds, err := in.Read(ctx, "c", batch, 0)
				if err != nil || len(ds) != batch {
					b.Fatalf("Read = %d, %v", len(ds), err)
				}
				refs := make([]string, len(ds))
				for i := range ds {
					refs[i] = ds[i].Ref
				}
				if err := in.Ack(ctx, refs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "responses/s")
		})
	}
}
