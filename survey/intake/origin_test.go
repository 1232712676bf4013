package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
)

// The origin decides the channel and the scope; the body cannot.
func TestOriginDecidesChannelAndScope(t *testing.T) {
	f := newFixture(t)
	inbox := f.store.Inbox()
	in := intake.New(f.store, inbox, nil, intake.Options{Stored: f.store})
	defer in.Close()
	ctx := context.Background()

	web := survey.Origin{Channel: survey.ChannelWeb}
	s := f.sub("", 4)
	s.Channel = survey.ChannelKiosk
	_, err := in.Submit(ctx, web, s)
	var e *survey.Error
	if !errors.As(err, &e) || e.Code != survey.ECodeInvalid || e.Fields["channel"].Code != "channel_mismatch" {
		t.Fatalf("anonymous submission claiming kiosk: %v", err)
	}
	if s.Channel != survey.ChannelKiosk {
		t.Fatal("Submit modified the caller's submission")
	}
	rc, err := in.Submit(ctx, web, f.sub("", 4))
	if err != nil || rc.Response.Channel != survey.ChannelWeb || rc.Resent {
		t.Fatalf("anonymous submission: %+v, %v", rc, err)
	}
	rc, err = in.Submit(ctx, f.kiosk(), f.sub("", 4))
	if err != nil || rc.Response.Channel != survey.ChannelKiosk {
		t.Fatalf("kiosk submission: %+v, %v", rc, err)
	}

	other := survey.Origin{Channel: survey.ChannelKiosk,
		Principal: survey.Principal{Role: survey.RoleIntegration, AgencyID: f.agency.ID + 1, Channel: survey.ChannelKiosk}}
	if _, err := in.Submit(ctx, other, f.sub("", 4)); survey.ErrorCode(err) != survey.ECodeForbidden {
		t.Fatalf("another agency's token: %v, want forbidden", err)
	}
	staff := survey.Origin{Channel: survey.ChannelWeb, Principal: survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: f.agency.ID}}
	if _, err := in.Submit(ctx, staff, f.sub("", 4)); survey.ErrorCode(err) != survey.ECodeForbidden {
		t.Fatalf("staff token: %v, want forbidden", err)
	}
	// Checked before any store is asked: an absurd version is a 422, never a failed query.
	big := f.sub("", 4)
	big.SurveyVersion = survey.MaxSurveyVersion + 1
	if _, err := in.Submit(ctx, f.kiosk(), big); !errors.As(err, &e) || e.Fields["survey_version"].Code != "out_of_range" {
		t.Fatalf("survey_version beyond 32 bits: %v", err)
	}
	if got := drain(t, inbox); len(got) != 2 {
		t.Fatalf("buffered %d responses, want the 2 accepted", len(got))
	}
	if n := in.Stats().Rejected.Load(); n != 4 {
		t.Fatalf("rejected %d, want 4", n)
	}
}

// A resend of an accepted id is answered from memory; other content under it is id_conflict.
func TestResendAndConflictFromMemory(t *testing.T) {
	f := newFixture(t)
	inbox := f.store.Inbox()
	in := intake.New(f.store, inbox, nil, intake.Options{})
	defer in.Close()
	ctx := context.Background()
	id := uuid.NewString()

	rc, err := in.Submit(ctx, f.kiosk(), f.sub(id, 4))
	if err != nil || rc.Resent || rc.Response.ID != id {
		t.Fatalf("first submission: %+v, %v", rc, err)
	}
	for i := 0; i < 3; i++ {
		rc, err = in.Submit(ctx, f.kiosk(), f.sub(id, 4))
		if err != nil || !rc.Resent || rc.Response.ID != id {
			t.Fatalf("resend: %+v, %v", rc, err)
		}
	}
	if _, err := in.Submit(ctx, f.kiosk(), f.sub(id, 5)); survey.ErrorCode(err) != survey.ECodeIDConflict {
		t.Fatalf("other content under the id: %v, want id_conflict", err)
	}
	// Another origin with the same answers is other content too.
	if _, err := in.Submit(ctx, survey.Origin{Channel: survey.ChannelWeb}, f.sub(id, 4)); survey.ErrorCode(err) != survey.ECodeIDConflict {
		t.Fatalf("the same id from the web: %v, want id_conflict", err)
	}
	if got := drain(t, inbox); len(got) != 1 || got[id] != 1 {
		t.Fatalf("buffer holds %v, want the id once", got)
	}
	st := in.Stats()
	if st.Accepted.Load() != 1 || st.Resent.Load() != 3 || st.IDConflicts.Load() != 2 {
		t.Fatalf("accepted %d, resent %d, conflicts %d", st.Accepted.Load(), st.Resent.Load(), st.IDConflicts.Load())
	}
}

