package analytics

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// MinCitizens is the minimum n for showing a figure as a figure and for placing an agency or
// office in a sorted table: below it a dashboard greys the number out with «داده کافی نیست» and
// sorts the row after every row that has enough. Thirty citizens put the 95% interval of a mean
// on 1–5 at about ±0.35 for a typical spread (SD ≈ 1): wide, but narrow enough to tell 3 from 4.
// (The GP Patient Survey suppresses below 10, CMS below 100 a year; see docs/statistics.md.)
const MinCitizens = 30

// HeadlineReader is what dashboards need from the rollups: the per-citizen headline totals per
// Tehran day of one agency (or office), and per agency and office over a period, each in one
// grouped query (the SQL store's headline_by_day and headline_by_office).
type HeadlineReader interface {
	HeadlineByDay(ctx context.Context, f survey.RollupFilter) ([]survey.HeadlineTotal, error)
	HeadlineByOffice(ctx context.Context, f survey.RollupFilter) ([]survey.HeadlineTotal, error)
}

// DashboardCatalog is what dashboards need from the catalog: the agencies a principal may read
// (one query), an agency and its offices.
type DashboardCatalog interface {
	Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error)
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
}

// Dashboard computes the staff dashboards' figures — trends, the province table with its funnel
// plot, offices side by side — from the headline rollups only, checking the principal first as
// Scores does.
type Dashboard struct {
	catalog   DashboardCatalog
	headlines HeadlineReader
	// Clock decides "today" when a period has no end; nil means the wall clock.
	Clock survey.Clock
	// BenchmarkTTL is how long the province median of a period is reused (0: 10 minutes;
	// negative: never). Every agency page shows it, and computing it reads every agency's
	// headline cells (about a second at national size), while it moves slowly: one computation
	// per period and ten minutes serves every agency's staff.
	BenchmarkTTL time.Duration

	benchMu    sync.Mutex
	benchCache map[string]benchmarkEntry
}

// benchmarkEntry is a province median kept for reuse until expires.
type benchmarkEntry struct {
	b       Benchmark
	expires time.Time
}

// defaultBenchmarkTTL and maxBenchmarkPeriods bound the province median cache: its age and
// how many periods it holds (past that it starts again empty).
const (
	defaultBenchmarkTTL = 10 * time.Minute
	maxBenchmarkPeriods = 64
)

// NewDashboard returns a Dashboard reading from the given catalog and rollups.
func NewDashboard(catalog DashboardCatalog, headlines HeadlineReader) *Dashboard {
	return &Dashboard{catalog: catalog, headlines: headlines}
}

func (d *Dashboard) now() time.Time {
	if d.Clock != nil {
		return d.Clock.Now()
	}
	return time.Now()
}

// Figures are the headline figures of one group of citizens (an agency, an office, a period):
// the per-citizen mean on 1–5, CSAT and the 0–100 index, each with its 95% interval and n
// (Citizens), as in Score. Enough says whether Citizens reaches MinCitizens.
type Figures struct {
	Citizens int64    `json:"citizens"`
	Mean     Estimate `json:"mean"`
	CSAT     Estimate `json:"csat"`
	Index    Estimate `json:"index"`
	Enough   bool     `json:"enough"`
}

// figuresOf computes Figures from headline totals (values × survey.CitizenScale).
func figuresOf(t survey.HeadlineTotal) Figures {
	const s = survey.CitizenScale
	mean := BoundedMeanCI(t.N, float64(t.Sum)/s, float64(t.SumSq)/(s*s), 1, 5)
	return Figures{Citizens: t.N, Mean: mean, CSAT: Proportion(t.Satisfied, t.N), Index: NationalIndex(mean),
		Enough: t.N >= MinCitizens}
}

