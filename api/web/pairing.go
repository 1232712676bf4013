package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// PairingSheet is what the printable kiosk pairing sheet shows: whose kiosk it is, the code in
// large letters (as printed, "ABCD-EFGH"), the pair URL and its QR code (a data: URI of a PNG),
// and until when the code works.
type PairingSheet struct {
	KioskName  string
	AgencyName string
	OfficeName string
	Code       string
	PairURL    string
	QR         template.URL
	ExpiresAt  time.Time
}

// pairingData is PairingSheet with what the template writes in Persian.
type pairingData struct {
	PairingSheet
	CodeFA     string // the code with Persian digits, for reading aloud
	ExpiresFA  string // «۱۰ آذر ۱۴۰۵، ساعت ۱۴:۳۰»
	ExpiresISO string
}

// pairingCSP lets the sheet use its inline styles, the QR code's data: image and the
// server's own fonts, nothing else.
const pairingCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// KioskPairing renders the printable Persian pairing sheet (A4) for staff to print and stick by
// the tablet, or to read from while pairing it.
func (p *Pages) KioskPairing(c echo.Context, sheet PairingSheet) error {
	d := pairingData{PairingSheet: sheet, CodeFA: survey.FormatPersianDigits(sheet.Code),
		ExpiresFA: FormatJalaliTime(sheet.ExpiresAt), ExpiresISO: sheet.ExpiresAt.UTC().Format(time.RFC3339)}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "kiosk_pairing.html", d); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", pairingCSP)
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// jalaliMonths are the Persian names of the Jalali months, Farvardin first.
var jalaliMonths = [12]string{"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"}

// FormatJalaliTime writes t as people in Iran read a date and time: the Tehran day in the Jalali
// calendar with the month's name, and the 24-hour time, in Persian digits —
// «۱۰ آذر ۱۴۰۵، ساعت ۱۴:۳۰».
func FormatJalaliTime(t time.Time) string {
	y, m, d, ok := analytics.JalaliDate(t)
	if !ok {
		return t.UTC().Format(time.RFC3339)
	}
	lt := t.In(survey.Tehran)
	return survey.FormatPersianDigits(fmt.Sprintf("%d %s %d، ساعت %02d:%02d", d, jalaliMonths[m-1], y, lt.Hour(), lt.Minute()))
}
