package sms

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestConsole(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	c := NewConsole(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), "10008663")
	m := Message{Receptor: "+989121234567", Text: "ثبت احوال: از ۱ تا ۵؟\nلغو ۱۱", LocalID: "42"}
	s1, err := c.Send(ctx, m)
	if err != nil || s1.MessageID == "" || s1.Parts != 1 {
		t.Fatalf("Send = %+v, %v", s1, err)
	}
	s2, err := c.Send(ctx, m)
	if err != nil || s2 != s1 {
		t.Fatalf("a repeated local id must return the first send: %+v vs %+v (%v)", s2, s1, err)
	}
	out := logs.String()
	if strings.Count(out, "sms (console") != 1 || !strings.Contains(out, "0912***4567") || !strings.Contains(out, "لغو ۱۱") {
		t.Errorf("want one log line with the masked number and the text:\n%s", out)
	}
	if strings.Contains(out, "9121234567") {
		t.Errorf("the number leaked into the log:\n%s", out)
	}
	if d, err := c.StatusByLocalID(ctx, "42"); err != nil || d.MessageID != s1.MessageID || d.Status != StatusDelivered {
		t.Errorf("StatusByLocalID = %+v, %v", d, err)
	}
	if _, err := c.StatusByLocalID(ctx, "43"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown local id: %v, want ErrNotFound", err)
	}
	ds, _ := c.Status(ctx, []string{s1.MessageID, "1"})
	if len(ds) != 2 || ds[0].Status != StatusDelivered || ds[1].Status != StatusUnknown {
		t.Errorf("Status = %+v", ds)
	}
	if _, err := c.Send(ctx, Message{Receptor: "0912", Text: "x", LocalID: "1"}); !IsInvalidNumber(err) {
		t.Errorf("bad receptor: %v, want invalid number", err)
	}

	c.Inject("09121234567", "۵ عالی بود")
	c.Inject("09351234567", "لغو")
	in, err := c.Receive(ctx, "")
	if err != nil || len(in) != 2 || in[0].Text != "۵ عالی بود" || in[1].From != "09351234567" || in[0].To != "10008663" {
		t.Fatalf("Receive = %+v, %v", in, err)
	}
	if in, _ := c.Receive(ctx, ""); len(in) != 0 {
		t.Errorf("replies must be returned once, got %+v", in)
	}
	if strings.Contains(logs.String(), "9351234567") {
		t.Errorf("the number leaked into the log:\n%s", logs.String())
	}
}
