package redisbuffer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/buffertest"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
)

// BenchmarkAppend measures durable appends to the shared test Redis, one MULTI/EXEC per call,
// through a client configured by Open (so the pool and timeouts are production's).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			buf := openBench(b)
			rs := benchResponses(size)
			b.ResetTimer()
			for b.Loop() {
				if err := buf.Append(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "responses/s")
		})
	}
	b.Run("parallel/batch=1", func(b *testing.B) {
		buf := openBench(b)
		rs := benchResponses(1)
		b.SetParallelism(8) // 8 × GOMAXPROCS goroutines, like many concurrent HTTP requests
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := buf.Append(ctx, rs); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
	})
}

func openBench(b *testing.B) *redisbuffer.Buffer {
	c, prefix := redistest.Client(b) // for the prefix cleanup; the buffer gets its own pool
	_ = c
	buf, err := redisbuffer.Open(redistest.URL(), redisbuffer.Options{Stream: prefix + "bench", MaxLen: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { buf.Close() })
	return buf
}

func benchResponses(n int) []survey.Response {
	rs := make([]survey.Response, n)
	for i := range rs {
		rs[i] = buffertest.Response(i)
	}
	return rs
}
