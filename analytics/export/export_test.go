package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/analytics/export"
	"github.com/afkar-gov/afkar/survey"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func intp(v int) *int { return &v }

func f64(v float64) *float64 { return &v }

// fixture is an agency with two versions of one survey (version 1 asked "old", version 2 asks
// every type) and responses covering each kind of cell: Tehran midnight crossing, an office
// and none, every channel, a flag, multiple choice, yes and no, and text with personal numbers.
func fixture() ([]survey.Version, []survey.Office, []survey.Response) {
	pub := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	v1 := survey.Version{SurveyID: 7, AgencyID: 3, Version: 1, PublishedAt: pub, Questions: []survey.Question{
		{ID: "q1", Type: survey.TypeRating5, Title: "رضایت کلی"},
		{ID: "old", Type: survey.TypeYesNo, Title: "پرسش قدیمی"},
	}}
	v2 := survey.Version{SurveyID: 7, AgencyID: 3, Version: 2, PublishedAt: pub.AddDate(0, 1, 0), Questions: []survey.Question{
		{ID: "q1", Type: survey.TypeRating5, Title: "از خدمت امروز چقدر راضی بودید؟"},
		{ID: "nps", Type: survey.TypeNPS, Title: "پیشنهاد به دیگران"},
		{ID: "yes", Type: survey.TypeYesNo, Title: "کارتان انجام شد؟"},
		{ID: "why", Type: survey.TypeChoice, Title: "چه چیزی بد بود؟", Multiple: true, Options: []survey.Option{
			{ID: "slow", Label: "کندی کار"}, {ID: "rude", Label: "برخورد نامناسب"}, {ID: "closed", Label: "تعطیل بود"}}},
		{ID: "note", Type: survey.TypeText, Title: "توضیح"},
	}}
	offices := []survey.Office{{ID: 11, AgencyID: 3, Name: "دفتر مرکزی"}, {ID: 12, AgencyID: 3, Name: "شعبه شمال"}}
	at := time.Date(2025, 11, 14, 20, 29, 59, 0, time.UTC) // 23:59:59 Tehran, 1404-08-23
	rs := []survey.Response{
		{ID: "00000000-0000-4000-8000-000000000001", AgencyID: 3, OfficeID: 11, SurveyID: 7, SurveyVersion: 1,
			Channel: survey.ChannelKiosk, SubmittedAt: at, ReceivedAt: at.Add(2 * time.Hour),
			Answers: []survey.Answer{
				{QuestionID: "q1", Type: survey.TypeRating5, Number: intp(4)},
				{QuestionID: "old", Type: survey.TypeYesNo, Number: intp(0)},
			}},
		{ID: "00000000-0000-4000-8000-000000000002", AgencyID: 3, OfficeID: 12, SurveyID: 7, SurveyVersion: 2,
			Channel: survey.ChannelWeb, SubmittedAt: at.Add(time.Second), ReceivedAt: at.Add(3 * time.Second),
			Answers: []survey.Answer{
				{QuestionID: "q1", Type: survey.TypeRating5, Number: intp(1)},
				{QuestionID: "nps", Type: survey.TypeNPS, Number: intp(0)},
				{QuestionID: "yes", Type: survey.TypeYesNo, Number: intp(1)},
				{QuestionID: "why", Type: survey.TypeChoice, Choices: []string{"slow", "rude"}},
				{QuestionID: "note", Type: survey.TypeText, Text: "خیلی معطل شدم، \"لطفاً\" با ۰۹۱۲ ۳۴۵ ۶۷۸۹ تماس بگیرید؛ کد ملی 0012345678\nممنون"},
			}},
		{ID: "00000000-0000-4000-8000-000000000003", AgencyID: 3, SurveyID: 7, SurveyVersion: 2,
			Channel: survey.ChannelSMS, SubmittedAt: at.Add(10 * time.Hour), ReceivedAt: at.Add(10 * time.Hour),
			Answers: []survey.Answer{
				{QuestionID: "q1", Type: survey.TypeRating5, Number: intp(5)},
				{QuestionID: "note", Type: survey.TypeText, Text: "عالی, بدون مشکل"},
			}},
		{ID: "00000000-0000-4000-8000-000000000004", AgencyID: 3, OfficeID: 11, SurveyID: 7, SurveyVersion: 2,
			Channel: survey.ChannelKiosk, Flag: survey.FlagAfterHours, SubmittedAt: at.Add(30 * time.Hour), ReceivedAt: at.Add(31 * time.Hour),
			Answers: []survey.Answer{
				{QuestionID: "q1", Type: survey.TypeRating5, Number: intp(2)},
				{QuestionID: "why", Type: survey.TypeChoice, Choices: []string{"closed"}},
				{QuestionID: "gone", Type: survey.TypeRating5, Number: intp(3)}, // no version asks it: dropped
			}},
	}
	return []survey.Version{v1, v2}, offices, rs
}

