package sms_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

var _ sms.RetentionStore = (*sqlstore.Store)(nil)

// TestSMSRetentionPurgesAfterTheRetention: the job forgets a number only once its last contact
// is older than the retention, logs counts and never the number, and the hash keeps the
// frequency cap's memory.
func TestSMSRetentionPurgesAfterTheRetention(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		const phone = "09121234567"
		inv := e.invite(t, phone, "sms")
		e.runOnce(t, e.sender(sms.SenderOptions{}))
		if m := e.outbox(t, inv.ID); m.State != survey.OutboxSent {
			t.Fatalf("not sent: %+v", m)
		}
		r := sms.NewRetention(e.store, 30*24*time.Hour, e.clock, e.log)
		e.clock.Advance(29 * 24 * time.Hour)
		if p, i, err := r.PurgeOnce(ctx); err != nil || p != 0 || i != 0 {
			t.Fatalf("purged within the retention: %d %d %v", p, i, err)
		}
		e.clock.Advance(2 * 24 * time.Hour)
		if p, _, err := r.PurgeOnce(ctx); err != nil || p != 1 {
			t.Fatalf("purged %d numbers after the retention (%v), want 1", p, err)
		}
		hash := e.privacy.Hash("+989121234567")
		ph, err := e.store.SMSPhone(ctx, hash)
		if err != nil || len(ph.PhoneEnc) != 0 || ph.LastInvitedAt == nil {
			t.Fatalf("after the purge: %+v %v", ph, err)
		}
		if _, err := e.privacy.Open(ph.PhoneEnc, hash); !errors.Is(err, sms.ErrPurged) {
			t.Fatalf("opening a purged number: %v", err)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "phones=1") {
			t.Fatalf("the purge did not log its count:\n%s", logs)
		}
		e.noNumbers(t, phone)
	})
}

// purgedStore hands the sender every due message as if its number had been purged while it
// waited (the purge itself keeps numbers with queued messages; this is the sender's guard).
type purgedStore struct {
	*sqlstore.Store
}

func (p purgedStore) DueOutbox(ctx context.Context, now time.Time, limit int) ([]survey.OutboxMessage, error) {
	ms, err := p.Store.DueOutbox(ctx, now, limit)
	for i := range ms {
		ms[i].PhoneEnc = []byte{}
	}
	return ms, err
}

func TestSMSSenderSkipsAPurgedNumber(t *testing.T) {
	eachSendDialect(t, func(t *testing.T, e *sendEnv) {
		ctx := context.Background()
		inv := e.invite(t, "09121234567", "sms")
		if n := e.runOnce(t, e.senderOn(purgedStore{e.store}, e.gw, sms.SenderOptions{})); n != 1 {
			t.Fatalf("handled %d", n)
		}
		if sent := e.fake.Sent(); len(sent) != 0 {
			t.Fatalf("a purged number was texted: %+v", sent)
		}
		m := e.outbox(t, inv.ID)
		if m.State != survey.OutboxFailed || m.ErrorClass != sms.SkipPurged {
			t.Fatalf("message %+v", m)
		}
		if got, _ := e.store.Invitation(ctx, inv.ID); got.Status != survey.InvitationSkipped || got.SkipReason != sms.SkipPurged {
			t.Fatalf("invitation %+v", got)
		}
		e.noNumbers(t, "09121234567")
	})
}
