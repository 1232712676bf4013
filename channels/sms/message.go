package sms

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Encoding is how an SMS is coded on the air, which decides how many characters fit in a part.
type Encoding int

const (
	// GSM7 is the 7-bit default alphabet: 160 characters in one SMS, 153 per part after that.
	// Characters of its extension table ({, }, [, ], ~, \, |, ^, €, form feed) take two.
	GSM7 Encoding = iota + 1
	// UCS2 is 16-bit coding, forced by any character outside GSM-7 — one Persian letter is
	// enough: 70 in one SMS, 67 per part after that (70 / 134 / 201 / 268). Characters outside
	// the Basic Multilingual Plane (most emoji) take two.
	UCS2
)

// String names the encoding for logs.
func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "GSM-7"
	case UCS2:
		return "UCS-2"
	}
	return "unknown"
}

// gsm7Basic and gsm7Ext are the GSM 03.38 default alphabet and its extension table (each
// extension character is sent as escape + character, so it counts twice).
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "^{}\\[~]|€\f"
)

// Parts returns how many SMS parts text takes and its encoding (DOMAIN.md §3); cost is per
// part, so the queue records it and composition keeps invitations within MaxParts. An empty text
// takes 0 parts. Boundaries: UCS-2 70 → 1, 71 → 2, 134 → 2, 135 → 3; GSM-7 160 → 1, 161 → 2,
// 306 → 2, 307 → 3. (Operators never split a UCS-2 surrogate pair or a GSM escape across
// parts, which can cost a part in rare texts; counting that is not worth the complexity.)
func Parts(text string) (parts int, enc Encoding) {
	septets, gsm := 0, true
	units := 0
	for _, r := range text {
		units += utf16.RuneLen(r) // an invalid byte reads as U+FFFD: one unit
		switch {
		case !gsm:
		case strings.ContainsRune(gsm7Basic, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if text == "" {
		return 0, GSM7
	}
	if gsm {
		return count(septets, 160, 153), GSM7
	}
	return count(units, 70, 67), UCS2
}

// count is the parts needed for n characters when one SMS holds single and each part of a
// concatenated SMS holds multi (the rest carries the concatenation header).
func count(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// MaxParts is the most parts an invitation may take (the issue: at most 2, so one invitation
// costs at most twice a single SMS).
const MaxParts = 2

// OptOutFooter ends every information SMS, as Iranian rules require (DOMAIN.md §3): «لغو ۱۱».
// A citizen who replies 11 stops all SMS from the line.
const OptOutFooter = "لغو ۱۱"

// DefaultQuestion is the 1–5 question when a survey sets none. It says why the number is used
// (the citizen's visit today) in the same breath, to stay within two parts.
const DefaultQuestion = "از خدمت امروز به شما چقدر راضی بودید؟ عددی از ۱ تا ۵ پاسخ دهید"

// DefaultLinkQuestion is DefaultQuestion when the invitation carries a link: a signed web-form
// link (channels/weblink, a 39-character token) takes about 60 characters, and DefaultQuestion
// beside it never fits in two parts, whatever the agency's name.
const DefaultLinkQuestion = "از خدمت امروز چقدر راضی بودید؟ ۱ تا ۵ پاسخ دهید"

// minAgencyRunes is the shortest an agency's name may be cut to (before the ellipsis): fewer
// letters would no longer say who is asking, so composition fails instead.
const minAgencyRunes = 6

// ellipsis marks a shortened agency name.
const ellipsis = "…"

// ErrTooLong means a text cannot fit in MaxParts: an invitation even with the agency's name
// shortened (the survey's question or link is too long for SMS), or a follow-up question (its
// title and labels are).
var ErrTooLong = errors.New("sms: text does not fit in two SMS parts")

// Invitation is what an invitation SMS says.
type Invitation struct {
	// Agency is the agency's display name; it is shortened with an ellipsis when the text would
	// take more than MaxParts.
	Agency string
	// Question is the survey's SMS question; empty means DefaultQuestion (DefaultLinkQuestion
	// with a link).
	Question string
	// Link is the short signed link to the web form; empty leaves the link out (SMS reply only).
	Link string
}

// ComposeInvitation builds the Persian invitation text: «{agency}: {question} یا: {link}» and a
// last line «لغو ۱۱». It shortens the agency's name (never the question, the link or the footer)
// until the text fits in MaxParts, and returns ErrTooLong when even a name of minAgencyRunes
// letters does not fit.
func ComposeInvitation(inv Invitation) (string, error) {
	agency := strings.Join(strings.Fields(inv.Agency), " ")
	if agency == "" {
		return "", errors.New("sms: invitation without the agency's name")
	}
	question := strings.TrimSpace(inv.Question)
	link := strings.TrimSpace(inv.Link)
	switch {
	case question != "":
	case link != "":
		question = DefaultLinkQuestion
	default:
		question = DefaultQuestion
	}
	name := []rune(agency)
	for n := len(name); n >= minAgencyRunes; n-- {
		shown := agency
		if n < len(name) {
			shown = strings.TrimRightFunc(string(name[:n]), func(r rune) bool {
				return unicode.IsSpace(r) || r == '\u200c' || unicode.IsPunct(r)
			}) + ellipsis
		}
		text := invitationText(shown, question, link)
		if p, _ := Parts(text); p <= MaxParts {
			return text, nil
		}
	}
	return "", fmt.Errorf("%w (question %d and link %d characters)", ErrTooLong,
		len([]rune(question)), len([]rune(link)))
}

// invitationText lays out one candidate text.
func invitationText(agency, question, link string) string {
	var b strings.Builder
	b.WriteString(agency)
	b.WriteString(": ")
	b.WriteString(question)
	if link != "" {
		b.WriteString(" یا: ")
		b.WriteString(link)
	}
	b.WriteString("\n")
	b.WriteString(OptOutFooter)
	return b.String()
}
