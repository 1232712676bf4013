package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

type fixture struct {
	store  *sqlstore.Store
	agency survey.Agency
	office survey.Office
	other  survey.Office // an office of another agency
	v      survey.Version
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st := sqltest.Open(t, "sqlite")
	var f fixture
	f.store = st
	p := survey.Province{Name: "استان"}
	must(t, st.CreateProvince(ctx, &p))
	f.agency = survey.Agency{ProvinceID: p.ID, Name: "دستگاه یک"}
	must(t, st.CreateAgency(ctx, &f.agency))
	b := survey.Agency{ProvinceID: p.ID, Name: "دستگاه دو"}
	must(t, st.CreateAgency(ctx, &b))
	f.office = survey.Office{AgencyID: f.agency.ID, Name: "دفتر"}
	must(t, st.CreateOffice(ctx, &f.office))
	f.other = survey.Office{AgencyID: b.ID, Name: "دفتر دیگر"}
	must(t, st.CreateOffice(ctx, &f.other))
	s := survey.Survey{AgencyID: f.agency.ID, Title: "نظرسنجی"}
	must(t, st.CreateSurvey(ctx, &s))
	f.v = survey.Version{SurveyID: s.ID, Questions: []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Title: "رضایت", Required: true},
	}}
	must(t, st.PublishVersion(ctx, &f.v))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f fixture) sub(id string, rating int) *survey.Submission {
	return &survey.Submission{ID: id, AgencyID: f.agency.ID, OfficeID: f.office.ID, SurveyID: f.v.SurveyID,
		SurveyVersion: f.v.Version,
		Answers:       []survey.SubmittedAnswer{{QuestionID: "overall", Value: json.RawMessage(string(rune('0' + rating)))}}}
}

// kiosk is the origin of the fixture's submissions: the agency's kiosk fleet token.
func (f fixture) kiosk() survey.Origin {
	return survey.Origin{Channel: survey.ChannelKiosk,
		Principal: survey.Principal{Role: survey.RoleIntegration, AgencyID: f.agency.ID, Channel: survey.ChannelKiosk}}
}

// drain reads and acks everything in the buffer, returning the ids seen.
func drain(t *testing.T, b survey.Buffer) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for {
		ds, err := b.Read(context.Background(), "test", 1000, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			return seen
		}
		refs := make([]string, len(ds))
		for i, d := range ds {
			seen[d.Response.ID]++
			refs[i] = d.Ref
		}
		must(t, b.Ack(context.Background(), refs))
	}
}

func TestSubmitIsDurableAndGroupCommitted(t *testing.T) {
	f := newFixture(t)
	inbox := f.store.Inbox()
	in := intake.New(f.store, inbox, nil, intake.Options{})
	defer in.Close()

	const n = 400
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := ""
			if i%2 == 0 {
				id = uuid.NewString() // client-made id, kept as given
			}
			rc, err := in.Submit(context.Background(), f.kiosk(), f.sub(id, 1+i%5))
			if err != nil {
				errs <- err
				return
			}
			r := rc.Response
			if id != "" && r.ID != id {
				errs <- errors.New("client id not kept")
			}
			if !survey.ValidUUID(r.ID) {
				errs <- errors.New("server id is not a UUID: " + r.ID)
			}
			ids[i] = r.ID
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every acknowledged response is already in the buffer: nothing waits in memory.
	seen := drain(t, inbox)
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("acknowledged id %s found %d times in the buffer", id, seen[id])
		}
	}
	st := in.Stats()
	if st.Accepted.Load() != n {
		t.Fatalf("accepted %d", st.Accepted.Load())
	}
	if st.Batches.Load() >= n {
		t.Fatalf("%d batches for %d concurrent submissions: no group commit", st.Batches.Load(), n)
	}
	t.Logf("%d submissions in %d group commits", n, st.Batches.Load())
}

