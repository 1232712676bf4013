package sms

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Alerts reach the people who act on them: every alert opened for an agency (a significant drop,
// a silent kiosk, an overdue case, …) is sent by SMS to the agency's admins who gave an alert
// number — at most AlertCap SMS per person a day, so a bad day does not become a flood — through
// the same outbox, throttle and quiet hours as every SMS.

// AlertStore is what the notifier needs from storage (the SQL store).
type AlertStore interface {
	UnnotifiedAlerts(ctx context.Context, since time.Time, limit int) ([]survey.Alert, error)
	AlertRecipients(ctx context.Context, agency survey.ID) ([]survey.AlertRecipient, error)
	AlertsSentSince(ctx context.Context, user survey.ID, since time.Time) (int, error)
	QueueAlertSMS(ctx context.Context, alert, user survey.ID, phoneHash, localID, text string, parts int, capped bool, now time.Time) (bool, error)
	MarkAlertNotified(ctx context.Context, alert survey.ID, now time.Time) error
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
}

// Defaults of AlertNotifier.
const (
	// AlertCap is how many alert SMS one person gets in 24 hours at most.
	AlertCap = 5
	// alertMaxAge: an alert older than this when first seen (the notifier was off) is not sent:
	// the dashboard lists it, and a stale SMS helps nobody.
	alertMaxAge = 24 * time.Hour
	// DefaultAlertPoll is how often the notifier looks for new alerts.
	DefaultAlertPoll = time.Minute
)

// AlertNotifier sends new alerts to agency admins by SMS.
type AlertNotifier struct {
	store AlertStore
	clock survey.Clock
	log   *slog.Logger
	// Cap overrides AlertCap when positive.
	Cap int
}

// NewAlertNotifier returns the notifier; nil clock and logger take the defaults.
func NewAlertNotifier(store AlertStore, clock survey.Clock, log *slog.Logger) *AlertNotifier {
	if clock == nil {
		clock = survey.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &AlertNotifier{store: store, clock: clock, log: log}
}

// Run notifies every poll until ctx ends.
func (n *AlertNotifier) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = DefaultAlertPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := n.RunOnce(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("alert notifier", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce handles every alert still to notify and reports how many SMS it queued.
func (n *AlertNotifier) RunOnce(ctx context.Context) (int, error) {
	now := n.clock.Now().UTC()
	alerts, err := n.store.UnnotifiedAlerts(ctx, now.Add(-alertMaxAge), 200)
	if err != nil {
		return 0, err
	}
	limit := n.Cap
	if limit <= 0 {
		limit = AlertCap
	}
	queued := 0
	for _, a := range alerts {
		agency, err := n.store.Agency(ctx, a.AgencyID)
		if err != nil {
			return queued, err
		}
		text := AlertText(agency.Name, a)
		parts, _ := Parts(text)
		people, err := n.store.AlertRecipients(ctx, a.AgencyID)
		if err != nil {
			return queued, err
		}
		for _, p := range people {
			sent, err := n.store.AlertsSentSince(ctx, p.UserID, now.Add(-24*time.Hour))
			if err != nil {
				return queued, err
			}
			capped := sent >= limit
			done, err := n.store.QueueAlertSMS(ctx, a.ID, p.UserID, p.PhoneHash, alertLocalID(a.ID, p.UserID), text, parts, capped, now)
			if err != nil {
				return queued, err
			}
			switch {
			case done && capped:
				n.log.InfoContext(ctx, "alert SMS not sent: the person's daily cap is reached", "alert", a.ID, "user", p.UserID, "cap", limit)
			case done:
				queued++
				n.log.InfoContext(ctx, "alert SMS queued", "alert", a.ID, "kind", a.Kind, "user", p.UserID)
			}
		}
		if err := n.store.MarkAlertNotified(ctx, a.ID, now); err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// alertKinds are the Persian names of alert kinds in SMS.
var alertKinds = map[string]string{
	"score_drop":    "افت معنادار رضایت",
	"score_rise":    "بهبود معنادار رضایت",
	"share_unhappy": "سهم بالای ناراضیان",
	"score_below":   "رضایت زیر سطح تعیین‌شده",
	"score_above":   "رضایت بالای سطح تعیین‌شده",
	"kiosk_silent":  "کیوسک خاموش در ساعت کاری",
	"case_overdue":  "پیگیری عقب‌افتاده",
	"sms_paused":    "توقف ارسال پیامک",
}

// AlertText is the SMS an alert becomes: who, what and where, and where to read more — short
// enough for one or two parts, ending with the opt-out footer like every information SMS.
func AlertText(agency string, a survey.Alert) string {
	kind := alertKinds[a.Kind]
	if kind == "" {
		kind = "هشدار"
	}
	var detail struct {
		OfficeName string `json:"office_name"`
	}
	_ = json.Unmarshal([]byte(a.Detail), &detail)
	var b strings.Builder
	b.WriteString("افکار — ")
	b.WriteString(strings.Join(strings.Fields(agency), " "))
	b.WriteString(": ")
	b.WriteString(kind)
	if detail.OfficeName != "" {
		b.WriteString(" در ")
		b.WriteString(detail.OfficeName)
	}
	b.WriteString(". جزئیات در داشبورد.\n")
	b.WriteString(OptOutFooter)
	text := b.String()
	if p, _ := Parts(text); p > MaxParts { // a very long office name: leave it out
		return "افکار — " + kind + ". جزئیات در داشبورد.\n" + OptOutFooter
	}
	return text
}

// alertLocalID is the gateway's localid of alert's SMS to user: the same however often it is
// queued, so the outbox holds it once.
func alertLocalID(alert, user survey.ID) string {
	return DerivedLocalID("afkar/sms/alert/v1", alert.String(), user.String())
}

// AlertPhoneStore keeps the number a person gets alerts on.
type AlertPhoneStore interface {
	SetAlertPhone(ctx context.Context, user survey.ID, phoneHash string, phoneEnc []byte, now time.Time) error
	AlertPhone(ctx context.Context, user survey.ID) ([]byte, string, error)
}

// AlertPhones lets a person set the mobile number alerts reach them on. The number is normalised
// like every number (NormalizePhone), must be a mobile one, and is stored only as ciphertext and
// keyed hash; what comes back is masked.
type AlertPhones struct {
	store   AlertPhoneStore
	privacy *Privacy
	clock   survey.Clock
}

// NewAlertPhones returns the service.
func NewAlertPhones(store AlertPhoneStore, privacy *Privacy, clock survey.Clock) *AlertPhones {
	if clock == nil {
		clock = survey.SystemClock{}
	}
	return &AlertPhones{store: store, privacy: privacy, clock: clock}
}

// errNotAPerson refuses tokens: only a person's own session has an alert number.
func errNotAPerson() error {
	return survey.Errorf(survey.ECodeForbidden, "شمارهٔ هشدار فقط برای حساب یک شخص است (با ورود، نه با توکن).",
		"an alert number belongs to a person's account (a login session, not a token)")
}

// Set stores raw as p's alert number (empty removes it) and returns it masked.
func (a *AlertPhones) Set(ctx context.Context, p survey.Principal, raw string) (string, error) {
	if p.UserID == 0 {
		return "", errNotAPerson()
	}
	now := a.clock.Now().UTC()
	if strings.TrimSpace(raw) == "" {
		return "", a.store.SetAlertPhone(ctx, p.UserID, "", nil, now)
	}
	e164, err := NormalizePhone(raw)
	if err != nil {
		return "", &survey.Error{Code: survey.ECodeInvalid, Message: "phone is not an Iranian mobile number",
			MessageFA: "شمارهٔ همراه معتبر نیست.", Fields: map[string]survey.FieldError{"phone": {Code: "invalid_phone",
				Message: "phone is not an Iranian mobile number", MessageFA: "شمارهٔ همراه ایرانی وارد کنید، مثل ۰۹۱۲۱۲۳۴۵۶۷."}}}
	}
	enc, err := a.privacy.Seal(e164)
	if err != nil {
		return "", survey.Wrap(survey.ECodeInternal, err, "رمزگذاری شماره انجام نشد.", "could not encrypt the number")
	}
	if err := a.store.SetAlertPhone(ctx, p.UserID, a.privacy.Hash(e164), enc, now); err != nil {
		return "", err
	}
	return Mask(e164), nil
}

// Get returns p's alert number, masked ("" when none).
func (a *AlertPhones) Get(ctx context.Context, p survey.Principal) (string, error) {
	if p.UserID == 0 {
		return "", errNotAPerson()
	}
	enc, hash, err := a.store.AlertPhone(ctx, p.UserID)
	if err != nil || enc == nil {
		return "", err
	}
	phone, err := a.privacy.Open(enc, hash)
	if err != nil {
		return "", survey.Wrap(survey.ECodeInternal, err, "شماره خوانده نشد.", "could not decrypt the number")
	}
	return Mask(phone), nil
}
