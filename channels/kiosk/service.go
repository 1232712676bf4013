package kiosk

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// Store is what the kiosk channel keeps in storage. The SQL store implements it; errors are
// *survey.Error (a missing row is ECodeNotFound, a taken pairing code ECodeConflict).
type Store interface {
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	Office(ctx context.Context, id survey.ID) (survey.Office, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
	// ActiveVersionFor returns the version an office's kiosks offer: the survey assigned to the
	// office and the kiosk channel (the most specific assignment), else the agency's active one.
	ActiveVersionFor(ctx context.Context, agencyID, officeID survey.ID, ch survey.Channel) (survey.Version, error)
	// OfficeHours returns an office's stored hours, survey.DefaultOfficeHours when it has none.
	OfficeHours(ctx context.Context, officeID survey.ID) (survey.OfficeHours, error)
	SetOfficeHours(ctx context.Context, officeID survey.ID, h survey.OfficeHours) error

	// CreateKiosk stores k (with its pairing code) and sets k.ID and k.CreatedAt.
	CreateKiosk(ctx context.Context, k *survey.Kiosk) error
	Kiosk(ctx context.Context, id survey.ID) (survey.Kiosk, error)
	// Kiosks lists an agency's kiosks by id, or every kiosk for agency 0.
	Kiosks(ctx context.Context, agencyID survey.ID) ([]survey.Kiosk, error)
	KioskByToken(ctx context.Context, tokenHash string) (survey.Kiosk, error)
	KioskByPairingCode(ctx context.Context, code string) (survey.Kiosk, error)
	// SetPairingCode gives kiosk id a new pending code; the device token stays valid until
	// the code is used.
	SetPairingCode(ctx context.Context, id survey.ID, code string, expires time.Time) error
	// CompletePairing uses kiosk id's pending code: if it is still code, unused and unexpired
	// at now, the kiosk's token hash becomes tokenHash (the previous token stops working) and
	// the code is marked used. False when the code was not pending any more.
	CompletePairing(ctx context.Context, id survey.ID, code, tokenHash string, now time.Time) (bool, error)
	// RevokeKioskToken clears the device token and any pending code.
	RevokeKioskToken(ctx context.Context, id survey.ID, now time.Time) error
	// RecordHeartbeat stores what the kiosk reported and that it was seen at now.
	RecordHeartbeat(ctx context.Context, id survey.ID, h survey.KioskHealth, now time.Time) error
	// RecordPresses runs decide under the kiosk's lock (a row lock on PostgreSQL) and inserts
	// the presses it returns, keeping any already recorded. decide receives the recorded
	// presses among ids, and window, which reads the kiosk's presses between two times inside
	// the same transaction. decide may run more than once (a retried transaction).
	RecordPresses(ctx context.Context, kioskID survey.ID, ids []string, decide func(known []survey.KioskPress,
		window func(from, to time.Time) ([]survey.KioskPress, error)) ([]survey.KioskPress, error)) error
	// RecordSync stores one batch's outcome and makes its skew and time the kiosk's latest.
	RecordSync(ctx context.Context, s survey.KioskSync) error
	// OpenAlert opens a unless an alert of its kind is open for its subject; it reports
	// whether it did.
	OpenAlert(ctx context.Context, a survey.Alert) (bool, error)
	// ResolveAlerts resolves the open alerts of kind about subject and says how many.
	ResolveAlerts(ctx context.Context, kind, subject string, now time.Time) (int, error)
	// KioskDays counts a kiosk's presses per Tehran day between two days, inclusive ("" for
	// open-ended), by day.
	KioskDays(ctx context.Context, kioskID survey.ID, fromDay, toDay string) ([]survey.KioskDay, error)
}

// Intake is what the channel needs from survey/intake: validating a kiosk item against its
// origin without storing it (to decide its flag first), then storing it durably.
type Intake interface {
	Validate(ctx context.Context, origin survey.Origin, s *survey.Submission) (survey.Response, error)
	Submit(ctx context.Context, origin survey.Origin, s *survey.Submission) (survey.Receipt, error)
}

// Options tune a Service; zero values take the defaults (AFKAR_KIOSK_* in cmd/afkar).
type Options struct {
	PairingTTL    time.Duration // how long a pairing code works (15m)
	SkewTolerance time.Duration // clock skew a batch may have before it is corrected (2m)
	MinInterval   time.Duration // the stuffing filter's minimum interval (4s)
	Burst         Burst         // the stuffing filter's burst rule (10/60s)
	Idle          time.Duration // when the app goes back to the first question (20s)
	// Cases opens the follow-up case of a consenting citizen's low rating (cases.Service);
	// nil ignores the items' contact.
	Cases  CaseOpener
	Clock  survey.Clock
	Logger *slog.Logger
}

// CaseOpener opens a follow-up case once its response is stored (cases.Service).
type CaseOpener interface {
	Open(ctx context.Context, nc survey.NewCase) (survey.Case, bool, error)
}

// Defaults of Options.
const (
	DefaultPairingTTL    = 15 * time.Minute
	DefaultSkewTolerance = 2 * time.Minute
	DefaultMinInterval   = 4 * time.Second
	DefaultIdle          = 20 * time.Second
)

// DefaultBurst is Options.Burst's default: ten presses a minute is a full lobby's pace.
var DefaultBurst = Burst{N: 10, Window: 60 * time.Second}

// Settings are the app's timings, sent with its configuration.
type Settings struct {
	IdleSeconds        int `json:"idle_seconds"`
	ThanksSeconds      int `json:"thanks_seconds"`
	MinIntervalSeconds int `json:"min_interval_seconds"`
	HeartbeatSeconds   int `json:"heartbeat_seconds"`
	SyncBatch          int `json:"sync_batch"`
}

// Fixed app timings: a thank-you screen of three seconds, a heartbeat a minute (OnlineWithin
// assumes it), batches of fifty (well inside MaxItems and the 64 KiB body limit).
const (
	ThanksSeconds    = 3
	HeartbeatSeconds = 60
	SyncBatch        = 50
)

// Service is the kiosk channel: what staff do with kiosks (create, pair, revoke, list, stats,
// office hours), what tablets do (pair, fetch their configuration, send batches and heartbeats),
// and the watcher. Every staff method takes the caller's principal and enforces tenancy itself:
// a kiosk or office of an agency the caller may not read is not found, one it may read but not
// manage is forbidden. It is safe for concurrent use.
type Service struct {
	store  Store
	intake Intake
	opts   Options
	log    *slog.Logger
	locks  keyedMutex
}

// NewService returns the channel over store and intake.
func NewService(store Store, in Intake, opts Options) *Service {
	if opts.PairingTTL <= 0 {
		opts.PairingTTL = DefaultPairingTTL
	}
	if opts.SkewTolerance <= 0 {
		opts.SkewTolerance = DefaultSkewTolerance
	}
	if opts.MinInterval == 0 {
		opts.MinInterval = DefaultMinInterval
	}
	if opts.Burst.N == 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Idle <= 0 {
		opts.Idle = DefaultIdle
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{store: store, intake: in, opts: opts, log: opts.Logger, locks: keyedMutex{m: map[survey.ID]*lockEntry{}}}
}

// Settings returns the timings the app is configured with.
func (s *Service) Settings() Settings {
	return Settings{
		IdleSeconds:        int((s.opts.Idle + time.Second - 1) / time.Second),
		ThanksSeconds:      ThanksSeconds,
		MinIntervalSeconds: int((s.opts.MinInterval + time.Second - 1) / time.Second),
		HeartbeatSeconds:   HeartbeatSeconds,
		SyncBatch:          SyncBatch,
	}
}

func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC() }

// keyedMutex serialises work per kiosk within the process: a tablet's batches are filtered one
// at a time, so two overlapping batches cannot both judge a press as the first in its interval.
// Across replicas the store's row lock does the same.
type keyedMutex struct {
	mu sync.Mutex
	m  map[survey.ID]*lockEntry
}

type lockEntry struct {
	mu      sync.Mutex
	waiters int
}

// lock takes id's mutex and returns its release; entries exist only while someone holds or
// waits for them.
func (k *keyedMutex) lock(id survey.ID) func() {
	k.mu.Lock()
	e := k.m[id]
	if e == nil {
		e = &lockEntry{}
		k.m[id] = e
	}
	e.waiters++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.waiters--; e.waiters == 0 {
			delete(k.m, id)
		}
		k.mu.Unlock()
	}
}

