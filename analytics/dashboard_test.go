package analytics_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// countingHeadlines counts the dashboard's rollup queries.
type countingHeadlines struct {
	*sqlstore.Store
	byOffice, byDay atomic.Int64
}

func (c *countingHeadlines) HeadlineByOffice(ctx context.Context, f survey.RollupFilter) ([]survey.HeadlineTotal, error) {
	c.byOffice.Add(1)
	return c.Store.HeadlineByOffice(ctx, f)
}

func (c *countingHeadlines) HeadlineByDay(ctx context.Context, f survey.RollupFilter) ([]survey.HeadlineTotal, error) {
	c.byDay.Add(1)
	return c.Store.HeadlineByDay(ctx, f)
}

// TestProvinceTable500 builds the province table of 500 agencies on both dialects with one rollup
// query, and checks every agency's n and mean against what was folded, the pooled mean, the
// median and that agencies below the minimum n are never placed among the ranked ones.
func TestProvinceTable500(t *testing.T) {
	t.Parallel()
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			st := sqltest.Open(t, dialect)
			ctx := context.Background()
			prov := survey.Province{Name: "استان"}
			if err := st.CreateProvince(ctx, &prov); err != nil {
				t.Fatal(err)
			}
			const agencies = 500
			ids := make([]survey.ID, agencies)
			for i := range ids {
				a := survey.Agency{ProvinceID: prov.ID, Name: fmt.Sprintf("دستگاه %03d", i), Slug: fmt.Sprintf("a%d", i)}
				if err := st.CreateAgency(ctx, &a); err != nil {
					t.Fatal(err)
				}
				ids[i] = a.ID
			}
			// Agency i gets 1 + i%40 citizens rating 1 + i%5: the first 29 of every 40 have
			// fewer than 30 citizens.
			day := time.Date(2026, 11, 20, 10, 0, 0, 0, survey.Tehran)
			var rs []survey.Response
			var total, sum int64
			for i, id := range ids {
				v := 1 + i%5
				for k := range 1 + i%40 {
					rs = append(rs, survey.Response{ID: fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", i, k), AgencyID: id,
						SurveyID: 1, SurveyVersion: 1, Channel: survey.ChannelWeb, SubmittedAt: day, ReceivedAt: day,
						Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &v, Headline: true}}})
					total++
					sum += int64(v)
				}
			}
			if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
				t.Fatal(err)
			}
			heads := &countingHeadlines{Store: st}
			d := analytics.NewDashboard(st, heads)
			began := time.Now()
			pt, err := d.ProvinceTable(ctx, survey.Principal{Role: survey.RoleProvinceStaff}, analytics.PeriodQuery{From: "1405-08-01", To: "1405-08-30"})
			took := time.Since(began)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: province table of %d agencies, %d citizens in %s", dialect, agencies, total, took)
			if n := heads.byOffice.Load(); n != 1 {
				t.Fatalf("%d rollup queries for the province table, want 1", n)
			}
			if len(pt.Agencies) != agencies || pt.Province.Citizens != total {
				t.Fatalf("%d agencies, %d citizens", len(pt.Agencies), pt.Province.Citizens)
			}
			if m := *pt.Province.Mean.Value; m < float64(sum)/float64(total)-1e-9 || m > float64(sum)/float64(total)+1e-9 {
				t.Fatalf("pooled mean %v, want %v", m, float64(sum)/float64(total))
			}
			for i, row := range pt.Agencies {
				n := int64(1 + i%40)
				if row.AgencyID != ids[i] || row.Citizens != n || *row.Mean.Value != float64(1+i%5) || row.Enough != (n >= analytics.MinCitizens) {
					t.Fatalf("agency %d: %+v", i, row)
				}
			}
			if pt.Median == nil || *pt.Median < 1 || *pt.Median > 5 {
				t.Fatalf("median %v", pt.Median)
			}
			analytics.SortAgencies(pt.Agencies, "-mean")
			seenLow := false
			for _, r := range pt.Agencies {
				if !r.Enough {
					seenLow = true
				} else if seenLow {
					t.Fatal("an agency with enough citizens sorts after one without")
				}
			}
		})
	}
}

