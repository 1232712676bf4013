package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
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

// newSender is the send queue's sender as configured: AFKAR_SMS_RATE, the quiet hours, the
// link an invitation via "link" carries, and the question of the agency's active survey version
// read from versions (the cached catalog).
func newSender(cfg *Config, store *sqlstore.Store, gw sms.Gateway, privacy *sms.Privacy, link sms.LinkFunc,
	versions activeVersions, log *slog.Logger) *sms.Sender {
	return sms.NewSender(store, gw, privacy, sms.SenderOptions{Rate: cfg.SMSRate, Quiet: cfg.SMSQuietHours,
		Link: link, Settings: smsSettings(versions), Logger: log})
}

// activeVersions is the part of the catalog the sender reads.
type activeVersions interface {
	ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error)
}

// smsSettings gives the sender the SMS settings of an agency's active survey version; an agency
// with no published survey has none (the defaults), which is not an error.
func smsSettings(versions activeVersions) func(context.Context, survey.ID, survey.ID) (*survey.SMSSettings, error) {
	return func(ctx context.Context, agency, office survey.ID) (*survey.SMSSettings, error) {
		v, err := versions.ActiveVersionFor(ctx, agency, office, survey.ChannelSMS)
		switch {
		case survey.ErrorCode(err) == survey.ECodeNotFound:
			return nil, nil
		case err != nil:
			return nil, err
		}
		return v.SMS, nil
	}
}

// invitationLinks gives each invitation its own signed, single-use web-form link on publicURL
// (/s/{token}), valid as long as the invitation is open (72 h when it has no expiry).
func invitationLinks(keys *weblink.Keys, publicURL string) sms.LinkFunc {
	base := strings.TrimSuffix(publicURL, "/") + "/s/"
	return func(_ context.Context, m survey.OutboxMessage) (string, error) {
		expires := time.Now().Add(72 * time.Hour)
		if m.ExpiresAt != nil {
			expires = *m.ExpiresAt
		}
		tok, err := keys.Issue(weblink.Link{Kind: weblink.KindInvitation, AgencyID: m.AgencyID, OfficeID: m.OfficeID,
			InvitationID: m.InvitationID, Expires: expires})
		if err != nil {
			return "", err
		}
		return base + tok, nil
	}
}
