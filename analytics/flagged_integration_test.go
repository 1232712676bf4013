package analytics_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// flaggedCatalog is what seedFlagged created: an agency with two offices and a survey, and
// another agency with an office of its own.
type flaggedCatalog struct {
	agency, other survey.Agency
	offices       [2]survey.Office
	foreign       survey.Office
	version       survey.Version
}

// scoreStore is what this test needs of a store, real or in memory.
type scoreStore interface {
	survey.Catalog
	analytics.RollupReader
	Fold(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (int, error)
}

func seedFlagged(t *testing.T, st scoreStore) flaggedCatalog {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var c flaggedCatalog
	prov := survey.Province{Name: "استان آزمایشی"}
	must(st.CreateProvince(ctx, &prov))
	c.agency = survey.Agency{ProvinceID: prov.ID, Name: "اداره کل مالیات"}
	c.other = survey.Agency{ProvinceID: prov.ID, Name: "ثبت احوال"}
	must(st.CreateAgency(ctx, &c.agency))
	must(st.CreateAgency(ctx, &c.other))
	for i, name := range []string{"دفتر مرکزی", "شعبه شمال"} {
		c.offices[i] = survey.Office{AgencyID: c.agency.ID, Name: name}
		must(st.CreateOffice(ctx, &c.offices[i]))
	}
	c.foreign = survey.Office{AgencyID: c.other.ID, Name: "دفتر ثبت"}
	must(st.CreateOffice(ctx, &c.foreign))
	sv := survey.Survey{AgencyID: c.agency.ID, Title: "رضایت"}
	must(st.CreateSurvey(ctx, &sv))
	c.version = survey.Version{SurveyID: sv.ID, AgencyID: c.agency.ID, Title: "رضایت", Questions: []survey.Question{
		{ID: "q1", Type: survey.TypeRating5, Title: "کیفیت کار", Required: true},
		{ID: "q2", Type: survey.TypeNPS, Title: "توصیه"},
		{ID: "q3", Type: survey.TypeYesNo, Title: "کارتان انجام شد؟"},
		{ID: "q4", Type: survey.TypeChoice, Title: "دلیل", Multiple: true, Options: []survey.Option{{ID: "a", Label: "الف"}, {ID: "c", Label: "ج"}}},
	}}
	must(st.PublishVersion(ctx, &c.version))
	return c
}

// flaggedResponses places genResponses in c's offices and flags every fifth, by turns
// interval, burst and after_hours.
func flaggedResponses(c flaggedCatalog) []survey.Response {
	rs := genResponses(400, 21)
	for i := range rs {
		r := &rs[i]
		r.AgencyID, r.SurveyID, r.SurveyVersion = c.agency.ID, c.version.SurveyID, c.version.Version
		r.OfficeID = c.offices[r.OfficeID%2].ID
		if i%5 == 0 {
			r.Flag, r.DeviceID = survey.Flags[(i/5)%len(survey.Flags)], 1
		}
	}
	return rs
}

// On the real store, both dialects: flagged responses are in no figure of the score and are
// counted apart; office_id restricts every figure, flagged ones included; another agency's
// office is not found. The score equals the in-memory store's for the same folds.
func TestScoreFlaggedAndOfficeOnRealStore(t *testing.T) {
	ctx := context.Background()
	mem := inmem.New()
	mc := seedFlagged(t, mem)
	if _, err := mem.Fold(ctx, flaggedResponses(mc), analytics.Delta); err != nil {
		t.Fatal(err)
	}
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t, dialect)
			c := seedFlagged(t, st)
			rs := flaggedResponses(c)
			if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
				t.Fatal(err)
			}
			scores := analytics.NewScores(st, st)
			oracle := analytics.NewScores(mem, mem)
			staff := survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: c.agency.ID}
			period := analytics.ScoreQuery{From: "2025-11-12", To: "2025-11-16"}
			for _, office := range []survey.ID{0, c.offices[0].ID, c.offices[1].ID} {
				q := period
				if office != 0 {
					q.Office = office.String()
				}
				sc, err := scores.Score(ctx, staff, c.agency.ID, q)
				if err != nil {
					t.Fatalf("office %d: %v", office, err)
				}
				var counted int64
				var flags analytics.Flagged
				for _, r := range rs {
					if office != 0 && r.OfficeID != office {
						continue
					}
					switch r.Flag {
					case "":
						counted++
					case survey.FlagInterval:
						flags.Interval++
					case survey.FlagBurst:
						flags.Burst++
					case survey.FlagAfterHours:
						flags.AfterHours++
					}
				}
				flags.Total = flags.Interval + flags.Burst + flags.AfterHours
				if sc.Responses != counted || sc.Citizens != counted || sc.ByQuestion[0].N != counted || sc.Flagged != flags || sc.OfficeID != office {
					t.Errorf("office %d: responses %d, citizens %d, q1 n %d, flagged %+v, office %d; want %d counted, flagged %+v",
						office, sc.Responses, sc.Citizens, sc.ByQuestion[0].N, sc.Flagged, sc.OfficeID, counted, flags)
				}
				if flags.Interval == 0 || flags.Burst == 0 || flags.AfterHours == 0 || counted == 0 {
					t.Fatalf("premise: office %d has %d counted, flagged %+v", office, counted, flags)
				}
				want, err := oracle.Score(ctx, staff, mc.agency.ID, q)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := json.Marshal(sc)
				wantJSON, _ := json.Marshal(want)
				if string(got) != string(wantJSON) {
					t.Errorf("office %d: the %s store's score differs from the in-memory one:\n got  %s\n want %s", office, dialect, got, wantJSON)
				}
			}
			_, foreign := scores.Score(ctx, staff, c.agency.ID, analytics.ScoreQuery{Office: c.foreign.ID.String()})
			_, unknown := scores.Score(ctx, staff, c.agency.ID, analytics.ScoreQuery{Office: "987654"})
			if survey.ErrorCode(foreign) != survey.ECodeNotFound || unknown == nil || foreign.Error() != unknown.Error() {
				t.Errorf("another agency's office: %v; unknown office: %v; want the same not-found", foreign, unknown)
			}
			if _, err := scores.Score(ctx, survey.Principal{Role: survey.RoleProvinceStaff}, c.other.ID,
				analytics.ScoreQuery{Office: c.foreign.ID.String()}); err != nil {
				t.Errorf("the other agency's own office: %v", err)
			}
		})
	}
}
