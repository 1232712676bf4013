package survey

// This file is Afkar's whole permission model: the roles, the principal a credential stands for,
// what a principal may read, whether and for whom it may submit responses, and the origin of a
// submission. Handlers and stores only pass principals and origins along; the rules are here.

// Role is what a staff member or integration may do. Tenancy rests on it: every read of agency
// data is checked against the caller's principal below the HTTP handlers.
type Role string

// Roles, from widest to narrowest.
const (
	RoleProvinceAdmin Role = "province_admin" // the governorate PR office's administrators
	RoleProvinceStaff Role = "province_staff" // governorate PR office: reads every agency
	// RoleProvinceEvaluator reads every agency like province staff and (later) enters the
	// ranking criteria that people score; it manages nothing.
	RoleProvinceEvaluator Role = "province_evaluator"
	RoleAgencyAdmin       Role = "agency_admin" // an agency's PR lead: reads and manages that agency (offices, kiosks)
	RoleAgencyStaff       Role = "agency_staff" // an agency's PR staff (viewer): reads only that agency
	RoleIntegration       Role = "integration"  // a machine client (web-form backend, SMS bridge, queue system)
	// RoleKiosk is a paired lobby tablet. It is never stored as a token row: a kiosk's device
	// token is checked by the kiosk channel, which returns a principal scoped to the kiosk's
	// agency, office and the kiosk channel, with KioskID set.
	RoleKiosk Role = "kiosk"
)

// Principal is an authenticated caller; the zero Principal is an anonymous one (a citizen's
// browser). AgencyID scopes agency staff and integrations. OfficeID and Channel are set only for
// integrations: an integration submits for one agency (and, when OfficeID is set, one office) on
// one channel, so a leaked kiosk-fleet token cannot file answers for another agency or pose as
// SMS.
type Principal struct {
	Role     Role    `json:"role"`
	AgencyID ID      `json:"agency_id,omitempty"`
	OfficeID ID      `json:"office_id,omitempty"`
	Channel  Channel `json:"channel,omitempty"`
	// KioskID is the paired kiosk a RoleKiosk principal stands for.
	KioskID ID     `json:"kiosk_id,omitempty"`
	Name    string `json:"name,omitempty"`
	// UserID is the staff account a session principal belongs to (0 for tokens): audit entries
	// name it, and a user may change only its own password through /api/v1/me.
	UserID ID `json:"user_id,omitempty"`
	// TokenID is the token row a token principal comes from (0 otherwise), for audit entries.
	TokenID ID `json:"-"`
	// Via is the kind of credential that identified the principal (ViaToken, ViaSession,
	// ViaDevice). A browser sends cookies on its own, so only ViaSession principals need a CSRF
	// token on state-changing requests; bearer tokens are never sent by a browser unasked.
	Via string `json:"via,omitempty"`
}

// Kinds of credential a Principal.Via names.
const (
	ViaToken   = "token"   // a bearer token from the token table
	ViaSession = "session" // a person's login session (the afkar_session cookie)
	ViaDevice  = "device"  // a paired kiosk's device token
)

// ProvinceRole reports whether r is a role of the governorate's office (not limited to one agency).
func (r Role) ProvinceRole() bool {
	return r == RoleProvinceAdmin || r == RoleProvinceStaff || r == RoleProvinceEvaluator
}

// PersonRole reports whether r is a role a person's account may have (not a machine's).
func (r Role) PersonRole() bool {
	return r.ProvinceRole() || r == RoleAgencyAdmin || r == RoleAgencyStaff
}

// Anonymous reports whether p is the zero principal: a caller that presented no credentials.
func (p Principal) Anonymous() bool { return p.Role == "" }

// CanReadAgency reports whether p may read agency id's scores and responses.
func (p Principal) CanReadAgency(id ID) bool {
	switch p.Role {
	case RoleProvinceAdmin, RoleProvinceStaff, RoleProvinceEvaluator:
		return true
	case RoleAgencyAdmin, RoleAgencyStaff:
		return p.AgencyID != 0 && p.AgencyID == id
	}
	return false
}

// CanManageAgency reports whether p may change agency id's set-up: its offices and their hours,
// its kiosks and their pairing. Province admins may manage every agency, agency admins their own;
// viewers, province staff, evaluators and machines never.
func (p Principal) CanManageAgency(id ID) bool {
	switch p.Role {
	case RoleProvinceAdmin:
		return true
	case RoleAgencyAdmin:
		return p.AgencyID != 0 && p.AgencyID == id
	}
	return false
}

// IsStaff reports whether p is a person working for the province or an agency.
func (p Principal) IsStaff() bool {
	return p.Role.PersonRole()
}

