package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// DevSMSRow is one SMS on the development page, its number masked.
type DevSMSRow struct {
	sms.DevMessage
	PartsFA, AtFA string
}

type devSMSData struct {
	CSSURL             string
	Outgoing, Incoming []DevSMSRow
}

// DevSMS renders the development page (/dev/sms, embedded mode only): the SMS the console
// gateway "sent" and the replies received, numbers masked, and a form to reply as a citizen.
func (p *Pages) DevSMS(c echo.Context, out, in []sms.DevMessage) error {
	rows := func(ms []sms.DevMessage) []DevSMSRow {
		rs := make([]DevSMSRow, len(ms))
		for i, m := range ms {
			rs[i] = DevSMSRow{DevMessage: m, PartsFA: survey.FormatPersianDigits(strconv.Itoa(m.Parts)), AtFA: FormatJalaliTime(m.At)}
		}
		return rs
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "devsms.html", devSMSData{CSSURL: formCSSURL,
		Outgoing: rows(out), Incoming: rows(in)}); err != nil {
		return err
	}
	return writePage(c, http.StatusOK, formCSP, buf.Bytes())
}
