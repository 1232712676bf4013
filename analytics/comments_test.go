package analytics_test

import (
	"testing"

	"github.com/afkar-gov/afkar/analytics"
)

func TestRedactComment(t *testing.T) {
	for in, want := range map[string]string{
		"شمارهٔ من ۰۹۱۲۳۴۵۶۷۸۹ است":     "شمارهٔ من [حذف شد] است",
		"call +98 912 345 6789 please":  "call [حذف شد] please",
		"کد ملی 0012345678":             "کد ملی [حذف شد]",
		"۰۹۱۲-۳۴۵-۶۷۸۹":                 "[حذف شد]",
		"٠٩١٢٣٤٥٦٧٨٩":                   "[حذف شد]",
		"باجه ۱۲ ساعت ۱۰ صبح، ۲۰۰ هزار": "باجه ۱۲ ساعت ۱۰ صبح، ۲۰۰ هزار",
		"تاریخ 1404-08-24":              "تاریخ [حذف شد]", // eight digits in a row: better over-redact
		"":                              "",
		"+":                             "+",
	} {
		if got := analytics.RedactComment(in); got != want {
			t.Errorf("RedactComment(%q) = %q, want %q", in, got, want)
		}
	}
}
