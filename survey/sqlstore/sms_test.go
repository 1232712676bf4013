package sqlstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// queueOrHold is a decision rule for storage tests: skip when opted out, invalid or invited
// since capSince, else queue at sendAt.
func queueOrHold(capSince, sendAt time.Time) func(survey.SMSPhone) survey.InvitationDecision {
	return func(p survey.SMSPhone) survey.InvitationDecision {
		switch {
		case p.OptedOutAt != nil:
			return survey.InvitationDecision{Status: survey.InvitationSkipped, SkipReason: "opted_out"}
		case p.InvalidAt != nil:
			return survey.InvitationDecision{Status: survey.InvitationSkipped, SkipReason: "invalid_number"}
		case p.LastInvitedAt != nil && p.LastInvitedAt.After(capSince):
			return survey.InvitationDecision{Status: survey.InvitationSkipped, SkipReason: "frequency_cap"}
		}
		return survey.InvitationDecision{Status: survey.InvitationQueued, SendAfter: &sendAt}
	}
}

func TestSMSInvitationOutboxStorage(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, a, o := kioskFixture(t, dialect)
		now := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
		enc := []byte{1, 2, 3, 250}
		inv := survey.Invitation{AgencyID: a.ID, OfficeID: o.ID, PhoneHash: "h1", Service: "گذرنامه", VisitedAt: now.Add(-time.Hour),
			Via: "sms", CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour)}
		rule := queueOrHold(now.Add(-720*time.Hour), now)
		if err := s.RecordInvitation(ctx, &inv, enc, "1001", rule); err != nil {
			t.Fatal(err)
		}
		if inv.ID == 0 || inv.Status != survey.InvitationQueued || inv.SendAfter == nil || !inv.SendAfter.Equal(now) {
			t.Fatalf("recorded %+v", inv)
		}
		ph, err := s.SMSPhone(ctx, "h1")
		if err != nil || !bytes.Equal(ph.PhoneEnc, enc) || ph.LastInvitedAt == nil || !ph.LastInvitedAt.Equal(now) {
			t.Fatalf("phone %+v, %v", ph, err)
		}
		// The same number again, from any agency, within the cap: skipped, no outbox row.
		again := inv
		again.ID, again.CreatedAt = 0, now.Add(time.Hour)
		if err := s.RecordInvitation(ctx, &again, enc, "1002", rule); err != nil {
			t.Fatal(err)
		}
		if again.Status != survey.InvitationSkipped || again.SkipReason != "frequency_cap" || again.SendAfter != nil {
			t.Fatalf("second invitation %+v", again)
		}
		// An unknown office is a field error, and nothing is stored.
		bad := inv
		bad.ID, bad.OfficeID, bad.PhoneHash = 0, o.ID+100, "h2"
		wantCode(t, s.RecordInvitation(ctx, &bad, enc, "1003", rule), survey.ECodeInvalid)

		due, err := s.DueOutbox(ctx, now.Add(-time.Second), 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("due before its time: %v, %v", due, err)
		}
		due, err = s.DueOutbox(ctx, now, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %+v, %v", due, err)
		}
		m := due[0]
		if m.LocalID != "1001" || m.InvitationID != inv.ID || m.AgencyName != a.Name || m.OfficeID != o.ID || m.Via != "sms" ||
			!bytes.Equal(m.PhoneEnc, enc) || m.OptedOut || m.Invalid || m.State != survey.OutboxPending || m.ExpiresAt == nil {
			t.Fatalf("due message %+v", m)
		}
		// A reply matches an invitation only once its SMS may have left: not while it waits,
		// but already while it is being sent (the gateway may deliver before the sender records).
		if _, found, err := s.LatestInvitation(ctx, "h1", now.Add(time.Minute)); err != nil || found {
			t.Fatalf("a reply matched an invitation whose SMS has not left: %v %v", found, err)
		}
		ok, err := s.ClaimOutbox(ctx, m, "متن", 1, now.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if match, found, err := s.LatestInvitation(ctx, "h1", now.Add(time.Minute)); err != nil || !found || match.Invitation.ID != inv.ID {
			t.Fatalf("a reply while the SMS is being sent did not match its invitation: %+v %v %v", match, found, err)
		}
		if ok, err := s.ClaimOutbox(ctx, m, "متن", 1, now.Add(time.Minute)); err != nil || ok {
			t.Fatalf("a second claim of the same read must lose: %v %v", ok, err)
		}
		// A claim that was never recorded comes back when its lease runs out, as 'sending'.
		if due, _ = s.DueOutbox(ctx, now.Add(30*time.Second), 10); len(due) != 0 {
			t.Fatalf("claimed message due within its lease: %+v", due)
		}
		due, _ = s.DueOutbox(ctx, now.Add(time.Minute), 10)
		if len(due) != 1 || due[0].State != survey.OutboxSending || due[0].Attempts != 1 || due[0].Text != "متن" {
			t.Fatalf("after the lease: %+v", due)
		}
		if err := s.RetryOutbox(ctx, m.ID, now.Add(2*time.Minute), "retry"); err != nil {
			t.Fatal(err)
		}
		if err := s.OutboxSent(ctx, m.ID, "8000000001", 1, 2700, 2, now.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.OutboxMessage(ctx, m.ID)
		if err != nil || got.State != survey.OutboxSent || got.MessageID != "8000000001" || got.Cost != 2700 || got.Parts != 2 ||
			got.SentAt == nil || got.ErrorClass != "" {
			t.Fatalf("sent message %+v, %v", got, err)
		}
		if i, _ := s.Invitation(ctx, inv.ID); i.Status != survey.InvitationSent {
			t.Fatalf("invitation after send: %+v", i)
		}

		// An opted-out number is skipped; failing with invalidNumber marks the number invalid.
		if err := s.SetOptOut(ctx, "h3", enc, &now, now); err != nil {
			t.Fatal(err)
		}
		out := inv
		out.ID, out.PhoneHash = 0, "h3"
		if err := s.RecordInvitation(ctx, &out, enc, "1004", rule); err != nil || out.SkipReason != "opted_out" {
			t.Fatalf("opted out: %+v, %v", out, err)
		}
		fresh := inv
		fresh.ID, fresh.PhoneHash = 0, "h4"
		if err := s.RecordInvitation(ctx, &fresh, enc, "1005", rule); err != nil {
			t.Fatal(err)
		}
		due, _ = s.DueOutbox(ctx, now, 10)
		if len(due) != 1 || due[0].LocalID != "1005" {
			t.Fatalf("due: %+v", due)
		}
		if err := s.FailOutbox(ctx, due[0].ID, "invalid_number", true, now); err != nil {
			t.Fatal(err)
		}
		if ph, _ := s.SMSPhone(ctx, "h4"); ph.InvalidAt == nil {
			t.Fatalf("number not marked invalid: %+v", ph)
		}
		if i, _ := s.Invitation(ctx, fresh.ID); i.Status != survey.InvitationFailed {
			t.Fatalf("invitation after 411: %+v", i)
		}
		_, err = s.SMSPhone(ctx, "nope")
		wantCode(t, err, survey.ECodeNotFound)
		_, err = s.Invitation(ctx, 9999)
		wantCode(t, err, survey.ECodeNotFound)
	})
}

