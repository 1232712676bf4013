package survey

import (
	"slices"
	"strings"
)

// RollupKey is the grain of aggregation: agency × office × survey version × question × channel ×
// Tehran day. QuestionID ResponseQuestion ("") counts responses themselves, so response totals
// come from the same table as answer totals. Day is the Gregorian date of the Tehran day,
// "2006-01-02", which sorts and compares as text on every SQL dialect.
type RollupKey struct {
	AgencyID      ID      `json:"agency_id"`
	OfficeID      ID      `json:"office_id"`
	SurveyID      ID      `json:"survey_id"`
	SurveyVersion int     `json:"survey_version"`
	QuestionID    string  `json:"question_id"`
	Channel       Channel `json:"channel"`
	Day           string  `json:"day"`
}

// ResponseQuestion is the QuestionID of the rollup row that counts responses — the counted ones:
// flagged responses are counted apart, in FlaggedQuestion rows.
const ResponseQuestion = ""

// Per-citizen rollups. The headline figures treat a citizen (one response), not an answer, as
// the unit: one citizen's three ratings are strongly correlated, so pooling answers would count
// the same opinion three times and make intervals too narrow. Each response therefore also folds
// one value into each of these pseudo-questions, keyed like every other rollup (so they break
// down by office, channel and day and stay additive):
//   - HeadlineQuestion: the mean of the response's headline rating5 answers (1–5);
//   - HeadlineNPSQuestion: the mean of its headline nps answers (0–10; normally exactly one).
//
// A response without such answers adds nothing to them. The value is stored as an integer,
// CitizenValue(sum, count) = the mean × CitizenScale, in Sum and SumSq (N counts citizens), and
// as a histogram cell whose Value is that integer in decimal, so shares such as "citizens whose
// mean is 4 or more" come from counts. Their Type is TypeCitizenMean, never a question type, so
// code that pools rollups by question type cannot mix them with answers.
const (
	HeadlineQuestion    = "@headline"
	HeadlineNPSQuestion = "@nps"
	// ReservedPrefix starts every pseudo-question id; Check refuses question ids that start
	// with it, so a real question can never clash with one.
	ReservedPrefix = "@"
	// CitizenScale is lcm(1…10): a mean of up to 10 integer answers × CitizenScale is an exact
	// integer. Means of 11–20 answers (a survey holds at most 20 questions) are rounded to the
	// nearest 1/CitizenScale, which moves no citizen across a class boundary (a mean of k ≤ 20
	// integers below 4 is at most 4 − 1/20). Bound on the int64 columns: a value is at most
	// 10 × 2520 = 25,200, its square 635,040,000, so SumSq cannot overflow below 1.4 × 10¹⁰
	// citizens in one total.
	CitizenScale = 2520
	// TypeCitizenMean is the Type of per-citizen rollups.
	TypeCitizenMean QuestionType = "citizen_mean"
)

// Flagged responses. A response the entry point flagged (Response.Flag: a kiosk press too close
// to the one before, part of a burst, after hours) is stored for audit but adds nothing to the
// ordinary rollup rows — not to the ResponseQuestion count, not to the per-citizen rows, not to
// any question or histogram cell — so it can never move a score, however many a stuffed kiosk
// sends. It adds N = 1 to one row only, FlaggedQuestion(flag), with Type TypeFlag and Sum =
// SumSq = 0, under the response's own agency, office, survey, version, channel and day. The
// flagged figures are then counts from the same additive table, broken down like any other,
// and `afkar reaggregate` rebuilds them from the stored flag like the rest.
const (
	// FlaggedPrefix starts the question id of every flagged-response row; it starts with
	// ReservedPrefix, so readers that skip pseudo-questions skip these too.
	FlaggedPrefix = ReservedPrefix + "flagged:"
	// TypeFlag is the Type of flagged-response rows.
	TypeFlag QuestionType = "flag"
)

// FlaggedQuestion is the QuestionID of the rollup row counting responses flagged f
// ("@flagged:burst" for FlagBurst).
func FlaggedQuestion(f Flag) string { return FlaggedPrefix + string(f) }

// FlagOfQuestion is the inverse of FlaggedQuestion: the flag a rollup row counts, and whether
// the row is a flagged-response row at all.
func FlagOfQuestion(questionID string) (Flag, bool) {
	f, ok := strings.CutPrefix(questionID, FlaggedPrefix)
	return Flag(f), ok && f != ""
}

// CitizenValue returns the mean of count integer answers summing to sum, × CitizenScale,
// rounded half up to an integer (exact for count ≤ 10). count must be positive. It is pure
// integer arithmetic so that every fold and every rebuild gives the same value.
func CitizenValue(sum, count int) int64 {
	s, k := int64(sum), int64(count)
	num := 2*s*CitizenScale + k
	den := 2 * k
	if num >= 0 {
		return num / den
	}
	return -((-num + den - 1) / den) // floor for negative sums (never for valid answers)
}

