package sms_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// recordingIntake accepts every submission and remembers them.
type recordingIntake struct {
	mu   sync.Mutex
	subs []survey.Submission
	orig []survey.Origin
}

func (r *recordingIntake) Submit(_ context.Context, o survey.Origin, s *survey.Submission) (survey.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs, r.orig = append(r.subs, *s), append(r.orig, o)
	return survey.Receipt{Response: survey.Response{ID: s.ID}}, nil
}

// flakyAccepter fails its first n calls, then hands over to the inbox.
type flakyAccepter struct {
	inbox *sms.Inbox
	fails int
}

func (f *flakyAccepter) Accept(ctx context.Context, m sms.Inbound) (survey.ID, bool, error) {
	if f.fails > 0 {
		f.fails--
		return 0, false, errors.New("storage down")
	}
	return f.inbox.Accept(ctx, m)
}

func TestSMSReceiverReconcilesWithPush(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		inbox := sms.NewInbox(e.store, &recordingIntake{}, e.privacy, sms.InboxOptions{Clock: e.clock, Logger: e.log})
		id1 := e.fake.Inject("09121234567", "۵")
		e.fake.Inject("09351112233", "خوب بود")
		// The push brought the first one already.
		if _, created, err := inbox.Accept(ctx, sms.Inbound{MessageID: id1, From: "09121234567", Text: "۵"}); err != nil || !created {
			t.Fatalf("push: %v, %v", created, err)
		}
		flaky := &flakyAccepter{inbox: inbox, fails: 1}
		r := sms.NewReceiver(e.gw, flaky, "", e.log)
		// Storing fails after the gateway marked both read: they are kept, not fetched again.
		if _, err := r.RunOnce(ctx); err == nil {
			t.Fatal("a failed store was not reported")
		}
		calls := e.fake.Calls("sms/receive")
		n, err := r.RunOnce(ctx)
		if err != nil || n != 1 {
			t.Fatalf("second pass stored %d new, %v; want 1 (the push had the other)", n, err)
		}
		if got := e.fake.Calls("sms/receive"); got != calls {
			t.Fatalf("the receiver fetched again (%d → %d) before storing what it held", calls, got)
		}
		all, err := e.store.RecentInbound(ctx, 10)
		if err != nil || len(all) != 2 {
			t.Fatalf("stored %d messages, %v; want 2", len(all), err)
		}
		// Nothing new: nothing stored.
		if n, err := r.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("empty pass: %d, %v", n, err)
		}
		if strings.Contains(e.logs.String(), "9121234567") || strings.Contains(e.logs.String(), "9351112233") {
			t.Fatalf("a number in the logs:\n%s", e.logs.String())
		}
	})
}

// finishFailsOnce is the store, whose first FinishInbound fails: a crash between submitting a
// response and recording the outcome.
type finishFailsOnce struct {
	*sqlstore.Store
	failed bool
}

func (f *finishFailsOnce) FinishInbound(ctx context.Context, id survey.ID, res survey.InboundResult, now time.Time) (bool, error) {
	if !f.failed {
		f.failed = true
		return false, errors.New("connection lost")
	}
	return f.Store.FinishInbound(ctx, id, res, now)
}

func TestSMSInboxReprocessingSubmitsTheSameResponse(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		sv := survey.Survey{AgencyID: e.agency.ID, Title: "رضایت"}
		must(t, e.store.CreateSurvey(ctx, &sv))
		v := survey.Version{SurveyID: sv.ID, AgencyID: e.agency.ID, Title: "رضایت", Questions: []survey.Question{
			{ID: "open", Type: survey.TypeText, Title: "نظر"},
			{ID: "rate", Type: survey.TypeRating5, Title: "رضایت", Required: true, Min: 1, Max: 5}}}
		must(t, e.store.PublishVersion(ctx, &v))
		res, err := e.inviter.Invite(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.agency.ID},
			[]sms.InviteRequest{{Phone: "09121234567", OfficeID: e.office.ID, VisitedAt: e.clock.Now().Add(-time.Hour).Format(time.RFC3339)}})
		if err != nil || len(res) != 1 || res[0].ID == 0 {
			t.Fatalf("invite: %+v, %v", res, err)
		}
		due, err := e.store.DueOutbox(ctx, e.clock.Now().Add(24*time.Hour), 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %d, %v", len(due), err)
		}
		must(t, e.store.OutboxSent(ctx, due[0].ID, "1", 1, 0, 1, e.clock.Now()))

		rec := &recordingIntake{}
		st := &finishFailsOnce{Store: e.store}
		inbox := sms.NewInbox(st, rec, e.privacy, sms.InboxOptions{Clock: e.clock, Logger: e.log})
		id, _, err := inbox.Accept(ctx, sms.Inbound{From: "+98 912 123 4567", Text: "4 ممنون"})
		must(t, err)
		if n, err := inbox.ProcessPending(ctx); err != nil || n != 0 {
			t.Fatalf("first pass: %d, %v (want the outcome unrecorded)", n, err)
		}
		if n, err := inbox.ProcessPending(ctx); err != nil || n != 1 {
			t.Fatalf("second pass: %d, %v", n, err)
		}
		if len(rec.subs) != 2 || rec.subs[0].ID != rec.subs[1].ID || !survey.ValidUUID(rec.subs[0].ID) {
			t.Fatalf("submissions: %+v", rec.subs)
		}
		s, o := rec.subs[1], rec.orig[1]
		if o.Channel != survey.ChannelSMS || o.InvitationID != res[0].ID || o.Principal.Channel != survey.ChannelSMS ||
			s.OfficeID != e.office.ID || len(s.Answers) != 1 || s.Answers[0].QuestionID != "rate" || string(s.Answers[0].Value) != "4" {
			t.Fatalf("submission %+v origin %+v", s, o)
		}
		in, err := e.store.InboundMessage(ctx, id)
		if err != nil || in.Outcome != survey.InboundScored || in.ResponseID != s.ID || in.Comment != "ممنون" {
			t.Fatalf("recorded %+v, %v", in, err)
		}
		// A third pass finds nothing to do.
		if n, err := inbox.ProcessPending(ctx); err != nil || n != 0 || len(rec.subs) != 2 {
			t.Fatalf("third pass: %d, %v, %d submissions", n, err, len(rec.subs))
		}
	})
}
