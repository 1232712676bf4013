package main

import (
	"log/slog"

	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// newCases is the follow-up cases' service, sealing numbers with the SMS channel's keys (derived
// from AFKAR_SECRET_KEY, so the same as the inviter's).
func newCases(cfg *Config, store *sqlstore.Store, log *slog.Logger) (*cases.Service, error) {
	privacy, err := sms.NewPrivacy([]byte(cfg.SecretKey))
	if err != nil {
		return nil, err
	}
	return cases.New(store, privacy, cases.Options{OfferWindow: cfg.SMSDialogueTTL, Logger: log}), nil
}
