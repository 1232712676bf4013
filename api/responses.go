package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// postResponse takes one citizen's answers and answers {"id": …}, the id the response is known
// by; sending the same id again is safe and answers the same. It answers 202 only after intake reports the response
// durable; a body that is not JSON is 400, answers that break the survey's rules are 422 with
// per-field problems.
func (s *Server) postResponse(c echo.Context) error {
	if s.d.Intake == nil {
		return unavailable("intake")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err // 413
		}
		return survey.Wrap(survey.ECodeBadRequest, err, "بدنه درخواست کامل دریافت نشد.", "the request body could not be read")
	}
	sub, err := survey.DecodeSubmission(body)
	if err != nil {
		return err
	}
	r, err := s.d.Intake.Submit(c.Request().Context(), &sub)
	if err != nil {
		return err
	}
	// The hottest reply in Afkar: written without reflection. Ids are validated UUIDs (hex and
	// dashes), so they need no escaping.
	return c.JSONBlob(http.StatusAccepted, append(append([]byte(`{"id":"`), r.ID...), `"}`...))
}
