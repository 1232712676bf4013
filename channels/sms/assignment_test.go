package sms_test

import (
	"context"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// TestSMSReplyScoredOnAssignedSurvey: a rating by SMS is filed on the survey assigned to the
// invitation's office and the SMS channel, not on the agency's survey published last.
func TestSMSReplyScoredOnAssignedSurvey(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		publish := func(title string) survey.ID {
			sv := survey.Survey{AgencyID: e.agency.ID, Title: title}
			must(t, e.store.CreateSurvey(ctx, &sv))
			v := survey.Version{SurveyID: sv.ID, Questions: []survey.Question{{ID: "rate", Type: survey.TypeRating5, Title: title, Required: true}}}
			must(t, e.store.PublishVersion(ctx, &v))
			return sv.ID
		}
		assigned := publish("پیامکی")
		last := publish("عمومی") // the agency's active survey: published last
		must(t, e.store.SetAssignment(ctx, survey.Assignment{AgencyID: e.agency.ID, OfficeID: e.office.ID, Channel: survey.ChannelSMS, SurveyID: assigned}))
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
		inbox := sms.NewInbox(e.store, rec, e.privacy, sms.InboxOptions{Clock: e.clock, Logger: e.log})
		if _, _, err := inbox.Accept(ctx, sms.Inbound{From: "09121234567", Text: "4"}); err != nil {
			t.Fatal(err)
		}
		if n, err := inbox.ProcessPending(ctx); err != nil || n != 1 {
			t.Fatalf("process: %d, %v", n, err)
		}
		if len(rec.subs) != 1 || rec.subs[0].SurveyID != assigned {
			t.Fatalf("submissions %+v: want survey %d (assigned), not %d (published last)", rec.subs, assigned, last)
		}
	})
}
