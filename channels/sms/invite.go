package sms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// Defaults of InviteRules (AFKAR_SMS_* in cmd/afkar).
const (
	// DefaultFrequencyCap: one invitation per number per 30 days, across all agencies — a
	// citizen who visits three offices in a week is asked once.
	DefaultFrequencyCap = 30 * 24 * time.Hour
	// DefaultInviteWindow: a visit older than two days is not worth asking about (memory fades,
	// and a late SMS reads as spam).
	DefaultInviteWindow = 48 * time.Hour
	// DefaultReplyWindow: a reply within three days of the invitation is matched to it.
	DefaultReplyWindow = 72 * time.Hour
	// DefaultQuietHours: nothing is sent at night, Tehran time (DOMAIN.md §3).
	DefaultQuietHours = "22:00-08:00"
	// futureTolerance is how far in the future a visit may be stamped before it is refused:
	// a queue system's clock a little ahead of ours is not an error.
	futureTolerance = 5 * time.Minute
)

// MaxInviteItems is the most invitations one request may carry.
const MaxInviteItems = 500

// Reasons an invitation is recorded but skipped (InviteResult.Reason, invitations.skip_reason).
const (
	SkipFrequencyCap  = "frequency_cap"
	SkipOptedOut      = "opted_out"
	SkipInvalidNumber = "invalid_number"
	SkipTooOld        = "too_old"
	SkipExpired       = "expired"
	SkipPurged        = "purged" // the number was forgotten (Retention) while its message waited
)

// tehran is where quiet hours are read.
var tehran = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tehran")
	if err != nil {
		return time.FixedZone("IRST", 3*3600+1800)
	}
	return loc
}()

// QuietHours is a nightly span, Tehran time, in which no SMS is sent. The zero value has none.
type QuietHours struct {
	start, end int // minutes after midnight; start == end means none
}

// ParseQuietHours reads "22:00-08:00" (a span may cross midnight); "" means no quiet hours.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return QuietHours{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	start, err1 := clockMinutes(a)
	end, err2 := clockMinutes(b)
	if !ok || err1 != nil || err2 != nil || start == end {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM, e.g. 22:00-08:00", s)
	}
	return QuietHours{start: start, end: end}, nil
}

func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Enabled reports whether there are quiet hours at all.
func (q QuietHours) Enabled() bool { return q.start != q.end }

// String writes the span as it is configured.
func (q QuietHours) String() string {
	if !q.Enabled() {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.start/60, q.start%60, q.end/60, q.end%60)
}

// Until returns when the quiet hours that t falls in end, and false when t is outside them.
func (q QuietHours) Until(t time.Time) (time.Time, bool) {
	if !q.Enabled() {
		return time.Time{}, false
	}
	local := t.In(tehran)
	m := local.Hour()*60 + local.Minute()
	var inside bool
	if q.start < q.end {
		inside = m >= q.start && m < q.end
	} else {
		inside = m >= q.start || m < q.end
	}
	if !inside {
		return time.Time{}, false
	}
	day := local
	if m >= q.end { // before midnight: the quiet ends tomorrow
		day = local.AddDate(0, 0, 1)
	}
	end := time.Date(day.Year(), day.Month(), day.Day(), q.end/60, q.end%60, 0, 0, tehran)
	return end.UTC(), true
}

// InviteRules are the rules an invitation meets before it is queued. Zero durations take the
// defaults.
type InviteRules struct {
	FrequencyCap time.Duration // at most one invitation per number in this long, all agencies
	Window       time.Duration // a visit older than this is skipped
	ReplyWindow  time.Duration // how long a reply is matched to the invitation
	Quiet        QuietHours    // no SMS in these hours: held until they end
}

func (r InviteRules) withDefaults() InviteRules {
	if r.FrequencyCap <= 0 {
		r.FrequencyCap = DefaultFrequencyCap
	}
	if r.Window <= 0 {
		r.Window = DefaultInviteWindow
	}
	if r.ReplyWindow <= 0 {
		r.ReplyWindow = DefaultReplyWindow
	}
	return r
}

// Decide is the invitation rule, pure: given now, the visit's time and what is stored about the
// number, the invitation is skipped (opted out, number invalid, visit too old, invited within
// the frequency cap), held until the quiet hours end, or queued now.
func (r InviteRules) Decide(now, visitedAt time.Time, phone survey.SMSPhone) survey.InvitationDecision {
	r = r.withDefaults()
	skip := func(reason string) survey.InvitationDecision {
		return survey.InvitationDecision{Status: survey.InvitationSkipped, SkipReason: reason}
	}
	switch {
	case phone.OptedOutAt != nil:
		return skip(SkipOptedOut)
	case phone.InvalidAt != nil:
		return skip(SkipInvalidNumber)
	case now.Sub(visitedAt) > r.Window:
		return skip(SkipTooOld)
	case phone.LastInvitedAt != nil && now.Sub(*phone.LastInvitedAt) < r.FrequencyCap:
		return skip(SkipFrequencyCap)
	}
	if until, quiet := r.Quiet.Until(now); quiet {
		return survey.InvitationDecision{Status: survey.InvitationHeld, SendAfter: &until}
	}
	at := now
	return survey.InvitationDecision{Status: survey.InvitationQueued, SendAfter: &at}
}