// PeriodQuery is a dashboard's period as the client wrote it: From and To are Tehran days as
// ParseDay reads them (Jalali or ISO); To empty is today; From empty is a default window before
// To that depends on the view. By is a Granularity for trends ("" is month).
type PeriodQuery struct {
	From   string
	To     string
	By     string
	Office string
}

// DefaultWindow is how far back a view without From looks, per granularity of its trend: 30
// days, 12 weeks, 12 months or 8 seasons, ending on To.
func DefaultWindow(to time.Time, g Granularity) time.Time {
	switch g {
	case ByDay:
		return to.AddDate(0, 0, -29)
	case ByWeek:
		return JalaliWeekStart(to).AddDate(0, 0, -7*11)
	case ByQuarter:
		y, m, _ := jalaliYMD(to)
		return tehranStart(y, (m-1)/3*3+1-21, 1) // the first day of the season seven seasons back
	default:
		y, m, _ := jalaliYMD(to)
		return tehranStart(y, m-11, 1) // the first day of the Jalali month eleven months back
	}
}

// jalaliYMD is JalaliDate without ok (zeroes outside the range).
func jalaliYMD(t time.Time) (int, int, int) {
	y, m, d, _ := JalaliDate(t)
	return y, m, d
}

// resolve reads q's days and granularity: from and to are Tehran days (to inclusive).
func (d *Dashboard) resolve(q PeriodQuery) (from, to time.Time, g Granularity, err error) {
	g = Granularity(strings.TrimSpace(q.By))
	if g == "" {
		g = ByMonth
	}
	if !g.Valid() {
		return from, to, g, &survey.Error{Code: survey.ECodeInvalid, Message: "by must be day, week, month or quarter",
			MessageFA: "بازهٔ نمودار باید روز، هفته، ماه یا فصل باشد.",
			Fields:    map[string]survey.FieldError{"by": {Code: "invalid", Message: "day|week|month|quarter", MessageFA: "روز، هفته، ماه یا فصل"}}}
	}
	to = survey.TehranDay(d.now())
	if q.To != "" {
		if to, err = ParseDayParam(q.To, "to"); err != nil {
			return from, to, g, err
		}
	}
	from = DefaultWindow(to, g)
	if q.From != "" {
		if from, err = ParseDayParam(q.From, "from"); err != nil {
			return from, to, g, err
		}
	}
	if from.After(to) {
		return from, to, g, &survey.Error{Code: survey.ECodeInvalid,
			Message: "from is after to", MessageFA: "تاریخ آغاز پس از تاریخ پایان است.",
			Fields: map[string]survey.FieldError{"from": {Code: "after_to",
				Message: "from must not be after to", MessageFA: "تاریخ آغاز نباید پس از تاریخ پایان باشد."}}}
	}
	return survey.TehranDay(from), to, g, nil
}

// Span names a dashboard's period: ISO Gregorian days and their Jalali forms, to inclusive.
type Span struct {
	From       string      `json:"from"`
	To         string      `json:"to"`
	FromJalali string      `json:"from_jalali"`
	ToJalali   string      `json:"to_jalali"`
	By         Granularity `json:"by,omitempty"`
}

func spanOf(from, to time.Time, g Granularity) Span {
	return Span{From: from.Format(survey.DayFormat), To: to.Format(survey.DayFormat),
		FromJalali: FormatJalali(from), ToJalali: FormatJalali(to), By: g}
}

// TrendSeries is an agency's (or office's) headline figures per period, for the trend chart.
type TrendSeries struct {
	AgencyID    survey.ID    `json:"agency_id"`
	AgencyName  string       `json:"agency_name"`
	OfficeID    survey.ID    `json:"office_id,omitempty"`
	Span        Span         `json:"period"`
	MinCitizens int64        `json:"min_citizens"`
	Points      []TrendPoint `json:"points"`
}

