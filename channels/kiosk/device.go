package kiosk

import (
	"context"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// Identity is who a paired tablet is: its kiosk, office and agency, named.
type Identity struct {
	ID         survey.ID `json:"id"`
	Name       string    `json:"name"`
	AgencyID   survey.ID `json:"agency_id"`
	OfficeID   survey.ID `json:"office_id"`
	AgencyName string    `json:"agency_name"`
	OfficeName string    `json:"office_name"`
	FreeText   bool      `json:"free_text"`
}

// identity names kiosk k.
func (s *Service) identity(ctx context.Context, k survey.Kiosk) (Identity, error) {
	id := Identity{ID: k.ID, Name: k.Name, AgencyID: k.AgencyID, OfficeID: k.OfficeID, FreeText: k.FreeText}
	a, err := s.store.Agency(ctx, k.AgencyID)
	if err != nil {
		return id, err
	}
	o, err := s.store.Office(ctx, k.OfficeID)
	if err != nil {
		return id, err
	}
	id.AgencyName, id.OfficeName = a.Name, o.Name
	return id, nil
}

// Pairing-code refusals: all are 422 invalid with field "code".
func pairingError(code, fa, en string) error {
	return fieldError("code", code, fa, en)
}

func codeUnknown() error {
	return pairingError("pairing_code_unknown", "این کد جفت‌سازی شناخته نشد؛ آن را دوباره وارد کنید.", "unknown pairing code")
}

// Paired is a tablet's answer to a successful pairing: its device token (shown once) and whose
// kiosk it now is.
type Paired struct {
	Token string   `json:"token"`
	Kiosk Identity `json:"kiosk"`
}

// Pair trades a pairing code for a device token. The code is normalised first (NormalizeCode:
// Persian digits, lower case, dashes and spaces are fine); an unknown, expired or already used
// code is refused with field "code" saying which (pairing_code_unknown, pairing_code_expired,
// pairing_code_used). The new token replaces the kiosk's previous one.
func (s *Service) Pair(ctx context.Context, code string) (Paired, error) {
	code, ok := NormalizeCode(code)
	if !ok {
		return Paired{}, codeUnknown()
	}
	k, err := s.store.KioskByPairingCode(ctx, code)
	if err != nil {
		return Paired{}, notFoundAs(err, codeUnknown)
	}
	now := s.now()
	if k.PairingUsedAt != nil {
		return Paired{}, pairingError("pairing_code_used", "این کد پیش‌تر به کار رفته است؛ از مدیر کد تازه بخواهید.", "this pairing code was already used")
	}
	if _, ok := k.PendingCode(now); !ok {
		return Paired{}, pairingError("pairing_code_expired", "مهلت این کد گذشته است؛ از مدیر کد تازه بخواهید.", "this pairing code has expired")
	}
	token, err := NewDeviceToken()
	if err != nil {
		return Paired{}, survey.Wrap(survey.ECodeInternal, err, "ساخت توکن دستگاه ناموفق بود.", "cannot make a device token")
	}
	done, err := s.store.CompletePairing(ctx, k.ID, code, HashToken(token), now)
	if err != nil {
		return Paired{}, err
	}
	if !done { // another tablet used it a moment ago
		return Paired{}, pairingError("pairing_code_used", "این کد پیش‌تر به کار رفته است؛ از مدیر کد تازه بخواهید.", "this pairing code was already used")
	}
	id, err := s.identity(ctx, k)
	if err != nil {
		return Paired{}, err
	}
	s.log.Info("kiosk paired", "kiosk", k.ID, "agency", k.AgencyID, "office", k.OfficeID)
	return Paired{Token: token, Kiosk: id}, nil
}

// Authenticate turns a device token into the kiosk's principal: RoleKiosk on the kiosk channel,
// scoped to its agency and office, with KioskID set. Anything else — a staff token, a revoked or
// rotated device token — is unauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (survey.Principal, error) {
	token = strings.TrimSpace(token)
	if !looksLikeToken(token) {
		return survey.Principal{}, unauthorized()
	}
	k, err := s.store.KioskByToken(ctx, HashToken(token))
	if err != nil {
		return survey.Principal{}, notFoundAs(err, unauthorized)
	}
	return survey.Principal{Role: survey.RoleKiosk, AgencyID: k.AgencyID, OfficeID: k.OfficeID, KioskID: k.ID,
		Channel: survey.ChannelKiosk, Name: k.Name}, nil
}

