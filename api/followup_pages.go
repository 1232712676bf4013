package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/survey"
)

// This file serves the staff pages that act: the alerts block of the dashboards and its
// acknowledgement form, the follow-up cases page and its forms, and the audit log page. Every
// form is a plain POST with the session's CSRF token (identify checks it) and answers with a
// redirect back, so the pages work with JavaScript off. What a person may do is decided by the
// services from the principal; the handlers only choose which forms to show by the same rules.

// recentClosedAlerts is how many closed alerts an agency's dashboard keeps under the open ones.
const recentClosedAlerts = 10

// caseCommentQuery is the page of recent comments the cases page looks its cases' comments up in.
var caseCommentQuery = analytics.CommentQuery{Limit: 200}

// auditPageSize is one page of the audit log page.
const auditPageSize = 50

// agencyAlerts is the alerts block of agency id's dashboard: open alerts and the recent closed
// ones. Without an alert desk wired the block is not loaded (and not shown).
func (s *Server) agencyAlerts(ctx context.Context, p survey.Principal, id survey.ID, offices map[survey.ID]string) (web.AlertsBlock, error) {
	b := web.AlertsBlock{Back: id.String()}
	if s.d.Alerts == nil {
		return b, nil
	}
	as, err := s.d.Alerts.List(ctx, p, id, false)
	if err != nil {
		return b, err
	}
	b.Loaded = true
	for _, a := range web.RecentAlerts(as, recentClosedAlerts) {
		b.Lines = append(b.Lines, web.NewAlertLine(a, offices, p.CanManageAgency(a.AgencyID)))
	}
	return b, nil
}

// provinceAlerts is the alerts block of the province dashboard: the open alerts of every agency
// p may read, newest first, each naming and linking its agency.
func (s *Server) provinceAlerts(ctx context.Context, p survey.Principal, agencies map[survey.ID]string) (web.AlertsBlock, error) {
	b := web.AlertsBlock{Back: "province"}
	if s.d.Alerts == nil {
		return b, nil
	}
	as, err := s.d.Alerts.List(ctx, p, 0, true)
	if err != nil {
		return b, err
	}
	b.Loaded = true
	for _, a := range web.RecentAlerts(as, 0) {
		l := web.NewAlertLine(a, nil, p.CanManageAgency(a.AgencyID))
		if l.Agency = agencies[a.AgencyID]; l.Agency == "" {
			l.Agency = "دستگاه " + survey.FormatPersianDigits(a.AgencyID.String())
		}
		b.Lines = append(b.Lines, l)
	}
	return b, nil
}

// caseCounts counts agency id's open follow-up cases and those past their 48 h target.
func (s *Server) caseCounts(ctx context.Context, p survey.Principal, id survey.ID, now time.Time) (*web.CaseCounts, error) {
	if s.d.Cases == nil {
		return nil, nil
	}
	open, err := s.d.Cases.List(ctx, p, id, survey.CaseOpen)
	if err != nil {
		return nil, err
	}
	cc := &web.CaseCounts{Open: len(open)}
	for _, k := range open {
		if now.After(k.AckDue) {
			cc.Overdue++
		}
	}
	return cc, nil
}

// formBack reads the back field of a dashboard form: "province" or an agency's id, and returns
// the page to go back to (the province dashboard when it is neither).
func formBack(c echo.Context, anchor string) string {
	if n, err := strconv.ParseInt(c.FormValue("back"), 10, 64); err == nil && n > 0 {
		return "/dashboard/agencies/" + strconv.FormatInt(n, 10) + anchor
	}
	return dashboardPath + anchor
}

// ackAlertForm serves POST /dashboard/alerts/{id}/ack (comment, back, csrf_token): the
// acknowledgement form of the dashboards' alerts block. The alert desk decides who may (an admin
// of the alert's agency or of the province) and audits it; the answer goes back to the block.
func (s *Server) ackAlertForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	d, err := s.alerts()
	if err != nil {
		return err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	if _, err := d.Ack(c.Request().Context(), p, id, c.FormValue("comment")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, formBack(c, "#alerts"))
}