// checkAgency refuses a principal that may not read agencyID, and an agency that does not
// exist, with the same not-found answer (as Scores.Score).
func (d *Dashboard) checkAgency(ctx context.Context, p survey.Principal, agencyID survey.ID) (survey.Agency, error) {
	if !p.CanReadAgency(agencyID) {
		return survey.Agency{}, survey.ErrForbiddenAgency()
	}
	a, err := d.catalog.Agency(ctx, agencyID)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return survey.Agency{}, survey.ErrForbiddenAgency()
		}
		return survey.Agency{}, err
	}
	return a, nil
}

// office returns the office written as raw if it is one of the agency's (errOfficeNotFound
// otherwise), 0 for raw "".
func (d *Dashboard) office(ctx context.Context, agencyID survey.ID, raw string) (survey.ID, error) {
	if strings.TrimSpace(raw) == "" {
		return 0, nil
	}
	return (&Scores{agencies: officeLister{d.catalog}}).office(ctx, agencyID, raw)
}

// officeLister adapts a DashboardCatalog to the one AgencyReader method Scores.office calls.
type officeLister struct{ DashboardCatalog }

func (officeLister) ActiveVersion(context.Context, survey.ID) (survey.Version, error) {
	return survey.Version{}, survey.Errorf(survey.ECodeNotFound, "پیدا نشد.", "not found")
}

// Trend returns the agency's (or q.Office's) headline figures per period of q.By between q.From
// and q.To, each period with its interval as a band and its n; a period without citizens has
// undefined estimates (a gap, not a zero). Days come from one grouped query (headline_by_day)
// and are summed per period here.
func (d *Dashboard) Trend(ctx context.Context, p survey.Principal, agencyID survey.ID, q PeriodQuery) (TrendSeries, error) {
	a, err := d.checkAgency(ctx, p, agencyID)
	if err != nil {
		return TrendSeries{}, err
	}
	from, to, g, err := d.resolve(q)
	if err != nil {
		return TrendSeries{}, err
	}
	office, err := d.office(ctx, agencyID, q.Office)
	if err != nil {
		return TrendSeries{}, err
	}
	rows, err := d.headlines.HeadlineByDay(ctx, survey.RollupFilter{AgencyID: agencyID, OfficeID: office,
		FromDay: from.Format(survey.DayFormat), ToDay: to.Format(survey.DayFormat)})
	if err != nil {
		return TrendSeries{}, err
	}
	days := make([]DayTotals, 0, len(rows))
	const s = survey.CitizenScale
	for _, r := range rows {
		day, err := time.ParseInLocation(survey.DayFormat, r.Day, survey.Tehran)
		if err != nil {
			continue
		}
		days = append(days, DayTotals{Day: day, N: r.N, Sum: float64(r.Sum) / s, SumSq: float64(r.SumSq) / (s * s), Satisfied: r.Satisfied})
	}
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, survey.Tehran)
	return TrendSeries{AgencyID: a.ID, AgencyName: a.Name, OfficeID: office, Span: spanOf(from, to, g),
		MinCitizens: MinCitizens, Points: Trend(days, from, end, g)}, nil
}

// AgencyRow is one agency of the province table: its figures, and its point on the funnel plot
// (the mean against its n) with the limits for that n and where it falls.
type AgencyRow struct {
	AgencyID survey.ID `json:"agency_id"`
	Name     string    `json:"name"`
	Figures
	Limits   ControlLimits  `json:"limits"`
	Position FunnelPosition `json:"position"`
}

// ProvinceTable is every agency a principal may read over one period, side by side: each with
// its figures, intervals and n; the province's pooled mean (every citizen counted once) and the
// median of the agencies' means (those with enough citizens); and the funnel plot of the means
// — the 95% and 99.8% limits around the pooled mean, from the pooled between-citizen SD — with
// each agency's position. Agencies with no citizens are listed too, with undefined figures.
type ProvinceTable struct {
	Span        Span        `json:"period"`
	MinCitizens int64       `json:"min_citizens"`
	Agencies    []AgencyRow `json:"agencies"`
	Province    Figures     `json:"province"`
	// Median is the median of the means of the agencies with enough citizens; null when none.
	Median *float64 `json:"median"`
	// SD is the pooled between-citizen standard deviation the funnel is drawn with.
	SD     float64     `json:"sd"`
	Funnel FunnelCurve `json:"funnel"`
}

