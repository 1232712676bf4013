// Package authoring is how staff shape what citizens are asked and where: offices of an agency,
// surveys and their drafts, publishing a draft as a new immutable version, and which survey each
// office and channel uses. It holds the rules a store cannot know — who may read and change an
// agency's set-up (survey.Principal), that a draft may be saved half-written but is published
// only when it passes every check, and that every change leaves an audit entry with the entity
// before and after — so that the HTTP handlers only translate, and no handler can forget a rule.
package authoring

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
)

// Store is the storage authoring needs; the SQL store implements it.
type Store interface {
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	Survey(ctx context.Context, id survey.ID) (survey.Survey, error)
	Surveys(ctx context.Context, agencyID survey.ID) ([]survey.Survey, error)
	CreateSurvey(ctx context.Context, s *survey.Survey) error
	Draft(ctx context.Context, surveyID survey.ID) (survey.Draft, error)
	SaveDraft(ctx context.Context, d *survey.Draft) error
	PublishVersion(ctx context.Context, v *survey.Version) error
	Versions(ctx context.Context, surveyID survey.ID) ([]survey.Version, error)
	Office(ctx context.Context, id survey.ID) (survey.Office, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
	CreateOffice(ctx context.Context, o *survey.Office) error
	RenameOffice(ctx context.Context, id survey.ID, name string) (survey.Office, error)
	Assignments(ctx context.Context, agencyID survey.ID) ([]survey.Assignment, error)
	SetAssignment(ctx context.Context, a survey.Assignment) error
	Audit(ctx context.Context, e survey.AuditEntry) error
}

// Options configure a Service.
type Options struct {
	// CheckSMS checks that a version can be asked by SMS (channels/sms.CheckSMS); publishing
	// calls it after survey.Version.Check. Nil skips it — only for tests of other rules.
	CheckSMS func(survey.Version) error
	// Clock stamps audit entries; nil is the wall clock.
	Clock survey.Clock
}

// Service applies the rules over a Store. It is safe for concurrent use.
type Service struct {
	st    Store
	opts  Options
	clock survey.Clock
}

// New returns the service over st.
func New(st Store, o Options) *Service {
	c := o.Clock
	if c == nil {
		c = survey.SystemClock{}
	}
	return &Service{st: st, opts: o, clock: c}
}

// Template is a ready-made survey a new one may start from.
type Template struct {
	ID        string              `json:"id"`
	Title     string              `json:"title"`
	TitleEN   string              `json:"title_en"`
	Questions []survey.Question   `json:"questions"`
	SMS       *survey.SMSSettings `json:"sms,omitempty"`
}

// TemplateNational is the id of the national-practice template.
const TemplateNational = "national"

// Templates lists the templates: the national practice (overall satisfaction, respect, speed,
// clarity, and the reasons of an unhappy citizen), the same survey the demo province runs.
func Templates() []Template {
	return []Template{{ID: TemplateNational, Title: "نظرسنجی رضایت از خدمت", TitleEN: "Service satisfaction (national practice)",
		Questions: demo.Questions(), SMS: demo.SMS()}}
}

func template(id string) (Template, bool) {
	for _, t := range Templates() {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}

// canRead refuses, as not found, an agency p may not read (callers must not learn which
// agencies exist elsewhere).
func canRead(p survey.Principal, agency survey.ID) error {
	if !p.CanReadAgency(agency) {
		return survey.ErrForbiddenAgency()
	}
	return nil
}

// canManage is canRead, then a 403 for staff who may read but not change the agency.
func canManage(p survey.Principal, agency survey.ID) error {
	if err := canRead(p, agency); err != nil {
		return err
	}
	if !p.CanManageAgency(agency) {
		return survey.Errorf(survey.ECodeForbidden, "فقط مدیر دستگاه یا مدیر استان می‌تواند این را تغییر دهد.",
			"only an admin of the agency or of the province may change this")
	}
	return nil
}

// surveyOf loads a survey and checks p may read its agency (an unreadable one is not found).
func (s *Service) surveyOf(ctx context.Context, p survey.Principal, id survey.ID) (survey.Survey, error) {
	sv, err := s.st.Survey(ctx, id)
	if err != nil {
		return survey.Survey{}, err
	}
	if !p.CanReadAgency(sv.AgencyID) {
		return survey.Survey{}, survey.Errorf(survey.ECodeNotFound, "این پرسشنامه پیدا نشد.", "survey not found")
	}
	return sv, nil
}

// audit writes one entry; before and after are marshalled as JSON (nil: absent).
func (s *Service) audit(ctx context.Context, p survey.Principal, action, entity string, agency, id survey.ID, before, after any) error {
	e := survey.AuditEntry{At: s.clock.Now().UTC(), ActorUserID: p.UserID, ActorTokenID: p.TokenID, ActorName: p.Name,
		Action: action, Entity: entity, EntityID: id, AgencyID: agency}
	if before != nil {
		b, err := json.Marshal(before)
		if err != nil {
			return err
		}
		e.Before = string(b)
	}
	if after != nil {
		b, err := json.Marshal(after)
		if err != nil {
			return err
		}
		e.After = string(b)
	}
	return s.st.Audit(ctx, e)
}

// Surveys lists an agency's surveys to staff who may read it.
func (s *Service) Surveys(ctx context.Context, p survey.Principal, agency survey.ID) ([]survey.Survey, error) {
	if err := canRead(p, agency); err != nil {
		return nil, err
	}
	return s.st.Surveys(ctx, agency)
}

// NewSurvey is what creating a survey takes: a title, and optionally the id of a template
// whose questions start the draft.
type NewSurvey struct {
	Title    string `json:"title"`
	Template string `json:"template"`
}

// CreateSurvey makes a survey of agency with a draft (the template's, or empty); nothing is
// offered to citizens until it is published.
func (s *Service) CreateSurvey(ctx context.Context, p survey.Principal, agency survey.ID, ns NewSurvey) (survey.Survey, survey.Draft, error) {
	if err := canManage(p, agency); err != nil {
		return survey.Survey{}, survey.Draft{}, err
	}
	d := survey.Draft{Questions: []survey.Question{}}
	if ns.Template != "" {
		t, ok := template(ns.Template)
		if !ok {
			return survey.Survey{}, survey.Draft{}, invalid("template", "unknown", "این الگو وجود ندارد.", "unknown template")
		}
		d.Questions, d.SMS = t.Questions, t.SMS
		if strings.TrimSpace(ns.Title) == "" {
			ns.Title = t.Title
		}
	}
	sv := survey.Survey{AgencyID: agency, Title: ns.Title}
	if err := s.st.CreateSurvey(ctx, &sv); err != nil {
		return survey.Survey{}, survey.Draft{}, err
	}
	d.SurveyID, d.AgencyID, d.Title, d.UpdatedBy = sv.ID, agency, sv.Title, p.Name
	if err := s.st.SaveDraft(ctx, &d); err != nil {
		return survey.Survey{}, survey.Draft{}, err
	}
	if err := s.audit(ctx, p, "survey.create", "survey", agency, sv.ID, nil, map[string]any{"survey": sv, "draft": d}); err != nil {
		return survey.Survey{}, survey.Draft{}, err
	}
	return sv, d, nil
}

// Draft returns a survey's draft to staff who may read its agency.
func (s *Service) Draft(ctx context.Context, p survey.Principal, id survey.ID) (survey.Draft, error) {
	if _, err := s.surveyOf(ctx, p, id); err != nil {
		return survey.Draft{}, err
	}
	return s.st.Draft(ctx, id)
}

// DraftProblems returns a survey's draft with the problems publishing it would meet, to staff
// who may read its agency: an editor page lists them beside the fields without saving anything,
// through the same checks as SaveDraft and Publish.
func (s *Service) DraftProblems(ctx context.Context, p survey.Principal, id survey.ID) (survey.Draft, Problems, error) {
	d, err := s.Draft(ctx, p, id)
	if err != nil {
		return survey.Draft{}, nil, err
	}
	return d, s.problems(d.Version()), nil
}

// Problems is what publishing the draft would refuse, per field ("questions[2].options", "sms",
// …); empty when the draft would publish.
type Problems map[string]survey.FieldError

// SaveDraft stores d as the survey's draft whatever its content — a half-written survey must
// survive a closed browser tab — and reports the problems publishing it would meet.
func (s *Service) SaveDraft(ctx context.Context, p survey.Principal, id survey.ID, d survey.Draft) (survey.Draft, Problems, error) {
	sv, err := s.surveyOf(ctx, p, id)
	if err != nil {
		return survey.Draft{}, nil, err
	}
	if err := canManage(p, sv.AgencyID); err != nil {
		return survey.Draft{}, nil, err
	}
	before, err := s.st.Draft(ctx, id)
	if err != nil {
		return survey.Draft{}, nil, err
	}
	d.SurveyID, d.AgencyID, d.UpdatedBy = sv.ID, sv.AgencyID, p.Name
	if d.Questions == nil {
		d.Questions = []survey.Question{}
	}
	if err := s.st.SaveDraft(ctx, &d); err != nil {
		return survey.Draft{}, nil, err
	}
	if err := s.audit(ctx, p, "survey.draft_save", "survey", sv.AgencyID, sv.ID, before, d); err != nil {
		return survey.Draft{}, nil, err
	}
	return d, s.problems(d.Version()), nil
}

// check runs every publishing check on v: the version's own rules, then the SMS texts.
func (s *Service) check(v survey.Version) error {
	if err := v.Check(); err != nil {
		return err
	}
	if s.opts.CheckSMS != nil {
		if err := s.opts.CheckSMS(v); err != nil {
			var se *survey.Error
			if errors.As(err, &se) {
				return err
			}
			return &survey.Error{Code: survey.ECodeInvalid, Err: err, Message: "the survey cannot be asked by SMS: " + err.Error(),
				MessageFA: "متن پیامک‌های این پرسشنامه جا نمی‌شود یا ساخته نمی‌شود.",
				Fields: map[string]survey.FieldError{"sms": {Code: "sms", Message: err.Error(),
					MessageFA: "متن پیامک‌های این پرسشنامه جا نمی‌شود یا ساخته نمی‌شود."}}}
		}
	}
	return nil
}

// problems turns check's error into per-field problems (an error without fields under "").
func (s *Service) problems(v survey.Version) Problems {
	err := s.check(v)
	if err == nil {
		return Problems{}
	}
	var se *survey.Error
	if errors.As(err, &se) && len(se.Fields) > 0 {
		return Problems(se.Fields)
	}
	fa := "پرسشنامه را نمی‌توان منتشر کرد."
	if se != nil && se.MessageFA != "" {
		fa = se.MessageFA
	}
	return Problems{"": {Code: string(survey.ErrorCode(err)), Message: err.Error(), MessageFA: fa}}
}

// Publish checks the survey's draft (survey.Version.Check, then the SMS checks) and stores it
// as the survey's next immutable version, which becomes its active one; a draft that fails is
// refused with its field errors and nothing changes.
func (s *Service) Publish(ctx context.Context, p survey.Principal, id survey.ID) (survey.Version, error) {
	sv, err := s.surveyOf(ctx, p, id)
	if err != nil {
		return survey.Version{}, err
	}
	if err := canManage(p, sv.AgencyID); err != nil {
		return survey.Version{}, err
	}
	d, err := s.st.Draft(ctx, id)
	if err != nil {
		return survey.Version{}, err
	}
	v := d.Version()
	if err := s.check(v); err != nil {
		return survey.Version{}, err
	}
	if err := s.st.PublishVersion(ctx, &v); err != nil {
		return survey.Version{}, err
	}
	before := map[string]any{"active_version": sv.ActiveVersion}
	if err := s.audit(ctx, p, "survey.publish", "survey", sv.AgencyID, sv.ID, before, v); err != nil {
		return survey.Version{}, err
	}
	return v, nil
}

// Versions lists a survey's published versions, newest first.
func (s *Service) Versions(ctx context.Context, p survey.Principal, id survey.ID) ([]survey.Version, error) {
	if _, err := s.surveyOf(ctx, p, id); err != nil {
		return nil, err
	}
	return s.st.Versions(ctx, id)
}

// Offices lists an agency's offices to staff who may read it.
func (s *Service) Offices(ctx context.Context, p survey.Principal, agency survey.ID) ([]survey.Office, error) {
	if err := canRead(p, agency); err != nil {
		return nil, err
	}
	return s.st.Offices(ctx, agency)
}

// CreateOffice adds an office to agency.
func (s *Service) CreateOffice(ctx context.Context, p survey.Principal, agency survey.ID, name string) (survey.Office, error) {
	if err := canManage(p, agency); err != nil {
		return survey.Office{}, err
	}
	o := survey.Office{AgencyID: agency, Name: name}
	if err := s.st.CreateOffice(ctx, &o); err != nil {
		return survey.Office{}, err
	}
	return o, s.audit(ctx, p, "office.create", "office", agency, o.ID, nil, o)
}

// RenameOffice changes an office's name.
func (s *Service) RenameOffice(ctx context.Context, p survey.Principal, id survey.ID, name string) (survey.Office, error) {
	before, err := s.st.Office(ctx, id)
	if err != nil {
		return survey.Office{}, err
	}
	if !p.CanReadAgency(before.AgencyID) {
		return survey.Office{}, survey.Errorf(survey.ECodeNotFound, "این دفتر پیدا نشد.", "office not found")
	}
	if err := canManage(p, before.AgencyID); err != nil {
		return survey.Office{}, err
	}
	after, err := s.st.RenameOffice(ctx, id, name)
	if err != nil {
		return survey.Office{}, err
	}
	return after, s.audit(ctx, p, "office.rename", "office", after.AgencyID, after.ID, before, after)
}

// Assignments lists which survey an agency's offices and channels use.
func (s *Service) Assignments(ctx context.Context, p survey.Principal, agency survey.ID) ([]survey.Assignment, error) {
	if err := canRead(p, agency); err != nil {
		return nil, err
	}
	return s.st.Assignments(ctx, agency)
}

// Assign sets which survey an office (0: every office) and a channel ("": every channel) of
// agency use; SurveyID 0 removes the assignment.
func (s *Service) Assign(ctx context.Context, p survey.Principal, agency survey.ID, a survey.Assignment) ([]survey.Assignment, error) {
	if err := canManage(p, agency); err != nil {
		return nil, err
	}
	a.AgencyID = agency
	before, err := s.st.Assignments(ctx, agency)
	if err != nil {
		return nil, err
	}
	if err := s.st.SetAssignment(ctx, a); err != nil {
		return nil, err
	}
	after, err := s.st.Assignments(ctx, agency)
	if err != nil {
		return nil, err
	}
	return after, s.audit(ctx, p, "survey.assign", "survey_assignment", agency, a.SurveyID, before, after)
}

func invalid(field, code, fa, en string) error {
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{field: {Code: code, Message: en, MessageFA: fa}}}
}
