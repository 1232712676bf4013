package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/authoring"
)

// The staff pages of survey and office management (server-rendered, plain forms, CSRF checked
// by identify). They call the same services as the JSON API — survey/authoring for surveys,
// drafts, offices and assignments, the kiosk channel for office hours — so every rule and
// every audit entry is theirs; a handler here only reads a form and renders a page. Readers of
// an agency see the pages without forms; a change by anyone else is refused by the service.

// managePage starts a management page or form: the logged-in person and the survey service,
// or false when the visitor must log in first (a redirect to /login has been answered).
func (s *Server) managePage(c echo.Context) (survey.Principal, Surveys, bool, error) {
	p, ok := dashboardSession(c)
	if !ok {
		return survey.Principal{}, nil, false, c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.Surveys == nil || s.d.Catalog == nil {
		return survey.Principal{}, nil, false, unavailable("survey management")
	}
	return p, s.d.Surveys, true, nil
}

// surveysPage serves GET /dashboard/agencies/{id}/surveys: the agency's surveys with their
// active version, their draft's state and problems, and links to edit and preview them.
func (s *Server) surveysPage(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := sv.Surveys(ctx, p, id) // checks the caller may read the agency
	if err != nil {
		return err
	}
	agency, err := s.d.Catalog.Agency(ctx, id)
	if err != nil {
		return err
	}
	d := web.SurveysPage{StaffBar: s.staffBar(c, p), AgencyID: id, AgencyName: agency.Name, CanManage: p.CanManageAgency(id), Now: time.Now()}
	for _, t := range authoring.Templates() {
		d.Templates = append(d.Templates, web.TemplateChoice{ID: t.ID, Title: t.Title})
	}
	for _, one := range list {
		row := web.SurveyRow{Survey: one}
		draft, problems, err := sv.DraftProblems(ctx, p, one.ID)
		if err != nil {
			return err
		}
		vs, err := sv.Versions(ctx, p, one.ID)
		if err != nil {
			return err
		}
		for _, v := range vs {
			row.Versions = append(row.Versions, v.Version)
		}
		row.Problems = len(problems)
		row.DraftState = draftState(draft, vs)
		d.Rows = append(d.Rows, row)
	}
	return s.pages.SurveysPageRender(c, d)
}

// draftState says in Persian how a draft stands against the survey's newest version (vs are
// newest first).
func draftState(d survey.Draft, vs []survey.Version) string {
	if len(vs) == 0 {
		return "پیش‌نویس، هنوز منتشر نشده"
	}
	if sameContent(d.Version(), vs[0]) {
		return "همان نسخهٔ " + survey.FormatPersianDigits(strconv.Itoa(vs[0].Version))
	}
	return "تغییرهای منتشرنشده"
}

// sameContent compares what citizens would be asked: title, questions and SMS settings.
func sameContent(a, b survey.Version) bool {
	enc := func(v survey.Version) string {
		raw, _ := json.Marshal([]any{v.Title, v.Questions, v.SMS})
		return string(raw)
	}
	return enc(a) == enc(b)
}

// createSurveyForm serves POST /dashboard/agencies/{id}/surveys: a survey from a template (the
// national one when the form names none), then its editor.
func (s *Server) createSurveyForm(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	tmpl := c.FormValue("template")
	if tmpl == "" {
		tmpl = authoring.TemplateNational
	}
	made, _, err := sv.CreateSurvey(c.Request().Context(), p, id, authoring.NewSurvey{Title: strings.TrimSpace(c.FormValue("title")), Template: tmpl})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/dashboard/surveys/"+made.ID.String()+"/edit")
}

// editorPage serves GET /dashboard/surveys/{id}/edit: the draft as a form for those who may
// change it, read-only for the agency's other staff, with its problems beside the fields.
func (s *Server) editorPage(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	d, problems, err := sv.DraftProblems(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	notice := ""
	if n := c.QueryParam("published"); n != "" {
		notice = "نسخهٔ " + survey.FormatPersianDigits(n) + " منتشر شد و از این پس به شهروندان نشان داده می‌شود."
	}
	return s.renderEditor(c, p, http.StatusOK, d, problems, notice, "")
}

// renderEditor renders the editor of draft d with its problems.
func (s *Server) renderEditor(c echo.Context, p survey.Principal, status int, d survey.Draft, problems authoring.Problems, notice, refused string) error {
	ctx := c.Request().Context()
	list, err := s.d.Surveys.Surveys(ctx, p, d.AgencyID)
	if err != nil {
		return err
	}
	page := web.EditorPage{StaffBar: s.staffBar(c, p), AgencyID: d.AgencyID, Draft: d, Questions: web.EditorQuestions(d),
		SMS: web.EditorSMSOf(d.SMS), Problems: problems, CanEdit: p.CanManageAgency(d.AgencyID), Notice: notice, Refused: refused, Now: time.Now()}
	for _, one := range list {
		if one.ID == d.SurveyID {
			page.Survey = one
		}
	}
	agency, err := s.d.Catalog.Agency(ctx, d.AgencyID)
	if err != nil {
		return err
	}
	page.AgencyName = agency.Name
	return s.pages.EditorPageRender(c, status, page)
}

// editorForm serves POST /dashboard/surveys/{id}/edit: the form is always saved as the draft
// (after the button's add, remove or move), then shown again with its problems; "publish"
// publishes the saved draft as a new version and returns to the editor, or shows why not.
func (s *Server) editorForm(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	form, err := c.FormParams()
	if err != nil {
		return survey.Errorf(survey.ECodeBadRequest, "فرم خوانده نشد.", "the form could not be read")
	}
	draft, action, unread := web.ParseEditorForm(form)
	action.Apply(&draft)
	ctx := c.Request().Context()
	saved, problems, err := sv.SaveDraft(ctx, p, id, draft)
	if err != nil {
		return err
	}
	if action.Kind == "publish" && len(problems) == 0 && len(unread) == 0 {
		v, err := sv.Publish(ctx, p, id)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/dashboard/surveys/"+id.String()+"/edit?published="+strconv.Itoa(v.Version))
		}
		var se *survey.Error
		if !errors.As(err, &se) || se.Code != survey.ECodeInvalid {
			return err
		}
		problems = authoring.Problems(se.Fields)
	}
	for k, v := range unread {
		if problems == nil {
			problems = authoring.Problems{}
		}
		problems[k] = v
	}
	notice, refused, status := "پیش‌نویس ذخیره شد.", "", http.StatusOK
	if action.Kind == "publish" {
		notice, status = "", http.StatusUnprocessableEntity
		refused = "منتشر نشد: پیش‌نویس ذخیره شد، ولی " + survey.FormatPersianDigits(strconv.Itoa(len(problems))) + " مشکل دارد."
	}
	return s.renderEditor(c, p, status, saved, problems, notice, refused)
}

// officesPage serves GET /dashboard/agencies/{id}/offices.
func (s *Server) officesPage(c echo.Context) error {
	p, _, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	return s.renderOffices(c, p, id, http.StatusOK, 0, nil)
}

// renderOffices renders agency's offices page; problems (in Persian) belong to office (0: the
// page as a whole).
func (s *Server) renderOffices(c echo.Context, p survey.Principal, agency survey.ID, status int, office survey.ID, problems []string) error {
	ctx := c.Request().Context()
	sv := s.d.Surveys
	offices, err := sv.Offices(ctx, p, agency) // checks the caller may read the agency
	if err != nil {
		return err
	}
	as, err := sv.Assignments(ctx, p, agency)
	if err != nil {
		return err
	}
	list, err := sv.Surveys(ctx, p, agency)
	if err != nil {
		return err
	}
	a, err := s.d.Catalog.Agency(ctx, agency)
	if err != nil {
		return err
	}
	d := web.OfficesPage{StaffBar: s.staffBar(c, p), AgencyID: agency, AgencyName: a.Name, CanManage: p.CanManageAgency(agency),
		Surveys: list, Now: time.Now(), Default: web.OfficeBlock{Assign: web.AssignCells(as, 0)}}
	if office == 0 {
		d.Problems = problems
	}
	for _, o := range offices {
		b := web.OfficeBlock{Office: o, Assign: web.AssignCells(as, o.ID)}
		if s.d.Kiosks != nil {
			h, err := s.d.Kiosks.Hours(ctx, p, o.ID)
			if err != nil {
				return err
			}
			b.Hours = web.HoursFormOf(h)
		}
		if o.ID == office {
			b.Problems = problems
		}
		d.Offices = append(d.Offices, b)
	}
	return s.pages.OfficesPageRender(c, status, d)
}

// problemsFA lists an invalid request's field problems in Persian (its message without
// fields); ok is false for any other error, which the caller returns as it is.
func problemsFA(err error) ([]string, bool) {
	var se *survey.Error
	if !errors.As(err, &se) || se.Code != survey.ECodeInvalid {
		return nil, false
	}
	var out []string
	for _, f := range se.Fields {
		if f.MessageFA != "" {
			out = append(out, f.MessageFA)
		} else {
			out = append(out, f.Message)
		}
	}
	if len(out) == 0 {
		out = append(out, se.MessageFA)
	}
	sort.Strings(out)
	return out, true
}

// formAgency reads the form's back field: the agency whose offices page to return to.
func formAgency(c echo.Context) survey.ID {
	n, err := strconv.ParseInt(survey.NormalizeDigits(c.FormValue("back")), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return survey.ID(n)
}

// officesLocation is the offices page of agency, at anchor.
func officesLocation(agency survey.ID, anchor string) string {
	if agency == 0 {
		return "/dashboard"
	}
	return "/dashboard/agencies/" + url.PathEscape(agency.String()) + "/offices" + anchor
}

// createOfficeForm serves POST /dashboard/agencies/{id}/offices: {name}.
func (s *Server) createOfficeForm(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	o, err := sv.CreateOffice(c.Request().Context(), p, id, strings.TrimSpace(c.FormValue("name")))
	if err != nil {
		if msgs, ok := problemsFA(err); ok {
			return s.renderOffices(c, p, id, http.StatusUnprocessableEntity, 0, msgs)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, officesLocation(id, "#office-"+o.ID.String()))
}

// renameOfficeForm serves POST /dashboard/offices/{id}: {name, back}.
func (s *Server) renameOfficeForm(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	o, err := sv.RenameOffice(c.Request().Context(), p, id, strings.TrimSpace(c.FormValue("name")))
	if err != nil {
		if msgs, ok := problemsFA(err); ok && formAgency(c) != 0 {
			return s.renderOffices(c, p, formAgency(c), http.StatusUnprocessableEntity, id, msgs)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, officesLocation(o.AgencyID, "#office-"+o.ID.String()))
}

// officeHoursForm serves POST /dashboard/offices/{id}/hours: each weekday's spans, always
// open, the holidays, and back (the agency's page). The kiosk channel checks and stores them;
// a refusal shows the page again with the problems beside the office.
func (s *Server) officeHoursForm(c echo.Context) error {
	p, _, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	if s.d.Kiosks == nil {
		return unavailable("office hours")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	form, err := c.FormParams()
	if err != nil {
		return survey.Errorf(survey.ECodeBadRequest, "فرم خوانده نشد.", "the form could not be read")
	}
	h, unread := web.ParseHoursForm(form)
	back := formAgency(c)
	var msgs []string
	for _, f := range unread {
		msgs = append(msgs, f.MessageFA)
	}
	if len(msgs) == 0 { // a form that could not be read is not half-saved
		if _, err := s.d.Kiosks.SetHours(c.Request().Context(), p, id, h); err != nil {
			m, ok := problemsFA(err)
			if !ok {
				return err
			}
			msgs = m
		}
	}
	if len(msgs) > 0 {
		sort.Strings(msgs)
		if back == 0 {
			return survey.Errorf(survey.ECodeInvalid, "ساعت کاری پذیرفته نشد: "+strings.Join(msgs, " "), "the office hours were refused")
		}
		return s.renderOffices(c, p, back, http.StatusUnprocessableEntity, id, msgs)
	}
	return c.Redirect(http.StatusSeeOther, officesLocation(back, "#office-"+id.String()))
}

// assignForm serves POST /dashboard/agencies/{id}/assignments: one office's row (office_id, 0
// for every office) with a survey per channel (ch_, ch_web, ch_kiosk, ch_sms; 0 for the
// agency's default). Only the cells that changed are set, each audited by the service.
func (s *Server) assignForm(c echo.Context) error {
	p, sv, ok, err := s.managePage(c)
	if !ok {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	office, _ := strconv.ParseInt(survey.NormalizeDigits(c.FormValue("office_id")), 10, 64)
	current, err := sv.Assignments(ctx, p, id)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return survey.Errorf(survey.ECodeBadRequest, "فرم خوانده نشد.", "the form could not be read")
	}
	changed := false
	for _, cell := range web.AssignCells(current, survey.ID(office)) {
		raw, present := form["ch_"+cell.Channel]
		if !present || len(raw) == 0 {
			continue
		}
		want, err := strconv.ParseInt(survey.NormalizeDigits(strings.TrimSpace(raw[0])), 10, 64)
		if err != nil || want < 0 {
			return survey.Errorf(survey.ECodeInvalid, "پرسش‌نامهٔ برگزیده نامعتبر است.", "survey must be an id")
		}
		if survey.ID(want) == cell.SurveyID {
			continue
		}
		changed = true
		if _, err := sv.Assign(ctx, p, id, survey.Assignment{OfficeID: survey.ID(office), Channel: survey.Channel(cell.Channel), SurveyID: survey.ID(want)}); err != nil {
			if msgs, ok := problemsFA(err); ok {
				return s.renderOffices(c, p, id, http.StatusUnprocessableEntity, survey.ID(office), msgs)
			}
			return err
		}
	}
	if !changed && !p.CanManageAgency(id) {
		// Nothing changed, so the service was not called; a reader's form is still refused.
		return survey.Errorf(survey.ECodeForbidden, "فقط مدیر دستگاه یا مدیر استان می‌تواند این را تغییر دهد.",
			"only an admin of the agency or of the province may change this")
	}
	return c.Redirect(http.StatusSeeOther, officesLocation(id, "#assignments"))
}