func TestValidationErrors(t *testing.T) {
	f := newFixture(t)
	in := intake.New(f.store, f.store.Inbox(), nil, intake.Options{})
	defer in.Close()
	cases := map[string]struct {
		mut   func(s *survey.Submission)
		field string
	}{
		"unknown version":     {func(s *survey.Submission) { s.SurveyVersion = 99 }, "survey_version"},
		"no survey":           {func(s *survey.Submission) { s.SurveyID = 0 }, "survey_id"},
		"office elsewhere":    {func(s *survey.Submission) { s.OfficeID = f.other.ID }, "office_id"},
		"office unknown":      {func(s *survey.Submission) { s.OfficeID = 9999 }, "office_id"},
		"rating out of range": {func(s *survey.Submission) { s.Answers[0].Value = json.RawMessage("7") }, "answers[0].value"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := f.sub("", 3)
			c.mut(s)
			_, err := in.Submit(context.Background(), f.kiosk(), s)
			var e *survey.Error
			if !errors.As(err, &e) || e.Code != survey.ECodeInvalid {
				t.Fatalf("want invalid, got %v", err)
			}
			if _, ok := e.Fields[c.field]; !ok {
				t.Fatalf("fields %v do not name %s", e.Fields, c.field)
			}
		})
	}
	if got := drain(t, f.store.Inbox()); len(got) != 0 {
		t.Fatalf("rejected submissions reached the buffer: %v", got)
	}
}

// TestFallbackWhenPrimaryDown points the primary at a Redis port where nothing listens: every
// submission must still be acknowledged, through the SQL inbox.
func TestFallbackWhenPrimaryDown(t *testing.T) {
	f := newFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + l.Addr().String() + "/0"
	l.Close()
	rb, err := redisbuffer.Open(dead, redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	in := intake.New(f.store, rb, f.store.Inbox(), intake.Options{PrimaryRetry: 50 * time.Millisecond})
	defer in.Close()
	start := time.Now()
	var ids []string
	for i := 0; i < 20; i++ {
		rc, err := in.Submit(context.Background(), f.kiosk(), f.sub("", 4))
		if err != nil {
			t.Fatalf("submission %d not acknowledged while Redis is down: %v", i, err)
		}
		ids = append(ids, rc.Response.ID)
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("fallback too slow: %s for 20 submissions", d)
	}
	seen := drain(t, f.store.Inbox())
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("id %s in the inbox %d times", id, seen[id])
		}
	}
	if in.Stats().FallbackAppends.Load() != 20 || in.Stats().PrimaryFailures.Load() == 0 {
		t.Fatalf("fallback %d, primary failures %d", in.Stats().FallbackAppends.Load(), in.Stats().PrimaryFailures.Load())
	}
}

func TestNoFallbackMeansUnavailable(t *testing.T) {
	f := newFixture(t)
	rb, err := redisbuffer.Open("redis://127.0.0.1:1/0", redisbuffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	in := intake.New(f.store, rb, nil, intake.Options{})
	defer in.Close()
	_, err = in.Submit(context.Background(), f.kiosk(), f.sub("", 4))
	if survey.ErrorCode(err) != survey.ECodeUnavailable {
		t.Fatalf("want unavailable when no buffer can store, got %v", err)
	}
}

func TestCloseFlushesAndRefuses(t *testing.T) {
	f := newFixture(t)
	inbox := f.store.Inbox()
	in := intake.New(f.store, inbox, nil, intake.Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := in.Submit(context.Background(), f.kiosk(), f.sub("", 2))
			if err == nil {
				mu.Lock()
				acked[rc.Response.ID] = true
				mu.Unlock()
			} else if survey.ErrorCode(err) != survey.ECodeUnavailable {
				t.Errorf("unexpected error during close: %v", err)
			}
		}()
	}
	time.Sleep(time.Millisecond)
	in.Close()
	wg.Wait()
	if _, err := in.Submit(context.Background(), f.kiosk(), f.sub("", 2)); !errors.Is(err, intake.ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
	seen := drain(t, inbox)
	for id := range acked {
		if seen[id] != 1 {
			t.Fatalf("acknowledged %s lost at close", id)
		}
	}
}
