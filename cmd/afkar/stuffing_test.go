package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
)

// stuffingScore is the part of the score API the stuffing measurement reads.
type stuffingScore struct {
	Responses int64 `json:"responses"`
	Citizens  int64 `json:"citizens"`
	Index     struct {
		Value *float64 `json:"value"`
	} `json:"index"`
	Flagged struct {
		Total      int64 `json:"total"`
		Interval   int64 `json:"interval"`
		Burst      int64 `json:"burst"`
		AfterHours int64 `json:"after_hours"`
	} `json:"flagged"`
}

// burstScenario is one scripted attack on one kiosk: n presses of one face, spaced by gap(i) on
// the tablet's clock, ending a second before the batch is sent.
type burstScenario struct {
	name   string
	rating int
	n      int
	gap    func(i int) time.Duration
	// bounded says the scenario is the "500 presses in 5 minutes", held to < 1 point.
	bounded bool
}

// TestKioskBurstBarelyMovesTheScore is the stuffing measurement of docs/kiosk.md, on the real
// binary with the demo province (its 28 days of answers are each office's baseline): scripted
// bursts of 500 presses in 5 minutes on one kiosk, sent the way the tablet sends them (batches
// of 50), must move that office's 0–100 index by less than 1 point. The office is set to always
// open so the interval and burst rules, not the night, do the work. A paced stuffer (one press
// every 6 s, inside both rules) is measured too and reported, not bounded: rate rules cannot
// tell it from a busy lobby (docs/kiosk.md says what can).
func TestKioskBurstBarelyMovesTheScore(t *testing.T) {
	env, _ := embeddedEnv(t)
	env["AFKAR_DEMO"] = "1"
	env["AFKAR_ADMIN_TOKEN"] = "stuffing-admin-token-0123456789"
	admin := env["AFKAR_ADMIN_TOKEN"]
	s := startServer(t, env)
	defer s.stop()

	// The demo kiosk's office is the first office of the first agency; its siblings take the
	// other scenarios.
	var m []string
	waitFor(t, 10*time.Second, "the demo kiosk's pairing line", func() bool {
		m = regexp.MustCompile(`#code=([A-Z0-9]{8})`).FindStringSubmatch(s.out.String())
		return m != nil
	})
	var paired struct {
		Token string `json:"token"`
		Kiosk struct {
			AgencyID survey.ID `json:"agency_id"`
			OfficeID survey.ID `json:"office_id"`
		} `json:"kiosk"`
	}
	if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/pair", "", map[string]string{"code": m[1]}, &paired); code != 200 {
		t.Fatalf("pairing the demo kiosk: %d", code)
	}
	agency := paired.Kiosk.AgencyID
	var cfg struct {
		Survey struct {
			ID      survey.ID `json:"id"`
			Version int       `json:"version"`
		} `json:"survey"`
	}
	if code := httpJSON(t, "GET", s.url+"/api/v1/kiosk/config", paired.Token, nil, &cfg); code != 200 {
		t.Fatalf("config: %d", code)
	}

	scenarios := []burstScenario{
		{name: "500 presses of «خیلی بد», 0.6 s apart", rating: 1, n: 500, bounded: true,
			gap: func(int) time.Duration { return 600 * time.Millisecond }},
		{name: "500 presses of «عالی», random gaps (mean 0.6 s)", rating: 5, n: 500, bounded: true,
			gap: exponentialGaps(500, 299*time.Second)},
		{name: "paced: 50 presses of «خیلی بد», 6 s apart", rating: 1, n: 50,
			gap: func(int) time.Duration { return 6 * time.Second }},
	}
	var report strings.Builder
	report.WriteString("| scenario | office baseline (citizens) | index before | index after | moved | counted | flagged interval / burst / after hours |\n|---|---|---|---|---|---|---|\n")
	for i, sc := range scenarios {
		office := paired.Kiosk.OfficeID + survey.ID(i)
		token := paired.Token
		if i > 0 {
			token = pairedKiosk(t, s.url, admin, office)
		}
		if code := httpJSON(t, "PUT", fmt.Sprintf("%s/api/v1/offices/%d/hours", s.url, office), admin, map[string]any{"always_open": true}, nil); code != 200 {
			t.Fatalf("hours of office %d: %d", office, code)
		}
		scoreURL := fmt.Sprintf("%s/api/v1/agencies/%d/score?office_id=%d", s.url, agency, office)
		var before stuffingScore
		if code := httpJSON(t, "GET", scoreURL, admin, nil, &before); code != 200 || before.Index.Value == nil || before.Citizens < 30 {
			t.Fatalf("office %d before: %d %+v", office, code, before)
		}

		// The presses, on the tablet's clock, ending a second ago; sent 50 to a batch.
		times := make([]time.Time, sc.n)
		end := time.Now().UTC().Add(-time.Second)
		times[sc.n-1] = end
		for k := sc.n - 2; k >= 0; k-- {
			times[k] = times[k+1].Add(-sc.gap(k))
		}
		span := end.Sub(times[0])
		accepted := 0
		for lo := 0; lo < sc.n; lo += 50 {
			var items []map[string]any
			for k := lo; k < min(lo+50, sc.n); k++ {
				items = append(items, map[string]any{"id": uuid.Must(uuid.NewV7()).String(), "survey_id": cfg.Survey.ID,
					"survey_version": cfg.Survey.Version, "submitted_at": times[k],
					"answers": []map[string]any{{"question_id": demo.QOverall, "value": sc.rating}}})
			}
			var res struct {
				Results []struct {
					Status string `json:"status"`
				} `json:"results"`
			}
			if code := httpJSON(t, "POST", s.url+"/api/v1/kiosk/responses", token, map[string]any{"sent_at": time.Now().UTC(), "items": items}, &res); code != 200 || len(res.Results) != len(items) {
				t.Fatalf("%s: batch at %d: %d, %d results", sc.name, lo, code, len(res.Results))
			}
			for _, r := range res.Results {
				if r.Status == "accepted" {
					accepted++
				}
			}
		}
		if accepted != sc.n {
			t.Fatalf("%s: %d of %d presses accepted (stored); every press must be kept", sc.name, accepted, sc.n)
		}

		// Every press stored and folded: counted or flagged, nothing lost.
		var after stuffingScore
		waitFor(t, 30*time.Second, "the burst folded", func() bool {
			after = stuffingScore{}
			return httpJSON(t, "GET", scoreURL, admin, nil, &after) == 200 &&
				after.Responses+after.Flagged.Total-before.Responses-before.Flagged.Total >= int64(sc.n)
		})
		counted := after.Responses - before.Responses
		if counted+after.Flagged.Total-before.Flagged.Total != int64(sc.n) {
			t.Fatalf("%s: %d counted + %d flagged != %d presses", sc.name, counted, after.Flagged.Total-before.Flagged.Total, sc.n)
		}
		moved := *after.Index.Value - *before.Index.Value
		t.Logf("%s over %s: office %d index %.2f → %.2f (moved %+.2f points), %d of %d presses counted, flagged %+v; baseline %d citizens",
			sc.name, span.Round(time.Second), office, *before.Index.Value, *after.Index.Value, moved, counted, sc.n, after.Flagged, before.Citizens)
		fmt.Fprintf(&report, "| %s (over %s) | %d | %.2f | %.2f | %+.2f | %d of %d | %d / %d / %d |\n", sc.name, span.Round(time.Second),
			before.Citizens, *before.Index.Value, *after.Index.Value, moved, counted, sc.n,
			after.Flagged.Interval-before.Flagged.Interval, after.Flagged.Burst-before.Flagged.Burst, after.Flagged.AfterHours-before.Flagged.AfterHours)
		if sc.bounded {
			if span > 5*time.Minute+time.Second {
				t.Fatalf("%s: the burst spans %s, not 5 minutes", sc.name, span)
			}
			if math.Abs(moved) >= 1 {
				t.Errorf("%s moved the office's index by %.2f points; the bound is 1", sc.name, moved)
			}
		} else if counted > int64(sc.n) || counted < 1 {
			t.Errorf("%s: %d counted", sc.name, counted)
		}
	}
	// The table of docs/kiosk.md.
	t.Logf("stuffing measurement:\n%s", report.String())
}

