package web_test

import (
	"testing"

	"github.com/afkar-gov/afkar/api/web"
)

// A description's English is split from its Persian at " / " or after a Persian first line;
// slashes inside either half, and text that is not written that way, stay whole.
func TestSplitBilingual(t *testing.T) {
	for in, want := range map[string]web.Bilingual{
		"هر کسی / anyone": {FA: "هر کسی", EN: "anyone"},
		"عدد، بله/خیر یا گزینه(ها) / A number.":    {FA: "عدد، بله/خیر یا گزینه(ها)", EN: "A number."},
		"فارسی\nEnglish line one\nline two / more": {FA: "فارسی", EN: "English line one\nline two / more"},
		"PNG 512×512":            {FA: "PNG 512×512"},
		"Location: /dev/sms":     {FA: "Location: /dev/sms"},
		"فقط فارسی\nو باز فارسی": {FA: "فقط فارسی\nو باز فارسی"},
		"  a / b  ":              {FA: "a", EN: "b"},
	} {
		if got := web.SplitBilingual(in); got != want {
			t.Errorf("SplitBilingual(%q) = %+v, want %+v", in, got, want)
		}
	}
}
