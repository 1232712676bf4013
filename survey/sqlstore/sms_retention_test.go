package sqlstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// TestSMSRetentionPurge: numbers whose last contact is older than the retention lose their
// ciphertext (in sms_phones and in their stored replies) and keep their hash row; recent
// numbers, numbers with a message still to send and numbers that replied recently are kept.
func TestSMSRetentionPurge(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, a, o := kioskFixture(t, dialect)
		now := time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC)
		old, recent := now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour)
		before := now.Add(-90 * 24 * time.Hour)
		enc := func(h string) []byte { return []byte("sealed:" + h) }
		invite := func(hash string, at time.Time) survey.Invitation {
			t.Helper()
			inv := survey.Invitation{AgencyID: a.ID, OfficeID: o.ID, PhoneHash: hash, VisitedAt: at.Add(-time.Hour), Via: "sms",
				CreatedAt: at, ExpiresAt: at.Add(72 * time.Hour)}
			if err := s.RecordInvitation(ctx, &inv, enc(hash), "l-"+hash+at.Format("0102"), queueOrHold(at.Add(-720*time.Hour), at)); err != nil {
				t.Fatal(err)
			}
			return inv
		}
		reply := func(hash string, at time.Time) survey.ID {
			t.Helper()
			in := survey.SMSInbound{DedupeKey: "k:" + hash + at.String(), PhoneHash: hash, PhoneEnc: enc(hash), Text: "۵", ReceivedAt: at}
			if _, err := s.SaveInbound(ctx, &in); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FinishInbound(ctx, in.ID, survey.InboundResult{Kind: "rating", Outcome: "late"}, at); err != nil {
				t.Fatal(err)
			}
			return in.ID
		}
		invite("old", old)
		invite("recent", recent)
		invite("pending", old) // left in the queue
		invite("replied", old)
		invite("optout", old)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(s.SetOptOut(ctx, "optout", enc("optout"), &old, old))
		due, err := s.DueOutbox(ctx, now, 100)
		must(err)
		for _, m := range due {
			if m.PhoneHash != "pending" {
				must(s.OutboxSent(ctx, m.ID, "mid", 1, 100, 1, m.NextAttemptAt))
			}
		}
		oldReply := reply("old", old.Add(time.Hour))
		strangerReply := reply("stranger", old) // a sender never invited: no sms_phones row
		repliedOld := reply("replied", old.Add(time.Hour))
		reply("replied", recent) // a recent reply keeps the number, and its older replies

		phones, inbound, err := s.PurgePhones(ctx, before)
		if err != nil || phones != 2 || inbound != 2 {
			t.Fatalf("purged %d numbers and %d replies (%v), want 2 (old, optout) and 2 (old, stranger)", phones, inbound, err)
		}
		for _, h := range []string{"old", "optout"} {
			p, err := s.SMSPhone(ctx, h)
			if err != nil || len(p.PhoneEnc) != 0 || p.LastInvitedAt == nil {
				t.Fatalf("%s after the purge: %+v, %v", h, p, err)
			}
		}
		if p, _ := s.SMSPhone(ctx, "optout"); p.OptedOutAt == nil || !p.OptedOutAt.Equal(old) {
			t.Fatalf("the opt-out was lost with the number: %+v", p)
		}
		for _, h := range []string{"recent", "pending", "replied"} {
			if p, err := s.SMSPhone(ctx, h); err != nil || !bytes.Equal(p.PhoneEnc, enc(h)) {
				t.Fatalf("%s must be kept: %+v, %v", h, p, err)
			}
		}
		for id, want := range map[survey.ID][]byte{oldReply: {}, strangerReply: {}, repliedOld: enc("replied")} {
			in, err := s.InboundMessage(ctx, id)
			if err != nil || !bytes.Equal(in.PhoneEnc, want) || in.Text != "۵" || in.Outcome != "late" {
				t.Fatalf("reply %d after the purge: %+v, %v", id, in, err)
			}
		}
		if p, i, err := s.PurgePhones(ctx, before); err != nil || p != 0 || i != 0 {
			t.Fatalf("a second purge purged %d, %d (%v)", p, i, err)
		}

		// The hash still does its work: the opted-out number is still skipped, and a purged
		// number invited again gets its ciphertext back (and its message goes).
		out := survey.Invitation{AgencyID: a.ID, OfficeID: o.ID, PhoneHash: "optout", VisitedAt: now, Via: "sms", CreatedAt: now,
			ExpiresAt: now.Add(time.Hour)}
		must(s.RecordInvitation(ctx, &out, enc("optout"), "l-optout-again", queueOrHold(now.Add(-720*time.Hour), now)))
		if out.SkipReason != "opted_out" {
			t.Fatalf("an opted-out number was invited after the purge: %+v", out)
		}
		again := invite("old", now)
		if again.Status != survey.InvitationQueued {
			t.Fatalf("re-invited: %+v", again)
		}
		if p, _ := s.SMSPhone(ctx, "old"); !bytes.Equal(p.PhoneEnc, enc("old")) {
			t.Fatalf("a purged number invited again has no ciphertext: %+v", p)
		}
		// The pending number's message is still in the queue with its ciphertext.
		due, err = s.DueOutbox(ctx, now, 100)
		must(err)
		var pending int
		for _, m := range due {
			if m.PhoneHash == "pending" && bytes.Equal(m.PhoneEnc, enc("pending")) {
				pending++
			}
		}
		if pending != 1 {
			t.Fatalf("pending number's message: %+v", due)
		}
	})
}