// exponentialGaps returns the gaps of n presses at random (a Poisson process, seeded), scaled so
// that they span exactly total: a person hammering the faces, not a metronome.
func exponentialGaps(n int, total time.Duration) func(int) time.Duration {
	r := rand.New(rand.NewPCG(7, 7))
	raw := make([]float64, n)
	sum := 0.0
	for i := range raw {
		raw[i] = r.ExpFloat64()
		if i < n-1 {
			sum += raw[i]
		}
	}
	return func(i int) time.Duration { return time.Duration(raw[i] / sum * float64(total)) }
}

// pairedKiosk creates a kiosk in office with the admin token and pairs it; it returns the
// device token.
func pairedKiosk(t *testing.T, url, admin string, office survey.ID) string {
	t.Helper()
	var created struct {
		Code string `json:"pairing_code"`
	}
	if code := httpJSON(t, "POST", url+"/api/v1/kiosks", admin, map[string]any{"office_id": office, "name": "کیوسک " + office.String()}, &created); code != 201 {
		t.Fatalf("creating a kiosk in office %d: %d", office, code)
	}
	var paired struct {
		Token string `json:"token"`
	}
	if code := httpJSON(t, "POST", url+"/api/v1/kiosk/pair", "", map[string]string{"code": created.Code}, &paired); code != 200 {
		t.Fatalf("pairing the kiosk of office %d: %d", office, code)
	}
	return paired.Token
}
