package analytics

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// The simulated offices below follow the pattern of a provincial office: open Saturday to
// Wednesday 08:00–14:00 and Thursday 08:00–12:00, closed on Friday; about 30 citizens a working
// day (Poisson, 32 on full days and 20 on Thursdays), most of them mid-morning; satisfaction
// lower in the busy hours (−0.15) and on Saturdays (−0.1), higher early (+0.15); a Jalali season
// effect (autumn +0.05, winter −0.10 against the annual mean) that changes in the middle of the
// evaluated quarter; and a day-to-day random effect (SD 0.05: who is on duty, queues) that the
// test does not model. Each citizen's value is 1…5: a latent normal (SD 1.2) around a mean chosen
// so that the expected value of the rounded, clipped answer is exactly the cell's mean; the
// resulting between-citizen SD is about 1.0–1.1.

const latentSD = 1.2

// observedMean is the expected value of clamp(round(m + latentSD·Z), 1, 5).
func observedMean(m float64) float64 {
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-m)/latentSD/math.Sqrt2) }
	e := 1.0
	for k := 2; k <= 5; k++ { // E = 1 + Σ_{k=2..5} P(value ≥ k)
		e += 1 - cdf(float64(k)-0.5)
	}
	return e
}

// latentTable holds observedMean on a fine grid of latent means, for latentFor.
var latentTable = func() []float64 {
	t := make([]float64, latentSteps+1)
	for i := range t {
		t[i] = observedMean(latentLo + float64(i)*latentStep)
	}
	return t
}()

const (
	latentLo    = -4.0
	latentStep  = 0.001
	latentSteps = 14000 // up to 10
)

// latentFor inverts observedMean (increasing) by binary search in latentTable and linear
// interpolation: within 1e-6 of the exact inverse, and fast enough to call for every cell.
func latentFor(mean float64) float64 {
	i := sort.SearchFloat64s(latentTable, mean)
	if i <= 0 {
		return latentLo
	}
	if i >= len(latentTable) {
		return latentLo + latentSteps*latentStep
	}
	a, b := latentTable[i-1], latentTable[i]
	return latentLo + (float64(i-1)+(mean-a)/(b-a))*latentStep
}

func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

var (
	hourWeight = map[int]float64{8: 0.10, 9: 0.22, 10: 0.25, 11: 0.20, 12: 0.13, 13: 0.10}
	hourEffect = map[int]float64{8: 0.15, 9: 0, 10: -0.15, 11: -0.15, 12: 0, 13: 0.10}
	seasonTrue = [4]float64{0.05, 0, 0.05, -0.10}
)

// simOffice generates an office's citizens day by day.
type simOffice struct {
	rng    *rand.Rand
	base   float64 // annual mean of the office
	volume float64 // citizens per full working day
}

// day returns the cells of the Tehran day starting at start, with shift added to every
// citizen's mean (a drop is a negative shift).
func (o *simOffice) day(start time.Time, shift float64) []Cell {
	wd := start.Weekday()
	if wd == time.Friday {
		return nil
	}
	lambda, lastHour, wdEff := o.volume, 13, 0.0
	switch wd {
	case time.Thursday:
		lambda, lastHour, wdEff = o.volume*20/32, 11, 0.05
	case time.Saturday:
		wdEff = -0.1
	}
	dayEff := 0.05 * o.rng.NormFloat64()
	season := JalaliSeason(start)
	var total float64
	for h := 8; h <= lastHour; h++ {
		total += hourWeight[h]
	}
	var cells []Cell
	for h := 8; h <= lastHour; h++ {
		n := poisson(o.rng, lambda*hourWeight[h]/total)
		if n == 0 {
			continue
		}
		mean := o.base + hourEffect[h] + wdEff + seasonTrue[season] + dayEff + shift
		m := latentFor(mean)
		c := Cell{Slot: HourOfWeek(start.Add(time.Duration(h) * time.Hour)), Season: season}
		for range n {
			v := math.Max(1, math.Min(5, math.Round(m+latentSD*o.rng.NormFloat64())))
			c.N++
			c.Sum += v
			c.SumSq += v * v
		}
		cells = append(cells, c)
	}
	return cells
}

