package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afkar-gov/afkar/survey"
)

// Dashboard queries, read once at start.
var (
	headlineByDaySQL    = query("headline_by_day")
	headlineByOfficeSQL = query("headline_by_office")
	commentsSQL         = query("comments")
)

// HeadlineByDay sums the per-citizen headline rollups of f's agency (and office) per Tehran day
// of f's period, with the satisfied citizens of each day, in one grouped query, ordered by day.
func (s *Store) HeadlineByDay(ctx context.Context, f survey.RollupFilter) (_ []survey.HeadlineTotal, err error) {
	rows, err := s.read(ctx).Raw(headlineByDaySQL, filterArgs(f)...).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.HeadlineTotal{}
	for rows.Next() {
		t := survey.HeadlineTotal{AgencyID: f.AgencyID, OfficeID: f.OfficeID}
		if err := rows.Scan(&t.Day, &t.N, &t.Sum, &t.SumSq, &t.Satisfied); err != nil {
			return nil, s.dbError(err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

// HeadlineByOffice sums the per-citizen headline rollups per agency and office over f's period
// (f.AgencyID 0: every agency; f.OfficeID is ignored), in one grouped query whatever the number
// of agencies, ordered by agency and office. Callers check the principal before asking.
func (s *Store) HeadlineByOffice(ctx context.Context, f survey.RollupFilter) (_ []survey.HeadlineTotal, err error) {
	f.OfficeID = 0
	rows, err := s.read(ctx).Raw(headlineByOfficeSQL, periodArgs(f)...).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.HeadlineTotal{}
	for rows.Next() {
		var (
			t              survey.HeadlineTotal
			agency, office int64
		)
		if err := rows.Scan(&agency, &office, &t.N, &t.Sum, &t.SumSq, &t.Satisfied); err != nil {
			return nil, s.dbError(err)
		}
		t.AgencyID, t.OfficeID = survey.ID(agency), survey.ID(office)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

// defaultCommentLimit and maxCommentLimit bound one page of comments.
const (
	defaultCommentLimit = 50
	maxCommentLimit     = 200
)

// noBound is the "before" of a first page: later than any response.
var noBound = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)

// moderationRow is a comment_moderation row.
type moderationRow struct {
	ResponseID  string    `gorm:"column:response_id;primaryKey"`
	QuestionID  string    `gorm:"column:question_id;primaryKey"`
	AgencyID    int64     `gorm:"column:agency_id"`
	State       string    `gorm:"column:state"`
	ActorName   string    `gorm:"column:actor_name"`
	ActorUserID *int64    `gorm:"column:actor_user_id"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
}

func (moderationRow) TableName() string { return "comment_moderation" }

// Comments lists the text answers of q's agency (and office), newest response first, with their
// moderation state: responses are read a page at a time (the comments query) until q.Limit
// comments are found or none are left. The text is as stored: callers redact it.
func (s *Store) Comments(ctx context.Context, q survey.CommentQuery) (_ []survey.Comment, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultCommentLimit
	}
	limit = min(limit, maxCommentLimit)
	before := noBound
	if !q.Before.IsZero() {
		before = utc(q.Before)
	}
	out := []survey.Comment{}
	rows, err := s.read(ctx).Raw(commentsSQL, sql.Named("agency", int64(q.AgencyID)), sql.Named("office", int64(q.OfficeID)),
		sql.Named("before", before), sql.Named("limit", limit)).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	for rows.Next() && len(out) < limit {
		var (
			id, channel, answers string
			office               int64
			submitted            any
		)
		if err := rows.Scan(&id, &office, &channel, &submitted, &answers); err != nil {
			return nil, s.dbError(err)
		}
		at, err := scannedTime(submitted)
		if err != nil {
			return nil, internal(err)
		}
		var as []survey.Answer
		if err := json.Unmarshal([]byte(answers), &as); err != nil {
			return nil, internal(err)
		}
		for _, a := range as {
			if a.Text == "" {
				continue
			}
			out = append(out, survey.Comment{ResponseID: id, QuestionID: a.QuestionID, AgencyID: q.AgencyID,
				OfficeID: survey.ID(office), Channel: survey.Channel(channel), SubmittedAt: at.UTC(),
				Text: a.Text, State: survey.CommentVisible})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(out))
	for _, c := range out {
		ids = append(ids, c.ResponseID)
	}
	var mods []moderationRow
	if err := s.read(ctx).Where("response_id IN ?", ids).Find(&mods).Error; err != nil {
		return nil, s.dbError(err)
	}
	byKey := map[[2]string]moderationRow{}
	for _, m := range mods {
		byKey[[2]string{m.ResponseID, m.QuestionID}] = m
	}
	for i := range out {
		if m, ok := byKey[[2]string{out[i].ResponseID, out[i].QuestionID}]; ok {
			at := m.UpdatedAt.UTC()
			out[i].State, out[i].ModeratedBy, out[i].ModeratedAt = survey.CommentState(m.State), m.ActorName, &at
		}
	}
	return out, nil
}

// CommentAgency returns the agency of stored response id and whether it has a text answer to
// question — what a moderation request is checked against. An unknown response is not found.
func (s *Store) CommentAgency(ctx context.Context, responseID, questionID string) (survey.ID, error) {
	var row struct {
		AgencyID int64
		Answers  string
	}
	err := s.read(ctx).Raw("SELECT agency_id, answers FROM responses WHERE id = ?", responseID).Scan(&row).Error
	if err != nil {
		return 0, s.dbError(err)
	}
	if row.AgencyID == 0 {
		return 0, survey.Errorf(survey.ECodeNotFound, "این نظر پیدا نشد.", "comment not found")
	}
	var as []survey.Answer
	if err := json.Unmarshal([]byte(row.Answers), &as); err != nil {
		return 0, internal(err)
	}
	for _, a := range as {
		if a.QuestionID == questionID && a.Text != "" {
			return survey.ID(row.AgencyID), nil
		}
	}
	return 0, survey.Errorf(survey.ECodeNotFound, "این نظر پیدا نشد.", "comment not found")
}

// SetCommentModeration records m as the comment's current state (the last decision wins).
func (s *Store) SetCommentModeration(ctx context.Context, m survey.CommentModeration) error {
	row := moderationRow{ResponseID: m.ResponseID, QuestionID: m.QuestionID, AgencyID: int64(m.AgencyID),
		State: string(m.State), ActorName: m.ActorName, ActorUserID: optionalID(m.ActorUser), UpdatedAt: utc(m.At)}
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "response_id"}, {Name: "question_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"state", "actor_name", "actor_user_id", "updated_at"}),
		}).Create(&row).Error
	})
}
