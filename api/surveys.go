package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/authoring"
)

// Surveys is survey and office management for staff (survey/authoring.Service): it checks the
// principal's rights and writes the audit log itself, so the handlers below only translate.
type Surveys interface {
	Surveys(ctx context.Context, p survey.Principal, agency survey.ID) ([]survey.Survey, error)
	CreateSurvey(ctx context.Context, p survey.Principal, agency survey.ID, ns authoring.NewSurvey) (survey.Survey, survey.Draft, error)
	Draft(ctx context.Context, p survey.Principal, id survey.ID) (survey.Draft, error)
	DraftProblems(ctx context.Context, p survey.Principal, id survey.ID) (survey.Draft, authoring.Problems, error)
	SaveDraft(ctx context.Context, p survey.Principal, id survey.ID, d survey.Draft) (survey.Draft, authoring.Problems, error)
	Publish(ctx context.Context, p survey.Principal, id survey.ID) (survey.Version, error)
	Versions(ctx context.Context, p survey.Principal, id survey.ID) ([]survey.Version, error)
	Offices(ctx context.Context, p survey.Principal, agency survey.ID) ([]survey.Office, error)
	CreateOffice(ctx context.Context, p survey.Principal, agency survey.ID, name string) (survey.Office, error)
	RenameOffice(ctx context.Context, p survey.Principal, id survey.ID, name string) (survey.Office, error)
	Assignments(ctx context.Context, p survey.Principal, agency survey.ID) ([]survey.Assignment, error)
	Assign(ctx context.Context, p survey.Principal, agency survey.ID, a survey.Assignment) ([]survey.Assignment, error)
}

// onSurveys returns the service, the path's id and the caller, or the error to answer.
func (s *Server) onSurveys(c echo.Context) (Surveys, survey.ID, survey.Principal, error) {
	if s.d.Surveys == nil {
		return nil, 0, survey.Principal{}, unavailable("survey management")
	}
	p, _ := principal(c)
	if c.Param("id") == "" {
		return s.d.Surveys, 0, p, nil
	}
	id, err := parseID(c, "id")
	if err != nil {
		return nil, 0, survey.Principal{}, newError(survey.ECodeNotFound)
	}
	return s.d.Surveys, id, p, nil
}

// surveyCall is one call of survey management for the path's id (an agency's or a survey's);
// Surveys' read methods are such calls as method expressions (Surveys.Versions).
type surveyCall[T any] func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID) (T, error)

// answerSurveys runs call for the path's id and answers its result as JSON with status.
func answerSurveys[T any](s *Server, c echo.Context, status int, call surveyCall[T]) error {
	sv, id, p, err := s.onSurveys(c)
	if err != nil {
		return err
	}
	out, err := call(sv, c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

// answerSurveysWith is answerSurveys for a call that takes the request's JSON body B (decoded
// strictly first).
func answerSurveysWith[B, T any](s *Server, c echo.Context, status int,
	call func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID, body B) (T, error)) error {
	return answerSurveys(s, c, status, func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID) (T, error) {
		var b B
		if err := decodeBody(c, &b); err != nil {
			var zero T
			return zero, err
		}
		return call(sv, ctx, p, id, b)
	})
}

// listTemplates answers the ready-made surveys a new survey may start from.
func (s *Server) listTemplates(c echo.Context) error {
	return c.JSON(http.StatusOK, authoring.Templates())
}

// listSurveys answers an agency's surveys (GET /api/v1/agencies/{id}/surveys).
func (s *Server) listSurveys(c echo.Context) error {
	return answerSurveys(s, c, http.StatusOK, Surveys.Surveys)
}

// createSurvey makes a survey, optionally from a template: {"title"?, "template"?} → 201
// {"survey","draft"}.
func (s *Server) createSurvey(c echo.Context) error {
	return answerSurveysWith(s, c, http.StatusCreated, func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID, ns authoring.NewSurvey) (map[string]any, error) {
		made, d, err := sv.CreateSurvey(ctx, p, id, ns)
		return map[string]any{"survey": made, "draft": d}, err
	})
}

// draftAnswer is a draft with what publishing it would refuse.
type draftAnswer struct {
	Draft       survey.Draft       `json:"draft"`
	Problems    authoring.Problems `json:"problems"`
	Publishable bool               `json:"publishable"`
}

// getDraft answers a survey's draft.
func (s *Server) getDraft(c echo.Context) error {
	return answerSurveys(s, c, http.StatusOK, Surveys.Draft)
}

// draftBody is what a client may set of a draft.
type draftBody struct {
	Title     string              `json:"title"`
	Questions []survey.Question   `json:"questions"`
	SMS       *survey.SMSSettings `json:"sms"`
}

// putDraft replaces a survey's draft. It is saved whatever its content (200) and the answer
// lists the problems publishing would refuse, so an editor can save half-written work.
func (s *Server) putDraft(c echo.Context) error {
	return answerSurveysWith(s, c, http.StatusOK, func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID, b draftBody) (draftAnswer, error) {
		d, problems, err := sv.SaveDraft(ctx, p, id, survey.Draft{Title: b.Title, Questions: b.Questions, SMS: b.SMS})
		return draftAnswer{Draft: d, Problems: problems, Publishable: len(problems) == 0}, err
	})
}

// publishSurvey publishes the draft as a new immutable version (201), or refuses it with 422
// and its field errors.
func (s *Server) publishSurvey(c echo.Context) error {
	return answerSurveys(s, c, http.StatusCreated, Surveys.Publish)
}

// listVersions answers a survey's published versions, newest first.
func (s *Server) listVersions(c echo.Context) error {
	return answerSurveys(s, c, http.StatusOK, Surveys.Versions)
}

