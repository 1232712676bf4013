package sms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
)

// queuedTexts returns how many information SMS with exactly text are queued.
func (e *dialogueEnv) queuedTexts(t *testing.T, text string) int {
	t.Helper()
	msgs, err := e.store.RecentOutbox(context.Background(), 100)
	must(t, err)
	n := 0
	for _, m := range msgs {
		if m.Text == text {
			n++
		}
	}
	return n
}

// After a low rating and its follow-up question, the citizen gets ONE offer to be contacted; a
// «۱» within the window opens a case with the number it came from; the resolution question's
// answer is recorded on the case. A happy citizen gets no offer, and a «۱» after the window opens
// nothing.
func TestSMSCaseOfferReplyOpensACase(t *testing.T) {
	eachDialogueSetup(t, func(t *testing.T, e *dialogueEnv, _ func() *sms.Inbox) {
		ctx := context.Background()
		svc := cases.New(e.store, e.privacy, cases.Options{OfferWindow: 30 * time.Minute, Clock: e.clock, Logger: e.log})
		inbox := sms.NewInbox(e.store, e.intake, e.privacy, sms.InboxOptions{Dialogues: e.dialogues,
			DialogueTTL: 30 * time.Minute, Cases: svc, Clock: e.clock, Logger: e.log})
		e.sentInvitation(t, "09121110001")
		if r := e.reply(t, inbox, "09121110001", "۲"); r.Outcome != survey.InboundAwaitingFollowUp {
			t.Fatalf("the rating: %+v", r)
		}
		if n := e.queuedTexts(t, cases.OfferText); n != 0 {
			t.Fatalf("the offer came before the follow-up question was answered (%d)", n)
		}
		e.clock.Advance(time.Minute)
		if r := e.reply(t, inbox, "09121110001", "۱"); r.Outcome != survey.InboundFollowUp {
			t.Fatalf("the reasons: %+v", r)
		}
		if n := e.queuedTexts(t, cases.OfferText); n != 1 {
			t.Fatalf("%d offers queued, want 1", n)
		}
		list, err := e.store.Cases(ctx, e.agency.ID, "", 0)
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("a case before the citizen agreed: %+v", list)
		}
		e.clock.Advance(time.Minute)
		yes := e.reply(t, inbox, "09121110001", "بله")
		if yes.Outcome != survey.InboundCaseReply {
			t.Fatalf("the yes: %+v", yes)
		}
		list, err = e.store.Cases(ctx, e.agency.ID, "", 0)
		must(t, err)
		if len(list) != 1 || list[0].Channel != survey.ChannelSMS || list[0].Rating != 2 || !list[0].Consent ||
			list[0].OfficeID != e.office.ID || list[0].Status != survey.CaseOpen {
			t.Fatalf("cases: %+v", list)
		}
		if got := e.intake.responses(); len(got) != 1 || got[0].ID != list[0].ResponseID {
			t.Fatalf("the case's response %q, responses %+v", list[0].ResponseID, got)
		}
		if phone, err := e.privacy.Open(list[0].PhoneEnc, list[0].PhoneHash); err != nil || phone != "+989121110001" {
			t.Fatalf("the sealed number: %q, %v", phone, err)
		}
		// The offer is answered: another «۱» is an ordinary reply, no second case.
		e.clock.Advance(time.Minute)
		if again := e.reply(t, inbox, "09121110001", "۱"); again.Outcome == survey.InboundCaseReply {
			t.Fatalf("a second yes: %+v", again)
		}

		// The resolution question, and its answer on the case.
		admin := survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.agency.ID, Name: "مدیر"}
		if _, err := svc.Resolve(ctx, admin, list[0].ID, cases.Resolution{Outcome: "تماس گرفته شد", AskCitizen: true}); err != nil {
			t.Fatal(err)
		}
		if n := e.queuedTexts(t, cases.ResolutionText); n != 1 {
			t.Fatalf("%d resolution SMS, want 1", n)
		}
		e.clock.Advance(time.Hour)
		if r := e.reply(t, inbox, "09121110001", "۲"); r.Outcome != survey.InboundCaseReply {
			t.Fatalf("the resolution answer: %+v", r)
		}
		got, err := e.store.Case(ctx, list[0].ID)
		must(t, err)
		if got.ResolutionAnswer != "no" || got.Status != survey.CaseResolved {
			t.Fatalf("after the answer: %+v", got)
		}

		// A happy citizen: no offer. An unhappy one who answers after the window: no case.
		e.sentInvitation(t, "09121110002")
		if r := e.reply(t, inbox, "09121110002", "5"); r.Outcome != survey.InboundScored {
			t.Fatalf("a 5: %+v", r)
		}
		if n := e.queuedTexts(t, cases.OfferText); n != 1 {
			t.Fatalf("%d offers after a 5, want 1", n)
		}
		e.sentInvitation(t, "09121110003")
		e.reply(t, inbox, "09121110003", "1")
		e.clock.Advance(time.Minute)
		e.reply(t, inbox, "09121110003", "2") // the reasons
		if n := e.queuedTexts(t, cases.OfferText); n != 2 {
			t.Fatalf("%d offers, want 2", n)
		}
		e.clock.Advance(31 * time.Minute)
		if late := e.reply(t, inbox, "09121110003", "۱"); late.Outcome == survey.InboundCaseReply {
			t.Fatalf("a yes after the window: %+v", late)
		}
		list, err = e.store.Cases(ctx, e.agency.ID, "", 0)
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("%d cases, want 1", len(list))
		}
		for _, number := range []string{"9121110001", "9121110003"} {
			if strings.Contains(e.logs.String(), number) {
				t.Fatalf("a number in the logs")
			}
		}
	})
}
