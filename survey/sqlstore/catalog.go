package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/afkar-gov/afkar/survey"
)

var _ survey.Catalog = (*Store)(nil)

// Rows of the catalog tables, as GORM maps them. They stay unexported: the domain types in
// package survey are the only ones the rest of Afkar sees.

type provinceRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	CreatedAt time.Time
}

func (provinceRow) TableName() string { return "provinces" }

type agencyRow struct {
	ID         int64 `gorm:"primaryKey"`
	ProvinceID int64
	Name       string
	Slug       string
	CreatedAt  time.Time
}

func (agencyRow) TableName() string { return "agencies" }

func (r agencyRow) agency() survey.Agency {
	return survey.Agency{ID: survey.ID(r.ID), ProvinceID: survey.ID(r.ProvinceID), Name: r.Name, Slug: r.Slug}
}

type officeRow struct {
	ID        int64 `gorm:"primaryKey"`
	AgencyID  int64
	Name      string
	CreatedAt time.Time
}

func (officeRow) TableName() string { return "offices" }

type surveyRow struct {
	ID            int64 `gorm:"primaryKey"`
	AgencyID      int64
	Title         string
	ActiveVersion int
	CreatedAt     time.Time
}

func (surveyRow) TableName() string { return "surveys" }

type versionRow struct {
	SurveyID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Version     int   `gorm:"primaryKey;autoIncrement:false"`
	AgencyID    int64
	Title       string
	Definition  string
	PublishedAt time.Time
}

func (versionRow) TableName() string { return "survey_versions" }

// definition is what survey_versions.definition holds.
type definition struct {
	Title     string            `json:"title"`
	Questions []survey.Question `json:"questions"`
	// SMS is the version's SMS settings; absent in versions published before they existed.
	SMS *survey.SMSSettings `json:"sms,omitempty"`
}

func (r versionRow) version() (survey.Version, error) {
	var d definition
	if err := json.Unmarshal([]byte(r.Definition), &d); err != nil {
		return survey.Version{}, internal(err)
	}
	return survey.Version{
		SurveyID: survey.ID(r.SurveyID), AgencyID: survey.ID(r.AgencyID), Version: r.Version,
		Title: r.Title, Questions: d.Questions, SMS: d.SMS, PublishedAt: r.PublishedAt.UTC(),
	}, nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func requireName(field, name string) error {
	if strings.TrimSpace(name) == "" {
		return &survey.Error{Code: survey.ECodeInvalid, Message: field + " is required", MessageFA: "نام لازم است.",
			Fields: map[string]survey.FieldError{field: {Code: "required", Message: field + " is required", MessageFA: "این فیلد لازم است."}}}
	}
	return nil
}

// refError turns a foreign-key failure on create into a clear invalid-input error.
func refError(err error, field, fa, en string) error {
	if survey.ErrorCode(err) == survey.ECodeInvalid && sqlClass(err) == classForeignKey {
		return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa, Err: err,
			Fields: map[string]survey.FieldError{field: {Code: "not_found", Message: en, MessageFA: fa}}}
	}
	return err
}

// CreateProvince stores p and sets p.ID.
func (s *Store) CreateProvince(ctx context.Context, p *survey.Province) error {
	if err := requireName("name", p.Name); err != nil {
		return err
	}
	row := provinceRow{Name: strings.TrimSpace(p.Name)}
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return err
	}
	p.ID, p.Name = survey.ID(row.ID), row.Name
	return nil
}

// CreateAgency stores a and sets a.ID. The province must exist; a non-empty slug must be
// unique, lower-case Latin letters, digits and dashes.
func (s *Store) CreateAgency(ctx context.Context, a *survey.Agency) error {
	if err := requireName("name", a.Name); err != nil {
		return err
	}
	if a.Slug != "" && !slugPattern.MatchString(a.Slug) {
		return &survey.Error{Code: survey.ECodeInvalid, Message: "invalid slug", MessageFA: "نشانک نامعتبر است.",
			Fields: map[string]survey.FieldError{"slug": {Code: "invalid_slug",
				Message: "slug must be lower-case Latin letters, digits and dashes", MessageFA: "نشانک فقط حروف کوچک لاتین، رقم و خط تیره است."}}}
	}
	row := agencyRow{ProvinceID: int64(a.ProvinceID), Name: strings.TrimSpace(a.Name), Slug: a.Slug}
	err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error })
	if survey.ErrorCode(err) == survey.ECodeConflict {
		return survey.Wrap(survey.ECodeConflict, err, "دستگاهی با این نشانک هست.", "an agency with this slug exists")
	}
	if err != nil {
		return refError(err, "province_id", "این استان وجود ندارد.", "the province does not exist")
	}
	*a = row.agency()
	return nil
}

