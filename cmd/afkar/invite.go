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
	rules := sms.InviteRules{FrequencyCap: cfg.SMSFrequencyCap, Window: cfg.SMSInviteWindow, Quiet: cfg.SMSQuietHours}
	return sms.NewInviter(store, privacy, rules, nil, log), privacy, nil
}

// newGateway chooses the SMS gateway: Kavenegar when AFKAR_KAVENEGAR_API_KEY is set (with
// AFKAR_KAVENEGAR_SENDER and AFKAR_KAVENEGAR_BASE_URL), otherwise the console gateway, which logs
// each SMS with the number masked, so the embedded default runs the whole loop without a
// provider.
func newGateway(cfg *Config, log *slog.Logger) (sms.Gateway, error) {
	if cfg.KavenegarAPIKey == "" {
		return sms.NewConsole(log, cfg.KavenegarSender), nil
	}
	return sms.NewKavenegar(sms.KavenegarConfig{APIKey: cfg.KavenegarAPIKey, Sender: cfg.KavenegarSender,
		BaseURL: cfg.KavenegarBaseURL, Logger: log})
}

// newSender is the send queue's sender as configured: AFKAR_SMS_RATE and the quiet hours, and
// the placeholder link on publicURL until signed web links are wired in (sms.LinkFunc).
func newSender(cfg *Config, store *sqlstore.Store, gw sms.Gateway, privacy *sms.Privacy, publicURL string, log *slog.Logger) *sms.Sender {
	return sms.NewSender(store, gw, privacy, sms.SenderOptions{Rate: cfg.SMSRate, Quiet: cfg.SMSQuietHours,
		Link: sms.PlaceholderLink(publicURL), Logger: log})
}
