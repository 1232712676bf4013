package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// AlertStore is what the alert watcher needs from storage (sqlstore.Store implements it): the
// agencies and offices to watch, the hourly per-citizen rollup, the headline histogram for the
// unhappy share, the alerts table and the watcher's own saved state.
type AlertStore interface {
	Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
	HourTotals(ctx context.Context, agency, office survey.ID, fromDay, toDay string) ([]survey.HourTotal, error)
	HistogramTotals(ctx context.Context, f survey.RollupFilter) ([]survey.HistogramTotal, error)
	OpenAlert(ctx context.Context, a survey.Alert) (bool, error)
	ResolveAlerts(ctx context.Context, kind, subject string, now time.Time) (int, error)
	AlertTrack(ctx context.Context, office survey.ID, kind string) (string, error)
	SaveAlertTrack(ctx context.Context, agency, office survey.ID, kind, state string, now time.Time) error
}

// SimpleAlertRules are an agency's HappyOrNot-style rules, evaluated on each office's window
// beside the drop test. Zero fields are off; with every field zero the agency has none.
type SimpleAlertRules struct {
	// UnhappyShare opens share_unhappy when at least this share of the window's citizens were
	// unhappy — a per-citizen headline mean below 3, i.e. they rated 1 or 2 on average.
	UnhappyShare float64
	// ScoreBelow and ScoreAbove open score_below / score_above when the window's per-citizen
	// mean (1–5) is below / above them.
	ScoreBelow, ScoreAbove float64
	// MinN is the rules' minimum count of citizens in the window (default 30).
	MinN int64
}

// Defaults of the watcher.
const (
	// DefaultAlertWindowDays and DefaultAlertBaselineWeeks are the drop test's window (the last
	// 7 whole Tehran days before the run) and baseline (the 12 weeks before the window).
	DefaultAlertWindowDays    = 7
	DefaultAlertBaselineWeeks = 12
	// DefaultSeasonMinN is the fewest province citizens each Jalali season must have in the
	// previous year for the watcher to supply season effects; below it the drop test estimates
	// them inside each office's baseline (see docs/alerts.md).
	DefaultSeasonMinN = 1000
	// DefaultAlertEvery is how often serve runs the watcher: daily windows move by a day.
	DefaultAlertEvery = 24 * time.Hour
	// headlineTrack is alert_tracks.kind of the drop/rise state of the 1–5 headline score.
	headlineTrack = "headline"
)

// AlertWatcher runs the score alerts: once a day, for every office of every agency, it builds the
// office's hour-of-week cells of the last 7 days (window) and of the 12 weeks before (baseline)
// from the hourly rollup, runs DropTest, applies the cross-office control, steps the office's
// saved AlertTrack and opens or resolves score_drop / score_rise alerts accordingly; then the
// agency's simple rules, if any. Opening is idempotent (one open alert per kind and office, by
// the store's unique index), so a second run on the same day — a restart, another replica —
// changes nothing.
type AlertWatcher struct {
	Store AlertStore
	Log   *slog.Logger
	// Now is the clock (time.Now when nil). Days are Tehran days: the window ends yesterday.
	Now func() time.Time
	// Drop tunes the drop test (zero: the defaults of DropTest).
	Drop DropOptions
	// FDR, when positive, replaces the fixed z threshold across offices by Benjamini–Hochberg at
	// this false discovery rate over all sufficient offices of the run (drops and rises apart):
	// the control docs/alerts.md describes for a province that wants at most a share FDR of a
	// day's alerts to be false. Zero keeps the default control, the one-sided threshold 3.09
	// (p < 0.001) chosen so that each office sees well under one false alert a quarter.
	FDR float64
	// Simple returns an agency's simple rules; nil means no agency has any.
	Simple func(agency survey.ID) SimpleAlertRules
	// Rules, when set, loads every agency's simple rules once at the start of each run (from
	// storage: StoredAlertRules) and takes the place of Simple; an error ends the run, and the
	// next one tries again.
	Rules func(ctx context.Context) (map[survey.ID]SimpleAlertRules, error)
	// WindowDays, BaselineWeeks and SeasonMinN default to the constants above.
	WindowDays, BaselineWeeks int
	SeasonMinN                int64
}

// AlertRun is what one run did.
type AlertRun struct {
	Offices    int          `json:"offices"`
	Sufficient int          `json:"sufficient"` // offices with enough citizens for the drop test
	Opened     int          `json:"opened"`
	Resolved   int          `json:"resolved"`
	Seasons    *[4]float64  `json:"season_effects,omitempty"`
	Results    []OfficeDrop `json:"results"`
}

// OfficeDrop is one office's drop test in a run.
type OfficeDrop struct {
	AgencyID survey.ID  `json:"agency_id"`
	OfficeID survey.ID  `json:"office_id"`
	Result   DropResult `json:"result"`
}