// device checks that p is a paired kiosk's principal.
func device(p survey.Principal) error {
	if p.Role != survey.RoleKiosk || p.KioskID == 0 || p.OfficeID == 0 || p.AgencyID == 0 {
		return unauthorized()
	}
	return nil
}

// Config is everything a tablet needs to run offline: who it is, the survey to ask (nil when its
// agency has none published), its office's hours and holidays, whether the office is open now,
// the server's clock, the app's timings, and whether to offer a follow-up call.
type Config struct {
	Kiosk             Identity           `json:"kiosk"`
	Survey            *survey.Version    `json:"-"`
	Hours             survey.OfficeHours `json:"hours"`
	HolidaysGregorian []string           `json:"holidays_gregorian"`
	OpenNow           bool               `json:"open_now"`
	ServerTime        time.Time          `json:"server_time"`
	Settings          Settings           `json:"settings"`
	// ContactOffer is nil when the app must not ask for a number: no follow-up cases on this
	// server, or a survey without an unconditional rating to judge by.
	ContactOffer *ContactOffer `json:"contact_offer"`
}

// ContactOffer tells the app when to offer a follow-up call, with the same rule openCase applies
// to the batch item, so the tablet never asks for a number the server would not use: after the
// answer to QuestionID (the survey's first unconditional rating5, as for SMS) is MaxRating or
// less. ComplaintNotice is what the thank-you screen shows after consent: formal complaints
// belong to the national channels, which a follow-up does not replace.
type ContactOffer struct {
	QuestionID      string `json:"question_id"`
	MaxRating       int    `json:"max_rating"`
	ComplaintNotice string `json:"complaint_notice"`
}

// contactOffer is the offer for version v, or nil when none may be made.
func (s *Service) contactOffer(v *survey.Version) *ContactOffer {
	if s.opts.Cases == nil || v == nil {
		return nil
	}
	q, ok := v.SMSRatingQuestion()
	if !ok {
		return nil
	}
	return &ContactOffer{QuestionID: q.ID, MaxRating: survey.CaseMaxRating, ComplaintNotice: survey.ComplaintNoticeFa}
}

// Config returns the configuration of the kiosk p stands for.
func (s *Service) Config(ctx context.Context, p survey.Principal) (Config, error) {
	if err := device(p); err != nil {
		return Config{}, err
	}
	k, err := s.store.Kiosk(ctx, p.KioskID)
	if err != nil {
		return Config{}, notFoundAs(err, unauthorized)
	}
	id, err := s.identity(ctx, k)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Kiosk: id, Settings: s.Settings()}
	if v, err := s.store.ActiveVersionFor(ctx, k.AgencyID, k.OfficeID, survey.ChannelKiosk); err == nil {
		cfg.Survey = &v
	} else if survey.ErrorCode(err) != survey.ECodeNotFound {
		return Config{}, err
	}
	cfg.ContactOffer = s.contactOffer(cfg.Survey)
	if cfg.Hours, err = s.store.OfficeHours(ctx, k.OfficeID); err != nil {
		return Config{}, err
	}
	now := s.now()
	cfg.HolidaysGregorian = HolidaysGregorian(cfg.Hours, now)
	cfg.OpenNow = Open(cfg.Hours, now)
	cfg.ServerTime = now
	return cfg, nil
}

// Heartbeat is what a tablet reports every HeartbeatSeconds. Rejected and StorageErrors are
// optional (an older app leaves them out: 0): how many answers the server has refused since the
// tablet was paired, and how many the tablet could not write to its own storage — answers that
// were, or may be, lost, which staff should hear about.
type Heartbeat struct {
	AppVersion    string          `json:"app_version"`
	Queued        int             `json:"queued"`
	OldestQueuedS int             `json:"oldest_queued_s"`
	LastSyncAt    *time.Time      `json:"last_sync_at"`
	Clock         *time.Time      `json:"clock"`
	Battery       *survey.Battery `json:"battery"`
	Rejected      int             `json:"rejected"`
	StorageErrors int             `json:"storage_errors"`
}

// HeartbeatReply tells the tablet the server's time, how far its clock is off (ms; positive:
// the tablet is behind) and whether its office is open.
type HeartbeatReply struct {
	ServerTime time.Time `json:"server_time"`
	SkewMS     int64     `json:"skew_ms"`
	OpenNow    bool      `json:"open_now"`
}

