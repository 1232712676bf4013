package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// This file forgets citizens' phone numbers after the retention period (AFKAR_SMS_RETENTION):
// the ciphertext goes, the keyed hash stays. The hash row is what honours an opt-out, keeps a
// number the gateway called invalid from being texted again and applies the frequency cap, so
// it must outlive the number itself; without the secret key it reveals nothing.

// purgedEnc is what a purged ciphertext becomes: empty bytes (the columns are NOT NULL).
// Readers treat an empty ciphertext as "number purged" (sms.ErrPurged).
var purgedEnc = []byte{}

// activeNumber is the condition, on a number's hash (the SQL expression h), that keeps its
// ciphertext however old its last contact: a staff member's alert number (kept while they keep
// it, removed with the account), a message still to send to it (pending, being sent,
// or paused until a restart), or a reply of it received since before or not processed yet.
const activeNumber = `EXISTS (SELECT 1 FROM alert_phones a WHERE a.phone_hash = %[1]s)
 OR EXISTS (SELECT 1 FROM sms_outbox o WHERE o.phone_hash = %[1]s AND o.state IN ('pending', 'sending', 'paused'))
 OR EXISTS (SELECT 1 FROM sms_inbound j WHERE j.phone_hash = %[1]s AND (j.received_at >= ? OR j.processed_at IS NULL))`

// PurgePhones clears the ciphertext of every number whose last contact — its last invitation
// (or, never invited, when it was first stored) and its latest reply — is before before, and
// that has no message still to send: in sms_phones, keeping the row with its hash, opt-out,
// invalid mark and last invitation, and in the stored replies of such numbers (and of senders
// never stored in sms_phones). It says how many numbers and replies it purged; running it again
// purges nothing more. A purged number gets its ciphertext back when it is invited again.
func (s *Store) PurgePhones(ctx context.Context, before time.Time) (phones, inbound int, err error) {
	before = utc(before)
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE sms_phones SET phone_enc = ? WHERE length(phone_enc) > 0
 AND COALESCE(last_invited_at, created_at) < ? AND NOT (`+fmt.Sprintf(activeNumber, "sms_phones.hash")+`)`,
			purgedEnc, before, before)
		if res.Error != nil {
			return res.Error
		}
		phones = int(res.RowsAffected)
		// Replies of numbers purged now or before, or never stored: whatever keeps a number's
		// ciphertext in sms_phones (kept above) keeps its replies' too.
		res = tx.Exec(`UPDATE sms_inbound SET phone_enc = ? WHERE length(phone_enc) > 0 AND received_at < ?
 AND NOT EXISTS (SELECT 1 FROM sms_phones p WHERE p.hash = sms_inbound.phone_hash AND length(p.phone_enc) > 0)
 AND NOT (`+fmt.Sprintf(activeNumber, "sms_inbound.phone_hash")+`)`, purgedEnc, before, before)
		if res.Error != nil {
			return res.Error
		}
		inbound = int(res.RowsAffected)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return phones, inbound, nil
}
