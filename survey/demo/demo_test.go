package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
	"github.com/afkar-gov/afkar/survey/inmem"
)

// newCatalog is the shared in-memory store: enough to test the seeder's logic. The SQL store runs
// the same seeder against PostgreSQL and SQLite in its own tests.
func newCatalog() *inmem.Store { return inmem.New() }

// seedNow is a Wednesday late morning in Tehran.
var seedNow = time.Date(2025, 11, 19, 11, 20, 0, 0, survey.Tehran)

// seeded runs Seed on a fresh catalog and returns what fold received, batch by batch.
func seeded(t *testing.T, opts demo.Options) (*inmem.Store, demo.Summary, [][]survey.Response) {
	t.Helper()
	cat := newCatalog()
	var batches [][]survey.Response
	sum, err := demo.Seed(context.Background(), cat, func(_ context.Context, rs []survey.Response) error {
		batches = append(batches, append([]survey.Response(nil), rs...))
		return nil
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return cat, sum, batches
}

// toSubmission turns a stored response back into what a client would have sent.
func toSubmission(t *testing.T, r survey.Response) survey.Submission {
	t.Helper()
	at := r.SubmittedAt
	s := survey.Submission{
		ID: r.ID, AgencyID: r.AgencyID, OfficeID: r.OfficeID, SurveyID: r.SurveyID,
		SurveyVersion: r.SurveyVersion, Channel: r.Channel, Source: r.Source, SubmittedAt: &at,
	}
	for _, a := range r.Answers {
		sa := survey.SubmittedAnswer{QuestionID: a.QuestionID}
		switch {
		case a.Number != nil:
			sa.Value = json.RawMessage(strconv.Itoa(*a.Number))
		case a.Choices != nil:
			b, err := json.Marshal(a.Choices)
			if err != nil {
				t.Fatal(err)
			}
			sa.Value = b
		default:
			text := a.Text
			sa.Text = &text
		}
		s.Answers = append(s.Answers, sa)
	}
	return s
}

var (
	slugRE       = regexp.MustCompile(`^[a-z][a-z-]*[a-z]$`)
	arabicLetter = strings.NewReplacer("ي", "", "ى", "", "ك", "")
)

// persian reports whether s is written in Persian letters with Persian ی and ک.
func persian(s string) bool {
	if arabicLetter.Replace(s) != s {
		return false
	}
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) {
			return true
		}
	}
	return false
}

