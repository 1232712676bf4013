package sms

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns s in the one form replies are matched in (DOMAIN.md §4), so that «۵», «٥»,
// "5" and "５" are the same digit and «خيلي خوب» typed on an Arabic keyboard is «خیلی خوب». It is for
// matching only: what a citizen wrote is kept as written for display.
//
// The steps: NFKC (presentation forms, full-width digits); Persian ۰–۹ and Arabic-Indic ٠–٩ to
// ASCII; Arabic ي ى → ی, ك → ک, ة → ه; Arabic diacritics (fatha … sukun, superscript alef, but not
// madda and hamza, which NFKC composes into آ أ) and tatweel dropped; ZWNJ, ZWJ, LRM, RLM, ALM, BOM and the bidi embedding and isolate controls
// dropped (so «می‌شود» matches «میشود»); Latin lower-cased; NFKC again, since a dropped joiner can
// bring a letter and its combining mark together; whitespace runs collapsed to one space and
// trimmed. Normalize(Normalize(s)) == Normalize(s).
func Normalize(s string) string {
	s = norm.NFKC.String(s)
	s = strings.Map(normalizeRune, s)
	s = norm.NFKC.String(s)
	return strings.Join(strings.Fields(s), " ")
}

// normalizeRune maps one rune for Normalize; -1 drops it.
func normalizeRune(r rune) rune {
	switch {
	case r >= '۰' && r <= '۹':
		return '0' + (r - '۰')
	case r >= '٠' && r <= '٩':
		return '0' + (r - '٠')
	case r >= 0x064B && r <= 0x0652, r >= 0x0656 && r <= 0x065F, r == 0x0670:
		return -1 // harakat, tanwin, shadda, sukun, superscript alef; madda and hamza (0653–0655) compose

	case isInvisible(r):
		return -1
	}
	switch r {
	case 'ي', 'ى':
		return 'ی'
	case 'ك':
		return 'ک'
	case 'ة':
		return 'ه'
	}
	if r < 0x0600 || r > 0x06FF { // only Latin and the like have case; Arabic script has none
		return unicode.ToLower(r)
	}
	return r
}

// isInvisible reports the characters that change how text is shown or joined but never what it
// says: tatweel (the Arabic stretching stroke), the zero-width (non-)joiners, the direction marks
// and controls, and the byte-order mark.
func isInvisible(r rune) bool {
	switch {
	case r == 0x0640, // tatweel
		r == 0x061C,                // Arabic letter mark
		r >= 0x200B && r <= 0x200F, // zero-width space, ZWNJ, ZWJ, LRM, RLM
		r >= 0x202A && r <= 0x202E, // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // bidi isolates
		r == 0xFEFF:                // BOM, zero-width no-break space
		return true
	}
	return false
}

// asciiDigits maps Persian and Arabic-Indic digits in s to ASCII and leaves everything else; it is
// the part of Normalize that phone numbers need.
func asciiDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '۰' && r <= '۹':
			return '0' + (r - '۰')
		case r >= '٠' && r <= '٩':
			return '0' + (r - '٠')
		}
		return r
	}, s)
}
