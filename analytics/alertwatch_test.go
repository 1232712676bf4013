package analytics_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

var _ analytics.AlertStore = (*sqlstore.Store)(nil)

// watchDay makes one Tehran day of an office's citizens: 30 of them at 08:00–13:59, five an
// hour, each rating the one headline question from the cycle (stable: 3,4,5 — mean 4; drop:
// 2,4,5,3,4,3 — mean 3.5, half a point lower).
func watchDay(agency, office survey.ID, day time.Time, drop bool) []survey.Response {
	stable, fallen := []int{3, 4, 5}, []int{2, 4, 5, 3, 4, 3}
	out := make([]survey.Response, 0, 30)
	for i := range 30 {
		cycle := stable
		if drop {
			cycle = fallen
		}
		v := cycle[i%len(cycle)]
		at := time.Date(day.Year(), day.Month(), day.Day(), 8+i/5, 7*(i%5), 0, 0, survey.Tehran).UTC()
		out = append(out, survey.Response{ID: uuid.New().String(), AgencyID: agency, OfficeID: office, SurveyID: 1,
			SurveyVersion: 1, Channel: survey.ChannelKiosk, Source: "test", SubmittedAt: at, ReceivedAt: at,
			Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &v, Headline: true}}})
	}
	return out
}

func foldAll(t *testing.T, st *sqlstore.Store, rs []survey.Response) {
	t.Helper()
	for start := 0; start < len(rs); start += 1000 {
		if _, err := st.Fold(context.Background(), rs[start:min(start+1000, len(rs))], analytics.Delta); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAlertWatcher runs the score alert watcher end to end on each dialect over folded data: a
// stable office raises nothing; an office whose last week fell half a point at 30 citizens a day
// opens score_drop (and the agency's score_below rule) once, does not open it again on the next
// day's run, and resolves both when its scores recover; an office with no citizens is
// insufficient and raises nothing.
func TestAlertWatcher(t *testing.T) {
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, _ := openStore(t, dialect)
			p := survey.Province{Name: "استان"}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(st.CreateProvince(ctx, &p))
			ag := survey.Agency{ProvinceID: p.ID, Name: "اداره"}
			must(st.CreateAgency(ctx, &ag))
			other := survey.Agency{ProvinceID: p.ID, Name: "ادارهٔ دیگر"}
			must(st.CreateAgency(ctx, &other))
			stable, falling := survey.Office{AgencyID: ag.ID, Name: "دفتر پایدار"}, survey.Office{AgencyID: ag.ID, Name: "دفتر افت"}
			empty := survey.Office{AgencyID: other.ID, Name: "دفتر خالی"}
			must(st.CreateOffice(ctx, &stable))
			must(st.CreateOffice(ctx, &falling))
			must(st.CreateOffice(ctx, &empty))

			today := time.Date(2026, 3, 1, 0, 0, 0, 0, survey.Tehran)
			var rs []survey.Response
			for d := -91; d <= -1; d++ {
				day := today.AddDate(0, 0, d)
				rs = append(rs, watchDay(ag.ID, stable.ID, day, false)...)
				rs = append(rs, watchDay(ag.ID, falling.ID, day, d >= -7)...)
			}
			foldAll(t, st, rs)

			now := today.Add(time.Hour)
			w := &analytics.AlertWatcher{Store: st, Now: func() time.Time { return now },
				Simple: func(a survey.ID) analytics.SimpleAlertRules {
					if a == ag.ID {
						return analytics.SimpleAlertRules{ScoreBelow: 3.7, UnhappyShare: 0.5}
					}
					return analytics.SimpleAlertRules{}
				}}
			run, err := w.Run(ctx)
			must(err)
			if run.Offices != 3 || run.Sufficient != 2 || run.Opened != 2 || run.Resolved != 0 {
				t.Fatalf("first run = %+v; want 3 offices, 2 sufficient, 2 opened", run)
			}
			for _, r := range run.Results {
				t.Logf("office %d: %s observed %.3f expected %.3f z %.2f n %d baseline %d", r.OfficeID, r.Result.Status,
					r.Result.Observed, r.Result.Expected, r.Result.Z, r.Result.WindowN, r.Result.BaselineN)
				switch r.OfficeID {
				case stable.ID:
					if r.Result.Status != analytics.DropNone || math.Abs(r.Result.Z) > 1 || r.Result.WindowN != 210 || r.Result.BaselineN != 84*30 {
						t.Fatalf("stable office: %+v", r.Result)
					}
				case falling.ID:
					if r.Result.Status != analytics.DropFound || math.Abs(r.Result.Observed-3.5) > 1e-9 || r.Result.Z > -5 {
						t.Fatalf("falling office: %+v", r.Result)
					}
				case empty.ID:
					if r.Result.Status != analytics.DropInsufficient {
						t.Fatalf("empty office: %+v", r.Result)
					}
				}
			}
			alerts, err := st.Alerts(ctx, 0, false)
			must(err)
			kinds := map[string]survey.Alert{}
			for _, a := range alerts {
				if a.OfficeID != falling.ID || a.AgencyID != ag.ID {
					t.Fatalf("alert about office %d: %+v", a.OfficeID, a)
				}
				kinds[a.Kind] = a
			}
			if len(alerts) != 2 || kinds[survey.AlertScoreDrop].ID == 0 || kinds[survey.AlertScoreBelow].ID == 0 {
				t.Fatalf("alerts after the first run: %+v", alerts)
			}
			var det analytics.ScoreAlertDetail
			must(json.Unmarshal([]byte(kinds[survey.AlertScoreDrop].Detail), &det))
			if det.N != 210 || math.Abs(det.Observed-3.5) > 1e-9 || math.Abs(det.Expected-4) > 0.05 || det.Z > -5 ||
				det.WindowFrom != "2026-02-22" || det.WindowTo != "2026-02-28" || det.BaselineTo != "2026-02-21" || det.OfficeName != falling.Name {
				t.Fatalf("score_drop detail: %+v", det)
			}

			// The same day again, under Benjamini–Hochberg control across offices: the fall is
			// still a discovery, the stable office still not, and nothing opens twice.
			fdr := *w
			fdr.FDR = 0.01
			again, err := fdr.Run(ctx)
			must(err)
			for _, r := range again.Results {
				if want := map[survey.ID]analytics.DropStatus{stable.ID: analytics.DropNone, falling.ID: analytics.DropFound,
					empty.ID: analytics.DropInsufficient}[r.OfficeID]; r.Result.Status != want {
					t.Fatalf("FDR run, office %d: %s, want %s", r.OfficeID, r.Result.Status, want)
				}
			}
			if again.Opened != 0 || again.Resolved != 0 {
				t.Fatalf("FDR run the same day = %+v; want nothing opened or resolved", again)
			}

			// The next day, still low: nothing new.
			rs = append(watchDay(ag.ID, stable.ID, today, false), watchDay(ag.ID, falling.ID, today, true)...)
			foldAll(t, st, rs)
			now = today.AddDate(0, 0, 1).Add(time.Hour)
			run, err = w.Run(ctx)
			must(err)
			if run.Opened != 0 || run.Resolved != 0 {
				t.Fatalf("second run = %+v; want nothing opened or resolved", run)
			}
			if alerts, err = st.Alerts(ctx, 0, false); err != nil || len(alerts) != 2 {
				t.Fatalf("alerts after the second run: %+v, %v", alerts, err)
			}

			// A week of recovered scores resolves both.
			rs = nil
			for d := 1; d <= 8; d++ {
				day := today.AddDate(0, 0, d)
				rs = append(rs, watchDay(ag.ID, stable.ID, day, false)...)
				rs = append(rs, watchDay(ag.ID, falling.ID, day, false)...)
			}
			foldAll(t, st, rs)
			now = today.AddDate(0, 0, 9).Add(time.Hour)
			run, err = w.Run(ctx)
			must(err)
			if run.Opened != 0 || run.Resolved != 2 {
				t.Fatalf("recovery run = %+v; want 2 resolved", run)
			}
			open, err := st.Alerts(ctx, 0, true)
			must(err)
			if len(open) != 0 {
				t.Fatalf("open alerts after recovery: %+v", open)
			}
			var track analytics.AlertTrack
			state, err := st.AlertTrack(ctx, falling.ID, "headline")
			must(err)
			must(json.Unmarshal([]byte(state), &track))
			if state == "" || track.Drop != nil || track.Rise != nil {
				t.Fatalf("saved track after recovery: %q", state)
			}
		})
	}
}

