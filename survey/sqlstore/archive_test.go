package sqlstore_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// Archiving moves exactly the raw responses of the days before the cut into the CSV — every
// column as stored — and out of the table, a batch at a time across agencies, and leaves the
// rollups, hence every score, as they were.
func TestArchiveResponsesRoundTrip(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		s := sqltest.Open(t, dialect)
		ctx := testCtx(t)
		g := newGen(41)
		g.flagged = 9
		rs := g.responses(4000)
		for i := 0; i < len(rs); i += 1000 {
			fold(t, s, rs[i:i+1000])
		}
		cut := g.start.AddDate(0, 0, 4).In(survey.Tehran).Format(survey.DayFormat)
		want := map[string]survey.Response{}
		for _, r := range rs {
			if r.Day().Format(survey.DayFormat) < cut {
				want[r.ID] = r
			}
		}
		if len(want) < 1500 || len(want) == len(rs) {
			t.Fatalf("test data: %d of %d responses before %s", len(want), len(rs), cut)
		}
		before := dump(t, s)
		totals := func() string {
			var out string
			for a := survey.ID(0); a <= 4; a++ {
				rt, err := s.RollupTotals(ctx, survey.RollupFilter{AgencyID: a})
				if err != nil {
					t.Fatal(err)
				}
				ht, _ := s.HistogramTotals(ctx, survey.RollupFilter{AgencyID: a})
				out += fmt.Sprint(rt, ht)
			}
			return out
		}
		scores := totals()

		var buf bytes.Buffer
		flushes := 0
		n, err := s.ArchiveResponses(ctx, cut, &buf, func() error { flushes++; return nil })
		if err != nil {
			t.Fatalf("ArchiveResponses: %v", err)
		}
		if n != int64(len(want)) || flushes < 4 {
			t.Fatalf("archived %d responses in %d flushes; want %d in ≥ 4 (one per agency)", n, flushes, len(want))
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(recs[0]) != fmt.Sprint(sqlstore.ArchiveHeader) || len(recs) != len(want)+1 {
			t.Fatalf("archive: header %v, %d rows; want %d", recs[0], len(recs)-1, len(want))
		}
		for _, rec := range recs[1:] {
			r, ok := want[rec[0]]
			if !ok {
				t.Fatalf("archived %s, which is not before %s", rec[0], cut)
			}
			delete(want, rec[0])
			var answers []survey.Answer
			if err := json.Unmarshal([]byte(rec[10]), &answers); err != nil {
				t.Fatal(err)
			}
			sub, _ := time.Parse(time.RFC3339Nano, rec[7])
			rcv, _ := time.Parse(time.RFC3339Nano, rec[8])
			got := []string{rec[1], rec[2], rec[5], rec[9], rec[12], rec[13], fmt.Sprint(len(answers))}
			exp := []string{strconv.Itoa(int(r.AgencyID)), strconv.Itoa(int(r.OfficeID)), string(r.Channel), r.Day().Format(survey.DayFormat),
				string(r.Flag), strconv.Itoa(int(r.DeviceID)), fmt.Sprint(len(r.Answers))}
			if fmt.Sprint(got) != fmt.Sprint(exp) || sub.Sub(r.SubmittedAt).Abs() >= time.Microsecond || rcv.Sub(r.ReceivedAt).Abs() >= time.Microsecond || answers[0].Number == nil || *answers[0].Number != *r.Answers[0].Number {
				t.Fatalf("row %s: got %v %v %v, want %v %v %v", rec[0], got, sub, rcv, exp, r.SubmittedAt, r.ReceivedAt)
			}
		}
		if count, _ := s.ResponseCount(ctx, 0); count != int64(len(rs))-n {
			t.Fatalf("%d responses left, want %d", count, int64(len(rs))-n)
		}
		if after := dump(t, s); after != before {
			t.Fatalf("archiving changed the rollups:\n%s", firstDiff(before, after))
		}
		if totals() != scores {
			t.Fatal("archiving changed the totals scores are computed from")
		}
		// Nothing is left before the cut: a second run moves nothing.
		buf.Reset()
		if n, err := s.ArchiveResponses(ctx, cut, &buf, nil); err != nil || n != 0 {
			t.Fatalf("second archive: %d, %v", n, err)
		}
		if _, err := s.ArchiveResponses(ctx, "1403-13-01", &buf, nil); survey.ErrorCode(err) != survey.ECodeInvalid {
			t.Fatalf("bad cut day: %v", err)
		}
	})
}
