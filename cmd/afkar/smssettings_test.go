package main

import (
	"context"
	"errors"
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/inmem"
)

// failingVersions is a catalog that cannot answer.
type failingVersions struct{}

func (failingVersions) ActiveVersion(context.Context, survey.ID) (survey.Version, error) {
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
	if st, err := get(ctx, a.ID); st != nil || err != nil {
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
	if st, err := get(ctx, a.ID); err != nil || st == nil || st.Question != v.SMS.Question {
		t.Fatalf("published: %+v, %v", st, err)
	}
	if st, err := smsSettings(failingVersions{})(ctx, a.ID); err == nil || st != nil {
		t.Fatalf("failing catalog: %+v, %v; want an error", st, err)
	}
}