// CreateOffice stores o and sets o.ID; the agency must exist.
func (s *Store) CreateOffice(ctx context.Context, o *survey.Office) error {
	if err := requireName("name", o.Name); err != nil {
		return err
	}
	row := officeRow{AgencyID: int64(o.AgencyID), Name: strings.TrimSpace(o.Name)}
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	o.ID, o.Name = survey.ID(row.ID), row.Name
	return nil
}

// CreateSurvey stores sv with no published version and sets sv.ID; the agency must exist.
func (s *Store) CreateSurvey(ctx context.Context, sv *survey.Survey) error {
	if err := requireName("title", sv.Title); err != nil {
		return err
	}
	row := surveyRow{AgencyID: int64(sv.AgencyID), Title: strings.TrimSpace(sv.Title)}
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	sv.ID, sv.Title, sv.ActiveVersion = survey.ID(row.ID), row.Title, 0
	return nil
}

// PublishVersion checks v, numbers it after the survey's last version, stores it and makes it
// the survey's active version, all in one transaction. It fills v.Version, v.AgencyID (from the
// survey), v.PublishedAt and, when empty, v.Title (the survey's title).
//
// A question id keeps its type across the versions of a survey: scores sum a question's rollups
// over versions (and read a question no longer asked by the type its rollups carry), so a "q2"
// that was nps and becomes rating5 would mix 0–10 answers into a 1–5 mean. Such a version is
// refused as invalid, field questions[i].type, code type_changed; use a new id instead.
func (s *Store) PublishVersion(ctx context.Context, v *survey.Version) error {
	if err := v.Check(); err != nil {
		return err
	}
	out := *v
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var sv surveyRow
		q := tx
		if s.dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"}) // number versions one publisher at a time
		}
		if err := q.Take(&sv, int64(v.SurveyID)).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return notFound("این پرسشنامه پیدا نشد.", "survey not found")
			}
			return err
		}
		if v.AgencyID != 0 && int64(v.AgencyID) != sv.AgencyID {
			return survey.Errorf(survey.ECodeInvalid, "این پرسشنامه متعلق به این دستگاه نیست.", "the survey does not belong to this agency")
		}
		var last int
		if err := tx.Raw("SELECT COALESCE(MAX(version), 0) FROM survey_versions WHERE survey_id = ?", sv.ID).Scan(&last).Error; err != nil {
			return err
		}
		if err := checkTypesKept(tx, sv.ID, v.Questions); err != nil {
			return err
		}
		out.AgencyID = survey.ID(sv.AgencyID)
		out.Version = last + 1
		out.PublishedAt = utc(time.Now())
		if strings.TrimSpace(out.Title) == "" {
			out.Title = sv.Title
		}
		def, err := json.Marshal(definition{Title: out.Title, Questions: out.Questions, SMS: out.SMS})
		if err != nil {
			return err
		}
		row := versionRow{SurveyID: sv.ID, Version: out.Version, AgencyID: sv.AgencyID, Title: out.Title,
			Definition: string(def), PublishedAt: out.PublishedAt}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Exec("UPDATE surveys SET active_version = ? WHERE id = ?", out.Version, sv.ID).Error
	})
	if err != nil {
		return err
	}
	*v = out
	return nil
}

// checkTypesKept refuses questions whose id had another type in an earlier version of the
// survey (see PublishVersion).
func checkTypesKept(tx *gorm.DB, surveyID int64, qs []survey.Question) error {
	var defs []string
	if err := tx.Raw("SELECT definition FROM survey_versions WHERE survey_id = ? ORDER BY version", surveyID).Scan(&defs).Error; err != nil {
		return err
	}
	earlier := map[string]survey.QuestionType{}
	for _, raw := range defs {
		var d definition
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return internal(err)
		}
		for _, q := range d.Questions {
			earlier[q.ID] = q.Type
		}
	}
	fields := map[string]survey.FieldError{}
	for i, q := range qs {
		if was, ok := earlier[q.ID]; ok && was != q.Type {
			fields[fmt.Sprintf("questions[%d].type", i)] = survey.FieldError{Code: "type_changed",
				Message:   fmt.Sprintf("question %q was %s in an earlier version; a question keeps its type (use a new id)", q.ID, was),
				MessageFA: "نوع این پرسش در نسخه‌ای پیشین چیز دیگری بوده است؛ برای نوع تازه شناسه تازه بگذارید."}
		}
	}
	if len(fields) > 0 {
		return &survey.Error{Code: survey.ECodeInvalid, Fields: fields,
			Message:   "a question changed its type from an earlier version of the survey",
			MessageFA: "نوع پرسشی نسبت به نسخه‌ای پیشین از پرسشنامه تغییر کرده است."}
	}
	return nil
}