// casesPage serves GET /dashboard/agencies/{id}/cases?status=&flash=: the agency's follow-up
// cases with their age against the 48 h target and the forms the reader may use.
func (s *Server) casesPage(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if _, err := s.cases(); err != nil {
		return err
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	return s.renderCases(c, p, id, c.QueryParam("status"), survey.Case{}, caseFlash[c.QueryParam("flash")])
}

// caseFlash are the messages a case form leaves on the page it goes back to, by a fixed key
// (never text from the query string).
var caseFlash = map[string]string{
	"ack":      "پرونده پذیرفته شد.",
	"assign":   "پرونده به شما واگذار شد.",
	"resolve":  "پرونده بسته شد.",
	"conflict": "این پرونده پیش‌تر پذیرفته یا بسته شده است؛ فهرست به‌روز شد.",
	"invalid":  "کار انجام نشد: نتیجهٔ پیگیری را بنویسید (حداکثر ۲۰۰۰ نویسه)، و واگذاری فقط به کارکنان همین دستگاه است.",
}

// renderCases renders agency id's cases page; revealed, when set, is the case whose full number
// this answer shows (the reveal form's answer: the number is never put in a URL).
func (s *Server) renderCases(c echo.Context, p survey.Principal, id survey.ID, status string, revealed survey.Case, flash string) error {
	ctx := c.Request().Context()
	list, err := s.d.Cases.List(ctx, p, id, survey.CaseStatus(status))
	if err != nil {
		return err
	}
	page := web.CasesPage{StaffBar: s.staffBar(c, p), AgencyID: id, Status: status, Revealed: revealed.ID, Flash: flash, Now: time.Now()}
	if s.d.Catalog != nil {
		if a, err := s.d.Catalog.Agency(ctx, id); err == nil {
			page.AgencyName = a.Name
		}
	}
	offices := map[survey.ID]string{}
	if s.d.Catalog != nil {
		if os, err := s.d.Catalog.Offices(ctx, id); err == nil {
			for _, o := range os {
				offices[o.ID] = o.Name
			}
		}
	}
	owners := map[survey.ID]string{}
	if s.d.Accounts != nil && p.CanManageUsers(p.AgencyID) {
		if us, err := s.d.Accounts.Users(ctx, p); err == nil {
			for _, u := range us {
				owners[u.ID] = u.Name
			}
		}
	}
	comments := s.caseComments(ctx, p, id, list)
	manage := p.CanManageAgency(id)
	mine := p.Role == survey.RoleAgencyAdmin && p.AgencyID == id
	for _, k := range list {
		l := web.CaseLine{Case: k, Office: offices[k.OfficeID], Comment: comments[k.ResponseID]}
		if k.ID == revealed.ID {
			l.Phone = revealed.Phone
		}
		switch {
		case k.OwnerID == 0:
		case k.OwnerID == p.UserID:
			l.Owner = "شما (" + p.Name + ")"
		case owners[k.OwnerID] != "":
			l.Owner = owners[k.OwnerID]
		default:
			l.Owner = "کاربر " + survey.FormatPersianDigits(k.OwnerID.String())
		}
		closed := l.Closed()
		l.CanAck = k.Status == survey.CaseOpen && (manage || (p.UserID != 0 && p.UserID == k.OwnerID))
		l.CanAssign = !closed && mine && p.UserID != 0 && k.OwnerID != p.UserID
		l.CanResolve = !closed && manage
		l.CanReveal = !closed && mine && k.ID != revealed.ID // a closed case needs no call back
		page.Cases = append(page.Cases, l)
	}
	return s.pages.CasesPageRender(c, page)
}

// caseComments returns the redacted written answers of the cases' responses, by response id,
// from the agency's recent comments (the comments service redacts and checks tenancy). A case
// whose comment is older than that page shows none.
func (s *Server) caseComments(ctx context.Context, p survey.Principal, id survey.ID, list []survey.Case) map[string]string {
	out := map[string]string{}
	if s.d.Comments == nil || len(list) == 0 {
		return out
	}
	want := map[string]bool{}
	for _, k := range list {
		want[k.ResponseID] = true
	}
	page, err := s.d.Comments.List(ctx, p, id, caseCommentQuery)
	if err != nil {
		return out
	}
	for _, cm := range page.Comments {
		if want[cm.ResponseID] && cm.State == survey.CommentVisible {
			if prev := out[cm.ResponseID]; prev != "" {
				out[cm.ResponseID] = prev + " — " + cm.Text
			} else {
				out[cm.ResponseID] = cm.Text
			}
		}
	}
	return out
}

// caseForm serves POST /dashboard/cases/{id}/{ack,assign,resolve,reveal}: the cases page's
// forms. The cases service checks tenancy and roles (another agency's case is 404, a viewer 403)
// and audits; a refusal of the request itself (already closed, no outcome) goes back to the page
// with a message. Reveal answers with the page showing that one number.
func (s *Server) caseForm(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := dashboardSession(c)
		if !ok {
			return c.Redirect(http.StatusSeeOther, loginPath)
		}
		cs, err := s.cases()
		if err != nil {
			return err
		}
		id, err := parseID(c, "id")
		if err != nil {
			return newError(survey.ECodeNotFound)
		}
		ctx := c.Request().Context()
		var k survey.Case
		switch action {
		case "ack":
			k, err = cs.Ack(ctx, p, id)
		case "assign":
			k, err = cs.Assign(ctx, p, id, p.UserID)
		case "resolve":
			k, err = cs.Resolve(ctx, p, id, cases.Resolution{Outcome: c.FormValue("outcome"),
				AskCitizen: c.FormValue("ask_citizen") != "", NoContact: c.FormValue("no_contact") != ""})
		case "reveal":
			if k, err = cs.Reveal(ctx, p, id); err == nil {
				return s.renderCases(c, p, k.AgencyID, "", k, "")
			}
		}
		flash := action
		if code := survey.ErrorCode(err); code == survey.ECodeConflict || code == survey.ECodeInvalid {
			if k, err = cs.Get(ctx, p, id); err != nil {
				return err
			}
			flash = string(code)
		} else if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/dashboard/agencies/"+k.AgencyID.String()+"/cases?flash="+url.QueryEscape(flash)+"#cases")
	}
}

