package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// Invitations is the SMS channel's invitation service (channels/sms.Inviter): it records visits
// and queues their invitations, judging each item alone, and enforces who may invite for which
// office from the principal.
type Invitations interface {
	Invite(ctx context.Context, p survey.Principal, items []sms.InviteRequest) ([]sms.InviteResult, error)
}

// invitationsReply is the answer to both invitation routes: one result per item, in order.
type invitationsReply struct {
	Results []sms.InviteResult `json:"results"`
}

func (s *Server) invitations() (Invitations, error) {
	if s.d.Invitations == nil {
		return nil, unavailable("the SMS channel")
	}
	return s.d.Invitations, nil
}

// postInvitations records one visit ({phone, office_id, visited_at, service?, via?}) or a batch
// ({"items": […]}, at most 500) and answers 200 with a result per item: queued, held (until the
// quiet hours end), skipped (with the reason) or rejected (with the error).
func (s *Server) postInvitations(c echo.Context) error {
	inv, err := s.invitations()
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var items []sms.InviteRequest
	var probe map[string]any
	if err := survey.DecodeStrict(body, &probe); err != nil {
		return err
	}
	if _, batch := probe["items"]; batch {
		var req struct {
			Items []sms.InviteRequest `json:"items"`
		}
		if err := survey.DecodeStrict(body, &req); err != nil {
			return err
		}
		items = req.Items
	} else {
		var one sms.InviteRequest
		if err := survey.DecodeStrict(body, &one); err != nil {
			return err
		}
		items = []sms.InviteRequest{one}
	}
	return s.answerInvitations(c, inv, items)
}

func (s *Server) answerInvitations(c echo.Context, inv Invitations, items []sms.InviteRequest) error {
	p, _ := principal(c)
	res, err := inv.Invite(c.Request().Context(), p, items)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, invitationsReply{Results: res})
}

// csvColumns are the columns of an invitation CSV; service is optional.
var csvColumns = []string{"phone", "office_id", "visited_at", "service"}

// postInvitationsCSV records the visits of a CSV file (text/csv, UTF-8, a header row naming
// phone, office_id, visited_at and optionally service, in any order; Persian digits allowed) and
// answers like postInvitations, index counting data rows from 0. A row whose office_id is not a
// number is rejected alone (unknown_office).
func (s *Server) postInvitationsCSV(c echo.Context) error {
	inv, err := s.invitations()
	if err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != "text/csv" {
		return &survey.Error{Code: codeUnsupportedMediaType, Message: "the body must be text/csv", MessageFA: "نوع محتوای درخواست باید text/csv باشد."}
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	body = bytes.TrimPrefix(body, []byte("\ufeff")) // Excel's byte-order mark
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return csvError("header", "missing_header", "سطر عنوان (phone,office_id,visited_at) پیدا نشد.", "the header row (phone,office_id,visited_at) is missing")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range csvColumns[:3] {
		if _, ok := col[need]; !ok {
			return csvError("header", "missing_column", "ستون "+need+" در سطر عنوان نیست.", "the header has no "+need+" column")
		}
	}
	var items []sms.InviteRequest
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return csvError("body", "malformed_csv", "فایل CSV خوانا نیست.", "the CSV cannot be read: "+err.Error())
		}
		if len(items) == sms.MaxInviteItems {
			return csvError("items", "too_many", "هر فایل حداکثر ۵۰۰ سطر دارد.", "at most 500 rows per file")
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		office, _ := sms.ParseID(field("office_id")) // unreadable: 0, which the channel rejects as unknown_office
		items = append(items, sms.InviteRequest{Phone: field("phone"), OfficeID: office, VisitedAt: field("visited_at"),
			Service: field("service")})
	}
	return s.answerInvitations(c, inv, items)
}

func csvError(field, code, fa, en string) error {
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{field: {Code: code, Message: en, MessageFA: fa}}}
}
