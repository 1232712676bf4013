package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
)

// Digests builds the weekly and monthly digests (analytics.Digests).
type Digests interface {
	Agency(ctx context.Context, p survey.Principal, agencyID survey.ID, g analytics.Granularity, at time.Time) (analytics.Digest, error)
	Province(ctx context.Context, p survey.Principal, g analytics.Granularity, at time.Time) ([]analytics.Digest, error)
}

// digestQuery reads ?period=week|month (default week) and ?at= (a Jalali or ISO day; default
// today): the digest is of the last complete period before that day.
func digestQuery(c echo.Context) (analytics.Granularity, time.Time, error) {
	g := analytics.Granularity(c.QueryParam("period"))
	if g == "" {
		g = analytics.ByWeek
	}
	at := time.Now()
	if raw := c.QueryParam("at"); raw != "" {
		day, err := analytics.ParseDayParam(raw, "at")
		if err != nil {
			return g, at, err
		}
		at = day
	}
	return g, at, nil
}

// getAgencyDigest answers GET /api/v1/agencies/{id}/digest: the agency's digest of the last
// complete Jalali week or month — headline with interval and n, movement against the period
// before, top reasons and the latest comments of unhappy citizens (redacted).
func (s *Server) getAgencyDigest(c echo.Context) error {
	if s.d.Digests == nil {
		return unavailable("digests")
	}
	id, err := staffAgency(c)
	if err != nil {
		return err
	}
	g, at, err := digestQuery(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	dg, err := s.d.Digests.Agency(c.Request().Context(), p, id, g, at)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, dg)
}

// getDigest answers GET /api/v1/digest: the caller's digest by role — an agency's staff get their
// agency's (with comments), the governorate's PR office every agency's, clearest falls first.
func (s *Server) getDigest(c echo.Context) error {
	if s.d.Digests == nil {
		return unavailable("digests")
	}
	g, at, err := digestQuery(c)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	ctx := c.Request().Context()
	var out []analytics.Digest
	if p.AgencyID != 0 {
		dg, err := s.d.Digests.Agency(ctx, p, p.AgencyID, g, at)
		if err != nil {
			return err
		}
		out = []analytics.Digest{dg}
	} else if out, err = s.d.Digests.Province(ctx, p, g, at); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"period": g, "digests": out})
}

// digestPage serves GET /dashboard/digest?period=week|month: the last complete period's digest
// for the logged-in person's role, as a page (an agency's people their agency's, the province's
// every agency's). Without a session it sends the visitor to /login.
func (s *Server) digestPage(c echo.Context) error {
	p, ok := dashboardSession(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, loginPath)
	}
	if s.d.Digests == nil {
		return unavailable("digests")
	}
	g, at, err := digestQuery(c)
	if err != nil {
		return err
	}
	cur, _, err := analytics.DigestPeriod(g, at)
	if err != nil {
		return err
	}
	page := web.DigestPage{StaffBar: s.staffBar(c, p), Now: time.Now(), Period: string(g), Label: cur.Label}
	ctx := c.Request().Context()
	if p.Role.ProvinceRole() {
		if page.Province, err = s.d.Digests.Province(ctx, p, g, at); err != nil {
			return err
		}
	} else {
		dg, err := s.d.Digests.Agency(ctx, p, p.AgencyID, g, at)
		if err != nil {
			return err
		}
		page.Agency = &dg
	}
	return s.pages.DigestPageRender(c, page)
}