// CanManageUsers reports whether p may see and change the accounts of agency's people (0: the
// province's own people): a province admin everyone's, an agency admin only its own agency's.
func (p Principal) CanManageUsers(agency ID) bool {
	switch p.Role {
	case RoleProvinceAdmin:
		return true
	case RoleAgencyAdmin:
		return agency != 0 && p.AgencyID == agency
	}
	return false
}

// CanGrant reports whether p may give an account the role r in agency: a province admin any
// person's role, an agency admin only agency roles in its own agency — never a province role,
// so an agency cannot promote itself to read the others.
func (p Principal) CanGrant(r Role, agency ID) bool {
	switch p.Role {
	case RoleProvinceAdmin:
		return r.PersonRole()
	case RoleAgencyAdmin:
		return (r == RoleAgencyAdmin || r == RoleAgencyStaff) && agency != 0 && agency == p.AgencyID
	}
	return false
}

// Check reports whether a credential may be issued for p: a known role, an agency for agency
// staff and integrations, a channel for integrations, and no scope a role does not use (an
// office or channel on a person's token would suggest a limit that nothing enforces).
func (p Principal) Check() error {
	fe := &fieldErrors{}
	switch p.Role {
	case RoleProvinceAdmin, RoleProvinceStaff, RoleProvinceEvaluator:
		if p.AgencyID != 0 {
			fe.add("agency_id", "not_allowed", "نقش استانی به دستگاه محدود نمی‌شود.", "province roles are not limited to an agency")
		}
	case RoleAgencyAdmin, RoleAgencyStaff, RoleIntegration:
		if p.AgencyID == 0 {
			fe.add("agency_id", "required", "این نقش باید به یک دستگاه محدود باشد.", "this role needs an agency_id")
		}
	default:
		fe.add("role", "unknown_role", "نقش ناشناخته است.", "role must be province_admin, province_staff, province_evaluator, agency_admin, agency_staff or integration")
	}
	if p.Role == RoleIntegration {
		if !p.Channel.Valid() {
			fe.add("channel", "invalid_channel", "کانال توکن یکپارچه‌سازی باید kiosk، web یا sms باشد.", "an integration token needs a channel: kiosk, web or sms")
		}
	} else {
		if p.OfficeID != 0 {
			fe.add("office_id", "not_allowed", "فقط توکن یکپارچه‌سازی به دفتر محدود می‌شود.", "only integration tokens are limited to an office")
		}
		if p.Channel != "" {
			fe.add("channel", "not_allowed", "فقط توکن یکپارچه‌سازی کانال دارد.", "only integration tokens have a channel")
		}
	}
	if code := textProblem(p.Name, false); code != "" {
		fe.addTextProblem("name", code)
	}
	if !fe.empty() {
		return &Error{Code: ECodeInvalid, Message: "the token's principal is not valid",
			MessageFA: "مشخصات توکن معتبر نیست.", Fields: fe.m}
	}
	return nil
}

// SubmitChannel is the channel a response submitted by p through the public submission route is
// recorded with: web for an anonymous caller, the token's own channel for an integration. Staff
// do not answer surveys: their tokens are refused, so a dashboard token cannot stuff the box.
func (p Principal) SubmitChannel() (Channel, error) {
	switch {
	case p.Anonymous():
		return ChannelWeb, nil
	case p.Role == RoleIntegration:
		if !p.Channel.Valid() {
			return "", forbidden("channel", "این توکن کانال ندارد؛ توکن تازه‌ای با --channel بسازید.",
				"this integration token has no channel; issue a new one with --channel")
		}
		return p.Channel, nil
	}
	return "", forbidden("", "کارمندان با توکن خود به پرسشنامه پاسخ نمی‌دهند.", "staff tokens do not submit responses")
}

// CanSubmit reports whether p may submit a response for agency (and office, 0 for none). An
// anonymous caller may submit for any agency — the survey is public — and is rate-limited
// instead; an integration only for its own agency, and for its own office when it has one;
// staff never. The refusal is ECodeForbidden naming the field that is out of scope.
func (p Principal) CanSubmit(agency, office ID) error {
	switch {
	case p.Anonymous():
		return nil
	case p.Role == RoleKiosk && (p.KioskID == 0 || p.OfficeID == 0):
		return forbidden("", "این دستگاه کیوسک جفت نشده است.", "this kiosk is not paired to an office")
	case p.Role != RoleIntegration && p.Role != RoleKiosk:
		return forbidden("", "کارمندان با توکن خود به پرسشنامه پاسخ نمی‌دهند.", "staff tokens do not submit responses")
	case p.AgencyID == 0:
		return forbidden("agency_id", "این توکن به دستگاهی محدود نیست؛ توکن تازه‌ای با --agency بسازید.",
			"this integration token is not scoped to an agency; issue a new one with --agency")
	case agency != p.AgencyID:
		return forbidden("agency_id", "این توکن برای دستگاه دیگری صادر شده است.", "this token may not submit for this agency")
	case p.OfficeID != 0 && office != p.OfficeID:
		return forbidden("office_id", "این توکن برای دفتر دیگری صادر شده است.", "this token may not submit for this office")
	}
	return nil
}

