// Package export writes an agency's raw responses and its score table as CSV or XLSX files that
// a spreadsheet opens and a script parses, streaming them so that a million responses cost the
// same memory as ten.
//
// Choices, documented once here (the README repeats them for staff):
//   - Cells are machine fields: ASCII digits, ISO and Jalali dates as "1404-08-24", channel and
//     flag as their stable ids ("kiosk", "after_hours"). Answers are what a person reads:
//     option labels, «بله»/«خیر», and free text with personal numbers removed
//     (survey.RedactPersonal).
//   - CSV has one header row of stable English column ids ("date_jalali", "q:q1"), so scripts
//     keep working when a question title is edited; it starts with a UTF-8 byte order mark so
//     that Excel reads Persian as UTF-8. XLSX has one header row of Persian titles, a
//     right-to-left sheet and a frozen header, for people.
//   - Memory: rows are written as they are read, straight to the client (flushed every
//     flushEvery rows), for CSV and XLSX alike. XLSX is written by this package (xlsx.go), not
//     by excelize: excelize's StreamWriter keeps rows in a temporary file but File.Write builds
//     the whole zip in a bytes.Buffer, about 130 MB of heap for a million rows. excelize reads
//     the files back in the tests, which is how they are checked.
package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"net/http"
	"strconv"

	"github.com/afkar-gov/afkar/survey"
)

// Column is one column of an export: ID names it in the CSV header and for scripts, Title in the
// XLSX header for people.
type Column struct {
	ID    string
	Title string
}

// Sheet receives an export one row at a time. Cells are string, int, int64, float64 or nil
// (empty). Close finishes the file; nothing may be written after it.
type Sheet interface {
	Header(cols []Column) error
	Row(cells []any) error
	Close() error
}

// flushEvery is how many CSV rows are buffered before they are pushed to the client.
const flushEvery = 512

// CSV writes a Sheet as RFC 4180 CSV in UTF-8 with a byte order mark, header row of column ids.
type CSV struct {
	w    *csv.Writer
	bw   *bufio.Writer
	dst  io.Writer
	rec  []string
	rows int
}

// NewCSV returns a CSV sheet writing to w. When w is an http.Flusher it is flushed with every
// batch of rows, so the client receives a large export as it is produced.
func NewCSV(w io.Writer) *CSV {
	bw := bufio.NewWriterSize(w, 32<<10)
	return &CSV{w: csv.NewWriter(bw), bw: bw, dst: w}
}

// Header writes the byte order mark and the row of column ids.
func (c *CSV) Header(cols []Column) error {
	if _, err := c.bw.WriteString("\ufeff"); err != nil {
		return err
	}
	c.rec = make([]string, len(cols))
	for i, col := range cols {
		c.rec[i] = col.ID
	}
	return c.w.Write(c.rec)
}

// Row writes one record.
func (c *CSV) Row(cells []any) error {
	if cap(c.rec) < len(cells) {
		c.rec = make([]string, len(cells))
	}
	c.rec = c.rec[:len(cells)]
	for i, v := range cells {
		c.rec[i] = FormatCell(v)
	}
	if err := c.w.Write(c.rec); err != nil {
		return err
	}
	c.rows++
	if c.rows%flushEvery == 0 {
		return c.flush()
	}
	return nil
}

func (c *CSV) flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if f, ok := c.dst.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// Close flushes what is left.
func (c *CSV) Close() error { return c.flush() }

// FormatCell writes a cell as the CSV holds it: integers and floats in ASCII digits (floats in
// their shortest exact form, "." as the decimal point), nil as empty.
func FormatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case survey.ID:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	}
	panic("export: unsupported cell type")
}
