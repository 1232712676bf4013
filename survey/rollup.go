package survey

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

// ResponseQuestion is the QuestionID of the rollup row that counts responses.
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
