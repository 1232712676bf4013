package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// postResponse takes one citizen's answers and answers {"id": …}, the id the response is known
// by. The caller decides the origin: an anonymous caller answers on the web, an integration token
// on its own channel and only for its own agency (and office); staff tokens are 403. It answers
// 202 only after intake reports the response durable, and 200 for a resend of an id already
// accepted with the same content (nothing is stored twice); the same id with other answers is
// 409 id_conflict. A body that is not JSON is 400; answers that break the survey's rules, or a
// channel in the body other than the caller's, are 422 with per-field problems.
func (s *Server) postResponse(c echo.Context) error {
	if s.d.Intake == nil {
		return unavailable("intake")
	}
	p, _ := principal(c)
	origin, err := survey.WebOrigin(p)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	sub, err := survey.DecodeSubmission(body)
	if err != nil {
		return err
	}
	rc, err := s.d.Intake.Submit(c.Request().Context(), origin, &sub)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if rc.Resent {
		status = http.StatusOK
	}
	// The hottest reply in Afkar: written without reflection. Ids are validated UUIDs (hex and
	// dashes), so they need no escaping.
	return c.JSONBlob(status, append(append([]byte(`{"id":"`), rc.Response.ID...), `"}`...))
}

// readBody reads the whole request body: past the body limit it is 413, a broken read 400.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err // 413
		}
		return nil, survey.Wrap(survey.ECodeBadRequest, err, "بدنه درخواست کامل دریافت نشد.", "the request body could not be read")
	}
	return body, nil
}

// decodeBody reads a JSON body strictly into v (survey.DecodeStrict): unknown fields and
// trailing data are refused.
func decodeBody(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return survey.DecodeStrict(body, v)
}