// DayFormat is the layout of RollupKey.Day.
const DayFormat = "2006-01-02"

// Rollup is one additive cell: how many answers (N), their sum and sum of squares (for means and
// variances). For yesno Sum counts the yeses; for choice and text only N is meaningful.
type Rollup struct {
	RollupKey
	Type  QuestionType `json:"type"`
	N     int64        `json:"n"`
	Sum   int64        `json:"sum"`
	SumSq int64        `json:"sum_sq"`
}

// HistogramCell counts answers with one value under one rollup key: a rating ("1"…"5"), an nps
// score, "0"/"1" for yes/no, or an option id.
type HistogramCell struct {
	RollupKey
	Value string `json:"value"`
	N     int64  `json:"n"`
}

// RollupDelta is what a batch of newly stored responses adds to the rollups. Both slices are
// sorted by key (then value), so concurrent upserts lock rows in one order and never deadlock.
type RollupDelta struct {
	Rollups   []Rollup
	Histogram []HistogramCell
	Hours     []HourCell
}

// HourKey is the grain of the hourly per-citizen rollup (table rollup_hours): agency × office ×
// Tehran day × Tehran hour (0–23). It exists for what needs the hour of the day — the hour ×
// weekday heatmap and the alerts' hour-of-week baseline — and so drops survey version, question
// and channel, which keeps it at most 24 rows per office and day.
type HourKey struct {
	AgencyID ID     `json:"agency_id"`
	OfficeID ID     `json:"office_id"`
	Day      string `json:"day"`  // Tehran day, DayFormat
	Hour     int    `json:"hour"` // Tehran hour of the day, 0–23
}

// HourCell is one additive hourly cell: the per-citizen headline values (exactly as the
// HeadlineQuestion rollup rows hold them: CitizenValue × CitizenScale) of the counted responses
// submitted in that hour — N citizens, the sum and the sum of squares of their values. Flagged
// responses and responses without a headline rating add nothing.
type HourCell struct {
	HourKey
	N     int64 `json:"n"`
	Sum   int64 `json:"sum"`
	SumSq int64 `json:"sum_sq"`
}

// HourTotal is hourly cells summed over the offices a query selects, per Tehran day and hour.
// Sum and SumSq are on the CitizenScale scale, like HourCell's.
type HourTotal struct {
	Day   string `json:"day"`
	Hour  int    `json:"hour"`
	N     int64  `json:"n"`
	Sum   int64  `json:"sum"`
	SumSq int64  `json:"sum_sq"`
}

// CompareHourKeys orders hourly keys like rollup_hours' primary key (agency, office, day, hour),
// the one order folds upsert them in.
func CompareHourKeys(a, b HourKey) int {
	switch {
	case a.AgencyID != b.AgencyID:
		return compareOrdered(a.AgencyID, b.AgencyID)
	case a.OfficeID != b.OfficeID:
		return compareOrdered(a.OfficeID, b.OfficeID)
	case a.Day != b.Day:
		return compareOrdered(a.Day, b.Day)
	}
	return compareOrdered(a.Hour, b.Hour)
}

// RollupFilter selects rollups for a report. Days are inclusive "2006-01-02" Tehran days; empty
// means unbounded. OfficeID 0 means every office.
type RollupFilter struct {
	AgencyID ID
	OfficeID ID
	FromDay  string
	ToDay    string
}

// RollupTotal is rollups summed over offices, versions and days, per question and channel.
type RollupTotal struct {
	QuestionID string       `json:"question_id"`
	Type       QuestionType `json:"type"`
	Channel    Channel      `json:"channel"`
	N          int64        `json:"n"`
	Sum        int64        `json:"sum"`
	SumSq      int64        `json:"sum_sq"`
}

// HistogramTotal is histogram cells summed likewise, per question, channel and value.
type HistogramTotal struct {
	QuestionID string  `json:"question_id"`
	Channel    Channel `json:"channel"`
	Value      string  `json:"value"`
	N          int64   `json:"n"`
}

// CompareRollupKeys orders rollup keys the way the rollup tables' primary keys are declared
// (agency, office, survey, version, question, channel, day; text compared byte by byte). It is
// the one ordering of cells: folds write cells in this order so that concurrent transactions
// lock rows in one global order and never deadlock.
func CompareRollupKeys(a, b RollupKey) int {
	switch {
	case a.AgencyID != b.AgencyID:
		return compareOrdered(a.AgencyID, b.AgencyID)
	case a.OfficeID != b.OfficeID:
		return compareOrdered(a.OfficeID, b.OfficeID)
	case a.SurveyID != b.SurveyID:
		return compareOrdered(a.SurveyID, b.SurveyID)
	case a.SurveyVersion != b.SurveyVersion:
		return compareOrdered(a.SurveyVersion, b.SurveyVersion)
	case a.QuestionID != b.QuestionID:
		return compareOrdered(a.QuestionID, b.QuestionID)
	case a.Channel != b.Channel:
		return compareOrdered(a.Channel, b.Channel)
	}
	return compareOrdered(a.Day, b.Day)
}