// ProvinceTable reads every agency p may read (one catalog query) and their headline totals
// (one grouped rollup query, whatever the number of agencies), and builds the table.
func (d *Dashboard) ProvinceTable(ctx context.Context, p survey.Principal, q PeriodQuery) (ProvinceTable, error) {
	if !p.IsStaff() && p.Role != survey.RoleIntegration {
		return ProvinceTable{}, survey.ErrForbiddenAgency()
	}
	from, to, _, err := d.resolve(PeriodQuery{From: q.From, To: q.To, By: string(ByMonth)})
	if err != nil {
		return ProvinceTable{}, err
	}
	agencies, err := d.catalog.Agencies(ctx, p)
	if err != nil {
		return ProvinceTable{}, err
	}
	f := survey.RollupFilter{FromDay: from.Format(survey.DayFormat), ToDay: to.Format(survey.DayFormat)}
	if len(agencies) == 1 {
		f.AgencyID = agencies[0].ID // an agency's own staff: read only its rows
	}
	var rows []survey.HeadlineTotal
	if len(agencies) > 0 {
		if rows, err = d.headlines.HeadlineByOffice(ctx, f); err != nil {
			return ProvinceTable{}, err
		}
	}
	byAgency := map[survey.ID]*survey.HeadlineTotal{}
	for _, r := range rows {
		t := byAgency[r.AgencyID]
		if t == nil {
			t = &survey.HeadlineTotal{AgencyID: r.AgencyID}
			byAgency[r.AgencyID] = t
		}
		t.N, t.Sum, t.SumSq, t.Satisfied = t.N+r.N, t.Sum+r.Sum, t.SumSq+r.SumSq, t.Satisfied+r.Satisfied
	}
	out := ProvinceTable{Span: spanOf(from, to, ""), MinCitizens: MinCitizens, Agencies: make([]AgencyRow, 0, len(agencies))}
	var all survey.HeadlineTotal
	totals := make([]survey.HeadlineTotal, len(agencies))
	for i, a := range agencies {
		if t := byAgency[a.ID]; t != nil {
			totals[i] = *t
		}
		t := totals[i]
		all.N, all.Sum, all.SumSq, all.Satisfied = all.N+t.N, all.Sum+t.Sum, all.SumSq+t.SumSq, all.Satisfied+t.Satisfied
	}
	out.Province = figuresOf(all)
	target, sd := pooled(totals)
	out.SD = sd
	var means []float64
	var nMax int64 = MinCitizens
	for i, a := range agencies {
		row := AgencyRow{AgencyID: a.ID, Name: a.Name, Figures: figuresOf(totals[i]), Position: NoData}
		if row.Citizens > 0 && out.Province.Mean.Defined() {
			row.Limits = FunnelLimits(target, sd, row.Citizens)
			row.Position = row.Limits.Classify(*row.Mean.Value)
			nMax = max(nMax, row.Citizens)
		}
		if row.Enough && row.Mean.Defined() {
			means = append(means, *row.Mean.Value)
		}
		out.Agencies = append(out.Agencies, row)
	}
	if len(means) > 0 {
		out.Median = ptr(median(means))
	}
	if out.Province.Mean.Defined() {
		out.Funnel = MeanFunnel(target, sd, FunnelGrid(5, nMax, 40))
	} else {
		out.Funnel = FunnelCurve{Points: []ControlLimits{}}
	}
	return out, nil
}

