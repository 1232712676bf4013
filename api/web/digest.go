package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
)

// DigestPage is the weekly or monthly digest for the caller's role as a page: an agency's people
// read their agency's digest (headline with interval and n, movement, reasons, comments), the
// province's people every agency's, clearest falls first.
type DigestPage struct {
	StaffBar
	Now time.Time
	// Period is "week" or "month"; Label names the period reported («هفتهٔ ۳۰ آبان ۱۴۰۵»).
	Period, Label string
	Agency        *analytics.Digest
	Province      []analytics.Digest
}

// Title is the page's heading.
func (d DigestPage) Title() string {
	if d.Period == "month" {
		return "گزارش ماهانه — " + d.Label
	}
	return "گزارش هفتگی — " + d.Label
}

// Index writes a digest's index with its interval and n.
func (DigestPage) Index(e analytics.Estimate) string { return FormatEstimate(e, 0, 1, "") }

// Move writes a movement with its interval and whether it is more than chance, in words.
func (DigestPage) Move(m analytics.Movement) string {
	if m.Change == nil {
		return "—"
	}
	s := FormatNumber(*m.Change, 0) + " (" + FormatNumber(*m.Low, 0) + " تا " + FormatNumber(*m.High, 0) + ")"
	switch {
	case m.Clear && *m.Change < 0:
		return s + " — کاهش روشن"
	case m.Clear:
		return s + " — افزایش روشن"
	}
	return s + " — در حد تصادف"
}

// Share writes a reason's share of its question's answers as a percentage.
func (DigestPage) Share(v float64) string { return FormatNumber(v*100, 0) + "٪" }

// DigestPageRender renders the digest page.
func (p *Pages) DigestPageRender(c echo.Context, d DigestPage) error {
	var buf bytes.Buffer
	if err := dashPages.ExecuteTemplate(&buf, "dash_digest.html", dashData[DigestPage]{D: d, FontURL: fontURL}); err != nil {
		return err
	}
	return writeStaffPage(c, http.StatusOK, buf.Bytes())
}
