package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
)

// Dashboards computes the staff dashboards' figures (analytics.Dashboard). Like Scores it
// checks the principal itself; handlers pass the query parameters through as written.
type Dashboards interface {
	Trend(ctx context.Context, p survey.Principal, agencyID survey.ID, q analytics.PeriodQuery) (analytics.TrendSeries, error)
	ProvinceTable(ctx context.Context, p survey.Principal, q analytics.PeriodQuery) (analytics.ProvinceTable, error)
	Offices(ctx context.Context, p survey.Principal, agencyID survey.ID, q analytics.PeriodQuery) ([]analytics.OfficeRow, error)
	ProvinceBenchmark(ctx context.Context, p survey.Principal, q analytics.PeriodQuery) (analytics.Benchmark, error)
}

// CommentService lists citizens' comments, redacted, and records moderation (analytics.Comments);
// it checks the principal itself.
type CommentService interface {
	List(ctx context.Context, p survey.Principal, agencyID survey.ID, q analytics.CommentQuery) (analytics.CommentPage, error)
	Moderate(ctx context.Context, p survey.Principal, responseID, questionID string, state survey.CommentState) error
}

// HourReader gives the heatmap its data: citizens per weekday (Saturday first) and hour of the
// Tehran day, of one agency (and office, 0 for all) between two inclusive Tehran days. The hourly
// rollups implement it; without one the heatmap says «داده کافی نیست».
type HourReader interface {
	HourHeatmap(ctx context.Context, agency, office survey.ID, fromDay, toDay string) ([7][24]int64, error)
}

func periodQuery(c echo.Context) analytics.PeriodQuery {
	return analytics.PeriodQuery{From: c.QueryParam("from"), To: c.QueryParam("to"), By: c.QueryParam("by"), Office: c.QueryParam("office_id")}
}

