package sms_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/sms/smsredis"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// countingIntake is the real intake (validation, the durable SQL inbox) with a record of what
// it accepted as new.
type countingIntake struct {
	in *intake.Intake
	mu sync.Mutex
	// stored are the responses accepted as new, by id; dup counts resends.
	stored map[string]survey.Response
	dup    int
}

func (c *countingIntake) Submit(ctx context.Context, o survey.Origin, s *survey.Submission) (survey.Receipt, error) {
	rc, err := c.in.Submit(ctx, o, s)
	if err != nil {
		return rc, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc.Resent {
		c.dup++
	} else {
		c.stored[rc.Response.ID] = rc.Response
	}
	return rc, nil
}

func (c *countingIntake) responses() []survey.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]survey.Response, 0, len(c.stored))
	for _, r := range c.stored {
		out = append(out, r)
	}
	return out
}

// dialogueEnv is an agency whose survey asks, by SMS, the reasons of a rating of 2 or less.
type dialogueEnv struct {
	*sendEnv
	version   survey.Version
	intake    *countingIntake
	dialogues sms.DialogueStore
}

var dialogueStores = map[string]func(t *testing.T, e *sendEnv) sms.DialogueStore{
	"sql": func(t *testing.T, e *sendEnv) sms.DialogueStore { return e.store },
	"redis": func(t *testing.T, e *sendEnv) sms.DialogueStore {
		c, prefix := redistest.Client(t)
		return smsredis.New(c, prefix)
	},
}

// eachDialogueSetup runs fn on both SQL dialects × both conversation stores.
func eachDialogueSetup(t *testing.T, fn func(t *testing.T, e *dialogueEnv, newInbox func() *sms.Inbox)) {
	t.Parallel()
	for _, dialect := range sqltest.Dialects {
		for name, open := range dialogueStores {
			t.Run(dialect+"/"+name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				se := newSendEnv(t, dialect)
				e := &dialogueEnv{sendEnv: se}
				sv := survey.Survey{AgencyID: e.agency.ID, Title: "رضایت"}
				must(t, e.store.CreateSurvey(ctx, &sv))
				e.version = survey.Version{SurveyID: sv.ID, AgencyID: e.agency.ID, Title: "رضایت", Questions: []survey.Question{
					{ID: "overall", Type: survey.TypeRating5, Title: "رضایت کلی", Required: true},
					{ID: "speed", Type: survey.TypeRating5, Title: "سرعت"},
					{ID: "reasons", Type: survey.TypeChoice, Multiple: true, Title: "چه چیزی باعث نارضایتی شد؟",
						ShowIf: &survey.Condition{QuestionID: "overall", Op: "lte", Value: 2},
						Options: []survey.Option{{ID: "waiting", Label: "معطلی"}, {ID: "behaviour", Label: "رفتار کارکنان"},
							{ID: "confusing", Label: "راهنمایی ناروشن"}}},
				}, SMS: &survey.SMSSettings{FollowUp: []string{"reasons"}}}
				must(t, e.store.PublishVersion(ctx, &e.version))
				in := intake.New(e.store, e.store.Inbox(), nil, intake.Options{Stored: e.store, Clock: e.clock, Logger: e.log})
				t.Cleanup(in.Close)
				e.intake = &countingIntake{in: in, stored: map[string]survey.Response{}}
				e.dialogues = open(t, se)
				newInbox := func() *sms.Inbox {
					return sms.NewInbox(e.store, e.intake, e.privacy, sms.InboxOptions{Dialogues: e.dialogues,
						DialogueTTL: 30 * time.Minute, Clock: e.clock, Logger: e.log})
				}
				fn(t, e, newInbox)
			})
		}
	}
}

// sentInvitation records an invitation to phone and marks its SMS sent.
func (e *dialogueEnv) sentInvitation(t *testing.T, phone string) survey.ID {
	t.Helper()
	ctx := context.Background()
	res := e.invite(t, phone, "sms")
	if res.ID == 0 {
		t.Fatalf("invite: %+v", res)
	}
	m := e.outbox(t, res.ID)
	must(t, e.store.OutboxSent(ctx, m.ID, "m"+res.ID.String(), 1, 0, 1, e.clock.Now()))
	return res.ID
}

// reply stores a citizen's SMS and processes everything pending; it returns the message's row.
func (e *dialogueEnv) reply(t *testing.T, inbox *sms.Inbox, phone, text string) survey.SMSInbound {
	t.Helper()
	ctx := context.Background()
	id, _, err := inbox.Accept(ctx, sms.Inbound{From: phone, Text: text})
	must(t, err)
	if _, err := inbox.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	in, err := e.store.InboundMessage(ctx, id)
	must(t, err)
	return in
}

