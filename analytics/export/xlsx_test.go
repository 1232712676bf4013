package export_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/afkar-gov/afkar/analytics/export"
)

// Text that XML must escape or cannot hold, and a sheet name Excel refuses, still make a
// workbook excelize opens, with the text as written (U+FFFD for the control character).
func TestXLSXEscapes(t *testing.T) {
	var b bytes.Buffer
	sh, err := export.NewXLSX(&b, "گزارش [آبان]/۱۴۰۴: خیلی خیلی خیلی خیلی طولانی")
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Header([]export.Column{{ID: "a", Title: "<متن> & \"نقل\""}, {ID: "b", Title: "عدد"}}); err != nil {
		t.Fatal(err)
	}
	if err := sh.Row([]any{"a<b>&c\x01d\n  e", -2.5}); err != nil {
		t.Fatal(err)
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name := f.GetSheetList()[0]
	if name != "گزارش -آبان--۱۴۰۴- خیلی خیلی خی" {
		t.Errorf("sheet name %q", name)
	}
	rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"<متن> & \"نقل\"", "عدد"}, {"a<b>&c\uFFFDd\n  e", "-2.5"}}
	if len(rows) != 2 || rows[0][0] != want[0][0] || rows[0][1] != want[0][1] || rows[1][0] != want[1][0] || rows[1][1] != want[1][1] {
		t.Errorf("rows %q, want %q", rows, want)
	}
}