// InviteStore is what invitations need from storage (the SQL store).
type InviteStore interface {
	Office(ctx context.Context, id survey.ID) (survey.Office, error)
	// RecordInvitation stores inv (and its outbox message with localID unless skipped) under the
	// number's row lock, with decide's verdict on the number's stored state.
	RecordInvitation(ctx context.Context, inv *survey.Invitation, phoneEnc []byte, localID string,
		decide func(phone survey.SMSPhone) survey.InvitationDecision) error
}

// InviteRequest is one visit to invite for, as an agency's system sends it.
type InviteRequest struct {
	Phone    string    `json:"phone"`
	OfficeID survey.ID `json:"office_id"`
	Service  string    `json:"service,omitempty"`
	// VisitedAt is RFC 3339 ("2026-03-01T10:30:00+03:30"), or "2026-03-01 10:30" in Tehran
	// time; Persian digits are read.
	VisitedAt string `json:"visited_at"`
	// Via is "sms" (the default: reply with a digit) or "link" (the SMS carries the web link).
	Via string `json:"via,omitempty"`
}

// Outcome of one invitation request.
const (
	ResultQueued   = "queued"
	ResultHeld     = "held"
	ResultSkipped  = "skipped"
	ResultRejected = "rejected"
)

// InviteResult is what became of one item: its index in the request, the invitation's id when
// one was recorded, its status, why it was skipped, or why it was rejected.
type InviteResult struct {
	Index  int                `json:"index"`
	ID     survey.ID          `json:"id,omitempty"`
	Status string             `json:"status"`
	Reason string             `json:"reason,omitempty"`
	Error  *survey.FieldError `json:"error,omitempty"`
}

// Inviter records invitations after visits: it checks who may invite for which office,
// normalises the number, applies InviteRules and queues the SMS. The number leaves it only
// hashed and encrypted; it never reaches a log line or an error.
type Inviter struct {
	store   InviteStore
	privacy *Privacy
	rules   InviteRules
	clock   survey.Clock
	log     *slog.Logger
}

