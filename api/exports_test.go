package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/analytics/export"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// TestExports downloads responses and score tables over HTTP on both dialects: the caller's own
// agency in CSV and XLSX (the period's responses only, its rows as stored, personal numbers
// redacted, an ASCII file name with the Jalali period), and refusals — another agency (404 like
// the score), an integration token (403), no token (401), a bad date (422).
func TestExports(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		ctx := context.Background()
		f := seedStore(t, store)
		clock := fixedClock{time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)}
		scores := analytics.NewScores(store, store)
		scores.Clock = clock
		ex := export.NewService(store, store, scores)
		ex.Clock = clock
		h := start(t, api.Deps{Catalog: store, Auth: store, Scores: scores, Exports: ex})

		day := time.Date(2025, 11, 15, 6, 0, 0, 0, time.UTC) // 1404-08-24, 09:30 Tehran
		var rs []survey.Response
		mk := func(agency survey.ID, office survey.ID, at time.Time, rating int, text string) survey.Response {
			r := survey.Response{ID: uuid.NewString(), AgencyID: agency, OfficeID: office, SurveyID: f.version.SurveyID,
				SurveyVersion: f.version.Version, Channel: survey.ChannelWeb, SubmittedAt: at, ReceivedAt: at,
				Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &rating, Headline: true}}}
			if rating <= 2 {
				r.Answers = append(r.Answers, survey.Answer{QuestionID: "q2", Type: survey.TypeChoice, Choices: []string{"slow", "rude"}})
			}
			if text != "" {
				r.Answers = append(r.Answers, survey.Answer{QuestionID: "q3", Type: survey.TypeText, Text: text})
			}
			rs = append(rs, r)
			return r
		}
		for i := range 30 {
			mk(f.tax.ID, f.office.ID, day.Add(time.Duration(i)*time.Minute), 1+i%5, "")
		}
		mk(f.tax.ID, 0, day.Add(time.Hour), 1, "لطفاً با ۰۹۱۲۳۴۵۶۷۸۹ تماس بگیرید")
		mk(f.tax.ID, f.office.ID, day.AddDate(0, 0, 2), 5, "") // outside the period asked for
		foreign := mk(f.registry.ID, 0, day, 3, "")
		if _, err := store.Fold(ctx, rs, analytics.Delta); err != nil {
			t.Fatal(err)
		}
		path := func(a survey.ID, file string) string {
			return fmt.Sprintf("/api/v1/agencies/%d/%s?from=1404-08-24&to=%s", a, file, "۱۴۰۴-۰۸-۲۴")
		}

		// CSV of the caller's own agency.
		res := h.get(t, path(f.tax.ID, "responses.csv"), f.taxStaff).wantStatus(t, http.StatusOK)
		if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename=tax_responses_1404-08-24_1404-08-24.csv` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if !bytes.HasPrefix(res.body, []byte("\ufeff")) {
			t.Fatal("no byte order mark")
		}
		recs, err := csv.NewReader(bytes.NewReader(res.body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1+31 {
			t.Fatalf("%d records, want a header and 31 responses", len(recs))
		}
		col := map[string]int{}
		for i, id := range recs[0] {
			col[id] = i
		}
		for _, id := range []string{"response_id", "date_jalali", "time_tehran", "office", "channel", "q:q1", "q:q2", "q:q3"} {
			if _, ok := col[id]; !ok {
				t.Fatalf("no column %q in %q", id, recs[0])
			}
		}
		first, last := recs[1], recs[31]
		if first[col["response_id"]] != rs[0].ID || first[col["date_jalali"]] != "1404-08-24" || first[col["time_tehran"]] != "09:30:00" ||
			first[col["office"]] != f.office.Name || first[col["channel"]] != "web" || first[col["q:q1"]] != "1" ||
			first[col["q:q2"]] != "کندی، بی‌احترامی" {
			t.Errorf("first row %q", first)
		}
		if last[col["q:q3"]] != "لطفاً با "+survey.Redacted+" تماس بگیرید" || last[col["office"]] != "" {
			t.Errorf("last row %q", last)
		}
		if strings.Contains(string(res.body), foreign.ID) {
			t.Error("the export holds another agency's response")
		}

		// XLSX: the same rows under Persian titles.
		res = h.get(t, path(f.tax.ID, "responses.xlsx"), f.taxStaff).wantStatus(t, http.StatusOK)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename=tax_responses_1404-08-24_1404-08-24.xlsx` {
			t.Errorf("Content-Disposition %q", cd)
		}
		wb, err := excelize.OpenReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := wb.GetRows(wb.GetSheetList()[0])
		wb.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 32 || rows[0][0] != "شناسه پاسخ" || rows[1][0] != rs[0].ID {
			t.Fatalf("xlsx: %d rows, header %q, first %q", len(rows), rows[0], rows[1])
		}

		// Score table: the headline row's n is the score's citizens.
		res = h.get(t, path(f.tax.ID, "score.csv"), f.taxStaff).wantStatus(t, http.StatusOK)
		recs, err = csv.NewReader(bytes.NewReader(res.body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if recs[1][0] != "agency" || recs[1][4] != "31" || recs[1][5] != "31" || recs[1][6] == "" || recs[1][7] == "" {
			t.Errorf("score agency row %q", recs[1])
		}
		h.get(t, path(f.tax.ID, "score.xlsx"), f.taxStaff).wantStatus(t, http.StatusOK)

		// Province staff may export any agency; the registry's one response.
		res = h.get(t, path(f.registry.ID, "responses.csv"), adminToken).wantStatus(t, http.StatusOK)
		if !strings.Contains(string(res.body), foreign.ID) || strings.Count(string(res.body), "\n") != 2 {
			t.Errorf("registry export:\n%s", res.body)
		}

		// Refusals, before a byte of the file.
		for _, file := range []string{"responses.csv", "responses.xlsx", "score.csv", "score.xlsx"} {
			h.get(t, path(f.registry.ID, file), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
			h.get(t, path(9999, file), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
			h.get(t, path(f.tax.ID, file), f.kiosk).envelope(t, http.StatusForbidden, "forbidden")
			h.get(t, path(f.tax.ID, file), "").envelope(t, http.StatusUnauthorized, "unauthorized")
			h.get(t, fmt.Sprintf("/api/v1/agencies/%d/%s?from=1404-13-01", f.tax.ID, file), f.taxStaff).
				envelope(t, http.StatusUnprocessableEntity, "invalid")
		}

		// The printable monthly report of آبان ۱۴۰۴: all 32 of the month's responses.
		rep := h.get(t, fmt.Sprintf("/agencies/%d/report?month=۱۴۰۴-۰۸", f.tax.ID), f.taxStaff).wantStatus(t, http.StatusOK)
		page := string(rep.body)
		if os.Getenv("AFKAR_DUMP_REPORT") != "" {
			_ = os.WriteFile(os.Getenv("AFKAR_DUMP_REPORT"), rep.body, 0o644)
		}
		for _, want := range []string{`<html lang="fa" dir="rtl">`, "@page { size: A4", f.tax.Name, "آبان ۱۴۰۴",
			"از ۱ آبان ۱۴۰۴ تا ۳۰ آبان ۱۴۰۴", f.office.Name, "۳۲ نفر", "۳۱ نفر", "وب و QR", "از خدمت امروز چقدر راضی بودید؟",
			"بازهٔ اطمینان ۹۵٪"} {
			if !strings.Contains(page, want) {
				t.Errorf("report lacks %q", want)
			}
		}
		if strings.Contains(page, "<nav") || strings.Contains(page, "<script") {
			t.Error("report has navigation or scripts")
		}
		h.get(t, fmt.Sprintf("/agencies/%d/report?month=1404-08", f.registry.ID), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		h.get(t, fmt.Sprintf("/agencies/%d/report?month=1404-13", f.tax.ID), f.taxStaff).envelope(t, http.StatusUnprocessableEntity, "invalid")
		h.get(t, fmt.Sprintf("/agencies/%d/report", f.tax.ID), "").envelope(t, http.StatusUnauthorized, "unauthorized")
		h.get(t, fmt.Sprintf("/agencies/%d/report", f.tax.ID), adminToken).wantStatus(t, http.StatusOK)
	})
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
