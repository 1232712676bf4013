package sms_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

func TestNormalizePhone(t *testing.T) {
	const want = "+989121234567"
	for _, in := range []string{
		"09121234567",
		"+989121234567",
		"00989121234567",
		"989121234567",
		"9121234567",
		"0912 123 4567",
		"0912-123-4567",
		"+98 912 123 4567",
		"(+98) 912-123-4567",
		"+98 0912 123 4567", // trunk 0 kept after the country code
		"۰۹۱۲۱۲۳۴۵۶۷",
		"۰۹۱۲ ۱۲۳ ۴۵۶۷",
		"٠٩١٢١٢٣٤٥٦٧",
		"+۹۸۹۱۲۱۲۳۴۵۶۷",
		"\u200e09121234567\u200f",
		" 09121234567\n",
	} {
		got, err := sms.NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// Other operators' ranges are mobiles too.
	for in, want := range map[string]string{"09351234567": "+989351234567", "09901234567": "+989901234567", "09011234567": "+989011234567"} {
		if got, err := sms.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormalizePhoneInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"+",
		"02188776655",   // Tehran landline
		"+982188776655", // the same, international
		"03132123456",   // Isfahan landline
		"0912123456",    // too short
		"091212345",     // far too short
		"091212345678",  // too long
		"12345",         // nothing like a phone number
		"+447911123456", // a foreign mobile
		"0912abc4567",   // letters
		"0912*123*4567", // symbols
		"09121234567 ext 5",
		strings.Repeat("9", 100),
	} {
		got, err := sms.NormalizePhone(in)
		if err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", in, got)
			continue
		}
		var e *survey.Error
		if !errors.As(err, &e) || e.Code != survey.ECodeInvalid || e.Message == "" || e.MessageFA == "" ||
			e.Fields["phone"].Code != sms.PhoneErrorCode || e.Fields["phone"].MessageFA == "" {
			t.Errorf("NormalizePhone(%q) error = %#v, want a bilingual %s with field phone/%s", in, err, survey.ECodeInvalid, sms.PhoneErrorCode)
		}
		// The number is personal data: no message may repeat it.
		if digits := strings.Trim(in, " +"); len(digits) >= 5 && (strings.Contains(e.Error(), digits) || strings.Contains(e.MessageFA, digits)) {
			t.Errorf("NormalizePhone(%q): error repeats the number: %v", in, err)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+989121234567": "0912***4567",
		"09121234567":   "0912***4567",
		"۰۹۱۲۱۲۳۴۵۶۷":   "0912***4567",
		"+447911123456": "4479***56",
		"12345":         "***",
		"":              "***",
	} {
		if got := sms.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	// Whatever it is given, Mask never shows the whole number.
	for _, in := range []string{"+989121234567", "9121234567", "123456789", "+12025550123"} {
		digits := strings.TrimPrefix(in, "+")
		if m := sms.Mask(in); strings.Contains(strings.ReplaceAll(m, "***", ""), digits) || strings.Contains(m, digits[len(digits)-7:]) {
			t.Errorf("Mask(%q) = %q shows too much", in, m)
		}
	}
}
