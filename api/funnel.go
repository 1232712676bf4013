package api

import (
	"context"
	"net/http"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/labstack/echo/v4"
)

// FunnelStore reads what became of an agency's invitations whose visit falls in [from, to) (the
// SQL store's funnel_invitations query).
type FunnelStore interface {
	FunnelInvitations(ctx context.Context, agency survey.ID, from, to time.Time) ([]survey.FunnelInvitation, error)
}

// defaultFunnelDays is the funnel's window when from is not given: the 30 Tehran days to "to".
const defaultFunnelDays = 30

// dayRange reads the from and to query parameters (Jalali or ISO days, Tehran, to inclusive);
// to defaults to today and from to defaultFunnelDays-1 days before it.
func dayRange(c echo.Context, now time.Time) (from, to time.Time, err error) {
	to = survey.TehranDay(now)
	if raw := c.QueryParam("to"); raw != "" {
		if to, err = analytics.ParseDayParam(raw, "to"); err != nil {
			return from, to, err
		}
	}
	from = to.AddDate(0, 0, -(defaultFunnelDays - 1))
	if raw := c.QueryParam("from"); raw != "" {
		if from, err = analytics.ParseDayParam(raw, "from"); err != nil {
			return from, to, err
		}
	}
	if from.After(to) {
		return from, to, survey.Errorf(survey.ECodeInvalid, "تاریخ شروع بعد از تاریخ پایان است.", "from is after to")
	}
	return from, to, nil
}

// staffAgency reads the path's agency and checks the caller may read it: another agency is a 404,
// as for the score.
func staffAgency(c echo.Context) (survey.ID, error) {
	id, err := parseID(c, "id")
	if err != nil {
		return 0, err
	}
	p, _ := principal(c)
	if !p.CanReadAgency(id) {
		return 0, survey.ErrForbiddenAgency()
	}
	return id, nil
}

// agencyDays reads the path's agency (staffAgency) and the days asked for (dayRange).
func agencyDays(c echo.Context) (id survey.ID, from, to time.Time, err error) {
	if id, err = staffAgency(c); err != nil {
		return 0, from, to, err
	}
	from, to, err = dayRange(c, time.Now())
	return id, from, to, err
}

// getFunnel answers GET /api/v1/agencies/{id}/funnel: per office and Tehran day of the visit,
// invitations → held/skipped → sent → delivered/failed → answered (SMS, link), opt-outs, parts
// and cost (analytics.Funnel).
func (s *Server) getFunnel(c echo.Context) error {
	if s.d.Funnel == nil {
		return unavailable("funnel")
	}
	id, from, to, err := agencyDays(c)
	if err != nil {
		return err
	}
	invs, err := s.d.Funnel.FunnelInvitations(c.Request().Context(), id, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, analytics.BuildFunnel(id, from, to, invs))
}

// SMSReplies is staff's view of the replies to an agency's invitations, numbers masked
// (channels/sms.Staff).
type SMSReplies interface {
	Inbound(ctx context.Context, agency survey.ID, from, to time.Time, limit int) ([]sms.StaffInbound, error)
}

// inboundLimit caps the replies one request lists.
const inboundLimit = 200

// getSMSInbound answers GET /api/v1/agencies/{id}/sms/inbound: the latest replies to the agency's
// invitations in the days asked for, newest first, each number masked.
func (s *Server) getSMSInbound(c echo.Context) error {
	if s.d.SMSReplies == nil {
		return unavailable("sms")
	}
	id, from, to, err := agencyDays(c)
	if err != nil {
		return err
	}
	msgs, err := s.d.SMSReplies.Inbound(c.Request().Context(), id, from, to.AddDate(0, 0, 1), inboundLimit)
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i].ReceivedJalali = web.FormatJalaliTime(msgs[i].ReceivedAt)
	}
	return c.JSON(http.StatusOK, map[string]any{"agency_id": id, "messages": msgs})
}