// ScoreAlertDetail is the Detail (JSON) of a score alert: what the dashboard shows on it. Means
// are per-citizen headline means on 1–5; for a drop or rise Expected is what the office's own
// baseline predicts for the hours its window's citizens came in, Z the test statistic; for a
// simple rule Level is the rule's threshold (a share for share_unhappy, a mean otherwise).
type ScoreAlertDetail struct {
	OfficeName   string  `json:"office_name"`
	Observed     float64 `json:"observed"`
	Expected     float64 `json:"expected,omitempty"`
	Z            float64 `json:"z,omitempty"`
	SE           float64 `json:"se,omitempty"`
	N            int64   `json:"n"`
	BaselineN    int64   `json:"baseline_n,omitempty"`
	Level        float64 `json:"level,omitempty"`
	WindowFrom   string  `json:"window_from"`
	WindowTo     string  `json:"window_to"`
	BaselineFrom string  `json:"baseline_from,omitempty"`
	BaselineTo   string  `json:"baseline_to,omitempty"`
}

// officeSubject is the alert subject of an office.
func officeSubject(id survey.ID) string { return fmt.Sprintf("office:%d", id) }

// alertPeriods are the inclusive Tehran days of a run.
type alertPeriods struct{ baseFrom, baseTo, winFrom, winTo string }

func (w *AlertWatcher) periods(now time.Time) alertPeriods {
	days, weeks := w.WindowDays, w.BaselineWeeks
	if days <= 0 {
		days = DefaultAlertWindowDays
	}
	if weeks <= 0 {
		weeks = DefaultAlertBaselineWeeks
	}
	today := survey.TehranDay(now)
	f := func(d int) string { return today.AddDate(0, 0, d).Format(survey.DayFormat) }
	return alertPeriods{baseFrom: f(-days - 7*weeks), baseTo: f(-days - 1), winFrom: f(-days), winTo: f(-1)}
}

// HourCells turns hourly totals (values × survey.CitizenScale) into drop-test cells on the 1–5
// scale, with the hour of the week and the Jalali season of each Tehran day and hour.
func HourCells(ts []survey.HourTotal) []Cell {
	out := make([]Cell, 0, len(ts))
	const k = survey.CitizenScale
	for _, t := range ts {
		day, err := time.ParseInLocation(survey.DayFormat, t.Day, survey.Tehran)
		if err != nil || t.N <= 0 {
			continue
		}
		at := time.Date(day.Year(), day.Month(), day.Day(), t.Hour, 30, 0, 0, survey.Tehran)
		out = append(out, Cell{Slot: HourOfWeek(at), Season: JalaliSeason(at), N: t.N,
			Sum: float64(t.Sum) / k, SumSq: float64(t.SumSq) / (k * k)})
	}
	return out
}

// SeasonEffects estimates each Jalali season's deviation from the annual mean across the
// province from a year of hourly totals: the citizen-weighted mean of the season minus that of
// the year. It returns nil unless every season has at least minN citizens: an estimate from a
// partial year would be relative to the seasons it saw. The offices open in a season weigh in
// its mean, so a province whose mix of offices changes with the seasons confounds the two; with
// a year of data from the same offices the effect is small (docs/alerts.md).
func SeasonEffects(ts []survey.HourTotal, minN int64) *[4]float64 {
	var n [4]int64
	var sum [4]float64
	var all float64
	var allN int64
	for _, c := range HourCells(ts) {
		n[c.Season] += c.N
		sum[c.Season] += c.Sum
		all += c.Sum
		allN += c.N
	}
	for s := range n {
		if n[s] < max(minN, 1) {
			return nil
		}
	}
	var eff [4]float64
	mean := all / float64(allN)
	for s := range eff {
		eff[s] = sum[s]/float64(n[s]) - mean
	}
	return &eff
}

type watchedOffice struct {
	agency          survey.ID
	office          survey.Office
	window          []Cell
	result          DropResult
	winN            int64
	winSum, winMean float64
}