// followUps returns the texts of information SMS queued to anyone, oldest first (invitations
// have no text until sent).
func (e *dialogueEnv) followUps(t *testing.T) []string {
	t.Helper()
	msgs, err := e.store.RecentOutbox(context.Background(), 100)
	must(t, err)
	var out []string
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].InvitationID == 0 && strings.Contains(msgs[i].Text, "نارضایتی") {
			out = append(out, msgs[i].Text)
		}
	}
	return out
}

func answersOf(r survey.Response) map[string]string {
	out := map[string]string{}
	for _, a := range r.Answers {
		if a.Text != "" {
			out[a.QuestionID] = a.Text
			continue
		}
		if len(a.Choices) > 0 {
			out[a.QuestionID] = strings.Join(a.Choices, ",")
			continue
		}
		if a.Number != nil {
			out[a.QuestionID] = strconv.Itoa(*a.Number)
		}
	}
	return out
}

// A low rating opens a conversation: the reasons are asked by SMS, the answer joins the rating in
// one response, submitted once; a high rating is scored at once and asks nothing more.
func TestSMSDialogueAsksReasonsAfterALowRating(t *testing.T) {
	eachDialogueSetup(t, func(t *testing.T, e *dialogueEnv, newInbox func() *sms.Inbox) {
		inbox := newInbox()
		e.sentInvitation(t, "09121110001")
		rated := e.reply(t, inbox, "09121110001", "۲")
		if rated.Outcome != survey.InboundAwaitingFollowUp || rated.Rating != 2 {
			t.Fatalf("the rating: %+v", rated)
		}
		if got := e.intake.responses(); len(got) != 0 {
			t.Fatalf("submitted before the conversation ended: %+v", got)
		}
		asked := e.followUps(t)
		if len(asked) != 1 || !strings.Contains(asked[0], "۱ معطلی") && !strings.Contains(asked[0], "1 معطلی") ||
			!strings.HasSuffix(asked[0], sms.OptOutFooter) {
			t.Fatalf("follow-up SMS: %q", asked)
		}
		if p, _ := sms.Parts(asked[0]); p > sms.MaxParts {
			t.Fatalf("the follow-up takes %d parts", p)
		}
		ans := e.reply(t, inbox, "09121110001", "۱ و ۳")
		if ans.Outcome != survey.InboundFollowUp {
			t.Fatalf("the answer: %+v", ans)
		}
		got := e.intake.responses()
		if len(got) != 1 {
			t.Fatalf("responses %+v", got)
		}
		if a := answersOf(got[0]); a["overall"] != "2" || a["reasons"] != "waiting,confusing" || got[0].Channel != survey.ChannelSMS {
			t.Fatalf("response answers %v channel %s", a, got[0].Channel)
		}
		rated, _ = e.store.InboundMessage(context.Background(), rated.ID)
		if rated.Outcome != survey.InboundScored || rated.ResponseID != got[0].ID {
			t.Fatalf("the rating's message after the conversation: %+v", rated)
		}
		// The conversation is over: another digit (a minute later: the same text within the
		// minute is the same message) is an ordinary reply to an answered visit.
		e.clock.Advance(time.Minute)
		if again := e.reply(t, inbox, "09121110001", "۲"); again.Outcome != survey.InboundAnsweredBefore {
			t.Fatalf("after the end: %+v", again)
		}
		// A happy citizen is asked nothing more.
		e.sentInvitation(t, "09121110002")
		if happy := e.reply(t, inbox, "09121110002", "5"); happy.Outcome != survey.InboundScored {
			t.Fatalf("a 5: %+v", happy)
		}
		if n := len(e.followUps(t)); n != 1 || len(e.intake.responses()) != 2 {
			t.Fatalf("%d follow-ups, %d responses", n, len(e.intake.responses()))
		}
		if strings.Contains(e.logs.String(), "9121110001") {
			t.Fatalf("a number in the logs")
		}
	})
}

