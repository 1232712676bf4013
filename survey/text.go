package survey

import "strings"

// digitFolder maps Persian (U+06F0–06F9) and Arabic-Indic (U+0660–0669) digits to ASCII, which
// strconv does not understand, and drops the invisible marks phones insert around numbers.
var digitFolder = strings.NewReplacer(
	"۰", "0", "۱", "1", "۲", "2", "۳", "3", "۴", "4", "۵", "5", "۶", "6", "۷", "7", "۸", "8", "۹", "9",
	"٠", "0", "١", "1", "٢", "2", "٣", "3", "٤", "4", "٥", "5", "٦", "6", "٧", "7", "٨", "8", "٩", "9",
	"\u200f", "", "\u200e", "", "\u200d", "", "\ufeff", "",
)

// NormalizeDigits turns Persian and Arabic-Indic digits into ASCII and removes direction marks, so
// "۱۲" and "12" mean the same number everywhere input is parsed.
func NormalizeDigits(s string) string { return digitFolder.Replace(s) }

// FormatPersianDigits writes ASCII digits as Persian digits for display.
func FormatPersianDigits(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune('۰' + (r - '0'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
