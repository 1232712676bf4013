package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/cache"
	"github.com/afkar-gov/afkar/survey/intake"
)

// The domain packages keep plain atomic counters; metrics are wired here, so survey and analytics
// stay free of the Prometheus client.

func counterFunc(reg prometheus.Registerer, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

func registerIntakeMetrics(reg prometheus.Registerer, in *intake.Intake) {
	s := in.Stats()
	counterFunc(reg, "afkar_ingest_accepted_total", "Responses durably buffered and acknowledged.", func() float64 { return float64(s.Accepted.Load()) })
	counterFunc(reg, "afkar_ingest_rejected_total", "Submissions refused by validation.", func() float64 { return float64(s.Rejected.Load()) })
	counterFunc(reg, "afkar_ingest_failed_total", "Submissions that no buffer could store (answered 503).", func() float64 { return float64(s.Failed.Load()) })
	counterFunc(reg, "afkar_ingest_fallback_total", "Responses written to the SQL inbox because Redis failed.", func() float64 { return float64(s.FallbackAppends.Load()) })
	counterFunc(reg, "afkar_ingest_batches_total", "Group commits to a buffer.", func() float64 { return float64(s.Batches.Load()) })
	counterFunc(reg, "afkar_ingest_primary_errors_total", "Failed appends to the primary buffer.", func() float64 { return float64(s.PrimaryFailures.Load()) })
	counterFunc(reg, "afkar_ingest_append_seconds_total", "Time spent appending batches.", func() float64 { return float64(s.AppendNanosTotal.Load()) / 1e9 })
	counterFunc(reg, "afkar_ingest_resent_total", "Resends of an accepted id with the same content, answered 200 without storing.", func() float64 { return float64(s.Resent.Load()) })
	counterFunc(reg, "afkar_ingest_id_conflicts_total", "Accepted ids sent again with different content (answered 409).", func() float64 { return float64(s.IDConflicts.Load()) })
	counterFunc(reg, "afkar_ingest_lookup_errors_total", "Failed lookups of stored response ids (batches appended unchecked).", func() float64 { return float64(s.LookupFailures.Load()) })
	gaugeFunc(reg, "afkar_ingest_primary_up", "1 while appends go to the primary buffer (Redis), 0 while it is considered down and the SQL inbox takes them.", func() float64 { return boolValue(in.PrimaryUp()) })
}

func gaugeFunc(reg prometheus.Registerer, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// registerHealthMetrics exposes the database monitor and, in serve, the catalog cache.
func registerHealthMetrics(reg prometheus.Registerer, db *dbMonitor, cat *cache.Catalog) {
	gaugeFunc(reg, "afkar_database_up", "1 when the database answered the last background ping (every 2s).", func() float64 { return boolValue(db.up.Load()) })
	if cat == nil {
		return
	}
	s := cat.Stats()
	counterFunc(reg, "afkar_catalog_cache_hits_total", "Catalog and token lookups answered from a fresh cache entry.", func() float64 { return float64(s.Hits.Load()) })
	counterFunc(reg, "afkar_catalog_cache_stale_total", "Lookups answered from an entry past its freshness (refresh due, or the database failing).", func() float64 { return float64(s.StaleHits.Load()) })
	counterFunc(reg, "afkar_catalog_cache_misses_total", "Lookups that waited for the database.", func() float64 { return float64(s.Misses.Load()) })
	counterFunc(reg, "afkar_catalog_cache_refresh_errors_total", "Background cache refreshes that failed.", func() float64 { return float64(s.RefreshErrors.Load()) })
	gaugeFunc(reg, "afkar_catalog_cache_warmed_timestamp_seconds", "When every agency's catalog data was last loaded (0 before the first time).", func() float64 {
		if at := cat.WarmedAt(); !at.IsZero() {
			return float64(at.UnixNano()) / 1e9
		}
		return 0
	})
}

func registerAggregatorMetrics(reg prometheus.Registerer, agg *analytics.Aggregator) {
	counterFunc(reg, "afkar_fold_responses_total", "Responses folded into rollups (first time seen).", func() float64 { return float64(agg.Stats().Folded) })
	counterFunc(reg, "afkar_fold_duplicates_total", "Buffered responses already stored, dropped.", func() float64 { return float64(agg.Stats().Duplicates) })
	counterFunc(reg, "afkar_fold_batches_total", "Aggregator transactions.", func() float64 { return float64(agg.Stats().Batches) })
	counterFunc(reg, "afkar_fold_errors_total", "Aggregator errors (retried).", func() float64 { return float64(agg.Stats().Errors) })
	counterFunc(reg, "afkar_fold_reclaimed_total", "Buffer entries taken over from workers that stopped acking.", func() float64 { return float64(agg.Stats().Reclaimed) })
	counterFunc(reg, "afkar_fold_quarantined_total", "Buffer entries set aside before folding: undecodable, or an id that is not a UUID.", func() float64 { return float64(agg.Stats().Quarantined) })
	counterFunc(reg, "afkar_fold_dead_letters_total", "Responses set aside because the database refused their data (or their id conflicts); kept in dead_letters.", func() float64 { return float64(agg.Stats().DeadLettered) })
	counterFunc(reg, "afkar_fold_resumed_total", "Entries taken back at start from this consumer's own predecessor (a restart).", func() float64 { return float64(agg.Stats().Resumed) })
	counterFunc(reg, "afkar_fold_reclaim_errors_total", "Failed resume, reclaim or touch calls (reading went on).", func() float64 { return float64(agg.Stats().ReclaimErrors) })
}

// bufferCollector reads buffer backlogs at scrape time.
type bufferCollector struct {
	bufs                  []survey.Buffer
	pending, backlog, lag *prometheus.Desc
	up                    *prometheus.Desc
}

func registerBufferMetrics(reg prometheus.Registerer, bufs []survey.Buffer) {
	reg.MustRegister(&bufferCollector{
		bufs:    bufs,
		pending: prometheus.NewDesc("afkar_buffer_pending", "Entries delivered to a worker and not yet acknowledged.", []string{"buffer"}, nil),
		backlog: prometheus.NewDesc("afkar_buffer_backlog", "Entries not yet folded.", []string{"buffer"}, nil),
		lag:     prometheus.NewDesc("afkar_buffer_lag_seconds", "Age of the oldest entry not yet folded.", []string{"buffer"}, nil),
		up:      prometheus.NewDesc("afkar_buffer_up", "1 when the buffer answered the last scrape.", []string{"buffer"}, nil),
	})
}

func (c *bufferCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.backlog
	ch <- c.lag
	ch <- c.up
}

func (c *bufferCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.bufs {
		name := b.Name()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := b.Stats(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, name)
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, name)
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.Pending), name)
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(st.Backlog), name)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, st.OldestAge.Seconds(), name)
	}
}
