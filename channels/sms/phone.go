package sms

import (
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/afkar-gov/afkar/survey"
)

// maxPhoneInput bounds what NormalizePhone will look at; no way of writing a mobile number is longer.
const maxPhoneInput = 64

// NormalizePhone turns an Iranian mobile number as agencies and citizens write it — 09121234567,
// +98 912 123 4567, 0098-912-…, 98912…, 912…, in Persian or Arabic-Indic digits, with spaces,
// dashes, dots, brackets or direction marks — into the one E.164 form Afkar stores, hashes and
// sends to: +989121234567. The ranges come from libphonenumber (github.com/nyaruka/phonenumbers),
// so a new operator prefix arrives with a library update, not a code change.
//
// Only Iranian mobile numbers are accepted: SMS goes out from an Iranian service line, and a
// landline or a foreign number cannot be texted that way. The error is a survey.Error with code
// ECodeInvalid and a "phone" field of code "invalid_phone"; it never repeats the number, which is
// personal data and must not reach a log line (DOMAIN.md §6).
func NormalizePhone(s string) (string, error) {
	if len(s) > maxPhoneInput {
		return "", phoneError("the phone number is too long", "شمارهٔ تلفن همراه بیش از حد طولانی است.")
	}
	var b strings.Builder
	for _, r := range asciiDigits(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case unicode.IsSpace(r), isInvisible(r), unicode.Is(unicode.Cf, r), strings.ContainsRune("-–—.()/_", r):
		default:
			return "", phoneError("the phone number may hold only digits, spaces, dashes and a leading +",
				"شمارهٔ تلفن همراه فقط می‌تواند رقم، فاصله، خط تیره و + آغازین داشته باشد.")
		}
	}
	digits := b.String()
	if strings.TrimPrefix(digits, "+") == "" {
		return "", phoneError("the phone number is empty", "شمارهٔ تلفن همراه خالی است.")
	}
	// "+98 0912…" and "0098 0912…": the trunk 0 kept after the country code, a common slip.
	if rest, ok := strings.CutPrefix(digits, "0098"); ok {
		digits = "+98" + rest
	}
	if rest, ok := strings.CutPrefix(digits, "+980"); ok {
		digits = "+98" + rest
	}
	// "98912…" without + or 00 is the international form typed without its prefix; "912…" is the
	// national number without its trunk 0. libphonenumber reads both, but only with the hint.
	if !strings.HasPrefix(digits, "+") && !strings.HasPrefix(digits, "0") {
		switch len(digits) {
		case 12:
			if strings.HasPrefix(digits, "98") {
				digits = "+" + digits
			}
		case 10:
			digits = "0" + digits
		}
	}
	num, err := phonenumbers.Parse(digits, "IR")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", phoneError("the phone number is not a valid Iranian mobile number",
			"شمارهٔ تلفن همراه معتبر نیست.")
	}
	if num.GetCountryCode() != 98 {
		return "", phoneError("only Iranian mobile numbers (+98 9…) can be texted",
			"فقط شمارهٔ تلفن همراه ایران (۰۹…) پذیرفته می‌شود.")
	}
	if phonenumbers.GetNumberType(num) != phonenumbers.MOBILE {
		return "", phoneError("the number is not a mobile number; a landline cannot receive SMS",
			"این شماره تلفن همراه نیست؛ به تلفن ثابت نمی‌توان پیامک فرستاد.")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// PhoneErrorCode is the field code of every NormalizePhone error, for clients to branch on.
const PhoneErrorCode = "invalid_phone"

func phoneError(en, fa string) error {
	return &survey.Error{
		Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{"phone": {Code: PhoneErrorCode, Message: en, MessageFA: fa}},
	}
}

// Mask shows a phone number so staff can tell numbers apart without reading them: +989121234567
// → 0912***4567 (DOMAIN.md §6), the operator prefix and the last four digits. Whatever it is given,
// it never returns the whole number: a number it does not recognise as Iranian keeps its first
// four and last two digits, and a short one is all stars.
func Mask(e164 string) string {
	var d []byte
	for _, r := range asciiDigits(e164) {
		if r >= '0' && r <= '9' {
			d = append(d, byte(r))
		}
	}
	switch {
	case len(d) == 12 && string(d[:2]) == "98":
		return "0" + string(d[2:5]) + "***" + string(d[8:])
	case len(d) == 11 && d[0] == '0':
		return string(d[:4]) + "***" + string(d[7:])
	case len(d) >= 9:
		return string(d[:4]) + "***" + string(d[len(d)-2:])
	}
	return "***"
}