// pooled returns the pooled mean of every citizen of totals (on 1–5) and the pooled
// within-group standard deviation, √(Σ(Σx² − (Σx)²/n) / (N − k)): the spread of citizens
// around their own agency's mean, which is what the funnel's limits scale with.
func pooled(totals []survey.HeadlineTotal) (mean, sd float64) {
	const s = survey.CitizenScale
	var n, k int64
	var sum, ss float64
	for _, t := range totals {
		if t.N <= 0 {
			continue
		}
		x, x2 := float64(t.Sum)/s, float64(t.SumSq)/(s*s)
		n, k, sum = n+t.N, k+1, sum+x
		ss += x2 - x*x/float64(t.N)
	}
	if n == 0 {
		return math.NaN(), 0
	}
	mean = sum / float64(n)
	if n > k {
		sd = math.Sqrt(math.Max(0, ss/float64(n-k)))
	}
	return mean, sd
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// SortKeys are the columns a province or office table may be sorted by.
var SortKeys = []string{"name", "citizens", "mean", "index", "csat"}

// SortAgencies orders rows by key ("name", "citizens", "mean", "index", "csat"; a leading "-"
// reverses it; anything else is "-mean"). Rows without enough citizens always come after the
// rest, by name: they are never ranked.
func SortAgencies(rows []AgencyRow, key string) {
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	val := func(r AgencyRow) float64 {
		var e Estimate
		switch key {
		case "citizens":
			return float64(r.Citizens)
		case "index":
			e = r.Index
		case "csat":
			e = r.CSAT
		default:
			e = r.Mean
		}
		if e.Value == nil {
			return math.Inf(-1)
		}
		return *e.Value
	}
	if !(key == "name" || key == "citizens" || key == "index" || key == "csat" || key == "mean") {
		key, desc = "mean", true
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Enough != b.Enough {
			return a.Enough
		}
		if !a.Enough || key == "name" {
			if key == "name" && desc && a.Enough {
				return a.Name > b.Name
			}
			return a.Name < b.Name
		}
		va, vb := val(a), val(b)
		if va == vb {
			return a.Name < b.Name
		}
		if desc {
			return va > vb
		}
		return va < vb
	})
}

// OfficeRow is one office of an agency over a period.
type OfficeRow struct {
	OfficeID survey.ID `json:"office_id"`
	Name     string    `json:"name"`
	Figures
}

