package sqlstore_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// EachResponse on both dialects: exactly the agency's (and office's) responses of the Tehran
// days asked for, flagged ones with their flag, every stored field and answer as folded, in day,
// submission time and id order; a callback error stops the read and comes back unchanged.
func TestEachResponse(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		g := newGen(31)
		g.flagged = 5
		rs := g.responses(500)
		for start := 0; start < len(rs); start += 128 {
			fold(t, s, rs[start:min(start+128, len(rs))])
		}
		for _, f := range []survey.RollupFilter{
			{AgencyID: 1},
			{AgencyID: 2, OfficeID: 1},
			{AgencyID: 3, FromDay: "2025-11-10", ToDay: "2025-11-12"},
			{AgencyID: 4, OfficeID: 2, FromDay: "2025-11-14"},
			{AgencyID: 99},
		} {
			var want []survey.Response
			for _, r := range rs {
				day := r.Day().Format(survey.DayFormat)
				if r.AgencyID == f.AgencyID && (f.OfficeID == 0 || r.OfficeID == f.OfficeID) &&
					(f.FromDay == "" || day >= f.FromDay) && (f.ToDay == "" || day <= f.ToDay) {
					r.Hash = ""
					r.SubmittedAt = r.SubmittedAt.UTC().Truncate(time.Microsecond)
					r.ReceivedAt = r.ReceivedAt.UTC().Truncate(time.Microsecond)
					want = append(want, r)
				}
			}
			slices.SortFunc(want, func(a, b survey.Response) int {
				if c := strings.Compare(a.Day().Format(survey.DayFormat), b.Day().Format(survey.DayFormat)); c != 0 {
					return c
				}
				if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			var got []survey.Response
			if err := s.EachResponse(ctx, f, func(r *survey.Response) error {
				got = append(got, *r)
				return nil
			}); err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			if f.AgencyID != 99 && len(want) < 5 {
				t.Fatalf("premise: filter %+v selects only %d responses", f, len(want))
			}
			if len(got) != len(want) {
				t.Fatalf("%+v: %d responses, want %d", f, len(got), len(want))
			}
			flagged := 0
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%+v: response %d\n got %+v\nwant %+v", f, i, got[i], want[i])
				}
				if got[i].Flag != "" {
					flagged++
				}
			}
			if f.AgencyID == 1 && flagged == 0 {
				t.Fatalf("premise: no flagged response among agency 1's %d", len(got))
			}
		}

		stop := errors.New("stop")
		calls := 0
		err := s.EachResponse(ctx, survey.RollupFilter{AgencyID: 1}, func(*survey.Response) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if err != stop || calls != 3 {
			t.Fatalf("callback error: got %v after %d calls, want the callback's error after 3", err, calls)
		}
		wantCode(t, s.EachResponse(ctx, survey.RollupFilter{}, func(*survey.Response) error { return nil }), survey.ECodeInvalid)
	})
}