func TestSeed(t *testing.T) {
	opts := demo.Options{Now: seedNow, Seed: 1404}
	cat, sum, batches := seeded(t, opts)
	ctx := context.Background()

	provinces, _ := cat.Provinces(context.Background())
	if len(provinces) != 1 || sum.Province != provinces[0].ID || !persian(provinces[0].Name) {
		t.Fatalf("provinces = %+v, summary province %d", provinces, sum.Province)
	}
	if len(sum.Agencies) < 6 {
		t.Fatalf("%d agencies, want at least 6", len(sum.Agencies))
	}
	versions := map[survey.ID]survey.Version{}
	offices := map[survey.ID]survey.ID{} // office → agency
	slugs := map[string]bool{}
	for _, a := range sum.Agencies {
		if a.ID == 0 || a.ProvinceID != sum.Province || !persian(a.Name) || !slugRE.MatchString(a.Slug) || slugs[a.Slug] {
			t.Errorf("agency %+v: want an id, the province, a Persian name and a unique Latin slug", a)
		}
		slugs[a.Slug] = true
		os, _ := cat.Offices(ctx, a.ID)
		if len(os) < 1 || len(os) > 3 {
			t.Errorf("agency %s has %d offices, want 1–3", a.Slug, len(os))
		}
		for _, o := range os {
			if !persian(o.Name) {
				t.Errorf("office name %q", o.Name)
			}
			offices[o.ID] = a.ID
		}
		v, err := cat.ActiveVersion(ctx, a.ID)
		if err != nil {
			t.Fatalf("agency %s: no published survey: %v", a.Slug, err)
		}
		if v.Version != 1 || v.AgencyID != a.ID || v.Check() != nil || !persian(v.Title) {
			t.Errorf("agency %s: version %+v", a.Slug, v)
		}
		versions[a.ID] = v
	}
	for _, slug := range []string{"tax", "registry", "social-security", "roads", "water", "welfare", "municipality"} {
		if !slugs[slug] {
			t.Errorf("agency %q missing", slug)
		}
	}

	// The national-practice questions, bilingual, with reasons and comment for unhappy citizens.
	qs := versions[sum.Agencies[0].ID].Questions
	var ids []string
	for _, q := range qs {
		ids = append(ids, q.ID+":"+string(q.Type))
		if !persian(q.Title) || q.TitleEN == "" {
			t.Errorf("question %s: title %q / %q", q.ID, q.Title, q.TitleEN)
		}
		for _, o := range q.Options {
			if !persian(o.Label) {
				t.Errorf("option %s label %q", o.ID, o.Label)
			}
		}
		if q.ID == "reasons" || q.ID == "comment" {
			if c := q.ShowIf; c == nil || c.QuestionID != "overall" || c.Op != "lte" || c.Value != 2 || q.Required {
				t.Errorf("question %s: show_if %+v, required %v", q.ID, q.ShowIf, q.Required)
			}
		}
	}
	if got := strings.Join(ids, " "); got != "overall:rating5 respect:rating5 speed:rating5 clarity:rating5 reasons:choice comment:text" {
		t.Errorf("questions = %s", got)
	}
	if qs[0].Title != "به‌طور کلی از خدمتی که گرفتید چقدر راضی هستید؟" || !qs[0].Required || qs[4].Multiple != true || qs[5].MaxLength != 300 {
		t.Errorf("question details: %+v", qs)
	}

	// fold got the responses in batches of 500.
	var rs []survey.Response
	for i, b := range batches {
		if len(b) != demo.BatchSize {
			t.Errorf("batch %d has %d responses", i, len(b))
		}
		rs = append(rs, b...)
	}
	if len(rs) != demo.DefaultResponses || sum.Responses != len(rs) {
		t.Fatalf("folded %d responses (summary %d), want %d", len(rs), sum.Responses, demo.DefaultResponses)
	}

	now := seedNow.UTC()
	start := survey.TehranDay(seedNow).AddDate(0, 0, -(demo.DefaultDays - 1))
	seen := map[string]bool{}
	byChannel := map[survey.Channel]int{}
	perDay := map[string]int{}
	fridays, withReasons, withComment := 0, 0, 0
	overall := map[survey.ID][2]int{} // agency → sum, n
	for i, r := range rs {
		if i > 0 && r.SubmittedAt.Before(rs[i-1].SubmittedAt) {
			t.Fatalf("responses not in submission order at %d", i)
		}
		v, ok := versions[r.AgencyID]
		if !ok || r.SurveyID != v.SurveyID || r.SurveyVersion != v.Version {
			t.Fatalf("response %s for unknown survey %d/%d/%d", r.ID, r.AgencyID, r.SurveyID, r.SurveyVersion)
		}
		if offices[r.OfficeID] != r.AgencyID {
			t.Fatalf("response %s: office %d is not of agency %d", r.ID, r.OfficeID, r.AgencyID)
		}
		// Each response is what Validate makes of the same answers sent by a client.
		s := toSubmission(t, r)
		got, err := v.Validate(&s, now)
		if err != nil {
			t.Fatalf("response %d (%s, %s) rejected: %v %+v", i, r.ID, r.Channel, err, err.(*survey.Error).Fields)
		}
		if !reflect.DeepEqual(got.Answers, r.Answers) || !got.SubmittedAt.Equal(r.SubmittedAt) || got.OfficeID != r.OfficeID || got.Source != r.Source {
			t.Fatalf("response %s changed by validation:\n got %+v\nwant %+v", r.ID, got, r)
		}
		// UUIDv7 ids carrying the submission time.
		u, err := uuid.Parse(r.ID)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 || u.String() != r.ID || seen[r.ID] {
			t.Fatalf("id %q: version %v, err %v, duplicate %v", r.ID, u.Version(), err, seen[r.ID])
		}
		seen[r.ID] = true
		sec, nsec := u.Time().UnixTime()
		if ms := sec*1000 + nsec/1e6; ms != r.SubmittedAt.UnixMilli() {
			t.Fatalf("id %s has time %d ms, submitted_at %d ms", r.ID, ms, r.SubmittedAt.UnixMilli())
		}
		if r.SubmittedAt.Before(start) || r.SubmittedAt.After(now) || r.ReceivedAt.Before(r.SubmittedAt) || r.ReceivedAt.After(now) {
			t.Fatalf("response %s: submitted %v received %v outside [%v, %v]", r.ID, r.SubmittedAt, r.ReceivedAt, start, now)
		}
		byChannel[r.Channel]++
		local := r.SubmittedAt.In(survey.Tehran)
		perDay[r.Day().Format(survey.DayFormat)]++
		if local.Weekday() == time.Friday {
			fridays++
		}
		switch r.Channel {
		case survey.ChannelKiosk:
			closing := 14
			if local.Weekday() == time.Thursday {
				closing = 12
			}
			if local.Hour() < 8 || local.Hour() >= closing {
				t.Fatalf("kiosk response at %v, outside office hours", local)
			}
		case survey.ChannelSMS:
			if len(r.Answers) != 1 || r.Answers[0].QuestionID != "overall" {
				t.Fatalf("sms response %s answers %+v, want only overall", r.ID, r.Answers)
			}
		}
		for _, a := range r.Answers {
			switch a.QuestionID {
			case "overall":
				x := overall[r.AgencyID]
				overall[r.AgencyID] = [2]int{x[0] + *a.Number, x[1] + 1}
			case "reasons":
				withReasons++
			case "comment":
				withComment++
				if !persian(a.Text) {
					t.Errorf("comment %q", a.Text)
				}
			}
			if a.Type == survey.TypeNPS && r.Channel == survey.ChannelSMS {
				t.Fatalf("nps answered by sms")
			}
		}
	}

	// Channel mix: kiosk ~55%, web ~30%, sms ~15%.
	share := func(n int) float64 { return float64(n) / float64(len(rs)) }
	if k, w, s := share(byChannel[survey.ChannelKiosk]), share(byChannel[survey.ChannelWeb]), share(byChannel[survey.ChannelSMS]); k < 0.48 || k > 0.62 || w < 0.24 || w > 0.36 || s < 0.10 || s > 0.20 {
		t.Errorf("channel shares kiosk %.2f web %.2f sms %.2f", k, w, s)
	}
	// Weekly rhythm: Friday nearly empty, Thursday lighter than Saturday–Wednesday.
	if share(fridays) > 0.03 {
		t.Errorf("%.1f%% of responses on Fridays", 100*share(fridays))
	}
	var busy, thursday []int
	for d := start; !d.After(seedNow); d = d.AddDate(0, 0, 1) {
		n := perDay[d.Format(survey.DayFormat)]
		switch d.Weekday() {
		case time.Thursday:
			thursday = append(thursday, n)
		case time.Friday:
		default:
			if d.Format(survey.DayFormat) != seedNow.Format(survey.DayFormat) { // today is not over
				busy = append(busy, n)
			}
		}
	}
	if avg(thursday) >= 0.7*avg(busy) || avg(busy) < 100 {
		t.Errorf("per day: Saturday–Wednesday %.0f, Thursday %.0f", avg(busy), avg(thursday))
	}
	// Agencies differ: the water company is clearly better rated than social security.
	mean := func(slug string) float64 {
		for _, a := range sum.Agencies {
			if a.Slug == slug {
				x := overall[a.ID]
				return float64(x[0]) / float64(x[1])
			}
		}
		return 0
	}
	if w, s := mean("water"), mean("social-security"); w-s < 0.8 {
		t.Errorf("mean overall: water %.2f, social-security %.2f; want a clear gap", w, s)
	}
	if share(withReasons) < 0.05 || withComment == 0 || withComment >= withReasons {
		t.Errorf("%d responses with reasons, %d with comments", withReasons, withComment)
	}
}

