package api

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// SMSDeliveries records one delivery status the gateway reported (channels/sms.Deliveries); it
// reports whether the status changed anything.
type SMSDeliveries interface {
	Record(ctx context.Context, messageID string, status sms.DeliveryStatus) (bool, error)
}

// fieldStatus is the status push's delivery status field (Kavenegar's numbers: 10 delivered…).
const fieldStatus = "status"

// smsStatusPush is Kavenegar's optional push of a delivery status (POST
// /api/v1/sms/kavenegar/status/{secret}), set in the line's settings. Like the inbound push it is
// unsigned, so the path carries AFKAR_KAVENEGAR_WEBHOOK_SECRET and a wrong or unset secret is a
// plain 404. Its field names are unconfirmed: the body is a form or JSON, names in any case, and
// messageid and status are read. The status is recorded on the same rows the delivery poller
// updates, so a push repeated, or arriving after the poll, changes nothing; an unknown message
// id is answered 200 and ignored, since the gateway would only retry it. The poller stays the
// reconciler for pushes that never come.
func (s *Server) smsStatusPush(c echo.Context) error {
	fields, err := s.pushRequest(c, s.d.SMSDeliveries != nil)
	if err != nil {
		return err
	}
	id := strings.TrimSpace(fields[fieldMessageID])
	status, convErr := strconv.Atoi(strings.TrimSpace(fields[fieldStatus]))
	if id == "" || convErr != nil {
		// The push's format is unconfirmed: name the fields it brought (never their values, which
		// may hold the citizen's number) so an operator can see what Kavenegar sends.
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		s.log.Warn("sms status push without messageid and numeric status", "fields", strings.Join(names, ","))
		fe := map[string]survey.FieldError{}
		if id == "" {
			fe[fieldMessageID] = survey.FieldError{Code: "required", Message: "messageid is required", MessageFA: "شناسهٔ پیامک (messageid) لازم است."}
		}
		if convErr != nil {
			fe[fieldStatus] = survey.FieldError{Code: "invalid", Message: "status must be a number", MessageFA: "وضعیت (status) باید عدد باشد."}
		}
		return &survey.Error{Code: survey.ECodeInvalid, Message: "the status push needs messageid and a numeric status",
			MessageFA: "گزارش وضعیت پیامک باید شناسه و وضعیت عددی داشته باشد.", Fields: fe}
	}
	changed, err := s.d.SMSDeliveries.Record(c.Request().Context(), id, sms.DeliveryStatus(status))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "changed": changed})
}
