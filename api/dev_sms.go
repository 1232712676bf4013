package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// DevSMS is the development view of the SMS channel (channels/sms.Dev) on the embedded default,
// where the console gateway sends nothing: the latest outgoing SMS and replies, numbers masked.
type DevSMS interface {
	Recent(ctx context.Context, limit int) (out, in []sms.DevMessage, err error)
}

// devSMSLimit is how many SMS each list of the development page shows.
const devSMSLimit = 30

// devSMSPage shows the console gateway's SMS and the replies (GET /dev/sms).
func (s *Server) devSMSPage(c echo.Context) error {
	out, in, err := s.d.DevSMS.Recent(c.Request().Context(), devSMSLimit)
	if err != nil {
		return err
	}
	return s.pages.DevSMS(c, out, in)
}

// devSMSReply takes a simulated reply (POST /dev/sms, form fields from and message) through the
// same inbox as Kavenegar's push, then shows the page again (the reply is processed moments
// later; a reload shows its outcome).
func (s *Server) devSMSReply(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return err
	}
	from := strings.TrimSpace(req.PostForm.Get("from"))
	if _, err := sms.NormalizePhone(from); err != nil {
		const fa, en = "شمارهٔ تلفن همراه معتبر نیست.", "not a valid mobile number"
		return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
			Fields: map[string]survey.FieldError{"from": {Code: "invalid_phone", Message: en, MessageFA: fa}}}
	}
	if _, _, err := s.d.SMSInbox.Accept(req.Context(), sms.Inbound{From: from, Text: req.PostForm.Get("message")}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/dev/sms")
}