// Run is one pass of the watcher over every office.
func (w *AlertWatcher) Run(ctx context.Context) (AlertRun, error) {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	per := w.periods(now)
	var run AlertRun

	// Season effects once per run, over the province's previous year.
	minN := w.SeasonMinN
	if minN <= 0 {
		minN = DefaultSeasonMinN
	}
	opts := w.Drop
	if opts.SeasonEffects == nil {
		today := survey.TehranDay(now)
		year, err := w.Store.HourTotals(ctx, 0, 0, today.AddDate(-1, 0, 0).Format(survey.DayFormat), per.winTo)
		if err != nil {
			return run, err
		}
		opts.SeasonEffects = SeasonEffects(year, minN)
	}
	run.Seasons = opts.SeasonEffects

	simple := w.Simple
	if w.Rules != nil {
		rules, err := w.Rules(ctx)
		if err != nil {
			return run, fmt.Errorf("loading the simple alert rules: %w", err)
		}
		simple = func(a survey.ID) SimpleAlertRules { return rules[a] }
	}

	agencies, err := w.Store.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceAdmin})
	if err != nil {
		return run, err
	}
	var watched []*watchedOffice
	for _, a := range agencies {
		offices, err := w.Store.Offices(ctx, a.ID)
		if err != nil {
			return run, err
		}
		for _, o := range offices {
			ts, err := w.Store.HourTotals(ctx, a.ID, o.ID, per.baseFrom, per.winTo)
			if err != nil {
				return run, err
			}
			wo := &watchedOffice{agency: a.ID, office: o}
			var base []Cell
			for _, t := range ts {
				cells := HourCells([]survey.HourTotal{t})
				if t.Day >= per.winFrom {
					wo.window = append(wo.window, cells...)
				} else {
					base = append(base, cells...)
				}
			}
			for _, c := range wo.window {
				wo.winN += c.N
				wo.winSum += c.Sum
			}
			if wo.winN > 0 {
				wo.winMean = wo.winSum / float64(wo.winN)
			}
			wo.result = DropTest(base, wo.window, opts)
			watched = append(watched, wo)
		}
	}
	run.Offices = len(watched)
	w.control(watched)

	for _, wo := range watched {
		r := wo.result
		run.Results = append(run.Results, OfficeDrop{AgencyID: wo.agency, OfficeID: wo.office.ID, Result: r})
		if r.Status != DropInsufficient {
			run.Sufficient++
		}
		opened, resolved, err := w.stepDrop(ctx, wo, per, now, opts)
		if err != nil {
			return run, err
		}
		run.Opened += opened
		run.Resolved += resolved
		if simple != nil {
			opened, resolved, err := w.simple(ctx, wo, simple(wo.agency), per, now)
			if err != nil {
				return run, err
			}
			run.Opened += opened
			run.Resolved += resolved
		}
	}
	log.Info("score alerts checked", "offices", run.Offices, "sufficient", run.Sufficient,
		"opened", run.Opened, "resolved", run.Resolved, "window_from", per.winFrom, "window_to", per.winTo,
		"season_effects", run.Seasons != nil)
	return run, nil
}

// control applies the cross-office false-alarm control: with FDR set, Benjamini–Hochberg over
// the run's sufficient offices decides which drops and rises are found, in place of the fixed
// threshold; resolution (|z| < ResolveZ) is unchanged.
func (w *AlertWatcher) control(ws []*watchedOffice) {
	if w.FDR <= 0 {
		return // the fixed one-sided threshold DropTest applied
	}
	var low, high []float64
	var idx []int
	for i, wo := range ws {
		if wo.result.Status != DropInsufficient {
			low, high, idx = append(low, wo.result.PLow), append(high, wo.result.PHigh), append(idx, i)
		}
	}
	drops, rises := BenjaminiHochberg(low, w.FDR), BenjaminiHochberg(high, w.FDR)
	for j, i := range idx {
		r := &ws[i].result
		switch {
		case drops[j]:
			r.Status = DropFound
		case rises[j]:
			r.Status = RiseFound
		default:
			r.Status = DropNone
		}
	}
}

// stepDrop feeds an office's result into its saved track and acts on the events.
func (w *AlertWatcher) stepDrop(ctx context.Context, wo *watchedOffice, per alertPeriods, now time.Time, opts DropOptions) (opened, resolved int, err error) {
	var tr AlertTrack
	state, err := w.Store.AlertTrack(ctx, wo.office.ID, headlineTrack)
	if err != nil {
		return 0, 0, err
	}
	if state != "" {
		if err := json.Unmarshal([]byte(state), &tr); err != nil {
			return 0, 0, fmt.Errorf("alert track of office %d: %w", wo.office.ID, err)
		}
	}
	subject := officeSubject(wo.office.ID)
	for _, ev := range tr.Step(wo.result, now, opts) {
		kind := survey.AlertScoreDrop
		if ev.Kind == AlertRise {
			kind = survey.AlertScoreRise
		}
		if !ev.Opened {
			n, err := w.Store.ResolveAlerts(ctx, kind, subject, now)
			if err != nil {
				return opened, resolved, err
			}
			resolved += n
			continue
		}
		r := ev.Result
		detail, _ := json.Marshal(ScoreAlertDetail{OfficeName: wo.office.Name, Observed: r.Observed, Expected: r.Expected,
			Z: r.Z, SE: r.SE, N: r.WindowN, BaselineN: r.BaselineN, WindowFrom: per.winFrom, WindowTo: per.winTo,
			BaselineFrom: per.baseFrom, BaselineTo: per.baseTo})
		did, err := w.Store.OpenAlert(ctx, survey.Alert{Kind: kind, AgencyID: wo.agency, OfficeID: wo.office.ID,
			Subject: subject, OpenedAt: now, Detail: string(detail)})
		if err != nil {
			return opened, resolved, err
		}
		if did {
			opened++
		}
	}
	b, err := json.Marshal(tr)
	if err != nil {
		return opened, resolved, err
	}
	return opened, resolved, w.Store.SaveAlertTrack(ctx, wo.agency, wo.office.ID, headlineTrack, string(b), now)
}