// CompareHistogramCells orders histogram cells by key, then value, like rollup_values' key.
func CompareHistogramCells(a, b HistogramCell) int {
	if c := CompareRollupKeys(a.RollupKey, b.RollupKey); c != 0 {
		return c
	}
	return compareOrdered(a.Value, b.Value)
}

func compareOrdered[T ~int | ~int64 | ~string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RollupSum adds rollup cells and histogram cells up by key. It is the one merge of cells:
// the fold function builds a batch's delta with it, stores merge a careless delta with it
// before upserting, and re-aggregation sums pages of raw responses with it. The zero value is
// ready to use.
type RollupSum struct {
	rollups map[RollupKey]*Rollup
	values  map[HistogramCell]int64 // keyed by the cell with N zeroed
	hours   map[HourKey]*HourCell
}

// AddRollup adds one cell: N, Sum and SumSq grow; the first cell of a key sets its Type.
func (s *RollupSum) AddRollup(r Rollup) {
	if s.rollups == nil {
		s.rollups = map[RollupKey]*Rollup{}
	}
	c := s.rollups[r.RollupKey]
	if c == nil {
		c = &Rollup{RollupKey: r.RollupKey, Type: r.Type}
		s.rollups[r.RollupKey] = c
	}
	c.N += r.N
	c.Sum += r.Sum
	c.SumSq += r.SumSq
}

// AddCell adds one histogram cell.
func (s *RollupSum) AddCell(h HistogramCell) {
	if s.values == nil {
		s.values = map[HistogramCell]int64{}
	}
	n := h.N
	h.N = 0
	s.values[h] += n
}

// AddHour adds one hourly cell.
func (s *RollupSum) AddHour(h HourCell) {
	if s.hours == nil {
		s.hours = map[HourKey]*HourCell{}
	}
	c := s.hours[h.HourKey]
	if c == nil {
		c = &HourCell{HourKey: h.HourKey}
		s.hours[h.HourKey] = c
	}
	c.N += h.N
	c.Sum += h.Sum
	c.SumSq += h.SumSq
}

// Add adds every cell of d.
func (s *RollupSum) Add(d RollupDelta) {
	for _, r := range d.Rollups {
		s.AddRollup(r)
	}
	for _, h := range d.Histogram {
		s.AddCell(h)
	}
	for _, h := range d.Hours {
		s.AddHour(h)
	}
}

// Len is the number of distinct cells held: rollups, histogram and hourly cells together.
func (s *RollupSum) Len() int { return len(s.rollups) + len(s.values) + len(s.hours) }

// Delta returns the sums as a delta sorted by CompareRollupKeys / CompareHistogramCells, each
// key once.
func (s *RollupSum) Delta() RollupDelta {
	d := RollupDelta{
		Rollups:   make([]Rollup, 0, len(s.rollups)),
		Histogram: make([]HistogramCell, 0, len(s.values)),
	}
	if len(s.hours) > 0 {
		d.Hours = make([]HourCell, 0, len(s.hours))
		for _, c := range s.hours {
			d.Hours = append(d.Hours, *c)
		}
		slices.SortFunc(d.Hours, func(a, b HourCell) int { return CompareHourKeys(a.HourKey, b.HourKey) })
	}
	for _, c := range s.rollups {
		d.Rollups = append(d.Rollups, *c)
	}
	for k, n := range s.values {
		k.N = n
		d.Histogram = append(d.Histogram, k)
	}
	slices.SortFunc(d.Rollups, func(a, b Rollup) int { return CompareRollupKeys(a.RollupKey, b.RollupKey) })
	slices.SortFunc(d.Histogram, CompareHistogramCells)
	return d
}

// Normalized returns d itself when its cells are already in key order with no key twice (the
// fold function's output always is), and otherwise its cells merged and sorted. Stores call it
// before upserting, so a careless delta can neither deadlock concurrent folds nor make
// PostgreSQL's ON CONFLICT DO UPDATE touch a row twice. d is never modified.
func (d RollupDelta) Normalized() RollupDelta {
	sorted := true
	for i := 1; i < len(d.Rollups) && sorted; i++ {
		sorted = CompareRollupKeys(d.Rollups[i-1].RollupKey, d.Rollups[i].RollupKey) < 0
	}
	for i := 1; i < len(d.Histogram) && sorted; i++ {
		sorted = CompareHistogramCells(d.Histogram[i-1], d.Histogram[i]) < 0
	}
	for i := 1; i < len(d.Hours) && sorted; i++ {
		sorted = CompareHourKeys(d.Hours[i-1].HourKey, d.Hours[i].HourKey) < 0
	}
	if sorted {
		return d
	}
	var s RollupSum
	s.Add(d)
	return s.Delta()
}