// Provinces lists every province by id.
func (s *Store) Provinces(ctx context.Context) ([]survey.Province, error) {
	var rows []provinceRow
	if err := s.read(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Province, 0, len(rows))
	for _, r := range rows {
		out = append(out, survey.Province{ID: survey.ID(r.ID), Name: r.Name})
	}
	return out, nil
}

// Agencies lists the agencies p may read, by id: every agency for province roles, the own
// agency for agency staff, none for anyone else. The filter is p.CanReadAgency itself, so the
// list and the per-agency checks can never disagree.
func (s *Store) Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error) {
	q := s.read(ctx).Order("id")
	if p.Role == survey.RoleAgencyStaff {
		q = q.Where("id = ?", int64(p.AgencyID)) // narrow in SQL; CanReadAgency below decides
	}
	var rows []agencyRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Agency, 0, len(rows))
	for _, r := range rows {
		if p.CanReadAgency(survey.ID(r.ID)) {
			out = append(out, r.agency())
		}
	}
	return out, nil
}

// Agency returns one agency, or a not-found error.
func (s *Store) Agency(ctx context.Context, id survey.ID) (survey.Agency, error) {
	var row agencyRow
	err := s.read(ctx).Take(&row, int64(id)).Error
	if err != nil {
		return survey.Agency{}, s.notFoundAs(err, "این دستگاه پیدا نشد.", "agency not found")
	}
	return row.agency(), nil
}

// notFoundAs translates err, giving a missing row a specific message.
func (s *Store) notFoundAs(err error, fa, en string) error {
	err = s.dbError(err)
	if survey.ErrorCode(err) == survey.ECodeNotFound {
		return notFound(fa, en)
	}
	return err
}

// requireAgency returns a not-found error unless the agency exists.
func (s *Store) requireAgency(ctx context.Context, id survey.ID) error {
	_, err := s.Agency(ctx, id)
	return err
}

// Offices lists an agency's offices by id; an unknown agency is not found.
func (s *Store) Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error) {
	if err := s.requireAgency(ctx, agencyID); err != nil {
		return nil, err
	}
	var rows []officeRow
	if err := s.read(ctx).Where("agency_id = ?", int64(agencyID)).Order("id").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Office, 0, len(rows))
	for _, r := range rows {
		out = append(out, survey.Office{ID: survey.ID(r.ID), AgencyID: survey.ID(r.AgencyID), Name: r.Name})
	}
	return out, nil
}

// Surveys lists an agency's surveys by id; an unknown agency is not found.
func (s *Store) Surveys(ctx context.Context, agencyID survey.ID) ([]survey.Survey, error) {
	if err := s.requireAgency(ctx, agencyID); err != nil {
		return nil, err
	}
	var rows []surveyRow
	if err := s.read(ctx).Where("agency_id = ?", int64(agencyID)).Order("id").Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Survey, 0, len(rows))
	for _, r := range rows {
		out = append(out, survey.Survey{ID: survey.ID(r.ID), AgencyID: survey.ID(r.AgencyID), Title: r.Title, ActiveVersion: r.ActiveVersion})
	}
	return out, nil
}

// ActiveVersion returns the version citizens of the agency are offered now: among the
// agency's surveys with a published active version, the one published last.
func (s *Store) ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error) {
	var rows []versionRow
	err := s.read(ctx).Raw(`
SELECT v.survey_id, v.version, v.agency_id, v.title, v.definition, v.published_at
FROM surveys s
JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.active_version
WHERE s.agency_id = ? AND s.active_version > 0
ORDER BY v.published_at DESC, v.survey_id DESC
LIMIT 1`, int64(agencyID)).Scan(&rows).Error
	if err != nil {
		return survey.Version{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.Version{}, notFound("این دستگاه پرسشنامهٔ فعالی ندارد.", "the agency has no active survey")
	}
	return rows[0].version()
}

// Version returns one published version, or a not-found error.
func (s *Store) Version(ctx context.Context, surveyID survey.ID, version int) (survey.Version, error) {
	var row versionRow
	err := s.read(ctx).Where("survey_id = ? AND version = ?", int64(surveyID), version).Take(&row).Error
	if err != nil {
		return survey.Version{}, s.notFoundAs(err, "این نسخه از پرسشنامه پیدا نشد.", "survey version not found")
	}
	return row.version()
}

// IsEmpty reports whether no province exists yet, which is when the demo seeder may run.
func (s *Store) IsEmpty(ctx context.Context) (bool, error) {
	var n int64
	if err := s.read(ctx).Raw("SELECT COUNT(*) FROM provinces").Scan(&n).Error; err != nil {
		return false, s.dbError(err)
	}
	return n == 0, nil
}
