package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics/export"
	"github.com/afkar-gov/afkar/survey"
)

// Exports prepares an agency's exports (analytics/export.Service). It checks tenancy and the
// period before anything is written, so refusals are ordinary JSON errors.
type Exports interface {
	Responses(ctx context.Context, p survey.Principal, agencyID survey.ID, from, to string) (*export.ResponseExport, error)
	Score(ctx context.Context, p survey.Principal, agencyID survey.ID, from, to string) (*export.ScoreExport, error)
}

// exportWriteWindow is how long each batch of an export may take to reach the client: the
// server's WriteTimeout (30 s) would cut a million-row download short, so every flush moves the
// write deadline this far ahead. A client that stops reading is still cut off.
const exportWriteWindow = 60 * time.Second

// Export formats: file extension → content type.
var exportTypes = map[string]string{
	"csv":  "text/csv; charset=utf-8",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// getResponsesExport streams an agency's raw responses for a period (from, to as the score
// reads them) as CSV or XLSX: GET /api/v1/agencies/{id}/responses.csv|.xlsx.
func (s *Server) getResponsesExport(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.d.Exports == nil {
			return unavailable("exports")
		}
		id, err := staffAgency(c)
		if err != nil {
			return err
		}
		p, _ := principal(c)
		ctx := c.Request().Context()
		ex, err := s.d.Exports.Responses(ctx, p, id, c.QueryParam("from"), c.QueryParam("to"))
		if err != nil {
			return err
		}
		return s.streamExport(c, format, ex.FileName(), "پاسخ‌ها", func(sh export.Sheet) error {
			return ex.WriteTo(ctx, sh)
		})
	}
}

// getScoreExport writes an agency's score table for a period — the score route's figures, per
// question and channel, each with n and interval: GET /api/v1/agencies/{id}/score.csv|.xlsx.
func (s *Server) getScoreExport(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.d.Exports == nil {
			return unavailable("exports")
		}
		id, err := staffAgency(c)
		if err != nil {
			return err
		}
		p, _ := principal(c)
		ex, err := s.d.Exports.Score(c.Request().Context(), p, id, c.QueryParam("from"), c.QueryParam("to"))
		if err != nil {
			return err
		}
		return s.streamExport(c, format, ex.FileName(), "امتیاز", ex.WriteTo)
	}
}

// streamExport sends the headers, then lets write fill the sheet. Once the first byte is out
// the status cannot change: a later failure is logged and the connection ends early, so the
// client sees a truncated download rather than a file that looks whole.
func (s *Server) streamExport(c echo.Context, format, name, sheetName string, write func(export.Sheet) error) error {
	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, exportTypes[format])
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + format}))
	h.Set("Cache-Control", "no-store")
	res.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	w := &deadlineWriter{w: res, rc: http.NewResponseController(res)}
	w.extend()
	var sh export.Sheet
	if format == "xlsx" {
		x, err := export.NewXLSX(w, sheetName)
		if err != nil {
			return s.abortExport(c, err)
		}
		sh = x
	} else {
		sh = export.NewCSV(w)
	}
	if err := write(sh); err != nil {
		return s.abortExport(c, err)
	}
	return nil
}

// abortExport logs an export that failed after its headers were sent and cuts the connection.
func (s *Server) abortExport(c echo.Context, err error) error {
	level := "export failed after its headers were sent"
	if errors.Is(err, context.Canceled) {
		s.log.Info(level, "path", c.Path(), "err", err)
	} else {
		s.log.Error(level, "path", c.Path(), "err", err)
	}
	panic(http.ErrAbortHandler)
}

// deadlineWriter writes an export to the response and, at each flush, pushes the response on
// and moves the write deadline exportWriteWindow ahead.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) { return d.w.Write(p) }

// Flush implements http.Flusher for the export's sheets.
func (d *deadlineWriter) Flush() {
	_ = d.rc.Flush()
	d.extend()
}

func (d *deadlineWriter) extend() { _ = d.rc.SetWriteDeadline(time.Now().Add(exportWriteWindow)) }
