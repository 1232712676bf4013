package main

import (
	"log/slog"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// newInviter is the SMS channel's invitation service as configured: numbers encrypted and
// hashed under keys derived from AFKAR_SECRET_KEY, and the AFKAR_SMS_* rules.
func newInviter(cfg *Config, store *sqlstore.Store, log *slog.Logger) (*sms.Inviter, *sms.Privacy, error) {
	privacy, err := sms.NewPrivacy([]byte(cfg.SecretKey))
	if err != nil {
		return nil, nil, err
	}
	rules := sms.InviteRules{FrequencyCap: cfg.SMSFrequencyCap, Window: cfg.SMSInviteWindow, Quiet: cfg.SMSQuietHours,
		ReplyWindow: cfg.SMSReplyWindow}
	return sms.NewInviter(store, privacy, rules, nil, log), privacy, nil
}