// A conversation nobody finishes, one the citizen leaves with something that is not an answer,
// and one whose live state was lost all end with the rating counted once.
func TestSMSDialogueEndsWithoutAnAnswer(t *testing.T) {
	eachDialogueSetup(t, func(t *testing.T, e *dialogueEnv, newInbox func() *sms.Inbox) {
		ctx := context.Background()
		inbox := newInbox()
		e.sentInvitation(t, "09121110003")
		e.sentInvitation(t, "09121110004")
		e.sentInvitation(t, "09121110005")
		silent := e.reply(t, inbox, "09121110003", "1")
		left := e.reply(t, inbox, "09121110004", "۱")
		lost := e.reply(t, inbox, "09121110005", "2")
		// Not an answer: a complaint in words ends the conversation; the words are a comment.
		if c := e.reply(t, inbox, "09121110004", "خیلی معطل شدم و کسی جواب نداد"); c.Outcome != survey.InboundComment &&
			c.Outcome != survey.InboundAnsweredBefore {
			t.Fatalf("a comment mid-conversation: %+v", c)
		}
		if got := e.intake.responses(); len(got) != 1 || answersOf(got[0])["overall"] != "1" || len(got[0].Answers) != 1 {
			t.Fatalf("after the comment: %+v", got)
		}
		// The live state of the third is lost (Redis restarted without it, a row deleted).
		hash := e.privacy.Hash("+989121110005")
		if _, ok, err := e.dialogues.TakeDialogue(ctx, hash, e.clock.Now()); err != nil || !ok {
			t.Fatalf("the third's conversation was not open: %v %v", ok, err)
		}
		// Before the expiry nothing is swept.
		if n, err := inbox.SweepDialogues(ctx); err != nil || n != 0 {
			t.Fatalf("early sweep: %d, %v", n, err)
		}
		e.clock.Advance(35 * time.Minute)
		if n, err := inbox.SweepDialogues(ctx); err != nil || n != 2 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		got := e.intake.responses()
		if len(got) != 3 {
			t.Fatalf("responses %d", len(got))
		}
		for _, r := range got {
			if len(r.Answers) != 1 || r.Answers[0].QuestionID != "overall" {
				t.Fatalf("answers %+v", r.Answers)
			}
		}
		for _, id := range []survey.ID{silent.ID, left.ID, lost.ID} {
			if in, _ := e.store.InboundMessage(ctx, id); in.Outcome != survey.InboundScored || in.ResponseID == "" {
				t.Fatalf("message %d: %+v", id, in)
			}
		}
		// A late answer is not part of anything, and nothing is swept twice.
		if late := e.reply(t, inbox, "09121110003", "1"); late.Outcome == survey.InboundFollowUp {
			t.Fatalf("a late answer continued a conversation: %+v", late)
		}
		if n, err := inbox.SweepDialogues(ctx); err != nil || n != 0 || len(e.intake.responses()) != 3 {
			t.Fatalf("second sweep: %d, %v", n, err)
		}
	})
}

// Two replicas processing two different ratings from one number at once count one of them: the
// invitation's claim decides.
func TestSMSTwoReplicasCountOneAnswer(t *testing.T) {
	eachDialogueSetup(t, func(t *testing.T, e *dialogueEnv, newInbox func() *sms.Inbox) {
		ctx := context.Background()
		a, b := newInbox(), newInbox()
		e.sentInvitation(t, "09121110006")
		for _, text := range []string{"4", "5", "۳", "عالی"} {
			if _, _, err := a.Accept(ctx, sms.Inbound{From: "09121110006", Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, in := range []*sms.Inbox{a, b} {
			wg.Go(func() {
				if _, err := in.ProcessPending(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := e.intake.responses(); len(got) != 1 {
			t.Fatalf("%d responses for one visit", len(got))
		}
		msgs, err := e.store.RecentInbound(ctx, 10)
		must(t, err)
		scored, before := 0, 0
		for _, m := range msgs {
			switch m.Outcome {
			case survey.InboundScored:
				scored++
			case survey.InboundAnsweredBefore:
				before++
			}
		}
		if scored != 1 || before != 3 {
			t.Fatalf("outcomes: %d scored, %d answered before", scored, before)
		}
	})
}

// Leases split the pending messages between replicas, and a released or expired lease hands a
// message out again.
func TestSMSInboundLeases(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		inbox := sms.NewInbox(e.store, &recordingIntake{}, e.privacy, sms.InboxOptions{Clock: e.clock, Logger: e.log})
		for _, text := range []string{"1", "2", "3"} {
			if _, _, err := inbox.Accept(ctx, sms.Inbound{From: "09121110007", Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		now := e.clock.Now()
		a, err := e.store.LeaseInbound(ctx, now, now.Add(time.Minute), 2)
		must(t, err)
		b, err := e.store.LeaseInbound(ctx, now, now.Add(time.Minute), 10)
		must(t, err)
		if len(a) != 2 || len(b) != 1 || b[0].ID == a[0].ID || b[0].ID == a[1].ID || a[0].ID > a[1].ID {
			t.Fatalf("leases %v / %v", a, b)
		}
		if c, _ := e.store.LeaseInbound(ctx, now, now.Add(time.Minute), 10); len(c) != 0 {
			t.Fatalf("a leased message handed out again: %v", c)
		}
		must(t, e.store.ReleaseInbound(ctx, b[0].ID))
		if c, _ := e.store.LeaseInbound(ctx, now, now.Add(time.Minute), 10); len(c) != 1 || c[0].ID != b[0].ID {
			t.Fatalf("after release: %v", c)
		}
		later := now.Add(2 * time.Minute)
		if c, _ := e.store.LeaseInbound(ctx, later, later.Add(time.Minute), 10); len(c) != 3 {
			t.Fatalf("after the leases ran out: %d", len(c))
		}
	})
}