// listOffices answers an agency's offices.
func (s *Server) listOffices(c echo.Context) error {
	return answerSurveys(s, c, http.StatusOK, Surveys.Offices)
}

// officeBody is an office's editable fields.
type officeBody struct {
	Name string `json:"name"`
}

// createOffice adds an office to the agency: {"name"} → 201 the office.
func (s *Server) createOffice(c echo.Context) error {
	return answerSurveysWith(s, c, http.StatusCreated, func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID, b officeBody) (survey.Office, error) {
		return sv.CreateOffice(ctx, p, id, b.Name)
	})
}

// patchOffice renames an office: {"name"} → 200 the office.
func (s *Server) patchOffice(c echo.Context) error {
	return answerSurveysWith(s, c, http.StatusOK, func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID, b officeBody) (survey.Office, error) {
		return sv.RenameOffice(ctx, p, id, b.Name)
	})
}

// listAssignments answers which survey the agency's offices and channels use.
func (s *Server) listAssignments(c echo.Context) error {
	return answerSurveys(s, c, http.StatusOK, Surveys.Assignments)
}

// assignmentBody sets one assignment; survey_id 0 removes it.
type assignmentBody struct {
	OfficeID survey.ID      `json:"office_id"`
	Channel  survey.Channel `json:"channel"`
	SurveyID survey.ID      `json:"survey_id"`
}

// putAssignment sets which survey an office (0: all) and channel ("": all) use and answers the
// agency's assignments.
func (s *Server) putAssignment(c echo.Context) error {
	return answerSurveysWith(s, c, http.StatusOK, func(sv Surveys, ctx context.Context, p survey.Principal, id survey.ID, b assignmentBody) ([]survey.Assignment, error) {
		return sv.Assign(ctx, p, id, survey.Assignment{OfficeID: b.OfficeID, Channel: b.Channel, SurveyID: b.SurveyID})
	})
}

// previewLink stands for the web form's link in the preview of the invitation that carries one:
// as long as a real short link, so the part count is the real one.
const previewLink = "https://afkar.example.ir/s/0123456789abc"

// previewSurvey shows staff a survey as a channel does (GET /surveys/{id}/preview?as=web|kiosk|sms,
// and version=N for a published version instead of the draft): the web form itself with its
// submit disabled, the kiosk's screens, or the SMS texts with their part counts.
func (s *Server) previewSurvey(c echo.Context) error {
	sv, id, p, err := s.onSurveys(c)
	if err != nil {
		return err
	}
	if s.d.Catalog == nil {
		return unavailable("the catalog")
	}
	ctx := c.Request().Context()
	d, err := sv.Draft(ctx, p, id) // checks the caller may read the survey's agency
	if err != nil {
		return err
	}
	v, label := d.Version(), "پیش‌نویس"
	if q := c.QueryParam("version"); q != "" {
		n, err := strconv.Atoi(survey.NormalizeDigits(q))
		if err != nil {
			return survey.Errorf(survey.ECodeBadRequest, "شمارهٔ نسخه نامعتبر است.", "version must be a number")
		}
		vs, err := sv.Versions(ctx, p, id)
		if err != nil {
			return err
		}
		found := false
		for _, pub := range vs {
			if pub.Version == n {
				v, label, found = pub, "نسخهٔ "+survey.FormatPersianDigits(strconv.Itoa(n)), true
			}
		}
		if !found {
			return survey.Errorf(survey.ECodeNotFound, "این نسخه از پرسشنامه پیدا نشد.", "survey version not found")
		}
	}
	agency, err := s.d.Catalog.Agency(ctx, d.AgencyID)
	if err != nil {
		return err
	}
	switch as := c.QueryParam("as"); as {
	case "", "web":
		return s.pages.Form(c, http.StatusOK, web.FormPage{AgencyName: agency.Name, Version: v, Preview: true})
	case "kiosk":
		return s.pages.Preview(c, web.PreviewPage{AgencyName: agency.Name, SurveyID: id, Label: label, As: as, Version: v})
	case "sms":
		return s.pages.Preview(c, web.PreviewPage{AgencyName: agency.Name, SurveyID: id, Label: label, As: as, Version: v,
			SMS: previewTexts(agency.Name, v)})
	default:
		return survey.Errorf(survey.ECodeBadRequest, "پارامتر as یکی از web، kiosk یا sms است.", "as is web, kiosk or sms")
	}
}

// previewTexts composes the SMS of a version: the invitation answered by a digit, the one with
// the web form's link, and each follow-up question.
func previewTexts(agency string, v survey.Version) []web.PreviewSMS {
	text := func(label string, t string, err error) web.PreviewSMS {
		if err != nil {
			return web.PreviewSMS{Label: label, Error: err.Error()}
		}
		n, _ := sms.Parts(t)
		return web.PreviewSMS{Label: label, Text: t, Parts: n}
	}
	inv, err := sms.ComposeInvitation(sms.Invitation{Agency: agency, Question: sms.InvitationQuestion(v.SMS, false)})
	out := []web.PreviewSMS{text("دعوت با پاسخ عددی", inv, err)}
	inv, err = sms.ComposeInvitation(sms.Invitation{Agency: agency, Question: sms.InvitationQuestion(v.SMS, true), Link: previewLink})
	out = append(out, text("دعوت با پیوند فرم وب", inv, err))
	if v.SMS != nil {
		for _, qid := range v.SMS.FollowUp {
			q, _, ok := v.Question(qid)
			if !ok {
				out = append(out, web.PreviewSMS{Label: "پرسش پیگیری " + qid, Error: "این پرسش در پرسشنامه نیست."})
				continue
			}
			t, err := sms.ComposeFollowUp(q)
			out = append(out, text("پرسش پیگیری: "+q.Title, t, err))
		}
	}
	return out
}
