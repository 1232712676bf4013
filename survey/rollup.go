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