// simulate returns the cells of days [first, last] of one office, indexed by day − first.
func (o *simOffice) simulate(day0 time.Time, first, last int, shift func(day int) float64) [][]Cell {
	out := make([][]Cell, 0, last-first+1)
	for d := first; d <= last; d++ {
		out = append(out, o.day(day0.AddDate(0, 0, d), shift(d)))
	}
	return out
}

// evalDay runs the drop test for the window ending with day index t of days: window t−6…t,
// baseline the 84 days before it.
func evalDay(days [][]Cell, t int, opts DropOptions) DropResult {
	var window, baseline []Cell
	for d := max(t-90, 0); d <= t; d++ {
		if d >= t-6 {
			window = append(window, days[d]...)
		} else {
			baseline = append(baseline, days[d]...)
		}
	}
	return DropTest(baseline, window, opts)
}

// slider evaluates consecutive days like evalDay, but keeps the baseline and window summed by
// (season, slot) as they slide, so that each evaluation passes DropTest a few dozen cells
// instead of hundreds — the simulations stay fast under the race detector.
type slider struct {
	days       [][]Cell
	t          int // the day last evaluated; −1 before the first
	base, win  [4][HoursPerWeek]Cell
	cellsB, cW []Cell
}

func newSlider(days [][]Cell) *slider { return &slider{days: days, t: -1} }

func addCells(acc *[4][HoursPerWeek]Cell, cs []Cell, sign float64) {
	for _, c := range cs {
		a := &acc[c.Season][c.Slot]
		a.Slot, a.Season = c.Slot, c.Season
		a.N += int64(sign) * c.N
		a.Sum += sign * c.Sum
		a.SumSq += sign * c.SumSq
	}
}

