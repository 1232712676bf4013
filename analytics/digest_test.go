package analytics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

func TestDigestPeriodIsTheLastCompletePeriod(t *testing.T) {
	// Tuesday 10 Azar 1405 (2026-12-01): the running week started Saturday 7 Azar (28 Nov), so
	// the last complete week is Saturday 30 Aban – Friday 6 Azar (21–27 Nov); the one before
	// starts 23 Aban (14 Nov). The last complete month is Aban.
	at := time.Date(2026, 12, 1, 15, 0, 0, 0, survey.Tehran)
	cur, prev, err := analytics.DigestPeriod(analytics.ByWeek, at)
	if err != nil || survey.TehranDay(cur.Start).Format(time.DateOnly) != "2026-11-21" ||
		survey.TehranDay(prev.Start).Format(time.DateOnly) != "2026-11-14" || !cur.End.Equal(time.Date(2026, 11, 28, 0, 0, 0, 0, survey.Tehran)) {
		t.Fatalf("week: %+v / %+v, %v", cur, prev, err)
	}
	if cur.Start.Weekday() != time.Saturday {
		t.Fatalf("a week starts on %s", cur.Start.Weekday())
	}
	cur, prev, err = analytics.DigestPeriod(analytics.ByMonth, at)
	if err != nil || cur.Key != "1405-08" || prev.Key != "1405-07" {
		t.Fatalf("month: %s / %s, %v", cur.Key, prev.Key, err)
	}
	if _, _, err := analytics.DigestPeriod(analytics.ByDay, at); survey.ErrorCode(err) != survey.ECodeInvalid {
		t.Fatalf("a day digest: %v", err)
	}
}