func scoreFixture() analytics.Score {
	from := "2025-11-01"
	fromJ := "1404-08-10"
	return analytics.Score{AgencyID: 3, AgencyName: "اداره کل مالیات", From: &from, FromJalali: &fromJ,
		To: "2025-11-30", ToJalali: "1404-09-09", Responses: 312, Citizens: 300, Ratings: 600,
		Mean: f64(4.2123456), CILow: f64(4.0), CIHigh: f64(4.4), CSAT: f64(0.81), CSATLow: f64(0.76), CSATHigh: f64(0.85),
		Index: analytics.Estimate{Value: f64(80.3), Low: f64(75), High: f64(85.1), N: 300},
		NPS:   &analytics.NPS{Score: f64(12.5), Low: f64(3.25), High: f64(21), N: 120},
		ByQuestion: []analytics.QuestionScore{
			{QuestionID: "q1", Title: "رضایت کلی", Type: survey.TypeRating5, N: 300, Mean: f64(4.2), CILow: f64(4.05), CIHigh: f64(4.35),
				CSAT: f64(0.8), CSATLow: f64(0.75), CSATHigh: f64(0.84)},
			{QuestionID: "yes", Title: "کارتان انجام شد؟", Type: survey.TypeYesNo, N: 280, YesShare: f64(0.9), YesLow: f64(0.86), YesHigh: f64(0.93)},
			{QuestionID: "note", Title: "توضیح", Type: survey.TypeText, N: 40},
		},
		ByChannel: []analytics.ChannelScore{
			{Channel: survey.ChannelKiosk, Responses: 200, Citizens: 195, Mean: f64(4.3), CILow: f64(4.1), CIHigh: f64(4.5), CSAT: f64(0.85), CSATLow: f64(0.8), CSATHigh: f64(0.89)},
			{Channel: survey.ChannelSMS, Responses: 12, Citizens: 5},
		},
		Flagged: analytics.Flagged{Total: 9, Interval: 1, Burst: 0, AfterHours: 8},
	}
}