// TestSeasonEffects: a province year whose winter runs 0.3 lower than the rest gives effects
// that sum (citizen-weighted) to zero with winter 0.3 below the others; a year missing a season
// gives none.
func TestSeasonEffects(t *testing.T) {
	var ts []survey.HourTotal
	start := time.Date(2025, 3, 21, 0, 0, 0, 0, survey.Tehran) // 1 Farvardin 1404
	for d := range 365 {
		day := start.AddDate(0, 0, d)
		v := int64(4 * survey.CitizenScale)
		if analytics.JalaliSeason(day) == 3 {
			v -= int64(0.3 * survey.CitizenScale)
		}
		ts = append(ts, survey.HourTotal{Day: day.Format(survey.DayFormat), Hour: 10, N: 10, Sum: 10 * v, SumSq: 10 * v * v})
	}
	eff := analytics.SeasonEffects(ts, 100)
	if eff == nil {
		t.Fatal("no season effects from a full year")
	}
	if d := eff[0] - eff[3]; math.Abs(d-0.3) > 1e-9 || math.Abs(eff[0]-eff[1]) > 1e-9 {
		t.Fatalf("effects %v: want winter 0.3 below the rest", *eff)
	}
	if eff[0] <= 0 || eff[3] >= 0 {
		t.Fatalf("effects %v are not deviations from the annual mean", *eff)
	}
	if eff := analytics.SeasonEffects(ts[:200], 100); eff != nil {
		t.Fatalf("effects %v from a partial year", *eff)
	}
}