// NewInviter returns the invitation service.
func NewInviter(store InviteStore, privacy *Privacy, rules InviteRules, clock survey.Clock, logger *slog.Logger) *Inviter {
	if clock == nil {
		clock = survey.SystemClock{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Inviter{store: store, privacy: privacy, rules: rules.withDefaults(), clock: clock, log: logger}
}

// Invite records items for p: an SMS integration token of the agency (limited to its office when
// the token is), or an admin of the agency or the province. Each item is judged alone; an item
// refused (a bad number, an office the caller may not invite for, a visit in the future) is
// "rejected" with its error, and the rest go on. The whole request is refused only when the
// caller may never invite or the item count is out of bounds.
func (v *Inviter) Invite(ctx context.Context, p survey.Principal, items []InviteRequest) ([]InviteResult, error) {
	if !(p.Role == survey.RoleIntegration && p.Channel == survey.ChannelSMS) &&
		p.Role != survey.RoleAgencyAdmin && p.Role != survey.RoleProvinceAdmin {
		return nil, survey.Errorf(survey.ECodeForbidden,
			"فقط توکن یکپارچه‌سازی پیامک یک دستگاه یا مدیر آن دستگاه می‌تواند دعوت ثبت کند.",
			"only an agency's SMS integration token or its admins may record invitations")
	}
	switch {
	case len(items) == 0:
		return nil, fieldError("items", "required", "دست‌کم یک دعوت لازم است.", "at least one invitation is required")
	case len(items) > MaxInviteItems:
		return nil, fieldError("items", "too_many", "هر درخواست حداکثر ۵۰۰ دعوت دارد.", "at most 500 invitations per request")
	}
	offices := map[survey.ID]*survey.Office{}
	out := make([]InviteResult, len(items))
	for i, it := range items {
		res, err := v.one(ctx, p, it, offices)
		if err != nil {
			return nil, err // storage failed: the caller retries the batch (recorded items then skip by the cap)
		}
		res.Index = i
		out[i] = res
	}
	return out, nil
}

// one judges and records one item. Only storage failures are errors.
func (v *Inviter) one(ctx context.Context, p survey.Principal, it InviteRequest, offices map[survey.ID]*survey.Office) (InviteResult, error) {
	now := v.clock.Now().UTC()
	reject := func(code, fa, en string) (InviteResult, error) {
		return InviteResult{Status: ResultRejected, Error: &survey.FieldError{Code: code, Message: en, MessageFA: fa}}, nil
	}
	phone, err := NormalizePhone(it.Phone)
	if err != nil {
		return reject("invalid_phone", "شمارهٔ تلفن همراه معتبر نیست.", "not a valid mobile number")
	}
	office, err := v.office(ctx, p, it.OfficeID, offices)
	if err != nil {
		return InviteResult{}, err
	}
	if office == nil {
		return reject("unknown_office", "این دفتر پیدا نشد یا اجازهٔ دعوت برای آن را ندارید.", "office not found, or you may not invite for it")
	}
	via := strings.TrimSpace(it.Via)
	if via == "" {
		via = "sms"
	}
	if via != "sms" && via != "link" {
		return reject("invalid_via", "روش پاسخ باید sms یا link باشد.", "via must be sms or link")
	}
	service := strings.TrimSpace(it.Service)
	if !utf8.ValidString(service) || utf8.RuneCountInString(service) > 200 {
		return reject("invalid_service", "نام خدمت نامعتبر یا بیش از ۲۰۰ نویسه است.", "service is invalid or longer than 200 characters")
	}
	visited, err := ParseVisitTime(it.VisitedAt)
	if err != nil {
		return reject("invalid_visited_at", "زمان مراجعه خوانا نیست (نمونه: 2026-03-01T10:30:00+03:30).",
			"visited_at is not a time (e.g. 2026-03-01T10:30:00+03:30)")
	}
	if visited.After(now.Add(futureTolerance)) {
		return reject("visit_in_future", "زمان مراجعه در آینده است.", "visited_at is in the future")
	}
	enc, err := v.privacy.Seal(phone)
	if err != nil {
		return InviteResult{}, survey.Wrap(survey.ECodeInternal, err, "رمزگذاری شماره انجام نشد.", "could not encrypt the number")
	}
	inv := survey.Invitation{AgencyID: office.AgencyID, OfficeID: office.ID, PhoneHash: v.privacy.Hash(phone),
		Service: service, VisitedAt: visited, Via: via, CreatedAt: now, ExpiresAt: now.Add(v.rules.ReplyWindow)}
	if err := v.store.RecordInvitation(ctx, &inv, enc, NewLocalID(), func(ph survey.SMSPhone) survey.InvitationDecision {
		return v.rules.Decide(now, visited, ph)
	}); err != nil {
		return InviteResult{}, err
	}
	v.log.InfoContext(ctx, "invitation recorded", "invitation", inv.ID, "agency", inv.AgencyID, "office", inv.OfficeID,
		"status", inv.Status, "reason", inv.SkipReason)
	return InviteResult{ID: inv.ID, Status: string(inv.Status), Reason: inv.SkipReason}, nil
}

// office loads an office once per request and returns nil when it does not exist or p may not
// invite for it (one answer for both: tenancy does not leak).
func (v *Inviter) office(ctx context.Context, p survey.Principal, id survey.ID, cache map[survey.ID]*survey.Office) (*survey.Office, error) {
	if o, ok := cache[id]; ok {
		return o, nil
	}
	var o *survey.Office
	if id > 0 {
		got, err := v.store.Office(ctx, id)
		switch {
		case err == nil:
			if mayInvite(p, got) {
				o = &got
			}
		case survey.ErrorCode(err) != survey.ECodeNotFound:
			return nil, err
		}
	}
	cache[id] = o
	return o, nil
}

// mayInvite: an SMS integration of the office's agency (and of the office, when the token is
// limited to one), or an admin of the agency or province.
func mayInvite(p survey.Principal, o survey.Office) bool {
	if p.Role == survey.RoleIntegration {
		return p.Channel == survey.ChannelSMS && p.AgencyID == o.AgencyID && (p.OfficeID == 0 || p.OfficeID == o.ID)
	}
	return p.CanManageAgency(o.AgencyID)
}

// ParseVisitTime reads a visit's time: RFC 3339, or "YYYY-MM-DD HH:MM[:SS]" / "YYYY-MM-DDTHH:MM"
// in Tehran time, with Persian or Arabic-Indic digits allowed.
func ParseVisitTime(s string) (time.Time, error) {
	s = strings.TrimSpace(latinDigits(s))
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, tehran); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

// latinDigits replaces Persian and Arabic-Indic digits with ASCII ones.
func latinDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '۰' && r <= '۹':
			return '0' + r - '۰'
		case r >= '٠' && r <= '٩':
			return '0' + r - '٠'
		}
		return r
	}, s)
}

// ParseID reads an id written with any digits (a CSV typed on a Persian keyboard).
func ParseID(s string) (survey.ID, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(latinDigits(s)), 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not an id")
	}
	return survey.ID(n), nil
}

// NewLocalID makes a message's idempotency key: a random positive 62-bit decimal number, so that
// two installations sharing one Kavenegar account never collide as sequential ids would.
func NewLocalID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return localIDOf(b[:])
}

// DerivedLocalID is a message's idempotency key derived from what the message is — label (say
// "afkar/sms/alert/v1") and parts (the alert and person) — instead of drawn at random: the same
// however often the message is queued, so the outbox (its local_id is unique) holds it once.
// It has NewLocalID's form, a positive 62-bit decimal number.
func DerivedLocalID(label string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(label))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return localIDOf(h.Sum(nil))
}

// localIDOf maps the first 8 bytes of b to a positive 62-bit decimal number.
func localIDOf(b []byte) string {
	n := binary.BigEndian.Uint64(b[:8]) >> 2
	if n == 0 {
		n = 1
	}
	return strconv.FormatUint(n, 10)
}

func fieldError(field, code, fa, en string) error {
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{field: {Code: code, Message: en, MessageFA: fa}}}
}
