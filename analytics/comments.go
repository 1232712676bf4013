package analytics

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// CommentStore is what the comments list needs from storage: text answers of raw responses
// newest first, the agency a comment belongs to, and the moderation table (the SQL store).
type CommentStore interface {
	Comments(ctx context.Context, q survey.CommentQuery) ([]survey.Comment, error)
	CommentAgency(ctx context.Context, responseID, questionID string) (survey.ID, error)
	SetCommentModeration(ctx context.Context, m survey.CommentModeration) error
}

// Auditor appends to the audit log (the SQL store); moderation decisions are audited when one
// is given.
type Auditor interface {
	Audit(ctx context.Context, e survey.AuditEntry) error
}

// Comments lists citizens' written comments to staff, redacted (survey.RedactPersonal), and records
// moderators' decisions. Like Scores, it checks the principal itself: reading needs
// CanReadAgency, moderating CanManageAgency (an agency admin or a province admin).
type Comments struct {
	store CommentStore
	audit Auditor
	// Clock stamps decisions; nil means the wall clock.
	Clock survey.Clock
}

// NewComments returns the comments service; audit may be nil.
func NewComments(store CommentStore, audit Auditor) *Comments {
	return &Comments{store: store, audit: audit}
}

// CommentQuery is a page of comments as the client asked for it: Office an office id (or ""),
// Before an RFC 3339 instant from the previous page's Next (or ""), Limit 1–200 (0: 50).
type CommentQuery struct {
	Office string
	Before string
	Limit  int
}

// CommentPage is one page of comments, newest first, and the Before of the next page ("" when
// this one was not full).
type CommentPage struct {
	AgencyID survey.ID        `json:"agency_id"`
	Comments []survey.Comment `json:"comments"`
	Next     string           `json:"next"`
}

// List returns a page of agencyID's comments, every text redacted, with moderation states
// (hidden and abusive ones included, so a moderator can undo; dashboards show them apart).
func (s *Comments) List(ctx context.Context, p survey.Principal, agencyID survey.ID, q CommentQuery) (CommentPage, error) {
	if !p.CanReadAgency(agencyID) {
		return CommentPage{}, survey.ErrForbiddenAgency()
	}
	sq := survey.CommentQuery{AgencyID: agencyID, Limit: q.Limit}
	if q.Office != "" {
		n, err := strconv.ParseInt(survey.NormalizeDigits(strings.TrimSpace(q.Office)), 10, 64)
		if err != nil || n <= 0 {
			return CommentPage{}, errOfficeNotFound()
		}
		sq.OfficeID = survey.ID(n)
	}
	if q.Before != "" {
		t, err := time.Parse(time.RFC3339Nano, q.Before)
		if err != nil {
			return CommentPage{}, survey.Errorf(survey.ECodeInvalid, "نشانهٔ صفحه نامعتبر است.", "before must be an RFC 3339 instant")
		}
		sq.Before = t
	}
	if sq.Limit <= 0 || sq.Limit > 200 {
		sq.Limit = 50
	}
	cs, err := s.store.Comments(ctx, sq)
	if err != nil {
		return CommentPage{}, err
	}
	page := CommentPage{AgencyID: agencyID, Comments: cs}
	for i := range page.Comments {
		page.Comments[i].Text = survey.RedactPersonal(page.Comments[i].Text)
	}
	if len(cs) >= sq.Limit {
		page.Next = cs[len(cs)-1].SubmittedAt.Format(time.RFC3339Nano)
	}
	return page, nil
}

// Moderate sets the state of one comment (the text answer to questionID of response
// responseID). Only an admin of the comment's agency (or of the province) may; anyone else,
// and an unknown comment, get the same not-found answer. The decision is audited.
func (s *Comments) Moderate(ctx context.Context, p survey.Principal, responseID, questionID string, state survey.CommentState) error {
	if !state.Valid() {
		return &survey.Error{Code: survey.ECodeInvalid, Message: "state must be visible, hidden or abusive",
			MessageFA: "وضعیت باید «نمایش»، «پنهان» یا «توهین‌آمیز» باشد.",
			Fields:    map[string]survey.FieldError{"state": {Code: "invalid", Message: "visible|hidden|abusive", MessageFA: "نمایش، پنهان یا توهین‌آمیز"}}}
	}
	responseID = strings.ToLower(strings.TrimSpace(responseID))
	if !survey.ValidUUID(responseID) || questionID == "" {
		return survey.Errorf(survey.ECodeNotFound, "این نظر پیدا نشد.", "comment not found")
	}
	agency, err := s.store.CommentAgency(ctx, responseID, questionID)
	if err != nil {
		return err
	}
	if !p.CanReadAgency(agency) {
		return survey.Errorf(survey.ECodeNotFound, "این نظر پیدا نشد.", "comment not found")
	}
	if !p.CanManageAgency(agency) {
		return survey.Errorf(survey.ECodeForbidden, "فقط مدیر دستگاه می‌تواند نظرها را مدیریت کند.", "only an admin of the agency may moderate comments")
	}
	now := time.Now()
	if s.Clock != nil {
		now = s.Clock.Now()
	}
	m := survey.CommentModeration{ResponseID: responseID, QuestionID: questionID, AgencyID: agency, State: state,
		ActorName: p.Name, ActorUser: p.UserID, At: now}
	if err := s.store.SetCommentModeration(ctx, m); err != nil {
		return err
	}
	if s.audit != nil {
		after, _ := json.Marshal(map[string]string{"response_id": responseID, "question_id": questionID, "state": string(state)})
		if err := s.audit.Audit(ctx, survey.AuditEntry{At: now, ActorUserID: p.UserID, ActorTokenID: p.TokenID, ActorName: p.Name,
			Action: "moderate", Entity: "comment", AgencyID: agency, After: string(after)}); err != nil {
			return err
		}
	}
	return nil
}