// simple evaluates an agency's simple rules on an office's window: a rule that fires opens its
// alert (once), one that evaluates OK resolves it, and too few citizens change nothing. A rule
// the agency switched off resolves what it had opened: nothing watches that alert any more.
func (w *AlertWatcher) simple(ctx context.Context, wo *watchedOffice, rules SimpleAlertRules, per alertPeriods, now time.Time) (opened, resolved int, err error) {
	minN := rules.MinN
	if minN <= 0 {
		minN = DefaultMinWindowN
	}
	type outcome struct {
		kind  string
		res   SimpleResult
		level float64
	}
	var outs []outcome
	if rules.UnhappyShare > 0 {
		hs, err := w.Store.HistogramTotals(ctx, survey.RollupFilter{AgencyID: wo.agency, OfficeID: wo.office.ID, FromDay: per.winFrom, ToDay: per.winTo})
		if err != nil {
			return 0, 0, err
		}
		var unhappy, n int64
		for _, h := range hs {
			if h.QuestionID != survey.HeadlineQuestion {
				continue
			}
			n += h.N
			if h.Value == "1" || h.Value == "2" { // whole part of the citizen's mean: below 3
				unhappy += h.N
			}
		}
		outs = append(outs, outcome{survey.AlertShareUnhappy, ShareUnhappy(unhappy, n, minN, rules.UnhappyShare), rules.UnhappyShare})
	}
	if rules.ScoreBelow > 0 || rules.ScoreAbove > 0 {
		low, high := math.NaN(), math.NaN()
		if rules.ScoreBelow > 0 {
			low = rules.ScoreBelow
		}
		if rules.ScoreAbove > 0 {
			high = rules.ScoreAbove
		}
		mean := math.NaN()
		if wo.winN > 0 {
			mean = wo.winMean
		}
		r := ScoreOutside(mean, wo.winN, low, high, minN)
		below, above := r, r
		if r.Status == SimpleFired {
			if r.Kind == AlertScoreBelow {
				above.Status = SimpleOK
			} else {
				below.Status = SimpleOK
			}
		}
		if rules.ScoreBelow > 0 {
			outs = append(outs, outcome{survey.AlertScoreBelow, below, low})
		}
		if rules.ScoreAbove > 0 {
			outs = append(outs, outcome{survey.AlertScoreAbove, above, high})
		}
	}
	subject := officeSubject(wo.office.ID)
	for kind, on := range map[string]bool{survey.AlertShareUnhappy: rules.UnhappyShare > 0,
		survey.AlertScoreBelow: rules.ScoreBelow > 0, survey.AlertScoreAbove: rules.ScoreAbove > 0} {
		if !on {
			n, err := w.Store.ResolveAlerts(ctx, kind, subject, now)
			if err != nil {
				return opened, resolved, err
			}
			resolved += n
		}
	}
	for _, o := range outs {
		switch o.res.Status {
		case SimpleFired:
			detail, _ := json.Marshal(ScoreAlertDetail{OfficeName: wo.office.Name, Observed: o.res.Value, N: o.res.N,
				Level: o.level, WindowFrom: per.winFrom, WindowTo: per.winTo})
			did, err := w.Store.OpenAlert(ctx, survey.Alert{Kind: o.kind, AgencyID: wo.agency, OfficeID: wo.office.ID,
				Subject: subject, OpenedAt: now, Detail: string(detail)})
			if err != nil {
				return opened, resolved, err
			}
			if did {
				opened++
			}
		case SimpleOK:
			n, err := w.Store.ResolveAlerts(ctx, o.kind, subject, now)
			if err != nil {
				return opened, resolved, err
			}
			resolved += n
		}
	}
	return opened, resolved, nil
}

// RunLoop runs the watcher at once and then every interval (a day in production) until ctx ends,
// logging failed runs (the next one tries again).
func (w *AlertWatcher) RunLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := w.Run(ctx); err != nil && ctx.Err() == nil {
			log := w.Log
			if log == nil {
				log = slog.Default()
			}
			log.Warn("score alert run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