// Offices returns the agency's offices over q's period side by side (one grouped query), in the
// catalog's order; responses without an office (0) are a row named «بدون دفتر» when present.
func (d *Dashboard) Offices(ctx context.Context, p survey.Principal, agencyID survey.ID, q PeriodQuery) ([]OfficeRow, error) {
	if _, err := d.checkAgency(ctx, p, agencyID); err != nil {
		return nil, err
	}
	from, to, _, err := d.resolve(q)
	if err != nil {
		return nil, err
	}
	offices, err := d.catalog.Offices(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	rows, err := d.headlines.HeadlineByOffice(ctx, survey.RollupFilter{AgencyID: agencyID,
		FromDay: from.Format(survey.DayFormat), ToDay: to.Format(survey.DayFormat)})
	if err != nil {
		return nil, err
	}
	byOffice := map[survey.ID]survey.HeadlineTotal{}
	for _, r := range rows {
		byOffice[r.OfficeID] = r
	}
	out := make([]OfficeRow, 0, len(offices)+1)
	for _, o := range offices {
		out = append(out, OfficeRow{OfficeID: o.ID, Name: o.Name, Figures: figuresOf(byOffice[o.ID])})
	}
	if t, ok := byOffice[0]; ok && t.N > 0 {
		out = append(out, OfficeRow{Name: "بدون دفتر", Figures: figuresOf(t)})
	}
	return out, nil
}

// Benchmark is the province's figures an agency's dashboard compares itself with: the median of
// the agencies' means (those with enough citizens) and how many agencies that is. It reads every
// agency's totals but returns only these aggregates, so any staff member may see it.
type Benchmark struct {
	Median   *float64 `json:"median"`
	Agencies int      `json:"agencies"`
}

// ProvinceBenchmark returns the Benchmark over q's period.
func (d *Dashboard) ProvinceBenchmark(ctx context.Context, p survey.Principal, q PeriodQuery) (Benchmark, error) {
	if !p.IsStaff() {
		return Benchmark{}, survey.ErrForbiddenAgency()
	}
	from, to, _, err := d.resolve(q)
	if err != nil {
		return Benchmark{}, err
	}
	fromDay, toDay := from.Format(survey.DayFormat), to.Format(survey.DayFormat)
	ttl := d.BenchmarkTTL
	if ttl == 0 {
		ttl = defaultBenchmarkTTL
	}
	key, now := fromDay+"/"+toDay, d.now()
	if ttl > 0 {
		d.benchMu.Lock()
		e, ok := d.benchCache[key]
		d.benchMu.Unlock()
		if ok && now.Before(e.expires) {
			return e.b, nil
		}
	}
	b, err := d.computeBenchmark(ctx, fromDay, toDay)
	if err != nil || ttl < 0 {
		return b, err
	}
	d.benchMu.Lock()
	if d.benchCache == nil || len(d.benchCache) >= maxBenchmarkPeriods {
		d.benchCache = map[string]benchmarkEntry{}
	}
	d.benchCache[key] = benchmarkEntry{b: b, expires: now.Add(ttl)}
	d.benchMu.Unlock()
	return b, nil
}

// computeBenchmark reads every agency's headline over the days and takes the median of the
// agencies with enough citizens.
func (d *Dashboard) computeBenchmark(ctx context.Context, fromDay, toDay string) (Benchmark, error) {
	rows, err := d.headlines.HeadlineByOffice(ctx, survey.RollupFilter{FromDay: fromDay, ToDay: toDay})
	if err != nil {
		return Benchmark{}, err
	}
	by := map[survey.ID]survey.HeadlineTotal{}
	for _, r := range rows {
		t := by[r.AgencyID]
		t.N, t.Sum, t.SumSq, t.Satisfied = t.N+r.N, t.Sum+r.Sum, t.SumSq+r.SumSq, t.Satisfied+r.Satisfied
		by[r.AgencyID] = t
	}
	var means []float64
	for _, t := range by {
		if f := figuresOf(t); f.Enough && f.Mean.Defined() {
			means = append(means, *f.Mean.Value)
		}
	}
	b := Benchmark{Agencies: len(means)}
	if len(means) > 0 {
		b.Median = ptr(median(means))
	}
	return b, nil
}

// HourTotalsReader reads the hourly per-citizen rollup (the SQL store's rollup_hours).
type HourTotalsReader interface {
	HourTotals(ctx context.Context, agency, office survey.ID, fromDay, toDay string) ([]survey.HourTotal, error)
}

// Heatmap turns the hourly rollup into the dashboard's hour × weekday grid: citizens per
// weekday of the Iranian week (Saturday 0 … Friday 6) and hour of the Tehran day, over the
// inclusive days fromDay…toDay. Callers check the principal first.
type Heatmap struct{ Hours HourTotalsReader }

// HourHeatmap sums HourTotals per weekday and hour.
func (h Heatmap) HourHeatmap(ctx context.Context, agency, office survey.ID, fromDay, toDay string) ([7][24]int64, error) {
	var m [7][24]int64
	rows, err := h.Hours.HourTotals(ctx, agency, office, fromDay, toDay)
	if err != nil {
		return m, err
	}
	for _, r := range rows {
		day, err := time.ParseInLocation(survey.DayFormat, r.Day, survey.Tehran)
		if err != nil || r.Hour < 0 || r.Hour > 23 {
			continue
		}
		m[(int(day.Weekday())+1)%7][r.Hour] += r.N
	}
	return m, nil
}