// Bounds on what a heartbeat may report: no tablet holds a million answers or a year-old one
// (intake refuses answers older than survey.MaxResponseAge anyway), and the columns are 32-bit.
const (
	MaxAppVersionLength = 64
	MaxQueued           = 1_000_000
	MaxQueuedAge        = 366 * 24 * 3600
	// MaxCounter bounds the heartbeat's running counters (rejected, storage_errors): the
	// columns are 32-bit.
	MaxCounter = math.MaxInt32
)

// check refuses a heartbeat that cannot be a tablet's.
func (h *Heartbeat) check() error {
	fe := map[string]survey.FieldError{}
	add := func(field, code, fa, en string) {
		fe[field] = survey.FieldError{Code: code, Message: en, MessageFA: fa}
	}
	if !utf8.ValidString(h.AppVersion) || utf8.RuneCountInString(h.AppVersion) > MaxAppVersionLength ||
		strings.ContainsFunc(h.AppVersion, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		add("app_version", "invalid", "نسخهٔ برنامه نامعتبر است.", "app_version must be at most 64 printable characters")
	}
	if h.Clock == nil {
		add("clock", "required", "ساعت دستگاه لازم است.", "clock is required")
	}
	if h.Queued < 0 || h.Queued > MaxQueued {
		add("queued", "out_of_range", "تعداد صف باید میان ۰ و ۱۰۰۰۰۰۰ باشد.", "queued must be 0 to 1000000")
	}
	if h.OldestQueuedS < 0 || h.OldestQueuedS > MaxQueuedAge {
		add("oldest_queued_s", "out_of_range", "سن قدیمی‌ترین پاسخ صف باید میان ۰ و یک سال باشد.", "oldest_queued_s must be 0 to a year")
	}
	if h.Rejected < 0 || h.Rejected > MaxCounter {
		add("rejected", "out_of_range", "تعداد پاسخ‌های ردشده باید عددی نامنفی باشد.", "rejected must be 0 to 2147483647")
	}
	if h.StorageErrors < 0 || h.StorageErrors > MaxCounter {
		add("storage_errors", "out_of_range", "تعداد خطاهای ذخیره‌سازی باید عددی نامنفی باشد.", "storage_errors must be 0 to 2147483647")
	}
	if b := h.Battery; b != nil && (math.IsNaN(b.Level) || b.Level < 0 || b.Level > 1) {
		add("battery.level", "out_of_range", "سطح باتری باید بین ۰ و ۱ باشد.", "battery.level must be between 0 and 1")
	}
	if len(fe) > 0 {
		return &survey.Error{Code: survey.ECodeInvalid, Message: "the heartbeat is not valid", MessageFA: "گزارش سلامت کیوسک معتبر نیست.", Fields: fe}
	}
	return nil
}

// Heartbeat records a tablet's report and that it was seen now, and resolves its open silence
// alert.
func (s *Service) Heartbeat(ctx context.Context, p survey.Principal, hb Heartbeat) (HeartbeatReply, error) {
	if err := device(p); err != nil {
		return HeartbeatReply{}, err
	}
	if err := hb.check(); err != nil {
		return HeartbeatReply{}, err
	}
	now := s.now()
	skew, _ := Skew(now, *hb.Clock, 0)
	health := survey.KioskHealth{AppVersion: strings.TrimSpace(hb.AppVersion), Queued: hb.Queued,
		OldestQueuedS: hb.OldestQueuedS, LastSyncAt: hb.LastSyncAt, SkewMS: skew.Milliseconds(), Battery: hb.Battery,
		Rejected: hb.Rejected, StorageErrors: hb.StorageErrors}
	if err := s.store.RecordHeartbeat(ctx, p.KioskID, health, now); err != nil {
		return HeartbeatReply{}, notFoundAs(err, unauthorized)
	}
	if n, err := s.store.ResolveAlerts(ctx, survey.AlertKioskSilent, subject(p.KioskID), now); err != nil {
		return HeartbeatReply{}, err
	} else if n > 0 {
		s.log.Info("kiosk heard from again; silence alert resolved", "kiosk", p.KioskID)
	}
	hours, err := s.store.OfficeHours(ctx, p.OfficeID)
	if err != nil {
		return HeartbeatReply{}, err
	}
	return HeartbeatReply{ServerTime: now, SkewMS: skew.Milliseconds(), OpenNow: Open(hours, now)}, nil
}