// writeResponses runs the fixture through a sheet.
func writeResponses(t *testing.T, sh export.Sheet) {
	t.Helper()
	versions, offices, rs := fixture()
	tab := export.NewResponses(versions, offices)
	if err := sh.Header(tab.Columns()); err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if err := sh.Row(tab.Row(&rs[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeScore(t *testing.T, sh export.Sheet) {
	t.Helper()
	if err := sh.Header(export.ScoreColumns()); err != nil {
		t.Fatal(err)
	}
	for _, r := range export.ScoreRows(scoreFixture()) {
		if err := sh.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestCSVGolden(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(*testing.T, export.Sheet)
	}{{"responses.csv", writeResponses}, {"score.csv", writeScore}} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			c.write(t, export.NewCSV(&b))
			if !bytes.HasPrefix(b.Bytes(), []byte("\ufeff")) {
				t.Fatal("CSV does not start with a UTF-8 byte order mark")
			}
			// It parses back as CSV with one record per row, every row as wide as the header.
			recs, err := csv.NewReader(bytes.NewReader(b.Bytes()[3:])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				if len(r) != len(recs[0]) {
					t.Fatalf("record %d has %d fields, header %d", i, len(r), len(recs[0]))
				}
			}
			golden(t, c.name, b.Bytes())
		})
	}
}

// The XLSX holds the same cells as the CSV, read back with excelize, under Persian titles.
func TestXLSXGolden(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(*testing.T, export.Sheet)
	}{{"responses", writeResponses}, {"score", writeScore}} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			sh, err := export.NewXLSX(&b, "پاسخ‌ها")
			if err != nil {
				t.Fatal(err)
			}
			c.write(t, sh)
			f, err := excelize.OpenReader(&b)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.GetSheetList(); len(got) != 1 || got[0] != "پاسخ‌ها" {
				t.Fatalf("sheets %q", got)
			}
			view, err := f.GetSheetView("پاسخ‌ها", -1)
			if err != nil || view.RightToLeft == nil || !*view.RightToLeft {
				t.Fatalf("sheet view %+v, %v: want right to left", view, err)
			}
			rows, err := f.GetRows("پاسخ‌ها", excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			// The data rows equal the CSV's golden records.
			csvGolden, err := os.ReadFile(filepath.Join("testdata", c.name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvGolden, []byte("\ufeff")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(recs) {
				t.Fatalf("%d rows, CSV has %d", len(rows), len(recs))
			}
			for i := 1; i < len(rows); i++ {
				row := append(rows[i], make([]string, len(recs[i])-len(rows[i]))...) // GetRows drops trailing empties
				if strings.Join(row, "\x1f") != strings.Join(recs[i], "\x1f") {
					t.Errorf("row %d:\n got %q\nwant %q", i, row, recs[i])
				}
			}
			panes, err := f.GetPanes("پاسخ‌ها")
			if err != nil || !panes.Freeze || panes.YSplit != 1 {
				t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
			}
			// Its header is the Persian titles, kept in a golden file of their own.
			header, _ := json.MarshalIndent(rows[0], "", "  ")
			golden(t, c.name+".xlsx-header.json", append(header, '\n'))
			// Numbers are numbers, not text.
			if c.name == "responses" {
				if typ, err := f.GetCellType("پاسخ‌ها", "K2"); err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
					t.Errorf("K2 (a rating) has type %v, %v; want a number", typ, err)
				}
			}
		})
	}
}

// TestStreamingMemory writes a million (memoryRows) synthetic responses through the response table into each
// writer and samples the heap every 50,000 rows: the peak must stay bounded, far below what
// holding the rows would take (a million rows of this width are about 300 MB as Go strings).
func TestStreamingMemory(t *testing.T) {
	const rows = memoryRows
	const limit = 50 << 20
	versions, offices, rs := fixture()
	tab := export.NewResponses(versions, offices)
	for _, c := range []struct {
		name string
		open func() (export.Sheet, *countingWriter, error)
	}{
		{"csv", func() (export.Sheet, *countingWriter, error) {
			w := &countingWriter{}
			return export.NewCSV(w), w, nil
		}},
		{"xlsx", func() (export.Sheet, *countingWriter, error) {
			w := &countingWriter{}
			sh, err := export.NewXLSX(w, "responses")
			return sh, w, err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			peak := uint64(0)
			sample := func() {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			sh, w, err := c.open()
			if err != nil {
				t.Fatal(err)
			}
			if err := sh.Header(tab.Columns()); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := rs[1] // the widest fixture response
			base0 := r.SubmittedAt
			for i := range rows {
				r.ID = "r" + itoa(i)
				r.SubmittedAt = base0.Add(time.Duration(i) * time.Second)
				if err := sh.Row(tab.Row(&r)); err != nil {
					t.Fatal(err)
				}
				if i%50_000 == 0 {
					sample()
				}
			}
			if err := sh.Close(); err != nil {
				t.Fatal(err)
			}
			sample()
			t.Logf("%s: %d rows, %.1f MB written in %v; heap before %.1f MB, peak %.1f MB (sampled every 50,000 rows)",
				c.name, rows, float64(w.n)/(1<<20), time.Since(start).Round(time.Millisecond),
				float64(base)/(1<<20), float64(peak)/(1<<20))
			if w.n < rows*20 {
				t.Fatalf("premise: only %d bytes written", w.n)
			}
			if peak > base+limit {
				t.Fatalf("peak heap %.1f MB above the %.1f MB before: over the %d MB budget",
					float64(peak)/(1<<20), float64(base)/(1<<20), limit>>20)
			}
		})
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func itoa(i int) string { return export.FormatCell(i) }
