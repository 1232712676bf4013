package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afkar-gov/afkar/survey"
)

// Survey editing: drafts, the list of published versions, assignments of surveys to offices
// and channels, and office names. Permission checks and the audit log are survey/authoring's;
// this is storage only.

type draftRow struct {
	SurveyID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Definition string
	UpdatedAt  time.Time
	UpdatedBy  string
}

func (draftRow) TableName() string { return "survey_drafts" }

type assignmentRow struct {
	AgencyID  int64  `gorm:"primaryKey;autoIncrement:false"`
	OfficeID  int64  `gorm:"primaryKey;autoIncrement:false"`
	Channel   string `gorm:"primaryKey"`
	SurveyID  int64
	UpdatedAt time.Time
}

func (assignmentRow) TableName() string { return "survey_assignments" }

// Survey returns one survey, or a not-found error.
func (s *Store) Survey(ctx context.Context, id survey.ID) (survey.Survey, error) {
	var row surveyRow
	if err := s.read(ctx).Take(&row, int64(id)).Error; err != nil {
		return survey.Survey{}, s.notFoundAs(err, "این پرسشنامه پیدا نشد.", "survey not found")
	}
	return survey.Survey{ID: survey.ID(row.ID), AgencyID: survey.ID(row.AgencyID), Title: row.Title, ActiveVersion: row.ActiveVersion}, nil
}

// Draft returns a survey's draft. A survey whose draft was never saved gets one made from its
// active version, or an empty one titled like the survey; an unknown survey is not found.
func (s *Store) Draft(ctx context.Context, surveyID survey.ID) (survey.Draft, error) {
	sv, err := s.Survey(ctx, surveyID)
	if err != nil {
		return survey.Draft{}, err
	}
	d := survey.Draft{SurveyID: sv.ID, AgencyID: sv.AgencyID, Title: sv.Title, Questions: []survey.Question{}}
	var rows []draftRow
	if err := s.read(ctx).Where("survey_id = ?", int64(surveyID)).Limit(1).Find(&rows).Error; err != nil {
		return survey.Draft{}, s.dbError(err)
	}
	if len(rows) == 1 {
		var def definition
		if err := json.Unmarshal([]byte(rows[0].Definition), &def); err != nil {
			return survey.Draft{}, internal(err)
		}
		d.Title, d.Questions, d.SMS = def.Title, def.Questions, def.SMS
		d.UpdatedAt, d.UpdatedBy = rows[0].UpdatedAt.UTC(), rows[0].UpdatedBy
	} else if sv.ActiveVersion > 0 {
		v, err := s.Version(ctx, sv.ID, sv.ActiveVersion)
		if err != nil {
			return survey.Draft{}, err
		}
		d.Title, d.Questions, d.SMS = v.Title, v.Questions, v.SMS
	}
	if d.Questions == nil {
		d.Questions = []survey.Question{}
	}
	return d, nil
}

// SaveDraft stores d as its survey's draft (whatever its content) and sets d.UpdatedAt; the
// survey must exist.
func (s *Store) SaveDraft(ctx context.Context, d *survey.Draft) error {
	def, err := json.Marshal(definition{Title: d.Title, Questions: d.Questions, SMS: d.SMS})
	if err != nil {
		return survey.Wrap(survey.ECodeInvalid, err, "پیش‌نویس را نمی‌توان ذخیره کرد.", "the draft cannot be encoded")
	}
	now := utc(time.Now())
	row := draftRow{SurveyID: int64(d.SurveyID), Definition: string(def), UpdatedAt: now, UpdatedBy: d.UpdatedBy}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM surveys WHERE id = ?", row.SurveyID).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return notFound("این پرسشنامه پیدا نشد.", "survey not found")
		}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "survey_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"definition", "updated_at", "updated_by"})}).Create(&row).Error
	})
	if err != nil {
		return err
	}
	d.UpdatedAt = now
	return nil
}

// Versions lists a survey's published versions, newest first; an unknown survey is not found.
func (s *Store) Versions(ctx context.Context, surveyID survey.ID) ([]survey.Version, error) {
	if _, err := s.Survey(ctx, surveyID); err != nil {
		return nil, err
	}
	var rows []versionRow
	if err := s.read(ctx).Where("survey_id = ?", int64(surveyID)).Order("version DESC").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Version, 0, len(rows))
	for _, r := range rows {
		v, err := r.version()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// RenameOffice sets an office's name; an unknown office is not found.
func (s *Store) RenameOffice(ctx context.Context, id survey.ID, name string) (survey.Office, error) {
	if err := requireName("name", name); err != nil {
		return survey.Office{}, err
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE offices SET name = ? WHERE id = ?", strings.TrimSpace(name), int64(id))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("این دفتر پیدا نشد.", "office not found")
		}
		return nil
	})
	if err != nil {
		return survey.Office{}, err
	}
	return s.Office(ctx, id)
}

