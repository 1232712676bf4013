package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// SMSInbox takes citizens' SMS replies (channels/sms.Inbox): it stores a message raw, at once,
// and processes it after; the webhook and the development page only hand messages over.
type SMSInbox interface {
	Accept(ctx context.Context, m sms.Inbound) (survey.ID, bool, error)
}

// inboundFields are the fields of Kavenegar's push that Afkar reads; any other is ignored (the
// push is documented loosely and may grow).
const (
	fieldFrom      = "from"
	fieldMessage   = "message"
	fieldTo        = "to"
	fieldMessageID = "messageid"
)

// smsInboundPush is Kavenegar's push of one incoming SMS (POST
// /api/v1/sms/kavenegar/inbound/{secret}). The push is unsigned, so the path carries a long
// secret (AFKAR_KAVENEGAR_WEBHOOK_SECRET): a wrong one, or none configured, is a plain 404 — the
// route does not exist for whoever does not know it. The body is a form or JSON with the field
// names in any case; from and message are read (to and messageid when present). The message is
// stored before the answer and processed after it, so the gateway gets its 200 fast, and a push
// repeated (or also fetched by the poller) is stored once.
func (s *Server) smsInboundPush(c echo.Context) error {
	fields, err := s.pushRequest(c, s.d.SMSInbox != nil)
	if err != nil {
		return err
	}
	from := fields[fieldFrom]
	if strings.TrimSpace(from) == "" {
		return &survey.Error{Code: survey.ECodeInvalid, Message: "from is required", MessageFA: "فرستندهٔ پیامک (from) لازم است.",
			Fields: map[string]survey.FieldError{fieldFrom: {Code: "required", Message: "from is required", MessageFA: "فرستندهٔ پیامک (from) لازم است."}}}
	}
	id, created, err := s.d.SMSInbox.Accept(c.Request().Context(), sms.Inbound{MessageID: fields[fieldMessageID],
		From: from, To: fields[fieldTo], Text: fields[fieldMessage]}) // received now, by the inbox's clock
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "id": id, "duplicate": !created})
}

// pushRequest reads a Kavenegar push after checking its path secret: a wrong or unset secret, or
// a push whose handler is not configured (enabled false), is a plain 404.
func (s *Server) pushRequest(c echo.Context, enabled bool) (map[string]string, error) {
	if !s.webhookSecretOK(c.Param("secret")) || !enabled {
		return nil, echo.ErrNotFound
	}
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	return pushFields(c.Request().Header.Get(echo.HeaderContentType), body)
}

// webhookSecretOK compares the path's secret with the configured one in constant time (of their
// digests, so not even the length leaks); an unset secret matches nothing.
func (s *Server) webhookSecretOK(got string) bool {
	if s.d.SMSWebhookSecret == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.d.SMSWebhookSecret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// pushFields reads a push body, form or JSON, into lower-cased field names. A JSON number (a
// message id) is kept as written.
func pushFields(contentType string, body []byte) (map[string]string, error) {
	bad := func(err error) error {
		return survey.Wrap(survey.ECodeBadRequest, err, "بدنهٔ پیامک دریافتی خوانا نیست.", "the push body could not be read")
	}
	out := map[string]string{}
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := strings.TrimSpace(string(body))
	if mt == "application/json" || (mt == "" && strings.HasPrefix(trimmed, "{")) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, bad(err)
		}
		for k, raw := range m {
			var str string
			if err := json.Unmarshal(raw, &str); err == nil {
				out[strings.ToLower(k)] = str
				continue
			}
			var n json.Number
			if err := json.Unmarshal(raw, &n); err == nil {
				out[strings.ToLower(k)] = n.String()
			}
		}
		return out, nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, bad(err)
	}
	for k, v := range vals {
		if len(v) > 0 {
			out[strings.ToLower(k)] = v[0]
		}
	}
	return out, nil
}
