package inmem_test

import (
	"context"
	"encoding/json"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/buffertest"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// store is what this test compares between the in-memory and the SQL implementation.
type store interface {
	survey.Catalog
	Fold(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (int, error)
	RollupTotals(ctx context.Context, f survey.RollupFilter) ([]survey.RollupTotal, error)
	HistogramTotals(ctx context.Context, f survey.RollupFilter) ([]survey.HistogramTotal, error)
	ResponseCount(ctx context.Context, agencyID survey.ID) (int64, error)
}

// script drives one store through a catalog and a fold workload and records every observable
// answer as JSON, so two stores can be compared answer by answer.
func script(t *testing.T, s store, seed int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	rec := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			out[name] = "error " + string(survey.ErrorCode(err))
			return
		}
		b, _ := json.Marshal(v)
		out[name] = string(b)
	}
	p := survey.Province{Name: "استان"}
	rec("province", nil, s.CreateProvince(ctx, &p))
	var agencies []survey.Agency
	for i, name := range []string{"مالیات", "ثبت", "بهزیستی"} {
		a := survey.Agency{ProvinceID: p.ID, Name: name}
		rec("agency"+string(rune('0'+i)), nil, s.CreateAgency(ctx, &a))
		agencies = append(agencies, a)
		o := survey.Office{AgencyID: a.ID, Name: "دفتر مرکزی"}
		rec("office"+string(rune('0'+i)), nil, s.CreateOffice(ctx, &o))
		sv := survey.Survey{AgencyID: a.ID, Title: "نظرسنجی"}
		rec("survey"+string(rune('0'+i)), nil, s.CreateSurvey(ctx, &sv))
		for round := 0; round < 2; round++ {
			v := survey.Version{SurveyID: sv.ID, Questions: []survey.Question{
				{ID: "overall", Type: survey.TypeRating5, Required: true},
				{ID: "ok", Type: survey.TypeYesNo},
			}}
			err := s.PublishVersion(ctx, &v)
			rec("publish"+string(rune('0'+i))+string(rune('0'+round)), v.Version, err)
		}
		av, err := s.ActiveVersion(ctx, a.ID)
		rec("active"+string(rune('0'+i)), av.Version, err)
	}
	for i := 0; i < 2; i++ {
		sl := survey.Agency{ProvinceID: p.ID, Name: "با نشانک", Slug: "tax"}
		rec("agency-slug"+strconv.Itoa(i), sl.ID, s.CreateAgency(ctx, &sl))
	}
	bad := survey.Agency{ProvinceID: p.ID + 1000, Name: "x"}
	rec("agency-bad-province", nil, s.CreateAgency(ctx, &bad))
	_, err := s.Agency(ctx, 999999)
	rec("agency-missing", nil, err)
	_, err = s.Version(ctx, 999999, 1)
	rec("version-missing", nil, err)
	for _, pr := range []survey.Principal{
		{Role: survey.RoleProvinceStaff}, {Role: survey.RoleAgencyStaff, AgencyID: agencies[1].ID}, {Role: survey.RoleIntegration},
	} {
		as, err := s.Agencies(ctx, pr)
		ids := []survey.ID{}
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		rec("agencies-"+string(pr.Role), ids, err)
	}

	// Folds: random batch sizes, with re-deliveries, like an aggregator after reclaims; one
	// response in seven flagged by a kiosk (kept out of the ordinary rows, counted apart).
	rng := rand.New(rand.NewSource(seed))
	all := make([]survey.Response, 600)
	for i := range all {
		all[i] = buffertest.Response(i)
		if i%7 == 3 {
			all[i].Flag, all[i].DeviceID = survey.Flags[i%len(survey.Flags)], survey.ID(1+i%2)
		}
	}
	var inserted int
	for i := 0; i < len(all); {
		n := 1 + rng.Intn(90)
		batch := append([]survey.Response(nil), all[i:min(i+n, len(all))]...)
		if i > 0 && rng.Intn(3) == 0 {
			batch = append(batch, all[rng.Intn(i)]) // a duplicate of an earlier response
		}
		k, err := s.Fold(ctx, batch, analytics.Delta)
		if err != nil {
			t.Fatalf("Fold: %v", err)
		}
		inserted += k
		i += n
	}
	out["inserted"] = strconv.Itoa(inserted)
	for _, f := range []survey.RollupFilter{
		{}, {AgencyID: 1}, {AgencyID: 2, FromDay: "2025-11-16"}, {AgencyID: 3, ToDay: "2025-11-15"},
		{AgencyID: 1, OfficeID: 10}, {AgencyID: 2, OfficeID: 10, ToDay: "2025-11-15"}, {OfficeID: 10},
	} {
		key, _ := json.Marshal(f)
		tot, err := s.RollupTotals(ctx, f)
		rec("totals"+string(key), tot, err)
		hist, err := s.HistogramTotals(ctx, f)
		rec("histogram"+string(key), hist, err)
	}
	for _, a := range []survey.ID{0, 1, 2, 3} {
		n, err := s.ResponseCount(ctx, a)
		rec("count"+a.String(), n, err)
	}
	every, _ := json.Marshal(survey.RollupFilter{})
	if tot := out["totals"+string(every)]; !strings.Contains(tot, `"question_id":"@flagged:burst","type":"flag"`) {
		t.Fatalf("the script's totals have no flag rows: %s", tot)
	}
	return out
}

// The in-memory store answers every catalog, fold and report call as the SQL store does, on both
// dialects — which is what makes tests built on it worth something.
func TestInmemBehavesLikeSQLStore(t *testing.T) {
	want := script(t, inmem.New(), 7)
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			got := script(t, sqltest.Open(t, dialect), 7)
			if !reflect.DeepEqual(got, want) {
				for k := range want {
					if got[k] != want[k] {
						t.Errorf("%s:\n  sql   %s\n  inmem %s", k, got[k], want[k])
					}
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						t.Errorf("%s only in the SQL store", k)
					}
				}
			}
		})
	}
}