func avg(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}

func TestSeedDeterministic(t *testing.T) {
	encode := func(batches [][]survey.Response) []byte {
		var out []byte
		for _, b := range batches {
			for i := range b {
				j, err := survey.MarshalResponse(&b[i])
				if err != nil {
					t.Fatal(err)
				}
				out = append(append(out, j...), '\n')
			}
		}
		return out
	}
	opts := demo.Options{Responses: 700, Days: 14, Now: seedNow, Seed: 7}
	_, _, a := seeded(t, opts)
	_, _, b := seeded(t, opts)
	if len(a) != 2 || len(a[1]) != 200 {
		t.Fatalf("batches of 700 responses: %d, last %d", len(a), len(a[len(a)-1]))
	}
	if string(encode(a)) != string(encode(b)) {
		t.Fatal("the same seed gave different responses")
	}
	opts.Seed = 8
	_, _, c := seeded(t, opts)
	if string(encode(a)) == string(encode(c)) {
		t.Fatal("different seeds gave the same responses")
	}
}

func TestResponses(t *testing.T) {
	cat, sum, _ := seeded(t, demo.Options{Responses: -1, Now: seedNow})
	if sum.Responses != 0 {
		t.Fatalf("Responses: -1 folded %d", sum.Responses)
	}
	ctx := context.Background()
	now := seedNow.Add(48 * time.Hour) // a Friday: nobody visits, yet the past week has traffic

	rs, err := demo.Responses(ctx, cat, 400, now, rand.New(rand.NewSource(3)), 7)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := demo.Responses(ctx, cat, 400, now, rand.New(rand.NewSource(3)), 7)
	if len(rs) != 400 || !reflect.DeepEqual(rs, again) {
		t.Fatalf("got %d responses; deterministic: %v", len(rs), reflect.DeepEqual(rs, again))
	}
	from := survey.TehranDay(now).AddDate(0, 0, -6)
	agencies := map[survey.ID]bool{}
	for _, r := range rs {
		if r.SubmittedAt.Before(from) || r.SubmittedAt.After(now) {
			t.Fatalf("submitted %v outside the last 7 days before %v", r.SubmittedAt, now)
		}
		v, err := cat.Version(ctx, r.SurveyID, r.SurveyVersion)
		if err != nil {
			t.Fatal(err)
		}
		s := toSubmission(t, r)
		if _, err := v.Validate(&s, now); err != nil {
			t.Fatalf("response %s rejected: %v", r.ID, err)
		}
		agencies[r.AgencyID] = true
	}
	if len(agencies) != len(sum.Agencies) {
		t.Errorf("responses reach %d of %d agencies", len(agencies), len(sum.Agencies))
	}

	// Without days: the default period.
	rs, err = demo.Responses(ctx, cat, 300, now, rand.New(rand.NewSource(4)))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].SubmittedAt.Before(rs[j].SubmittedAt) })
	if oldest := now.Sub(rs[0].SubmittedAt); oldest < 14*24*time.Hour || oldest > demo.DefaultDays*24*time.Hour {
		t.Errorf("oldest of 300 responses is %v old, want spread over %d days", oldest, demo.DefaultDays)
	}

	// An agency added by an administrator, with its own survey, gets responses too.
	a := survey.Agency{ProvinceID: sum.Province, Name: "اداره کل ورزش و جوانان", Slug: "sport"}
	if err := cat.CreateAgency(ctx, &a); err != nil {
		t.Fatal(err)
	}
	sv := survey.Survey{AgencyID: a.ID, Title: "نظرسنجی"}
	if err := cat.CreateSurvey(ctx, &sv); err != nil {
		t.Fatal(err)
	}
	v := survey.Version{SurveyID: sv.ID, AgencyID: a.ID, Questions: []survey.Question{
		{ID: "q1", Type: survey.TypeYesNo, Title: "آیا کارتان انجام شد؟", Required: true},
		{ID: "q2", Type: survey.TypeNPS, Title: "توصیه", ShowIf: &survey.Condition{QuestionID: "q1", Op: "eq", Value: 1}},
		{ID: "q3", Type: survey.TypeChoice, Title: "باجه", Options: []survey.Option{{ID: "a", Label: "الف"}, {ID: "b", Label: "ب"}}},
		{ID: "q4", Type: survey.TypeText, Title: "نظر", MaxLength: 12},
	}}
	if err := cat.PublishVersion(ctx, &v); err != nil {
		t.Fatal(err)
	}
	rs, err = demo.Responses(ctx, cat, 1500, now, rand.New(rand.NewSource(5)), 7)
	if err != nil {
		t.Fatal(err)
	}
	custom, nps := 0, 0
	for _, r := range rs {
		if r.AgencyID != a.ID {
			continue
		}
		custom++
		if r.OfficeID != 0 {
			t.Errorf("agency without offices got office %d", r.OfficeID)
		}
		for _, x := range r.Answers {
			if x.Type == survey.TypeNPS {
				nps++
			}
		}
		s := toSubmission(t, r)
		if _, err := v.Validate(&s, now); err != nil {
			t.Fatalf("custom-survey response rejected: %v", err)
		}
	}
	if custom < 50 || nps == 0 {
		t.Errorf("custom agency got %d responses, %d nps answers", custom, nps)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := demo.Responses(ctx, newCatalog(), 10, seedNow, rand.New(rand.NewSource(1))); survey.ErrorCode(err) != survey.ECodeNotFound {
		t.Errorf("Responses on an empty catalog: %v", err)
	}

	boom := errors.New("disk full")
	calls := 0
	_, err := demo.Seed(ctx, newCatalog(), func(context.Context, []survey.Response) error {
		calls++
		if calls == 2 {
			return boom
		}
		return nil
	}, demo.Options{Responses: 1200, Now: seedNow})
	if !errors.Is(err, boom) || calls != 2 {
		t.Errorf("fold failure: err %v after %d calls", err, calls)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cat, _, _ := seeded(t, demo.Options{Responses: -1, Now: seedNow})
	cancel()
	if _, err := demo.Responses(cancelled, cat, 1000, seedNow, rand.New(rand.NewSource(1))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestSubmissions checks the wire-form traffic a load generator sends: it is reproducible, stays
// within the agencies asked for, survives a JSON round trip through the server's decoder and
// validator, and carries the demo's mix — every channel, several offices, and the conditional
// "why" questions for unhappy citizens.
func TestSubmissions(t *testing.T) {
	cat, sum, _ := seeded(t, demo.Options{Responses: -1, Now: seedNow})
	ctx := context.Background()
	some := sum.Agencies[1:]
	subs, err := demo.Submissions(ctx, cat, some, 2000, seedNow, 1, rand.New(rand.NewSource(7)))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := demo.Submissions(ctx, cat, some, 2000, seedNow, 1, rand.New(rand.NewSource(7)))
	if len(subs) != 2000 || !reflect.DeepEqual(subs, again) {
		t.Fatalf("got %d submissions; deterministic: %v", len(subs), reflect.DeepEqual(subs, again))
	}
	channels := map[survey.Channel]int{}
	offices := map[survey.ID]bool{}
	reasons := 0
	for _, s := range subs {
		if s.AgencyID == sum.Agencies[0].ID {
			t.Fatalf("submission for agency %d, which was not asked for", s.AgencyID)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := survey.DecodeSubmission(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		v, err := cat.Version(ctx, dec.SurveyID, dec.SurveyVersion)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Validate(&dec, seedNow); err != nil {
			t.Fatalf("submission %s rejected: %v", b, err)
		}
		if s.SubmittedAt == nil || survey.TehranDay(*s.SubmittedAt) != survey.TehranDay(seedNow) {
			t.Fatalf("submitted_at %v is not on the one day asked for", s.SubmittedAt)
		}
		channels[s.Channel]++
		offices[s.OfficeID] = true
		for _, a := range s.Answers {
			if a.QuestionID == demo.QReasons {
				reasons++
			}
		}
	}
	if len(channels) != 3 || len(offices) < 6 || reasons < 50 {
		t.Errorf("mix: channels %v, %d offices, %d answers to %q", channels, len(offices), reasons, demo.QReasons)
	}
}