func flatten(acc *[4][HoursPerWeek]Cell, out []Cell) []Cell {
	out = out[:0]
	for s := range acc {
		for _, c := range acc[s] {
			if c.N > 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

// eval evaluates the window ending at day t; t must grow by one each call after the first.
func (s *slider) eval(t int, opts DropOptions) DropResult {
	in := func(d int) []Cell {
		if d < 0 || d >= len(s.days) {
			return nil
		}
		return s.days[d]
	}
	if s.t < 0 {
		for d := max(t-90, 0); d <= t; d++ {
			if d >= t-6 {
				addCells(&s.win, in(d), 1)
			} else {
				addCells(&s.base, in(d), 1)
			}
		}
	} else {
		if t != s.t+1 {
			panic("slider: days must be consecutive")
		}
		addCells(&s.win, in(t), 1)
		addCells(&s.win, in(t-7), -1)
		addCells(&s.base, in(t-7), 1)
		addCells(&s.base, in(t-91), -1)
	}
	s.t = t
	s.cellsB, s.cW = flatten(&s.base, s.cellsB), flatten(&s.win, s.cW)
	return DropTest(s.cellsB, s.cW, opts)
}

func newSimOffice(seed uint64, i int, volume float64) *simOffice {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	return &simOffice{rng: rng, base: 3.5 + 0.6*rng.Float64(), volume: volume}
}

// quarterStart is 15 Aban 1404 (2025-11-06): the evaluated quarter runs into winter on
// 1 Dey 1404 (2025-12-22, day 46), so the season changes mid-quarter.
var quarterStart = time.Date(2025, 11, 6, 0, 0, 0, 0, survey.Tehran)

const (
	simOffices = 200
	simQuarter = 91 // days evaluated, once a day
)

// stableOffices simulates simOffices stable offices: for each, days −90 … simQuarter−1 from
// quarterStart (index 0 is day −90).
func stableOffices(seed uint64) [][][]Cell {
	out := make([][][]Cell, simOffices)
	for i := range out {
		out[i] = newSimOffice(seed, i, 32).simulate(quarterStart, -90, simQuarter-1, func(int) float64 { return 0 })
	}
	return out
}

// falseAlarms evaluates the offices daily over the quarter and returns the drop and rise
// alerts opened per office.
func falseAlarms(offices [][][]Cell, opts DropOptions) (drops, rises float64, insufficient int) {
	var nd, nr int
	for _, days := range offices {
		var tr AlertTrack
		sl := newSlider(days)
		for q := range simQuarter {
			r := sl.eval(90+q, opts)
			if r.Status == DropInsufficient {
				insufficient++
			}
			for _, ev := range tr.Step(r, quarterStart.AddDate(0, 0, q), opts) {
				if ev.Opened && ev.Kind == AlertDrop {
					nd++
				}
				if ev.Opened && ev.Kind == AlertRise {
					nr++
				}
			}
		}
	}
	return float64(nd) / float64(len(offices)), float64(nr) / float64(len(offices)), insufficient
}

// province-level season effects as the watcher would supply them, with an estimation error of
// 0.03 in winter in the direction that provokes false drops (expected winter mean too high).
var suppliedSeasons = [4]float64{0.05, 0, 0.05, -0.07}

func TestDropAlertFalseAlarmRate(t *testing.T) {
	offices := stableOffices(1405)
	drops, rises, insufficient := falseAlarms(offices, DropOptions{SeasonEffects: &suppliedSeasons})
	t.Logf("stable offices, default setting (z %.2f, season effects supplied): %.3f drop and %.3f rise alerts per office per quarter (%d offices × %d daily evaluations)",
		DefaultDropZ, drops, rises, simOffices, simQuarter)
	if insufficient != 0 {
		t.Errorf("%d evaluations had too few citizens at 30 a day", insufficient)
	}
	if drops > 1 || rises > 1 {
		t.Errorf("false-alarm rate above 1 per office per quarter: drops %.3f, rises %.3f", drops, rises)
	}
	// Without supplied season effects the test must learn the winter step from the baseline.
	d2, r2, _ := falseAlarms(offices, DropOptions{})
	t.Logf("same offices, season effects estimated inside the baseline: %.3f drop and %.3f rise alerts per office per quarter", d2, r2)
	if d2 > 1 || r2 > 1 {
		t.Errorf("false-alarm rate above 1 per office per quarter without season effects: drops %.3f, rises %.3f", d2, r2)
	}
	// The harness can see false alarms: at a careless threshold of 1.5 it must count many.
	loose, _, _ := falseAlarms(offices, DropOptions{Threshold: 1.5, ResolveZ: 0.5, SeasonEffects: &suppliedSeasons})
	t.Logf("at z 1.5 for comparison: %.3f drop alerts per office per quarter", loose)
	if loose <= 1 {
		t.Errorf("a z threshold of 1.5 gave only %.3f false drops per office per quarter: the simulation is not exercising the test", loose)
	}
}

// detection simulates offices whose mean shifts by shift from day 0 and returns the day (0…6)
// each office's alert of kind opened, −1 when it did not within 7 days.
func detection(seed uint64, shift float64, kind AlertKind) []int {
	opts := DropOptions{SeasonEffects: &suppliedSeasons}
	out := make([]int, simOffices)
	for i := range simOffices {
		o := newSimOffice(seed, i, 32)
		days := o.simulate(quarterStart, -90, 6, func(d int) float64 {
			if d >= 0 {
				return shift
			}
			return 0
		})
		var tr AlertTrack
		sl := newSlider(days)
		out[i] = -1
		for d := 0; d <= 6 && out[i] < 0; d++ {
			for _, ev := range tr.Step(sl.eval(90+d, opts), quarterStart.AddDate(0, 0, d), opts) {
				if ev.Opened && ev.Kind == kind {
					out[i] = d
				}
			}
		}
	}
	return out
}

// summary returns the share of offices detected and the median detection day among them.
func summary(days []int) (power float64, median int) {
	var found []int
	for _, d := range days {
		if d >= 0 {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return 0, -1
	}
	sort.Ints(found)
	return float64(len(found)) / float64(len(days)), found[len(found)/2]
}

func TestDropAlertPower(t *testing.T) {
	// A 0.5-point fall in the mean from day 0 on; days −90…−1 are the stable baseline.
	power, median := summary(detection(7, -0.5, AlertDrop))
	t.Logf("0.5-point fall at 30/day: detected within 7 days in %.1f%% of %d offices; median detection on day %d (day 0 = first day of the fall, so %d days of data)",
		100*power, simOffices, median, median+1)
	if power < 0.9 {
		t.Errorf("power %.3f < 0.9", power)
	}
	// The positive alert is the mirror image.
	power, median = summary(detection(8, 0.5, AlertRise))
	t.Logf("0.5-point rise at 30/day: positive alert within 7 days in %.1f%%; median day %d", 100*power, median)
	if power < 0.9 {
		t.Errorf("rise power %.3f < 0.9", power)
	}
}

func TestDropAlertSmallOfficeNeverAlerts(t *testing.T) {
	for i := range 50 {
		o := newSimOffice(99, i, 4) // about 4 citizens a working day: ~24 in 7 days
		days := o.simulate(quarterStart, -90, simQuarter-1, func(d int) float64 {
			if d >= 30 {
				return -2 // a collapse the test could see with enough citizens
			}
			return 0
		})
		var tr AlertTrack
		for q := range simQuarter {
			r := evalDay(days, 90+q, DropOptions{})
			if r.WindowN >= DefaultMinWindowN {
				continue // a rare busy week: not what this test is about
			}
			if r.Status != DropInsufficient {
				t.Fatalf("office %d day %d: %d citizens but status %s", i, q, r.WindowN, r.Status)
			}
			if evs := tr.Step(r, quarterStart.AddDate(0, 0, q), DropOptions{}); len(evs) != 0 {
				t.Fatalf("office %d day %d: alert below the minimum count: %+v", i, q, evs)
			}
		}
	}
	// The same collapse with enough citizens is found: the minimum is what kept it quiet.
	o := newSimOffice(99, 0, 32)
	days := o.simulate(quarterStart, -90, 6, func(d int) float64 {
		if d >= 0 {
			return -2
		}
		return 0
	})
	if r := evalDay(days, 96, DropOptions{}); r.Status != DropFound {
		t.Errorf("a 2-point collapse at 30/day: %+v", r)
	}
}

// A hand-checkable case: one slot, one season, baseline 400 citizens with mean 4 and SD 1;
// window 100 citizens with mean 3.6. level = 4, slot deviation 0, expected 4;
// SE = √(1/100 + 1/400 + (1·400/430²)) = √(0.01 + 0.0025 + 0.0021633) = 0.121092;
// z = −0.4/0.121092 = −3.30327.
func TestDropTestByHand(t *testing.T) {
	cell := func(n int64, mean, sd float64, season int) Cell {
		fn := float64(n)
		return Cell{Slot: 10, Season: season, N: n, Sum: fn * mean, SumSq: (fn-1)*sd*sd + fn*mean*mean}
	}
	r := DropTest([]Cell{cell(400, 4, 1, 2)}, []Cell{cell(100, 3.6, 1, 2)}, DropOptions{SlotPrior: 30})
	// The season estimated in the baseline is shrunk: eff = (1600 − 400·4)/(500) = 0, but its
	// variance 1·400/500² = 0.0016 is added too.
	want := -0.4 / math.Sqrt(0.01+0.0025+400.0/(430*430)+400.0/(500*500))
	closeTo(t, "z", r.Z, want, 1e-9)
	closeTo(t, "expected", r.Expected, 4, 1e-12)
	if r.Status != DropFound {
		t.Errorf("status %s", r.Status)
	}
	// With the season effects supplied, the window in winter (−0.1) against an autumn (+0.05)
	// baseline expects 4 − 0.05 − 0.1 = 3.85.
	eff := [4]float64{0, 0, 0.05, -0.1}
	r = DropTest([]Cell{cell(400, 4, 1, 2)}, []Cell{cell(100, 3.6, 1, 3)}, DropOptions{SeasonEffects: &eff})
	closeTo(t, "expected across seasons", r.Expected, 3.85, 1e-12)
	// Minimum counts.
	if r := DropTest([]Cell{cell(99, 4, 1, 2)}, []Cell{cell(100, 1, 1, 2)}, DropOptions{}); r.Status != DropInsufficient {
		t.Errorf("baseline of 99: %s", r.Status)
	}
	if r := DropTest([]Cell{cell(400, 4, 1, 2)}, []Cell{cell(29, 1, 0.1, 2)}, DropOptions{}); r.Status != DropInsufficient {
		t.Errorf("window of 29: %s", r.Status)
	}
	// The SD floor: a baseline of all fives does not make one 4.5-average week a crisis.
	fives := Cell{Slot: 10, Season: 2, N: 400, Sum: 2000, SumSq: 10000}
	r = DropTest([]Cell{fives}, []Cell{cell(40, 4.9, 0.3, 2)}, DropOptions{})
	if r.SD != DefaultSDFloor || r.Status != DropNone {
		t.Errorf("SD floor: %+v", r)
	}
}

// Slots: a baseline where mornings are happy (4.5) and noons unhappy (3.5), and a window made
// only of noon citizens at 3.5, is not a drop — the plain overall mean (4.0) would call it one.
func TestDropTestHourOfWeekMix(t *testing.T) {
	mk := func(slot int, n int64, mean float64) Cell {
		fn := float64(n)
		return Cell{Slot: slot, Season: 2, N: n, Sum: fn * mean, SumSq: fn*mean*mean + (fn-1)*1}
	}
	baseline := []Cell{mk(8, 1000, 4.5), mk(12, 1000, 3.5)}
	r := DropTest(baseline, []Cell{mk(12, 200, 3.5)}, DropOptions{})
	if r.Status != DropNone || math.Abs(r.Expected-3.5) > 0.02 {
		t.Errorf("noon-only window: %+v", r)
	}
	naive := DropTest([]Cell{mk(12, 1000, 4.0)}, []Cell{mk(12, 200, 3.5)}, DropOptions{})
	if naive.Status != DropFound {
		t.Errorf("control: without the slot pattern the same window should be a drop: %+v", naive)
	}
}

func TestAlertTrackDoesNotRefire(t *testing.T) {
	var tr AlertTrack
	at := quarterStart
	zs := []float64{-1, -3.5, -4, -2.9, -3.2, -0.5, -3.3}
	var opened, resolved int
	for i, z := range zs {
		r := DropResult{Status: DropNone, Z: z}
		if z <= -DefaultDropZ {
			r.Status = DropFound
		}
		for _, ev := range tr.Step(r, at.AddDate(0, 0, i), DropOptions{}) {
			if ev.Opened {
				opened++
			} else {
				resolved++
			}
		}
		if i == 4 && tr.Drop == nil {
			t.Fatal("alert closed while z stayed below −1")
		}
		// Days without enough data change nothing.
		if evs := tr.Step(DropResult{Status: DropInsufficient}, at.AddDate(0, 0, i), DropOptions{}); len(evs) != 0 {
			t.Fatal("insufficient evaluation changed the state")
		}
	}
	if opened != 2 || resolved != 1 || tr.Drop == nil || !tr.Drop.Since.Equal(at.AddDate(0, 0, 6)) {
		t.Errorf("opened %d resolved %d state %+v", opened, resolved, tr.Drop)
	}
	evs := tr.Step(DropResult{Status: RiseFound, Z: 3.5}, at.AddDate(0, 0, 7), DropOptions{})
	if len(evs) != 2 || evs[0].Kind != AlertDrop || evs[0].Opened || evs[1].Kind != AlertRise || !evs[1].Opened {
		t.Errorf("drop → rise: %+v", evs)
	}
}

// Benjamini–Hochberg on the textbook example: m = 10, q = 0.05; thresholds i·0.005.
// Sorted p: 0.001 ≤ 0.005 ✓, 0.008 ≤ 0.010 ✓, 0.039 > 0.015, 0.041 > 0.02, … none later pass,
// so the two smallest are discoveries.
func TestBenjaminiHochberg(t *testing.T) {
	p := []float64{0.041, 0.001, 0.6, 0.039, 0.008, 0.042, 0.06, 0.074, 0.205, math.NaN()}
	got := BenjaminiHochberg(p, 0.05)
	for i, want := range []bool{false, true, false, false, true, false, false, false, false, false} {
		if got[i] != want {
			t.Errorf("p[%d] = %v: got %v", i, p[i], got[i])
		}
	}
	// Step-up: a later p that passes rescues earlier ones. m = 3, q = 0.05: 0.03 > 0.0167 and
	// 0.031 > 0.033? no: 0.031 ≤ 0.0333 ✓ → both of the first two are discoveries.
	got = BenjaminiHochberg([]float64{0.03, 0.031, 0.9}, 0.05)
	if !got[0] || !got[1] || got[2] {
		t.Errorf("step-up: %v", got)
	}
}

func TestSimpleAlerts(t *testing.T) {
	if r := ShareUnhappy(2, 3, 4, 0.5); r.Status != SimpleInsufficient {
		t.Errorf("3 answers below minimum 4: %+v", r)
	}
	if r := ShareUnhappy(2, 4, 4, 0.5); r.Status != SimpleFired || r.Kind != AlertShareUnhappy || r.Value != 0.5 {
		t.Errorf("2 of 4 unhappy: %+v", r)
	}
	if r := ShareUnhappy(1, 4, 4, 0.5); r.Status != SimpleOK {
		t.Errorf("1 of 4 unhappy: %+v", r)
	}
	if r := ScoreOutside(3.1, 50, 3.2, 4.6, 30); r.Kind != AlertScoreBelow {
		t.Errorf("below: %+v", r)
	}
	if r := ScoreOutside(4.7, 50, 3.2, 4.6, 30); r.Kind != AlertScoreAbove {
		t.Errorf("above: %+v", r)
	}
	if r := ScoreOutside(4.7, 50, 3.2, math.NaN(), 30); r.Status != SimpleOK {
		t.Errorf("NaN high disables the positive side: %+v", r)
	}
	if r := ScoreOutside(1, 29, 3.2, 4.6, 30); r.Status != SimpleInsufficient {
		t.Errorf("below minimum: %+v", r)
	}
	c := CellAt(time.Date(2025, 11, 15, 9, 30, 0, 0, survey.Tehran), 4)
	if c.Slot != 9 || c.Season != 2 || c.N != 1 || c.SumSq != 16 {
		t.Errorf("CellAt: %+v", c)
	}
}

// The slider must give exactly what evalDay gives.
func TestSliderMatchesEvalDay(t *testing.T) {
	days := newSimOffice(3, 0, 32).simulate(quarterStart, -90, 20, func(int) float64 { return 0 })
	sl := newSlider(days)
	for q := 0; q <= 20; q++ {
		a, b := sl.eval(90+q, DropOptions{}), evalDay(days, 90+q, DropOptions{})
		if a.WindowN != b.WindowN || a.BaselineN != b.BaselineN || math.Abs(a.Z-b.Z) > 1e-9 {
			t.Fatalf("day %d: slider %+v, evalDay %+v", q, a, b)
		}
	}
}

func TestLatentFor(t *testing.T) {
	for _, m := range []float64{1.5, 2.9, 3.5, 4.1, 4.6} {
		closeTo(t, "observedMean(latentFor)", observedMean(latentFor(m)), m, 1e-5)
	}
}