// Errors of the channel.

func notFoundKiosk() error {
	return survey.Errorf(survey.ECodeNotFound, "این کیوسک پیدا نشد.", "kiosk not found")
}

func notFoundOffice() error {
	return survey.Errorf(survey.ECodeNotFound, "این دفتر پیدا نشد.", "office not found")
}

func forbiddenManage() error {
	return survey.Errorf(survey.ECodeForbidden, "فقط مدیر همین دستگاه یا مدیر استان می‌تواند کیوسک‌ها و ساعات کاری را تغییر دهد.",
		"only the agency's admins and province admins may change its kiosks and office hours")
}

func unauthorized() error {
	return survey.Errorf(survey.ECodeUnauthorized, "توکن دستگاه کیوسک نامعتبر است؛ کیوسک را دوباره جفت کنید.",
		"invalid kiosk device token; pair the kiosk again")
}

func fieldError(field, code, fa, en string) error {
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{field: {Code: code, Message: en, MessageFA: fa}}}
}

// notFoundAs keeps storage failures and turns a missing row into want.
func notFoundAs(err error, want func() error) error {
	if survey.ErrorCode(err) == survey.ECodeNotFound {
		return want()
	}
	return err
}

// may checks p against an agency's data: not found when p may not read it (tenancy does not
// leak), forbidden when it may read but manage is asked and not allowed.
func may(p survey.Principal, agency survey.ID, manage bool, missing func() error) error {
	if !p.CanReadAgency(agency) {
		return missing()
	}
	if manage && !p.CanManageAgency(agency) {
		return forbiddenManage()
	}
	return nil
}

