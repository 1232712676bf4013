package sqlstore_test

import (
	"reflect"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// A version's SMS settings travel in its definition: published, they come back from
// ActiveVersion and Version as they went in; a version without them comes back without.
func TestPublishVersionKeepsSMSSettings(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		ctx := testCtx(t)
		s := sqltest.Open(t, d)
		f := newCatalog(t, s)
		want := &survey.SMSSettings{Question: "از ثبت امروز راضی بودید؟ ۱ تا ۵", LinkQuestion: "راضی بودید؟ ۱ تا ۵",
			FollowUp: []string{"why"}, MaxQuestions: 3}
		v := survey.Version{SurveyID: f.sv.ID, Questions: questions, SMS: want}
		if err := s.PublishVersion(ctx, &v); err != nil {
			t.Fatal(err)
		}
		act, err := s.ActiveVersion(ctx, f.a.ID)
		if err != nil || act.Version != v.Version {
			t.Fatalf("ActiveVersion = %d, %v; want %d", act.Version, err, v.Version)
		}
		if !reflect.DeepEqual(act.SMS, want) {
			t.Errorf("ActiveVersion SMS = %+v, want %+v", act.SMS, want)
		}
		byNum, err := s.Version(ctx, f.sv.ID, v.Version)
		if err != nil || !reflect.DeepEqual(byNum.SMS, want) {
			t.Errorf("Version SMS = %+v, %v", byNum.SMS, err)
		}
		// Settings are checked on publishing.
		bad := survey.Version{SurveyID: f.sv.ID, Questions: questions, SMS: &survey.SMSSettings{FollowUp: []string{"nope"}}}
		if se := wantCode(t, s.PublishVersion(ctx, &bad), survey.ECodeInvalid); se.Fields["sms.follow_up[0]"].Code != "unknown_question" {
			t.Errorf("fields = %+v", se.Fields)
		}
		plain := survey.Version{SurveyID: f.sv.ID, Questions: questions}
		if err := s.PublishVersion(ctx, &plain); err != nil {
			t.Fatal(err)
		}
		if act, err := s.ActiveVersion(ctx, f.a.ID); err != nil || act.SMS != nil || act.Version != plain.Version {
			t.Errorf("without settings: version %d, SMS %+v, %v", act.Version, act.SMS, err)
		}
	})
}