// forbidden is a 403 naming the out-of-scope field ("" for none).
func forbidden(field, fa, en string) error {
	e := &Error{Code: ECodeForbidden, Message: en, MessageFA: fa}
	if field != "" {
		e.Fields = map[string]FieldError{field: {Code: string(ECodeForbidden), Message: en, MessageFA: fa}}
	}
	return e
}

// ErrForbiddenAgency is returned when a principal asks for an agency it may not read. It is a
// not-found error on purpose: callers must not learn which agencies exist elsewhere.
func ErrForbiddenAgency() error {
	return Errorf(ECodeNotFound, "این دستگاه پیدا نشد.", "agency not found")
}

// Origin is where a submission came from, as the entry point that received it knows it: the
// channel it arrived on, the principal that sent it (zero: anonymous), and the kiosk device or
// the invitation (SMS, signed link) it belongs to, when there is one. The body of a submission
// never says where it came from — an anonymous web caller could otherwise file "kiosk" or "sms"
// answers and skew the by-channel figures.
//
// Flag is the entry point's verdict that the submission is suspect although valid — a kiosk
// press too close to the one before, part of a burst, or made while the office was closed
// (FlagInterval, FlagBurst, FlagAfterHours). A flagged response is stored like any other, so
// nothing acknowledged is lost and staff can audit it, but it is left out of every score and
// counted apart (the "flagged" figures). Empty for an ordinary submission.
type Origin struct {
	Channel      Channel
	Principal    Principal
	DeviceID     ID
	InvitationID ID
	Flag         Flag
}

// Flag says why a stored response is left out of the scores; empty for a counted one.
type Flag string

// Flags a kiosk's stuffing filter sets, on the tablet's own timeline.
const (
	FlagInterval   Flag = "interval"    // closer to the kiosk's previous press than the minimum interval
	FlagBurst      Flag = "burst"       // one press too many within the burst window
	FlagAfterHours Flag = "after_hours" // pressed while the office was closed
)

// Flags lists every flag, in display order.
var Flags = []Flag{FlagInterval, FlagBurst, FlagAfterHours}

// Valid reports whether f is a known flag or empty (not flagged).
func (f Flag) Valid() bool {
	return f == "" || f == FlagInterval || f == FlagBurst || f == FlagAfterHours
}

// WebOrigin is the origin of a submission to the public route by p (zero: anonymous): the
// channel comes from p (SubmitChannel); staff are refused.
func WebOrigin(p Principal) (Origin, error) {
	ch, err := p.SubmitChannel()
	if err != nil {
		return Origin{}, err
	}
	return Origin{Channel: ch, Principal: p}, nil
}

// Apply checks that o may submit s and makes s say what o says. The principal must be allowed
// the agency and office (403); an integration's channel must be o's (403); a channel in the body
// is optional, but one that differs from o's is a client bug or a forgery (422
// channel_mismatch). Then s.Channel is set to o's, and an office-scoped integration's office
// fills an empty office_id. Callers pass a copy when they must keep the original.
func (o Origin) Apply(s *Submission) error {
	if !o.Channel.Valid() {
		return Errorf(ECodeInternal, "کانال ورودی نامعتبر است.", "origin channel %q is not a channel", o.Channel)
	}
	p := o.Principal
	if (p.Role == RoleIntegration || p.Role == RoleKiosk) && p.Channel != o.Channel {
		return forbidden("channel", "این توکن برای کانال دیگری صادر شده است.", "this token may not submit on this channel")
	}
	if (p.Role == RoleIntegration || p.Role == RoleKiosk) && p.OfficeID != 0 && s.OfficeID == 0 {
		s.OfficeID = p.OfficeID
	}
	if err := p.CanSubmit(s.AgencyID, s.OfficeID); err != nil {
		return err
	}
	if s.Channel != "" && s.Channel != o.Channel {
		en := "channel is set by the entry point (" + string(o.Channel) + "); omit it or send " + string(o.Channel)
		return &Error{Code: ECodeInvalid, Message: "the response's channel does not match where it was sent",
			MessageFA: "کانال پاسخ با مسیر ارسال آن نمی‌خواند.",
			Fields: map[string]FieldError{"channel": {Code: "channel_mismatch", Message: en,
				MessageFA: "کانال را مسیر ارسال تعیین می‌کند؛ آن را نفرستید یا " + string(o.Channel) + " بفرستید."}}}
	}
	s.Channel = o.Channel
	return nil
}
