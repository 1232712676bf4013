package sms

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

// persianOf cuts a real Persian text (repeated as needed) to exactly n characters, so the part
// boundaries are tested with the letters invitations are made of.
func persianOf(n int) string {
	const src = "از خدمت امروز اداره‌ی گذرنامه چقدر راضی بودید؟ لطفاً عددی از ۱ تا ۵ بفرستید. "
	var b []rune
	for len(b) < n {
		b = append(b, []rune(src)...)
	}
	return string(b[:n])
}

func latinOf(n int) string {
	return strings.Repeat("Rate your visit 1-5. ", n/21+1)[:n]
}

func TestParts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		parts int
		enc   Encoding
	}{
		{"empty", "", 0, GSM7},
		{"persian 1", "۵", 1, UCS2},
		{"persian 70", persianOf(70), 1, UCS2},
		{"persian 71", persianOf(71), 2, UCS2},
		{"persian 134", persianOf(134), 2, UCS2},
		{"persian 135", persianOf(135), 3, UCS2},
		{"persian 201", persianOf(201), 3, UCS2},
		{"persian 202", persianOf(202), 4, UCS2},
		{"persian 268", persianOf(268), 4, UCS2},
		{"latin 160", latinOf(160), 1, GSM7},
		{"latin 161", latinOf(161), 2, GSM7},
		{"latin 306", latinOf(306), 2, GSM7},
		{"latin 307", latinOf(307), 3, GSM7},
		{"gsm extension counts twice: 80 braces = 160", strings.Repeat("{", 80), 1, GSM7},
		{"gsm extension counts twice: 80 braces + a = 161", strings.Repeat("{", 80) + "a", 2, GSM7},
		{"one Persian letter makes 160 latin UCS-2", latinOf(159) + "ی", 3, UCS2},
		{"latin 69 + Persian digit = 70 UCS-2", latinOf(69) + "۱", 1, UCS2},
		{"ZWNJ counts: 69 + ZWNJ", persianOf(69) + "\u200c", 1, UCS2},
		{"ZWNJ counts: 70 + ZWNJ", persianOf(70) + "\u200c", 2, UCS2},
		{"emoji outside the BMP is two units: 68 + 🙂", persianOf(68) + "🙂", 1, UCS2},
		{"emoji outside the BMP is two units: 69 + 🙂", persianOf(69) + "🙂", 2, UCS2},
		{"opt-out footer alone", OptOutFooter, 1, UCS2},
		{"newline is GSM", "a\nb", 1, GSM7},
		{"euro is GSM extension", "€", 1, GSM7},
		{"Arabic comma is not GSM", "،", 1, UCS2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, enc := Parts(tc.text)
			if parts != tc.parts || enc != tc.enc {
				t.Errorf("Parts(%d runes, %d UTF-16 units) = %d %v, want %d %v", len([]rune(tc.text)),
					len(utf16.Encode([]rune(tc.text))), parts, enc, tc.parts, tc.enc)
			}
		})
	}
}