// kioskFor loads kiosk id for p (see may).
func (s *Service) kioskFor(ctx context.Context, p survey.Principal, id survey.ID, manage bool) (survey.Kiosk, error) {
	if !p.IsStaff() {
		return survey.Kiosk{}, notFoundKiosk()
	}
	k, err := s.store.Kiosk(ctx, id)
	if err != nil {
		return k, notFoundAs(err, notFoundKiosk)
	}
	return k, may(p, k.AgencyID, manage, notFoundKiosk)
}

// officeFor loads office id for p (see may).
func (s *Service) officeFor(ctx context.Context, p survey.Principal, id survey.ID, manage bool) (survey.Office, error) {
	if !p.IsStaff() {
		return survey.Office{}, notFoundOffice()
	}
	o, err := s.store.Office(ctx, id)
	if err != nil {
		return o, notFoundAs(err, notFoundOffice)
	}
	return o, may(p, o.AgencyID, manage, notFoundOffice)
}

// MaxNameLength bounds a kiosk's name.
const MaxNameLength = 100

// checkName trims a kiosk name and refuses an empty, overlong or control-character one.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fieldError("name", "required", "نام کیوسک لازم است.", "name is required")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }):
		return "", fieldError("name", "control_character", "نام کیوسک نویسهٔ نامعتبر دارد.", "name contains an invalid character")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", fieldError("name", "too_long", "نام کیوسک بیش از ۱۰۰ نویسه است.", "name is longer than 100 characters")
	}
	return name, nil
}
