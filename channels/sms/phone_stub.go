package sms

import (
	"errors"
	"strings"
)

// This file is a temporary stand-in for channels/sms/phone.go of the sms-parse branch (phone
// normalisation with nyaruka/phonenumbers): it accepts Iranian mobile numbers only. Delete it
// when that branch is on main.

// ErrInvalidPhone is NormalizePhone's answer for anything that is not a mobile number.
var ErrInvalidPhone = errors.New("sms: not a valid mobile number")

// NormalizePhone turns an Iranian mobile number as people write it (Persian or Arabic-Indic
// digits, +98, 0098, 98, 0, spaces, dashes) into E.164 (+989121234567).
func NormalizePhone(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '\u200c':
		case r == '+' && b.Len() == 0:
			b.WriteString("00")
		default:
			return "", ErrInvalidPhone
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "0098"):
		d = d[4:]
	case strings.HasPrefix(d, "98") && len(d) == 12:
		d = d[2:]
	case strings.HasPrefix(d, "0"):
		d = d[1:]
	}
	if len(d) != 10 || d[0] != '9' {
		return "", ErrInvalidPhone
	}
	return "+98" + d, nil
}

// Mask shows a number as 0912***4567 (see maskPhone).
func Mask(e164 string) string { return maskPhone(e164) }