// A process that never saw the id asks the stored responses, once per batch.
func TestResendAndConflictFromStore(t *testing.T) {
	f := newFixture(t)
	inbox := f.store.Inbox()
	ctx := context.Background()
	id, legacyID := uuid.NewString(), uuid.NewString()

	first := intake.New(f.store, inbox, nil, intake.Options{})
	if _, err := first.Submit(ctx, f.kiosk(), f.sub(id, 4)); err != nil {
		t.Fatal(err)
	}
	first.Close()
	ds, err := inbox.Read(ctx, "test", 10, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("read %d, %v", len(ds), err)
	}
	legacy := ds[0].Response
	legacy.ID, legacy.Hash = legacyID, "" // stored before hashes were kept
	noDelta := func([]survey.Response) survey.RollupDelta { return survey.RollupDelta{} }
	if n, err := f.store.Fold(ctx, []survey.Response{ds[0].Response, legacy}, noDelta); err != nil || n != 2 {
		t.Fatalf("fold: %d, %v", n, err)
	}
	must(t, inbox.Ack(ctx, []string{ds[0].Ref}))

	in := intake.New(f.store, inbox, nil, intake.Options{Stored: f.store})
	defer in.Close()
	rc, err := in.Submit(ctx, f.kiosk(), f.sub(id, 4))
	if err != nil || !rc.Resent {
		t.Fatalf("resend of a stored id: %+v, %v", rc, err)
	}
	if _, err := in.Submit(ctx, f.kiosk(), f.sub(id, 2)); survey.ErrorCode(err) != survey.ECodeIDConflict {
		t.Fatalf("other content under a stored id: %v, want id_conflict", err)
	}
	// A row without a hash matches any resend: it cannot be told apart, and was accepted before.
	if rc, err := in.Submit(ctx, f.kiosk(), f.sub(legacyID, 1)); err != nil || !rc.Resent {
		t.Fatalf("resend of a row without hash: %+v, %v", rc, err)
	}
	if got := drain(t, inbox); len(got) != 0 {
		t.Fatalf("resends of stored ids were buffered: %v", got)
	}
}

// failingStored is a Stored whose lookups fail, as when PostgreSQL is down behind Redis.
type failingStored struct{ calls int }

func (s *failingStored) ContentHashes(context.Context, []string) (map[string]string, error) {
	s.calls++
	return nil, errors.New("connection refused")
}

// A failed lookup does not refuse citizens: the batch is appended unchecked (the fold still keeps
// the first response of each id), and lookups pause instead of failing every batch.
func TestLookupFailureAppendsUnchecked(t *testing.T) {
	f := newFixture(t)
	inbox := f.store.Inbox()
	stored := &failingStored{}
	in := intake.New(f.store, inbox, nil, intake.Options{Stored: stored})
	defer in.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := in.Submit(ctx, f.kiosk(), f.sub(uuid.NewString(), 3)); err != nil {
			t.Fatalf("submission %d refused while lookups fail: %v", i, err)
		}
	}
	if got := drain(t, inbox); len(got) != 5 {
		t.Fatalf("buffered %d, want 5", len(got))
	}
	if in.Stats().LookupFailures.Load() != 1 || stored.calls != 1 {
		t.Fatalf("lookup failures %d, calls %d: want one failure, then a pause", in.Stats().LookupFailures.Load(), stored.calls)
	}
}

// Text answers survive the trip: what a citizen typed on several lines is kept.
func TestTextWithLineBreaksIsAccepted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sv := survey.Survey{AgencyID: f.agency.ID, Title: "نظر"}
	must(t, f.store.CreateSurvey(ctx, &sv))
	v := survey.Version{SurveyID: sv.ID, Questions: []survey.Question{{ID: "c", Type: survey.TypeText, Title: "نظر", Required: true}}}
	must(t, f.store.PublishVersion(ctx, &v))
	in := intake.New(f.store, f.store.Inbox(), nil, intake.Options{})
	defer in.Close()
	text, _ := json.Marshal("خط یک\nخط دو\tو\r\nپایان")
	s := &survey.Submission{AgencyID: f.agency.ID, SurveyID: sv.ID, SurveyVersion: v.Version,
		Answers: []survey.SubmittedAnswer{{QuestionID: "c", Value: text}}}
	rc, err := in.Submit(ctx, f.kiosk(), s)
	if err != nil || rc.Response.Answers[0].Text != "خط یک\nخط دو\tو\r\nپایان" {
		t.Fatalf("%+v, %v", rc, err)
	}
	s.Answers[0].Value = json.RawMessage(`"a\u0000b"`)
	if _, err := in.Submit(ctx, f.kiosk(), s); survey.ErrorCode(err) != survey.ECodeInvalid {
		t.Fatalf("NUL in a text answer: %v", err)
	}
}