// TestHeatmapFromHourlyRollup: responses folded at known Tehran hours land in the right
// weekday (Saturday first) and hour of the heatmap, on both dialects.
func TestHeatmapFromHourlyRollup(t *testing.T) {
	t.Parallel()
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			st := sqltest.Open(t, dialect)
			ctx := context.Background()
			five := 5
			var rs []survey.Response
			for i, at := range []time.Time{
				time.Date(2026, 11, 21, 10, 30, 0, 0, survey.Tehran), // Saturday 10:30
				time.Date(2026, 11, 21, 10, 59, 0, 0, survey.Tehran), // Saturday 10:59
				time.Date(2026, 11, 27, 23, 5, 0, 0, survey.Tehran),  // Friday 23:05
			} {
				rs = append(rs, survey.Response{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), AgencyID: 1, OfficeID: 2,
					SurveyID: 1, SurveyVersion: 1, Channel: survey.ChannelKiosk, SubmittedAt: at, ReceivedAt: at,
					Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &five, Headline: true}}})
			}
			if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
				t.Fatal(err)
			}
			m, err := analytics.Heatmap{Hours: st}.HourHeatmap(ctx, 1, 0, "2026-11-21", "2026-11-27")
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, row := range m {
				for _, n := range row {
					total += n
				}
			}
			if m[0][10] != 2 || m[6][23] != 1 || total != 3 {
				t.Fatalf("heatmap: Saturday 10h %d, Friday 23h %d, total %d", m[0][10], m[6][23], total)
			}
		})
	}
}

// settableClock is a clock a test moves by hand.
type settableClock struct{ t atomic.Int64 }

func (c *settableClock) Now() time.Time { return time.Unix(0, c.t.Load()) }

// TestProvinceBenchmarkReused: the province median an agency page shows is computed once per
// period and reused for BenchmarkTTL — new responses show after it, not before — and with a
// negative TTL every call reads the rollups.
func TestProvinceBenchmarkReused(t *testing.T) {
	t.Parallel()
	st := sqltest.Open(t, sqlstore.DialectSQLite)
	ctx := context.Background()
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, survey.Tehran)
	fold := func(agency survey.ID, rating, n, seq int) {
		var rs []survey.Response
		for k := range n {
			rs = append(rs, survey.Response{ID: fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", seq, k), AgencyID: agency,
				SurveyID: 1, SurveyVersion: 1, Channel: survey.ChannelWeb, SubmittedAt: day, ReceivedAt: day,
				Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &rating, Headline: true}}})
		}
		if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
			t.Fatal(err)
		}
	}
	fold(1, 4, 40, 1)
	heads := &countingHeadlines{Store: st}
	clock := &settableClock{}
	clock.t.Store(day.Add(48 * time.Hour).UnixNano())
	d := analytics.NewDashboard(st, heads)
	d.Clock, d.BenchmarkTTL = clock, 10*time.Minute
	p, q := survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 1}, analytics.PeriodQuery{From: "1405-08-20", To: "1405-09-05"}
	median := func() float64 {
		t.Helper()
		b, err := d.ProvinceBenchmark(ctx, p, q)
		if err != nil || b.Median == nil {
			t.Fatalf("benchmark %+v, %v", b, err)
		}
		return *b.Median
	}
	if m := median(); m != 4 {
		t.Fatalf("median %v, want 4", m)
	}
	fold(2, 2, 40, 2) // a second agency: the median becomes 3
	if m := median(); m != 4 || heads.byOffice.Load() != 1 {
		t.Fatalf("within the TTL: median %v after %d reads, want the reused 4 after 1", m, heads.byOffice.Load())
	}
	clock.t.Add(int64(11 * time.Minute))
	if m := median(); m != 3 || heads.byOffice.Load() != 2 {
		t.Fatalf("after the TTL: median %v after %d reads, want 3 after 2", m, heads.byOffice.Load())
	}
	d.BenchmarkTTL = -1
	median()
	median()
	if n := heads.byOffice.Load(); n != 4 {
		t.Fatalf("TTL off: %d reads, want 4", n)
	}
}
