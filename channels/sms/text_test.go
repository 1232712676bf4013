package sms_test

import (
	"strconv"
	"testing"

	"github.com/afkar-gov/afkar/channels/sms"
)

func TestNormalizeForParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"۰۱۲۳۴۵۶۷۸۹", "0123456789"},
		{"٠١٢٣٤٥٦٧٨٩", "0123456789"},
		{"１２３", "123"},                     // full-width, by NFKC
		{"خيلي", "خیلی"},                   // Arabic yeh
		{"عالى", "عالی"},                   // alef maksura
		{"كارمند", "کارمند"},               // Arabic kaf
		{"مراجعة", "مراجعه"},               // teh marbuta
		{"خـــوب", "خوب"},                  // tatweel
		{"می‌شود", "میشود"},                // ZWNJ
		{"\u200f۵\u200e", "5"},             // RLM, LRM
		{"\ufeffسلام", "سلام"},             // BOM
		{"اصلاً", "اصلا"},                  // tanwin
		{"ﻻ", "لا"},                        // presentation form, by NFKC
		{"  خیلی \t\n  خوب  ", "خیلی خوب"}, // whitespace
		{"KHOOB Bood", "khoob bood"},       // Latin lower-cased
		{"ا\u200c\u0653", "آ"},             // a dropped joiner lets the letter and its madda compose
		{"", ""},
	} {
		if got := sms.Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The reason for the digit mapping: strconv cannot read Persian digits.
	if _, err := strconv.Atoi("۵"); err == nil {
		t.Fatal("strconv.Atoi reads Persian digits now; the mapping may be redundant")
	}
	if n, err := strconv.Atoi(sms.Normalize("۱۴۰۳")); err != nil || n != 1403 {
		t.Fatalf("Atoi(Normalize(۱۴۰۳)) = %d, %v", n, err)
	}
}