// Assignments lists an agency's assignments, agency-wide first.
func (s *Store) Assignments(ctx context.Context, agencyID survey.ID) ([]survey.Assignment, error) {
	var rows []assignmentRow
	if err := s.read(ctx).Where("agency_id = ?", int64(agencyID)).Order("office_id, channel").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Assignment, len(rows))
	for i, r := range rows {
		out[i] = survey.Assignment{AgencyID: survey.ID(r.AgencyID), OfficeID: survey.ID(r.OfficeID),
			Channel: survey.Channel(r.Channel), SurveyID: survey.ID(r.SurveyID)}
	}
	return out, nil
}

// SetAssignment stores a (replacing the survey of the same agency, office and channel), or
// removes it when a.SurveyID is 0. The survey, and the office when set, must belong to the
// agency.
func (s *Store) SetAssignment(ctx context.Context, a survey.Assignment) error {
	if a.Channel != "" && !a.Channel.Valid() {
		return &survey.Error{Code: survey.ECodeInvalid, Message: "unknown channel", MessageFA: "کانال نامعتبر است.",
			Fields: map[string]survey.FieldError{"channel": {Code: "invalid", Message: "channel is kiosk, web, sms or empty", MessageFA: "کانال یکی از kiosk، web، sms یا خالی است."}}}
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if a.OfficeID != 0 {
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM offices WHERE id = ? AND agency_id = ?", int64(a.OfficeID), int64(a.AgencyID)).Scan(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return &survey.Error{Code: survey.ECodeInvalid, Message: "the office is not the agency's", MessageFA: "این دفتر از این دستگاه نیست.",
					Fields: map[string]survey.FieldError{"office_id": {Code: "not_found", Message: "the office is not the agency's", MessageFA: "این دفتر از این دستگاه نیست."}}}
			}
		}
		del := tx.Exec("DELETE FROM survey_assignments WHERE agency_id = ? AND office_id = ? AND channel = ?",
			int64(a.AgencyID), int64(a.OfficeID), string(a.Channel))
		if del.Error != nil || a.SurveyID == 0 {
			return del.Error
		}
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM surveys WHERE id = ? AND agency_id = ?", int64(a.SurveyID), int64(a.AgencyID)).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return &survey.Error{Code: survey.ECodeInvalid, Message: "the survey is not the agency's", MessageFA: "این پرسشنامه از این دستگاه نیست.",
				Fields: map[string]survey.FieldError{"survey_id": {Code: "not_found", Message: "the survey is not the agency's", MessageFA: "این پرسشنامه از این دستگاه نیست."}}}
		}
		return tx.Create(&assignmentRow{AgencyID: int64(a.AgencyID), OfficeID: int64(a.OfficeID), Channel: string(a.Channel),
			SurveyID: int64(a.SurveyID), UpdatedAt: utc(time.Now())}).Error
	})
}

// ActiveVersionFor returns the version citizens of an agency's office are offered on a channel:
// the active version of the most specific assignment that matches (office and channel, then
// office, then channel, then agency-wide; an assigned survey with nothing published is passed
// over), else the agency's ActiveVersion. office 0 and channel "" match only assignments made
// for every office or every channel.
func (s *Store) ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error) {
	var rows []versionRow
	err := s.read(ctx).Raw(`
SELECT v.survey_id, v.version, v.agency_id, v.title, v.definition, v.published_at
FROM survey_assignments a
JOIN surveys s ON s.id = a.survey_id AND s.agency_id = a.agency_id
JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.active_version
WHERE a.agency_id = ? AND a.office_id IN (0, ?) AND a.channel IN ('', ?) AND s.active_version > 0
ORDER BY (CASE WHEN a.office_id <> 0 THEN 2 ELSE 0 END) + (CASE WHEN a.channel <> '' THEN 1 ELSE 0 END) DESC
LIMIT 1`, int64(agencyID), int64(officeID), string(ch)).Scan(&rows).Error
	if err != nil {
		return survey.Version{}, s.dbError(err)
	}
	if len(rows) == 1 {
		return rows[0].version()
	}
	return s.ActiveVersion(ctx, agencyID)
}