// getTrend answers GET /api/v1/agencies/{id}/trend?from=&to=&by=&office_id=.
func (s *Server) getTrend(c echo.Context) error {
	if s.d.Dashboard == nil {
		return unavailable("dashboards")
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	tr, err := s.d.Dashboard.Trend(c.Request().Context(), p, id, periodQuery(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tr)
}

// getProvinceAgencies answers GET /api/v1/province/agencies?from=&to=&sort=: every agency the
// caller may read, with figures, intervals, n and the funnel plot.
func (s *Server) getProvinceAgencies(c echo.Context) error {
	if s.d.Dashboard == nil {
		return unavailable("dashboards")
	}
	p, _ := principal(c)
	t, err := s.d.Dashboard.ProvinceTable(c.Request().Context(), p, periodQuery(c))
	if err != nil {
		return err
	}
	analytics.SortAgencies(t.Agencies, c.QueryParam("sort"))
	return c.JSON(http.StatusOK, t)
}

// getComments answers GET /api/v1/agencies/{id}/comments?office_id=&before=&limit=: recent
// written answers, newest first, redacted, with their moderation state.
func (s *Server) getComments(c echo.Context) error {
	if s.d.Comments == nil {
		return unavailable("comments")
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	limit, _ := strconv.Atoi(survey.NormalizeDigits(c.QueryParam("limit")))
	page, err := s.d.Comments.List(c.Request().Context(), p, id, analytics.CommentQuery{
		Office: c.QueryParam("office_id"), Before: c.QueryParam("before"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// moderationRequest is POST /api/v1/comments/{response_id}/{question_id}/moderation's body.
type moderationRequest struct {
	State survey.CommentState `json:"state"`
}

// postModeration answers POST /api/v1/comments/{response_id}/{question_id}/moderation.
func (s *Server) postModeration(c echo.Context) error {
	if s.d.Comments == nil {
		return unavailable("comments")
	}
	var req moderationRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, _ := principal(c)
	rid, qid := c.Param("response_id"), c.Param("question_id")
	if err := s.d.Comments.Moderate(c.Request().Context(), p, rid, qid, req.State); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"response_id": rid, "question_id": qid, "state": string(req.State)})
}

// dashboardSession returns the principal of a logged-in person, or false when the page must
// send them to /login.
func dashboardSession(c echo.Context) (survey.Principal, bool) {
	p, ok := principal(c)
	return p, ok && p.IsStaff() && sessionToken(c) != ""
}

// dashboard serves GET /dashboard, where a login lands: the province dashboard for province
// roles, the agency's dashboard for agency roles. A visitor without a session goes to /login.
func (s *Server) dashboard(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if !p.Role.ProvinceRole() {
		q := c.QueryString()
		target := "/dashboard/agencies/" + p.AgencyID.String()
		if q != "" {
			target += "?" + q
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
	if s.d.Dashboard == nil {
		return unavailable("dashboards")
	}
	pq := periodQuery(c)
	t, err := s.d.Dashboard.ProvinceTable(c.Request().Context(), p, pq)
	if err != nil {
		return err
	}
	sort := c.QueryParam("sort")
	analytics.SortAgencies(t.Agencies, sort)
	if sort == "" {
		sort = "-mean"
	}
	names := make(map[survey.ID]string, len(t.Agencies))
	for _, a := range t.Agencies {
		names[a.AgencyID] = a.Name
	}
	alerts, err := s.provinceAlerts(c.Request().Context(), p, names)
	if err != nil {
		return err
	}
	return s.pages.ProvinceDashboardPage(c, web.ProvinceDashboard{
		StaffBar: s.staffBar(c, p), Form: web.PeriodForm{From: pq.From, To: pq.To}, Table: t, Sort: sort, Alerts: alerts, Now: time.Now()})
}

func (s *Server) staffBar(c echo.Context, p survey.Principal) web.StaffBar {
	csrf := ""
	if s.d.Accounts != nil {
		csrf = s.d.Accounts.CSRFToken(sessionToken(c))
	}
	return web.StaffBar{Name: p.Name, CSRF: csrf, Province: p.Role.ProvinceRole(), Audit: s.d.Accounts != nil && canReadAudit(p)}
}

// agencyDashboard serves GET /dashboard/agencies/{id}: one agency's dashboard over the period
// picked (from, to, by; office_id), for anyone who may read the agency.
func (s *Server) agencyDashboard(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.Dashboard == nil || s.d.Scores == nil || s.d.Catalog == nil {
		return unavailable("dashboards")
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pq := periodQuery(c)
	tr, err := s.d.Dashboard.Trend(ctx, p, id, pq)
	if err != nil {
		return err
	}
	span := analytics.PeriodQuery{From: tr.Span.From, To: tr.Span.To, By: string(tr.Span.By), Office: pq.Office}
	d := web.AgencyDashboard{StaffBar: s.staffBar(c, p), Trend: tr, Now: time.Now(),
		Form: web.PeriodForm{From: pq.From, To: pq.To, By: string(tr.Span.By)}, CanModerate: p.CanManageAgency(id)}
	if d.Score, err = s.d.Scores.Score(ctx, p, id, analytics.ScoreQuery{From: span.From, To: span.To, Office: pq.Office}); err != nil {
		return err
	}
	if d.Offices, err = s.d.Dashboard.Offices(ctx, p, id, span); err != nil {
		return err
	}
	if d.Benchmark, err = s.d.Dashboard.ProvinceBenchmark(ctx, p, span); err != nil {
		return err
	}
	offices := make(map[survey.ID]string, len(d.Offices))
	for _, o := range d.Offices {
		offices[o.OfficeID] = o.Name
	}
	if d.Alerts, err = s.agencyAlerts(ctx, p, id, offices); err != nil {
		return err
	}
	if d.Cases, err = s.caseCounts(ctx, p, id, d.Now); err != nil {
		return err
	}
	if v, err := s.d.Catalog.ActiveVersion(ctx, id); err == nil {
		d.Options = map[string]string{}
		for _, q := range v.Questions {
			for _, o := range q.Options {
				d.Options[o.ID] = o.Label
			}
		}
	}
	if s.d.Comments != nil {
		page, err := s.d.Comments.List(ctx, p, id, analytics.CommentQuery{Office: pq.Office, Limit: 20})
		if err != nil {
			return err
		}
		d.Comments = page.Comments
	}
	if s.d.Hours != nil {
		office, _ := strconv.ParseInt(survey.NormalizeDigits(pq.Office), 10, 64)
		m, err := s.d.Hours.HourHeatmap(ctx, id, survey.ID(office), span.From, span.To)
		if err != nil {
			return err
		}
		d.Heatmap = &m
	}
	if s.d.Kiosks != nil {
		if ks, err := s.d.Kiosks.List(ctx, p, id); err == nil {
			for _, k := range ks {
				d.Kiosks = append(d.Kiosks, web.KioskLine{Name: k.Name, Office: k.OfficeName, Status: kioskStatusFA(k.Status), LastSeen: k.LastSeenAt})
			}
		}
	}
	if s.d.Funnel != nil {
		from, _ := time.ParseInLocation(survey.DayFormat, span.From, survey.Tehran)
		to, _ := time.ParseInLocation(survey.DayFormat, span.To, survey.Tehran)
		if invs, err := s.d.Funnel.FunnelInvitations(ctx, id, from, to.AddDate(0, 0, 1)); err == nil && len(invs) > 0 {
			f := analytics.BuildFunnel(id, from, to, invs).Totals
			d.SMS = &web.SMSFunnel{Invitations: f.Invitations, Sent: f.Sent, Delivered: f.Delivered,
				Answered: f.AnsweredSMS + f.AnsweredLink, OptOuts: f.OptOuts}
		}
	}
	if s.d.Exports != nil {
		q := "?" + url.Values{"from": {span.From}, "to": {span.To}}.Encode()
		base := "/api/v1/agencies/" + id.String()
		d.Exports = []web.Link{
			{Label: "پاسخ‌ها (CSV)", Href: base + "/responses.csv" + q}, {Label: "پاسخ‌ها (XLSX)", Href: base + "/responses.xlsx" + q},
			{Label: "جدول نمره (CSV)", Href: base + "/score.csv" + q}, {Label: "جدول نمره (XLSX)", Href: base + "/score.xlsx" + q},
			{Label: "گزارش ماهانه (چاپی)", Href: "/agencies/" + id.String() + "/report"},
		}
	}
	return s.pages.AgencyDashboardPage(c, d)
}

// kioskStatusFA names a kiosk's status in Persian.
func kioskStatusFA(st kiosk.Status) string {
	switch st {
	case kiosk.StatusOnline:
		return "برخط"
	case kiosk.StatusSleeping:
		return "خارج از ساعت کاری"
	case kiosk.StatusStale:
		return "دیر تماس گرفته"
	case kiosk.StatusOffline:
		return "بی‌تماس"
	case kiosk.StatusUnpaired:
		return "جفت‌نشده"
	}
	return string(st)
}

// moderateForm serves POST /dashboard/comments/{response_id}/{question_id}: the moderation
// buttons of the agency dashboard, a plain form (state, csrf_token, back) that works without
// JavaScript; identify has checked the CSRF token. It redirects back to the comments.
func (s *Server) moderateForm(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.Comments == nil {
		return unavailable("comments")
	}
	state := survey.CommentState(c.FormValue("state"))
	if err := s.d.Comments.Moderate(c.Request().Context(), p, c.Param("response_id"), c.Param("question_id"), state); err != nil {
		return err
	}
	back := "/dashboard"
	if n, err := strconv.ParseInt(c.FormValue("back"), 10, 64); err == nil && n > 0 {
		back = "/dashboard/agencies/" + url.PathEscape(strconv.FormatInt(n, 10))
	}
	return c.Redirect(http.StatusSeeOther, back+"#comments")
}
