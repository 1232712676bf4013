package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/survey"
)

// Cases is the follow-up cases' workflow (cases.Service). It checks tenancy and roles itself,
// from the principal, so no handler can forget to.
type Cases interface {
	Open(ctx context.Context, nc survey.NewCase) (survey.Case, bool, error)
	List(ctx context.Context, p survey.Principal, agency survey.ID, status survey.CaseStatus) ([]survey.Case, error)
	Get(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error)
	Reveal(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error)
	Assign(ctx context.Context, p survey.Principal, id, user survey.ID) (survey.Case, error)
	Ack(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error)
	Resolve(ctx context.Context, p survey.Principal, id survey.ID, r cases.Resolution) (survey.Case, error)
	Stats(ctx context.Context, p survey.Principal, agency survey.ID, from, to time.Time) (survey.CaseStats, error)
}

// caseView is a case as the API shows it: with its Jalali dates and the fixed notice that
// formal complaints belong to the national channels (سامد ۱۱۱، فواد ۱۲۸), on every case.
type caseView struct {
	survey.Case
	CreatedJalali     string `json:"created_jalali"`
	AckDueJalali      string `json:"ack_due_jalali"`
	ComplaintNotice   string `json:"complaint_notice"`
	ComplaintNoticeEn string `json:"complaint_notice_en"`
}

func viewCase(c survey.Case) caseView {
	return caseView{Case: c, CreatedJalali: web.FormatJalaliTime(c.CreatedAt), AckDueJalali: web.FormatJalaliTime(c.AckDue),
		ComplaintNotice: survey.ComplaintNoticeFa, ComplaintNoticeEn: survey.ComplaintNoticeEn}
}

func (s *Server) cases() (Cases, error) {
	if s.d.Cases == nil {
		return nil, unavailable("cases")
	}
	return s.d.Cases, nil
}

// listCases answers GET /api/v1/agencies/{id}/cases?status=: the agency's cases, newest first,
// numbers masked.
func (s *Server) listCases(c echo.Context) error {
	cs, err := s.cases()
	if err != nil {
		return err
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	list, err := cs.List(c.Request().Context(), p, id, survey.CaseStatus(c.QueryParam("status")))
	if err != nil {
		return err
	}
	out := make([]caseView, len(list))
	for i, k := range list {
		out[i] = viewCase(k)
	}
	return c.JSON(http.StatusOK, map[string]any{"agency_id": id, "cases": out, "complaint_notice": survey.ComplaintNoticeFa})
}

// caseStats answers GET /api/v1/agencies/{id}/cases/stats?from=&to=: the responsiveness
// figure (median hours to acknowledge, share acknowledged within 48 h) for cases created in the
// days asked for (Jalali or ISO, Tehran, to inclusive; default the last 30 days).
func (s *Server) caseStats(c echo.Context) error {
	cs, err := s.cases()
	if err != nil {
		return err
	}
	id, from, to, err := agencyDays(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	st, err := cs.Stats(c.Request().Context(), p, id, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	st.From, st.To = analytics.FormatJalali(from), analytics.FormatJalali(to)
	return c.JSON(http.StatusOK, st)
}

// caseAction runs one action on the path's case and answers the case.
func (s *Server) caseAction(do func(ctx context.Context, cs Cases, p survey.Principal, id survey.ID, c echo.Context) (survey.Case, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		cs, err := s.cases()
		if err != nil {
			return err
		}
		id, err := parseID(c, "id")
		if err != nil {
			return err
		}
		p, _ := principal(c)
		k, err := do(c.Request().Context(), cs, p, id, c)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewCase(k))
	}
}

// getCase: GET /api/v1/cases/{id}, number masked.
func (s *Server) getCase() echo.HandlerFunc {
	return s.caseAction(func(ctx context.Context, cs Cases, p survey.Principal, id survey.ID, _ echo.Context) (survey.Case, error) {
		return cs.Get(ctx, p, id)
	})
}

// revealCase: POST /api/v1/cases/{id}/reveal, the full number to the agency's admins, audited.
func (s *Server) revealCase() echo.HandlerFunc {
	return s.caseAction(func(ctx context.Context, cs Cases, p survey.Principal, id survey.ID, _ echo.Context) (survey.Case, error) {
		return cs.Reveal(ctx, p, id)
	})
}

// assignCase: POST /api/v1/cases/{id}/assign {"user_id"}.
func (s *Server) assignCase() echo.HandlerFunc {
	return s.caseAction(func(ctx context.Context, cs Cases, p survey.Principal, id survey.ID, c echo.Context) (survey.Case, error) {
		var body struct {
			UserID survey.ID `json:"user_id"`
		}
		if err := decodeBody(c, &body); err != nil {
			return survey.Case{}, err
		}
		return cs.Assign(ctx, p, id, body.UserID)
	})
}

// ackCase: POST /api/v1/cases/{id}/ack.
func (s *Server) ackCase() echo.HandlerFunc {
	return s.caseAction(func(ctx context.Context, cs Cases, p survey.Principal, id survey.ID, _ echo.Context) (survey.Case, error) {
		return cs.Ack(ctx, p, id)
	})
}

// resolveCase: POST /api/v1/cases/{id}/resolve {"outcome","ask_citizen","no_contact"}.
func (s *Server) resolveCase() echo.HandlerFunc {
	return s.caseAction(func(ctx context.Context, cs Cases, p survey.Principal, id survey.ID, c echo.Context) (survey.Case, error) {
		var r cases.Resolution
		if err := decodeBody(c, &r); err != nil {
			return survey.Case{}, err
		}
		return cs.Resolve(ctx, p, id, r)
	})
}
