package survey

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Redacted replaces personal numbers that RedactPersonal removes from free text.
const Redacted = "[حذف شد]"

// personalNumber matches, on text whose digits are folded to ASCII, an Iranian mobile number —
// 09…, +989…, 00989…, 989… or 9… followed by nine more digits — or any other run of exactly ten
// digits, the shape of a national code (کد ملی). Digits may be separated by up to two spaces,
// dashes, dots, parentheses or invisible marks, as people and phones write them.
var personalNumber = regexp.MustCompile(
	`(?:(?:\+|00)[ ]?98[ \-]?|98[ \-]?|0)?9(?:` + sep + `\d){9}` + `|\d(?:` + sep + `\d){9}`)

const sep = `[ \t\-.()\x{00A0}\x{200C}\x{200E}\x{200F}\x{202F}]{0,2}`

// RedactPersonal returns text with every Iranian mobile number and every ten-digit number (a
// national code, or anything shaped like one) replaced by Redacted, whatever digit script
// (ASCII, Persian, Arabic-Indic) and spacing they are written in. Exports and comment views
// call it on citizens' free text: a citizen who writes "call me on ۰۹۱۲ ۳۴۵ ۶۷۸۹" must not have
// the number copied into a spreadsheet. A match that is part of a longer run of digits (an
// amount, a tracking code) is left alone; ten digits are redacted without checking the national
// code's checksum — losing an odd number is cheaper than leaking an identity.
func RedactPersonal(text string) string {
	if !strings.ContainsFunc(text, isAnyDigit) {
		return text
	}
	// Fold digits to ASCII, remembering where each byte of the folded text came from.
	folded := make([]byte, 0, len(text))
	origin := make([]int, 0, len(text)+1)
	for i, r := range text {
		if d, ok := digitValue(r); ok {
			folded = append(folded, byte('0'+d))
			origin = append(origin, i)
			continue
		}
		n := utf8.RuneLen(r)
		if n < 0 {
			n = 1
		}
		for k := 0; k < n; k++ {
			origin = append(origin, i+k)
		}
		folded = utf8.AppendRune(folded, r)
	}
	origin = append(origin, len(text))
	s := string(folded)
	var b strings.Builder
	last := 0
	for _, m := range personalNumber.FindAllStringIndex(s, -1) {
		start, end := m[0], m[1]
		if start > 0 && (isASCIIDigit(s[start-1]) || s[start-1] == '+') {
			continue
		}
		if end < len(s) && isASCIIDigit(s[end]) {
			continue
		}
		b.WriteString(text[last:origin[start]])
		b.WriteString(Redacted)
		last = origin[end]
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAnyDigit(r rune) bool { _, ok := digitValue(r); return ok }

// digitValue reads an ASCII, Persian or Arabic-Indic digit.
func digitValue(r rune) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= '۰' && r <= '۹':
		return int(r - '۰'), true
	case r >= '٠' && r <= '٩':
		return int(r - '٠'), true
	}
	return 0, false
}