// A digest over real folded data: a week of happy citizens, then a week of unhappy ones who chose
// reasons and left comments with phone numbers in them.
func TestDigestOnRealStore(t *testing.T) {
	t.Parallel()
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, _ := openStore(t, dialect)
			p := survey.Province{Name: "استان"}
			mustOK(t, st.CreateProvince(ctx, &p))
			var agencies [2]survey.Agency
			for i, name := range []string{"ادارهٔ ثبت", "ادارهٔ آب"} {
				agencies[i] = survey.Agency{ProvinceID: p.ID, Name: name}
				mustOK(t, st.CreateAgency(ctx, &agencies[i]))
			}
			a := agencies[0]
			o := survey.Office{AgencyID: a.ID, Name: "دفتر"}
			mustOK(t, st.CreateOffice(ctx, &o))
			sv := survey.Survey{AgencyID: a.ID, Title: "رضایت"}
			mustOK(t, st.CreateSurvey(ctx, &sv))
			v := survey.Version{SurveyID: sv.ID, AgencyID: a.ID, Title: "رضایت", Questions: []survey.Question{
				{ID: "overall", Type: survey.TypeRating5, Title: "رضایت کلی", Required: true},
				{ID: "reasons", Type: survey.TypeChoice, Multiple: true, Title: "چرا؟",
					ShowIf:  &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2},
					Options: []survey.Option{{ID: "waiting", Label: "صف و معطلی"}, {ID: "behaviour", Label: "رفتار نامناسب"}}},
				{ID: "comment", Type: survey.TypeText, Title: "نظر", ShowIf: &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2}},
			}}
			mustOK(t, st.PublishVersion(ctx, &v))
			week := func(day string) time.Time {
				d, _ := time.ParseInLocation(time.DateOnly, day, survey.Tehran)
				return d.Add(10 * time.Hour)
			}
			var rs []survey.Response
			add := func(at time.Time, rating int, reasons []string, text string) {
				r := survey.Response{ID: uuid.NewString(), AgencyID: a.ID, OfficeID: o.ID, SurveyID: sv.ID, SurveyVersion: v.Version,
					Channel: survey.ChannelKiosk, SubmittedAt: at, ReceivedAt: at,
					Answers: []survey.Answer{{QuestionID: "overall", Type: survey.TypeRating5, Number: &rating, Headline: true}}}
				if reasons != nil {
					r.Answers = append(r.Answers, survey.Answer{QuestionID: "reasons", Type: survey.TypeChoice, Choices: reasons})
				}
				if text != "" {
					r.Answers = append(r.Answers, survey.Answer{QuestionID: "comment", Type: survey.TypeText, Text: text})
				}
				rs = append(rs, r)
			}
			for i := range 40 { // the week of 14 Nov: happy
				add(week("2026-11-14").Add(time.Duration(i)*time.Hour), 5, nil, "")
			}
			for i := range 40 { // the week of 21 Nov: unhappy
				reasons := []string{"waiting"}
				if i%4 == 0 {
					reasons = []string{"waiting", "behaviour"}
				}
				text := ""
				if i%8 == 0 {
					text = "صف طولانی بود، با ۰۹۱۲ ۱۲۳ ۴۵۶۷ تماس بگیرید"
				}
				add(week("2026-11-21").Add(time.Duration(i)*time.Hour), 1+i%2, reasons, text)
			}
			if _, err := st.Fold(ctx, rs, analytics.Delta); err != nil {
				t.Fatal(err)
			}
			scores := analytics.NewScores(st, st)
			d := analytics.NewDigests(scores, st, st)
			admin := survey.Principal{Role: survey.RoleProvinceAdmin}
			at := time.Date(2026, 12, 1, 12, 0, 0, 0, survey.Tehran)
			dg, err := d.Agency(ctx, admin, a.ID, analytics.ByWeek, at)
			if err != nil {
				t.Fatal(err)
			}
			if dg.Citizens != 40 || dg.PreviousCitizens != 40 || dg.Index.N != 40 {
				t.Fatalf("citizens %d / %d", dg.Citizens, dg.PreviousCitizens)
			}
			if m := dg.Movement; m.Change == nil || !m.Clear || *m.Change > -50 || *m.High >= 0 {
				t.Fatalf("movement %+v (index %v → %v)", m, *dg.PreviousIndex.Value, *dg.Index.Value)
			}
			if len(dg.Reasons) != 2 || dg.Reasons[0].OptionID != "waiting" || dg.Reasons[0].Count != 40 ||
				dg.Reasons[0].Label != "صف و معطلی" || dg.Reasons[1].Count != 10 {
				t.Fatalf("reasons %+v", dg.Reasons)
			}
			if len(dg.Comments) != 5 {
				t.Fatalf("%d comments", len(dg.Comments))
			}
			for _, c := range dg.Comments {
				if strings.Contains(c.Text, "۴۵۶۷") || !strings.Contains(c.Text, "صف طولانی") {
					t.Fatalf("comment %q", c.Text)
				}
			}
			if txt := dg.Text(); !strings.Contains(txt, "کاهش روشن") || !strings.Contains(txt, "۴۰ نفر") || strings.ContainsAny(txt, "0123456789") {
				t.Fatalf("text %q", txt)
			}
			// Tenancy: another agency's staff cannot read it.
			other := survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: agencies[1].ID}
			if _, err := d.Agency(ctx, other, a.ID, analytics.ByWeek, at); survey.ErrorCode(err) != survey.ECodeNotFound {
				t.Fatalf("another agency's digest: %v", err)
			}
			// The province's digest: the clear fall first, the agency without data last.
			all, err := d.Province(ctx, admin, analytics.ByWeek, at)
			if err != nil || len(all) != 2 || all[0].AgencyID != a.ID || all[1].Movement.Change != nil || len(all[0].Comments) != 0 {
				t.Fatalf("province digest %+v, %v", all, err)
			}
			if txt := all[1].Text(); !strings.Contains(txt, "پاسخی نرسید") {
				t.Fatalf("empty text %q", txt)
			}
		})
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
