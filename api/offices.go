package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// getOfficeHours answers an office's hours to staff who may read its agency (404 otherwise, as
// for an unknown office).
func (s *Server) getOfficeHours(c echo.Context) error {
	k, id, p, err := s.onPathID(c)
	if err != nil {
		return err
	}
	h, err := k.Hours(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

// putOfficeHours replaces an office's hours (the body is survey.OfficeHours) and answers them as
// stored: 200; 403 for staff who may read but not manage the agency; 404 for an office of an
// agency the caller cannot read; 422 with per-field problems.
func (s *Server) putOfficeHours(c echo.Context) error {
	k, id, p, err := s.onPathID(c)
	if err != nil {
		return err
	}
	var h survey.OfficeHours
	if err := decodeBody(c, &h); err != nil {
		return err
	}
	stored, err := k.SetHours(c.Request().Context(), p, id, h)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, stored)
}
