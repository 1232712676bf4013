package sms_test

import (
	"context"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/sms/kavenegartest"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// The SQL store is what serve wires into the delivery poller and the status push.
var _ sms.DeliveryStore = (*sqlstore.Store)(nil)

// delivered reports whether the funnel sees invitation id delivered (delivered_at set).
func (e *sendEnv) delivered(t *testing.T, id survey.ID) bool {
	t.Helper()
	inv, err := e.store.Invitation(context.Background(), id)
	must(t, err)
	rows, err := e.store.FunnelInvitations(context.Background(), e.agency.ID, obNoon.Add(-48*time.Hour), obNoon.Add(48*time.Hour))
	must(t, err)
	for _, r := range rows {
		if r.VisitedAt.Equal(inv.VisitedAt) { // the test's visits are a second apart
			return r.Delivered
		}
	}
	t.Fatalf("invitation %d not in the funnel", id)
	return false
}

func TestSMSDeliveriesPollSettlesInvitations(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		phones := []string{"09121234567", "09121234568", "09121234569", "09121234570", "09121234571"}
		var invs []survey.ID
		for _, p := range phones {
			invs = append(invs, e.invite(t, p, "sms").ID)
			e.clock.Advance(time.Second) // distinct visit times
		}
		s := e.sender(sms.SenderOptions{})
		must(t, s.Start(ctx))
		if n := e.runOnce(t, s); n != len(phones) {
			t.Fatalf("sent %d", n)
		}
		sent := e.fake.Sent()
		d := sms.NewDeliveries(e.store, e.gw, e.clock, e.log)

		// Nothing moved yet: one call for all five, nothing recorded.
		if n, err := d.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("first poll: %d, %v", n, err)
		}
		if c := e.fake.Calls(kavenegartest.Status); c != 1 {
			t.Fatalf("status calls %d", c)
		}
		e.fake.SetStatus(sent[0].MessageID, int(sms.StatusDelivered))
		e.fake.SetStatus(sent[1].MessageID, int(sms.StatusUndelivered))
		e.fake.SetStatus(sent[2].MessageID, int(sms.StatusBlocked))
		e.fake.SetStatus(sent[3].MessageID, int(sms.StatusSent)) // still on its way
		if n, err := d.RunOnce(ctx); err != nil || n != 4 {
			t.Fatalf("second poll: %d, %v", n, err)
		}
		want := []survey.InvitationStatus{survey.InvitationDelivered, survey.InvitationFailed, survey.InvitationFailed,
			survey.InvitationSent, survey.InvitationSent}
		for i, id := range invs {
			inv, err := e.store.Invitation(ctx, id)
			must(t, err)
			if inv.Status != want[i] {
				t.Fatalf("invitation %d: %s, want %s", i, inv.Status, want[i])
			}
		}
		if m := e.outbox(t, invs[0]); m.Status != 10 || m.State != survey.OutboxSent || m.Cost == 0 {
			t.Fatalf("delivered message %+v", m)
		}
		if m := e.outbox(t, invs[1]); m.Status != 11 || m.State != survey.OutboxFailed || m.ErrorClass != "undelivered" || m.Cost == 0 {
			t.Fatalf("undelivered message %+v", m)
		}
		if m := e.outbox(t, invs[2]); m.Status != 14 || m.ErrorClass != "blocked" || m.Cost != 0 {
			t.Fatalf("blocked (refunded) message %+v", m)
		}
		if m := e.outbox(t, invs[3]); m.Status != 5 || m.State != survey.OutboxSent {
			t.Fatalf("message on its way %+v", m)
		}
		if !e.delivered(t, invs[0]) || e.delivered(t, invs[1]) {
			t.Fatal("delivered_at not as the statuses say")
		}

		// The settled three are not asked about again; the last two settle and polling stops.
		e.fake.SetStatus(sent[0].MessageID, int(sms.StatusUndelivered)) // a settled message never moves back
		e.fake.SetStatus(sent[3].MessageID, int(sms.StatusDelivered))
		e.fake.SetStatus(sent[4].MessageID, int(sms.StatusFailed))
		if n, err := d.RunOnce(ctx); err != nil || n != 2 {
			t.Fatalf("third poll: %d, %v", n, err)
		}
		if inv, _ := e.store.Invitation(ctx, invs[0]); inv.Status != survey.InvitationDelivered {
			t.Fatalf("settled invitation moved: %+v", inv)
		}
		calls := e.fake.Calls(kavenegartest.Status)
		if n, err := d.RunOnce(ctx); err != nil || n != 0 || e.fake.Calls(kavenegartest.Status) != calls {
			t.Fatalf("all settled, yet polled: %d, %v, calls %d → %d", n, err, calls, e.fake.Calls(kavenegartest.Status))
		}

		// A message older than the gateway's 48 h is not polled.
		other := e.invite(t, "09121234572", "sms")
		if n := e.runOnce(t, s); n != 1 {
			t.Fatalf("sent %d", n)
		}
		e.clock.Advance(sms.StatusWindow + time.Minute)
		if n, err := d.RunOnce(ctx); err != nil || n != 0 || e.fake.Calls(kavenegartest.Status) != calls {
			t.Fatalf("an old message was polled: %d, %v", n, err)
		}
		if inv, _ := e.store.Invitation(ctx, other.ID); inv.Status != survey.InvitationSent {
			t.Fatalf("old invitation %+v", inv)
		}
		e.noNumbers(t, phones...)
	})
}

func TestSMSDeliveriesRecordIsIdempotent(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		a := e.invite(t, "09121234567", "sms")
		s := e.sender(sms.SenderOptions{})
		must(t, s.Start(ctx))
		e.runOnce(t, s)
		id := e.fake.Sent()[0].MessageID
		d := sms.NewDeliveries(e.store, nil, e.clock, e.log)
		for i, c := range []struct {
			status sms.DeliveryStatus
			change bool
		}{{sms.StatusSentToOp, true}, {sms.StatusDelivered, true}, {sms.StatusDelivered, false}, {sms.StatusUndelivered, false}} {
			got, err := d.Record(ctx, id, c.status)
			if err != nil || got != c.change {
				t.Fatalf("report %d (%s): changed %v, %v", i, c.status, got, err)
			}
		}
		if ok, err := d.Record(ctx, "987654321", sms.StatusDelivered); ok || err != nil {
			t.Fatalf("unknown id: %v, %v", ok, err)
		}
		if inv, _ := e.store.Invitation(ctx, a.ID); inv.Status != survey.InvitationDelivered || !e.delivered(t, a.ID) {
			t.Fatalf("invitation %+v", inv)
		}
	})
}