// auditPage serves GET /dashboard/audit?agency_id=&before=: the audit log, newest first, a page
// at a time — a province admin's of every agency (or one), an agency admin's of its own; the
// accounts service refuses everyone else.
func (s *Server) auditPage(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	a, err := s.accounts()
	if err != nil {
		return err
	}
	q := survey.AuditQuery{Limit: auditPageSize}
	num := func(name string) (survey.ID, error) {
		v := strings.TrimSpace(survey.NormalizeDigits(c.QueryParam(name)))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, survey.Errorf(survey.ECodeBadRequest, "پارامتر %s باید عدد باشد.", "%s must be a number", name)
		}
		return survey.ID(n), nil
	}
	if q.BeforeID, err = num("before"); err != nil {
		return err
	}
	if q.AgencyID, err = num("agency_id"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	es, err := a.AuditLog(ctx, p, q)
	if err != nil {
		return err
	}
	page := web.AuditPage{StaffBar: s.staffBar(c, p), Now: time.Now()}
	if p.Role == survey.RoleProvinceAdmin {
		page.AgencyID = q.AgencyID
	}
	names := map[survey.ID]string{}
	if s.d.Catalog != nil {
		if ags, err := s.d.Catalog.Agencies(ctx, p); err == nil {
			for _, ag := range ags {
				names[ag.ID] = ag.Name
			}
			if p.Role == survey.RoleProvinceAdmin {
				page.Agencies = ags
			}
		}
	}
	for _, e := range es {
		page.Lines = append(page.Lines, web.NewAuditLine(e, names))
	}
	if len(es) == auditPageSize {
		page.Older = es[len(es)-1].ID
	}
	return s.pages.AuditPageRender(c, page)
}

// canReadAudit is the audit log's rule (survey/staff.Service.AuditLog): a province admin, or an
// admin of an agency. The staff header links the page for them only.
func canReadAudit(p survey.Principal) bool {
	return p.Role == survey.RoleProvinceAdmin || p.CanManageUsers(p.AgencyID)
}

// getOfficeScores answers GET /api/v1/agencies/{id}/offices/scores?from=&to=: the agency's
// offices side by side over the period (n, mean with its interval, share satisfied, the 0–100
// index, enough), as the agency dashboard's office table shows them.
func (s *Server) getOfficeScores(c echo.Context) error {
	if s.d.Dashboard == nil {
		return unavailable("dashboards")
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	rows, err := s.d.Dashboard.Offices(c.Request().Context(), p, id, periodQuery(c))
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []analytics.OfficeRow{}
	}
	return c.JSON(http.StatusOK, map[string]any{"agency_id": id, "offices": rows})
}
