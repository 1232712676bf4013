package survey

import "time"

// HeadlineTotal is the per-citizen headline rollups (HeadlineQuestion) summed over one group —
// an agency and office over a period, or one Tehran day — as dashboards read them: N citizens,
// Sum and SumSq of their values × CitizenScale, and Satisfied, the citizens whose mean is 4 or
// more (from the histogram buckets). Fields a grouping does not use are zero.
type HeadlineTotal struct {
	AgencyID  ID     `json:"agency_id,omitempty"`
	OfficeID  ID     `json:"office_id,omitempty"`
	Day       string `json:"day,omitempty"`
	N         int64  `json:"n"`
	Sum       int64  `json:"sum"`
	SumSq     int64  `json:"sum_sq"`
	Satisfied int64  `json:"satisfied"`
}

// CommentState is what a moderator decided about a citizen's written comment. A comment nobody
// moderated is CommentVisible.
type CommentState string

// The moderation states: shown to staff, hidden from the dashboard, or hidden and marked
// abusive (kept for audit; never shown, never exported as a comment).
const (
	CommentVisible CommentState = "visible"
	CommentHidden  CommentState = "hidden"
	CommentAbusive CommentState = "abusive"
)

// Valid reports whether s is one of the three states.
func (s CommentState) Valid() bool {
	return s == CommentVisible || s == CommentHidden || s == CommentAbusive
}

// Comment is one text answer of a stored response, as the dashboard lists it: the response and
// question it belongs to, where and when it was given, the text as stored (callers redact it
// before showing it) and its moderation state.
type Comment struct {
	ResponseID  string       `json:"response_id"`
	QuestionID  string       `json:"question_id"`
	AgencyID    ID           `json:"agency_id"`
	OfficeID    ID           `json:"office_id"`
	Channel     Channel      `json:"channel"`
	SubmittedAt time.Time    `json:"submitted_at"`
	Text        string       `json:"text"`
	State       CommentState `json:"state"`
	// ModeratedBy names who set State, empty when nobody did.
	ModeratedBy string     `json:"moderated_by,omitempty"`
	ModeratedAt *time.Time `json:"moderated_at,omitempty"`
}

// CommentQuery selects comments of one agency (and office, when set), newest first. Before, when
// set, pages back: only responses submitted strictly before it. Limit 0 means a default page.
type CommentQuery struct {
	AgencyID ID
	OfficeID ID
	Before   time.Time
	Limit    int
}

// CommentModeration is a moderator's decision about one comment.
type CommentModeration struct {
	ResponseID string
	QuestionID string
	AgencyID   ID
	State      CommentState
	ActorName  string
	ActorUser  ID
	At         time.Time
}
