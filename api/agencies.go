package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// parseID reads an :id path parameter. Ids are opaque to clients, so anything that is not one of
// ours is simply "not found" (in Persian or ASCII digits alike).
func parseID(c echo.Context, name string) (survey.ID, error) {
	n, err := strconv.ParseInt(survey.NormalizeDigits(strings.TrimSpace(c.Param(name))), 10, 64)
	if err != nil || n <= 0 {
		return 0, survey.ErrForbiddenAgency()
	}
	return survey.ID(n), nil
}

// unavailable explains a route whose dependency was not wired.
func unavailable(what string) error {
	// Not Errorf: the Persian message names no part, so it has no verb to fill.
	return &survey.Error{Code: survey.ECodeUnavailable, Message: what + " is not configured", MessageFA: "این بخش سامانه راه‌اندازی نشده است."}
}

// listAgencies answers the agencies the caller may see: every agency for province staff, their
// own for agency staff (the catalog decides, from the principal).
func (s *Server) listAgencies(c echo.Context) error {
	if s.d.Catalog == nil {
		return unavailable("the catalog")
	}
	p, _ := principal(c)
	as, err := s.d.Catalog.Agencies(c.Request().Context(), p)
	if err != nil {
		return err
	}
	if as == nil {
		as = []survey.Agency{}
	}
	return c.JSON(http.StatusOK, as)
}

// surveyView is what a form or kiosk needs to ask an agency's active survey and submit answers:
// the version to name in the submission, its questions, and the offices a response may name.
type surveyView struct {
	ID         survey.ID         `json:"id"`
	AgencyID   survey.ID         `json:"agency_id"`
	AgencyName string            `json:"agency_name"`
	Version    int               `json:"version"`
	Title      string            `json:"title"`
	Questions  []survey.Question `json:"questions"`
	Offices    []officeView      `json:"offices"`
}

type officeView struct {
	ID   survey.ID `json:"id"`
	Name string    `json:"name"`
}

// getSurvey answers the agency's active published survey to anyone: citizens must be able to
// load it from a QR code without an account.
func (s *Server) getSurvey(c echo.Context) error {
	if s.d.Catalog == nil {
		return unavailable("the catalog")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ag, err := s.d.Catalog.Agency(ctx, id)
	if err != nil {
		return notFoundAsAgency(err)
	}
	v, err := s.d.Catalog.ActiveVersion(ctx, id)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return survey.Errorf(survey.ECodeNotFound, "این دستگاه پرسشنامه فعالی ندارد.", "the agency has no active survey")
		}
		return err
	}
	offices, err := s.d.Catalog.Offices(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newSurveyView(ag.Name, v, offices))
}

// newSurveyView is the survey as forms and kiosks read it (GET /agencies/{id}/survey, and the
// kiosk's configuration).
func newSurveyView(agencyName string, v survey.Version, offices []survey.Office) surveyView {
	view := surveyView{
		ID: v.SurveyID, AgencyID: v.AgencyID, AgencyName: agencyName, Version: v.Version,
		Title: v.Title, Questions: withBounds(v.Questions), Offices: make([]officeView, 0, len(offices)),
	}
	if view.Questions == nil {
		view.Questions = []survey.Question{}
	}
	for _, o := range offices {
		view.Offices = append(view.Offices, officeView{ID: o.ID, Name: o.Name})
	}
	return view
}

// notFoundAsAgency gives a missing agency a message that says what was missing.
func notFoundAsAgency(err error) error {
	if survey.ErrorCode(err) == survey.ECodeNotFound {
		return survey.ErrForbiddenAgency()
	}
	return err
}

// getScore answers an agency's score for a period (from, to), for the whole agency or one of its
// offices (office_id; an office that is not the agency's is 404 like a foreign agency). The
// scores service enforces tenancy from the principal; the handler also refuses early, without
// touching storage, a principal that may not read the agency — with the same not-found answer,
// so other agencies' existence never leaks.
func (s *Server) getScore(c echo.Context) error {
	if s.d.Scores == nil {
		return unavailable("scoring")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	p, _ := principal(c)
	if !p.CanReadAgency(id) {
		return survey.ErrForbiddenAgency()
	}
	sc, err := s.d.Scores.Score(c.Request().Context(), p, id, analytics.ScoreQuery{
		From: c.QueryParam("from"), To: c.QueryParam("to"), Office: c.QueryParam("office_id")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sc)
}

// withBounds fills each numeric question's min and max from its type when the version left them
// zero, so clients draw the scale without knowing the defaults.
func withBounds(qs []survey.Question) []survey.Question {
	out := make([]survey.Question, len(qs))
	for i, q := range qs {
		switch q.Type {
		case survey.TypeRating5, survey.TypeNPS, survey.TypeYesNo:
			q.Min, q.Max = q.Bounds()
		case survey.TypeText:
			q.MaxLength = q.TextMax()
		}
		out[i] = q
	}
	return out
}