func TestSMSOutboxPauseSkipStorage(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, a, o := kioskFixture(t, dialect)
		now := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
		rule := queueOrHold(now.Add(-time.Hour), now)
		var ids []survey.ID
		for i, h := range []string{"p1", "p2"} {
			inv := survey.Invitation{AgencyID: a.ID, OfficeID: o.ID, PhoneHash: h, VisitedAt: now, Via: "link", CreatedAt: now,
				ExpiresAt: now.Add(time.Hour)}
			if err := s.RecordInvitation(ctx, &inv, []byte{9}, []string{"11", "12"}[i], rule); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inv.ID)
		}
		due, _ := s.DueOutbox(ctx, now, 10)
		if len(due) != 2 {
			t.Fatalf("due %+v", due)
		}
		if err := s.PauseOutbox(ctx, due[0].ID, "paused"); err != nil {
			t.Fatal(err)
		}
		if err := s.SkipOutbox(ctx, due[1].ID, "opted_out", now); err != nil {
			t.Fatal(err)
		}
		if due, _ = s.DueOutbox(ctx, now.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("paused or skipped messages are not due: %+v", due)
		}
		if i, _ := s.Invitation(ctx, ids[1]); i.Status != survey.InvitationSkipped || i.SkipReason != "opted_out" {
			t.Fatalf("skipped invitation %+v", i)
		}
		if n, err := s.ResumeOutbox(ctx, now); err != nil || n != 1 {
			t.Fatalf("resume: %d %v", n, err)
		}
		if due, _ = s.DueOutbox(ctx, now, 10); len(due) != 1 || due[0].State != survey.OutboxPending {
			t.Fatalf("resumed: %+v", due)
		}
	})
}

func TestSMSInboundStorage(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, _, _ := kioskFixture(t, dialect)
		now := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
		in := survey.SMSInbound{MessageID: "77", DedupeKey: "id:77", PhoneHash: "h", PhoneEnc: []byte{1}, Text: "۵", ReceivedAt: now, ParsedKind: "rating"}
		if created, err := s.SaveInbound(ctx, &in); err != nil || !created || in.ID == 0 {
			t.Fatalf("first: %v %v %+v", created, err, in)
		}
		again := in
		again.ID, again.DedupeKey = 0, "other"
		if created, err := s.SaveInbound(ctx, &again); err != nil || created || again.ID != in.ID {
			t.Fatalf("same message id again: %v %v %+v", created, err, again)
		}
		noID := survey.SMSInbound{DedupeKey: "k:h:5:minute", PhoneHash: "h", PhoneEnc: []byte{1}, Text: "5", ReceivedAt: now}
		for i := 0; i < 2; i++ {
			created, err := s.SaveInbound(ctx, &noID)
			if err != nil || created != (i == 0) {
				t.Fatalf("without a message id, round %d: %v %v", i, created, err)
			}
		}
	})
}
