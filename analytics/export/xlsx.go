package export

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// XLSX writes a Sheet as an Office Open XML workbook with one right-to-left worksheet: a bold,
// frozen header row of Persian titles, strings inline, numbers as numbers. The zip is written
// as rows arrive — the worksheet is its last entry — so memory stays constant and a client
// receives a large workbook as it is produced.
type XLSX struct {
	bw  *bufio.Writer
	zw  *zip.Writer
	ws  io.Writer
	dst io.Writer
	row int
	buf []byte
}

// xlsxNS is the SpreadsheetML namespace.
const xlsxNS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

// xlsxParts are the workbook's fixed parts; %SHEET% is the sheet's name.
var xlsxParts = []struct{ name, body string }{
	{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`},
	{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
	{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="` + xlsxNS + `" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView rightToLeft="1"/></bookViews><sheets><sheet name="%SHEET%" sheetId="1" r:id="rId1"/></sheets></workbook>`},
	{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`},
	{"xl/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="` + xlsxNS + `"><fonts count="2"><font><sz val="11"/><name val="Tahoma"/></font><font><b/><sz val="11"/><name val="Tahoma"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`},
}

const sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="` + xlsxNS + `"><sheetViews><sheetView rightToLeft="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>`

const sheetTail = `</sheetData></worksheet>`

// NewXLSX returns an XLSX sheet named sheet (its tab; at most 31 characters, without []:*?/\)
// writing to w. When w is an http.Flusher it is flushed with every batch of rows.
func NewXLSX(w io.Writer, sheet string) (*XLSX, error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	x := &XLSX{bw: bw, zw: zip.NewWriter(bw), dst: w}
	for _, p := range xlsxParts {
		f, err := x.zw.Create(p.name)
		if err != nil {
			return nil, err
		}
		body := strings.Replace(p.body, "%SHEET%", xmlEscape(sheetName(sheet)), 1)
		if _, err := io.WriteString(f, body); err != nil {
			return nil, err
		}
	}
	ws, err := x.zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, err
	}
	x.ws = ws
	_, err = io.WriteString(ws, sheetHead)
	return x, err
}

// sheetName makes s a valid worksheet name.
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 31 {
		s = string([]rune(s)[:31])
	}
	if s == "" {
		s = "Sheet1"
	}
	return s
}

// Header writes the row of titles, bold.
func (x *XLSX) Header(cols []Column) error {
	cells := make([]any, len(cols))
	for i, c := range cols {
		cells[i] = c.Title
	}
	return x.write(cells, true)
}

// Row writes one row; numbers stay numbers, nil cells are left out.
func (x *XLSX) Row(cells []any) error {
	if err := x.write(cells, false); err != nil {
		return err
	}
	if x.row%flushEvery == 0 {
		return x.flush()
	}
	return nil
}

func (x *XLSX) write(cells []any, bold bool) error {
	x.row++
	rn := strconv.Itoa(x.row)
	b := append(x.buf[:0], `<row r="`...)
	b = append(b, rn...)
	b = append(b, `">`...)
	for i, v := range cells {
		var num string
		switch c := v.(type) {
		case nil:
			continue
		case *float64:
			if c == nil {
				continue
			}
			num = FormatCell(*c)
		case float64:
			if math.IsNaN(c) || math.IsInf(c, 0) {
				continue
			}
			num = FormatCell(c)
		case int, int64, survey.ID:
			num = FormatCell(c)
		}
		b = append(b, `<c r="`...)
		b = appendColumn(b, i)
		b = append(b, rn...)
		b = append(b, '"')
		if bold {
			b = append(b, ` s="1"`...)
		}
		if num != "" {
			b = append(b, `><v>`...)
			b = append(b, num...)
			b = append(b, `</v></c>`...)
			continue
		}
		b = append(b, ` t="inlineStr"><is><t xml:space="preserve">`...)
		b = append(b, xmlEscape(FormatCell(v))...)
		b = append(b, `</t></is></c>`...)
	}
	b = append(b, `</row>`...)
	x.buf = b
	_, err := x.ws.Write(b)
	return err
}

// appendColumn appends the column letters of the 0-based index i (A, …, Z, AA, …).
func appendColumn(b []byte, i int) []byte {
	var tmp [4]byte
	n := len(tmp)
	for i++; i > 0; i = (i - 1) / 26 {
		n--
		tmp[n] = byte('A' + (i-1)%26)
	}
	return append(b, tmp[n:]...)
}

// xmlEscape escapes text for element content and attributes; characters XML cannot hold
// (control characters other than tab and newline) become U+FFFD.
func xmlEscape(s string) string {
	var sb strings.Builder
	_ = xml.EscapeText(&sb, []byte(s))
	return sb.String()
}

func (x *XLSX) flush() error {
	if err := x.zw.Flush(); err != nil {
		return err
	}
	if f, ok := x.dst.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// Close ends the worksheet and the zip.
func (x *XLSX) Close() error {
	if _, err := io.WriteString(x.ws, sheetTail); err != nil {
		return err
	}
	if err := x.zw.Close(); err != nil {
		return err
	}
	if err := x.bw.Flush(); err != nil {
		return err
	}
	if f, ok := x.dst.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}