func TestComposeInvitation(t *testing.T) {
	const link = "https://afkar.ir/s/Ab3dE5gH7jK9mN"
	for _, tc := range []struct {
		name      string
		inv       Invitation
		wantName  string // the agency's name as it must appear (shortened or not)
		shortened bool
	}{
		{"short name", Invitation{Agency: "ثبت احوال", Link: link}, "ثبت احوال", false},
		{"name with ZWNJ", Invitation{Agency: "اداره‌ی گذرنامه", Link: link}, "اداره‌ی گذرنامه", false},
		{"spaces collapsed", Invitation{Agency: "  سازمان   ثبت احوال کشور ", Link: link}, "سازمان ثبت احوال کشور", false},
		{"long name shortened", Invitation{Agency: "اداره کل ثبت اسناد و املاک استان تهران بزرگ", Link: link}, "اداره کل ثبت اسناد و املاک استان تهران…", true},
		{"no link: room for the long name", Invitation{Agency: "اداره کل ثبت اسناد و املاک استان تهران بزرگ"}, "اداره کل ثبت اسناد و املاک استان تهران بزرگ", false},
		{"own question", Invitation{Agency: "شهرداری منطقه ۶", Question: "از ۱ تا ۵ به پاسخ‌گویی ما چه نمره‌ای می‌دهید؟", Link: link}, "شهرداری منطقه ۶", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, err := ComposeInvitation(tc.inv)
			if err != nil {
				t.Fatal(err)
			}
			if p, enc := Parts(text); p > MaxParts || enc != UCS2 {
				t.Errorf("%d parts %v, want ≤ %d UCS-2:\n%s", p, enc, MaxParts, text)
			}
			if !strings.HasPrefix(text, tc.wantName+": ") {
				t.Errorf("text does not start with %q:\n%s", tc.wantName, text)
			}
			if strings.Contains(text, ellipsis) != tc.shortened {
				t.Errorf("shortened = %v, want %v:\n%s", !tc.shortened, tc.shortened, text)
			}
			if !strings.HasSuffix(text, "\n"+OptOutFooter) {
				t.Errorf("text does not end with the opt-out line:\n%s", text)
			}
			if tc.inv.Link != "" && !strings.Contains(text, " "+tc.inv.Link+"\n") {
				t.Errorf("link missing or cut:\n%s", text)
			}
			q := tc.inv.Question
			switch {
			case q != "":
			case tc.inv.Link != "":
				q = DefaultLinkQuestion
			default:
				q = DefaultQuestion
			}
			if !strings.Contains(text, q) {
				t.Errorf("question missing:\n%s", text)
			}
		})
	}
}

// The longest name that fits is kept whole; one letter more and it is cut to exactly the
// 134-unit boundary or below.
func TestComposeInvitationBoundary(t *testing.T) {
	link := "https://afkar.ir/s/" + strings.Repeat("A", 39) // a signed link as the binary issues it
	fixed := len([]rune(invitationText("", DefaultLinkQuestion, link)))
	room := 134 - fixed
	fits := persianOf(room)
	if strings.HasSuffix(fits, " ") { // Fields would trim it; keep the length exact
		t.Fatalf("test name ends in a space at %d", room)
	}
	text, err := ComposeInvitation(Invitation{Agency: fits, Link: link})
	if err != nil || len([]rune(text)) != 134 || strings.Contains(text, ellipsis) {
		t.Fatalf("a %d-letter name should fill exactly 134: %d %v\n%s", room, len([]rune(text)), err, text)
	}
	text, err = ComposeInvitation(Invitation{Agency: persianOf(room + 1), Link: link})
	if err != nil || !strings.Contains(text, ellipsis) || len([]rune(text)) > 134 {
		t.Fatalf("a %d-letter name should be shortened: %d %v\n%s", room+1, len([]rune(text)), err, text)
	}
}

// A link as the binary issues it (a 39-character signed token on a host of the usual length)
// fits beside the default question with an agency's name of a few words.
func TestComposeInvitationWithARealLink(t *testing.T) {
	link := "https://nazar.example.ir/s/" + strings.Repeat("A", 39)
	text, err := ComposeInvitation(Invitation{Agency: "ثبت احوال", Link: link})
	if err != nil || !strings.Contains(text, DefaultLinkQuestion) || !strings.Contains(text, link) {
		t.Fatalf("%v\n%s", err, text)
	}
	if text, _ := ComposeInvitation(Invitation{Agency: "ثبت احوال"}); !strings.Contains(text, DefaultQuestion) {
		t.Errorf("without a link the full question: %s", text)
	}
}

func TestComposeInvitationErrors(t *testing.T) {
	if _, err := ComposeInvitation(Invitation{Agency: " ", Link: "x"}); err == nil {
		t.Error("no agency name: want an error")
	}
	longQ := strings.Repeat("چقدر راضی بودید؟ ", 6)
	_, err := ComposeInvitation(Invitation{Agency: "ثبت احوال", Question: longQ, Link: "https://afkar.ir/s/Ab3dE5gH7jK9mN"})
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("question of %d letters: err = %v, want ErrTooLong", len([]rune(longQ)), err)
	}
}
