package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// failingVersions is a catalog that cannot answer.
type failingVersions struct{}

func (failingVersions) ActiveVersionFor(context.Context, survey.ID, survey.ID, survey.Channel) (survey.Version, error) {
	return survey.Version{}, errors.New("catalog down")
}

// The sender's settings come from the agency's active version; no survey is no settings, not an
// error; a failing catalog is an error (the sender logs it and asks the default question).
func TestSMSSettingsFromCatalog(t *testing.T) {
	ctx := context.Background()
	cat := inmem.New()
	p := survey.Province{Name: "استان"}
	a := survey.Agency{Name: "شهرداری"}
	if err := cat.CreateProvince(ctx, &p); err != nil {
		t.Fatal(err)
	}
	a.ProvinceID = p.ID
	if err := cat.CreateAgency(ctx, &a); err != nil {
		t.Fatal(err)
	}
	get := smsSettings(cat)
	if st, err := get(ctx, a.ID, 0); st != nil || err != nil {
		t.Fatalf("no survey: %+v, %v; want nil, nil", st, err)
	}
	sv := survey.Survey{AgencyID: a.ID, Title: "نظرسنجی"}
	if err := cat.CreateSurvey(ctx, &sv); err != nil {
		t.Fatal(err)
	}
	v := survey.Version{SurveyID: sv.ID, Questions: []survey.Question{{ID: "q", Type: survey.TypeRating5, Title: "راضی بودید؟"}},
		SMS: &survey.SMSSettings{Question: "از خدمت شهرداری راضی بودید؟ ۱ تا ۵"}}
	if err := cat.PublishVersion(ctx, &v); err != nil {
		t.Fatal(err)
	}
	if st, err := get(ctx, a.ID, 0); err != nil || st == nil || st.Question != v.SMS.Question {
		t.Fatalf("published: %+v, %v", st, err)
	}
	if st, err := smsSettings(failingVersions{})(ctx, a.ID, 0); err == nil || st != nil {
		t.Fatalf("failing catalog: %+v, %v; want an error", st, err)
	}
}

// An office assigned another survey for SMS invites with that survey's question; the agency's
// other offices keep the active survey's.
func TestSMSSettingsFollowTheOfficeAssignment(t *testing.T) {
	ctx := context.Background()
	st := sqltest.Open(t, "sqlite")
	p := survey.Province{Name: "استان"}
	must(t, st.CreateProvince(ctx, &p))
	a := survey.Agency{ProvinceID: p.ID, Name: "شهرداری"}
	must(t, st.CreateAgency(ctx, &a))
	var offices [2]survey.Office
	for i := range offices {
		offices[i] = survey.Office{AgencyID: a.ID, Name: fmt.Sprint("دفتر ", i+1)}
		must(t, st.CreateOffice(ctx, &offices[i]))
	}
	publish := func(question string) survey.Version {
		sv := survey.Survey{AgencyID: a.ID, Title: question}
		must(t, st.CreateSurvey(ctx, &sv))
		v := survey.Version{SurveyID: sv.ID, AgencyID: a.ID, Title: question,
			Questions: []survey.Question{{ID: "q", Type: survey.TypeRating5, Title: "راضی بودید؟"}},
			SMS:       &survey.SMSSettings{Question: question}}
		must(t, st.PublishVersion(ctx, &v))
		return v
	}
	assigned := publish("از پروانهٔ ساختمان راضی بودید؟ ۱ تا ۵")
	publish("از خدمت شهرداری راضی بودید؟ ۱ تا ۵") // published last: the agency's active survey
	must(t, st.SetAssignment(ctx, survey.Assignment{AgencyID: a.ID, OfficeID: offices[0].ID, Channel: survey.ChannelSMS, SurveyID: assigned.SurveyID}))
	get := smsSettings(st)
	if s, err := get(ctx, a.ID, offices[0].ID); err != nil || s == nil || s.Question != assigned.SMS.Question {
		t.Fatalf("assigned office: %+v, %v", s, err)
	}
	if s, err := get(ctx, a.ID, offices[1].ID); err != nil || s == nil || s.Question != "از خدمت شهرداری راضی بودید؟ ۱ تا ۵" {
		t.Fatalf("other office: %+v, %v", s, err)
	}
}
