package web_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/survey"
)

func TestFormatJalaliTime(t *testing.T) {
	for at, want := range map[time.Time]string{
		time.Date(2026, 12, 1, 10, 15, 0, 0, survey.Tehran): "۱۰ آذر ۱۴۰۵، ساعت ۱۰:۱۵",
		time.Date(2026, 3, 20, 20, 30, 0, 0, time.UTC):      "۱ فروردین ۱۴۰۵، ساعت ۰۰:۰۰", // Tehran midnight of Nowruz
		time.Date(2027, 3, 20, 23, 5, 0, 0, survey.Tehran):  "۲۹ اسفند ۱۴۰۵، ساعت ۲۳:۰۵",
	} {
		if got := web.FormatJalaliTime(at); got != want {
			t.Errorf("FormatJalaliTime(%s) = %q, want %q", at, got, want)
		}
	}
}

// Words that take a half-space (ZWNJ) must not be written with a space or run together: «می
// شود» and «میشود» are both misspellings of «می‌شود». This checks every template for the
// common cases: the verb prefixes می/نمی, the plural ها/های, and «جفت‌سازی».
func TestTemplatesUseHalfSpaces(t *testing.T) {
	bad := regexp.MustCompile(`(^|[\s«(،])(ن?می) [\x{0600}-\x{06FF}]|[\x{0600}-\x{06FF}] (ها|های|هایی)([\s.،»)]|$)|جفت ?سازی`)
	err := filepath.WalkDir("templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range bad.FindAllString(string(b), -1) {
			t.Errorf("%s: %q needs a half-space (ZWNJ)", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
