package sqlstore_test

import (
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// TestActiveVersionForPrecedence: the most specific assignment wins (office and channel, then
// office, then channel, then agency-wide), an assigned survey with nothing published is passed
// over, and without assignments the agency's last published survey is offered.
func TestActiveVersionForPrecedence(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		st := sqltest.Open(t, dialect)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		prov := survey.Province{Name: "استان"}
		must(st.CreateProvince(ctx, &prov))
		ag := survey.Agency{ProvinceID: prov.ID, Name: "دستگاه"}
		must(st.CreateAgency(ctx, &ag))
		other := survey.Agency{ProvinceID: prov.ID, Name: "دیگری"}
		must(st.CreateAgency(ctx, &other))
		o1 := survey.Office{AgencyID: ag.ID, Name: "یک"}
		must(st.CreateOffice(ctx, &o1))
		o2 := survey.Office{AgencyID: ag.ID, Name: "دو"}
		must(st.CreateOffice(ctx, &o2))
		publish := func(title string) survey.ID {
			sv := survey.Survey{AgencyID: ag.ID, Title: title}
			must(st.CreateSurvey(ctx, &sv))
			v := survey.Version{SurveyID: sv.ID, Questions: []survey.Question{{ID: "q", Type: survey.TypeRating5, Title: title, Required: true}}}
			must(st.PublishVersion(ctx, &v))
			return sv.ID
		}
		wide, kioskAll, office1, office1Web, fallback := publish("wide"), publish("kiosk"), publish("office1"), publish("office1-web"), publish("last")
		unpublished := survey.Survey{AgencyID: ag.ID, Title: "draft only"}
		must(st.CreateSurvey(ctx, &unpublished))
		want := func(office survey.ID, ch survey.Channel, sv survey.ID) {
			t.Helper()
			v, err := st.ActiveVersionFor(ctx, ag.ID, office, ch)
			must(err)
			if v.SurveyID != sv {
				t.Errorf("office %d channel %q: survey %d (%s), want %d", office, ch, v.SurveyID, v.Title, sv)
			}
		}
		want(o1.ID, survey.ChannelWeb, fallback) // no assignments: the survey published last
		must(st.SetAssignment(ctx, survey.Assignment{AgencyID: ag.ID, SurveyID: wide}))
		must(st.SetAssignment(ctx, survey.Assignment{AgencyID: ag.ID, Channel: survey.ChannelKiosk, SurveyID: kioskAll}))
		must(st.SetAssignment(ctx, survey.Assignment{AgencyID: ag.ID, OfficeID: o1.ID, SurveyID: office1}))
		must(st.SetAssignment(ctx, survey.Assignment{AgencyID: ag.ID, OfficeID: o1.ID, Channel: survey.ChannelWeb, SurveyID: office1Web}))
		want(o1.ID, survey.ChannelWeb, office1Web)
		want(o1.ID, survey.ChannelKiosk, office1) // the office beats the channel
		want(o1.ID, survey.ChannelSMS, office1)
		want(o2.ID, survey.ChannelKiosk, kioskAll)
		want(o2.ID, survey.ChannelSMS, wide)
		want(0, survey.ChannelSMS, wide)
		// An assignment replaced by a survey with nothing published falls through to the next.
		must(st.SetAssignment(ctx, survey.Assignment{AgencyID: ag.ID, OfficeID: o1.ID, Channel: survey.ChannelWeb, SurveyID: unpublished.ID}))
		want(o1.ID, survey.ChannelWeb, office1)
		// Removing assignments restores the fallback.
		for _, a := range []survey.Assignment{{OfficeID: o1.ID, Channel: survey.ChannelWeb}, {OfficeID: o1.ID}, {Channel: survey.ChannelKiosk}, {}} {
			a.AgencyID = ag.ID
			must(st.SetAssignment(ctx, a))
		}
		want(o1.ID, survey.ChannelKiosk, fallback)
		as, err := st.Assignments(ctx, ag.ID)
		must(err)
		if len(as) != 0 {
			t.Errorf("assignments left: %+v", as)
		}
		// Another agency's office or survey cannot be assigned.
		wantCode(t, st.SetAssignment(ctx, survey.Assignment{AgencyID: other.ID, SurveyID: wide}), survey.ECodeInvalid)
		wantCode(t, st.SetAssignment(ctx, survey.Assignment{AgencyID: other.ID, OfficeID: o1.ID}), survey.ECodeInvalid)
		// The other agency has no survey: not found.
		_, err = st.ActiveVersionFor(ctx, other.ID, 0, survey.ChannelWeb)
		wantCode(t, err, survey.ECodeNotFound)
	})
}
