package survey

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// This file holds the follow-up case ("closing the loop", DOMAIN.md §7): a citizen who rated low
// and agreed to be contacted becomes a case the agency must acknowledge within 48 hours, work and
// close with an outcome. The workflow is the cases package's; storage is the SQL store's.

// CaseStatus is where a case stands.
type CaseStatus string

// Case statuses.
const (
	// CaseOpen: created from a consenting citizen's low rating; nobody has acknowledged it yet.
	CaseOpen CaseStatus = "open"
	// CaseAcknowledged: someone at the agency took it on (the 48 h target is about reaching this).
	CaseAcknowledged CaseStatus = "acknowledged"
	// CaseResolved: closed with an outcome.
	CaseResolved CaseStatus = "resolved"
	// CaseClosedNoContact: closed because the citizen could not be reached.
	CaseClosedNoContact CaseStatus = "closed_no_contact"
)

// Valid reports whether s is one of the statuses above.
func (s CaseStatus) Valid() bool {
	switch s {
	case CaseOpen, CaseAcknowledged, CaseResolved, CaseClosedNoContact:
		return true
	}
	return false
}

// CaseAckTarget is how long an agency has to acknowledge a case before it is escalated to its
// admins (the 48 h target of DOMAIN.md §7).
const CaseAckTarget = 48 * time.Hour

// CaseMaxRating is the highest rating that may open a case: an unhappy citizen (1 or 2 of 5).
const CaseMaxRating = 2

// AlertCaseOverdue: a follow-up case was not acknowledged within CaseAckTarget.
const AlertCaseOverdue = "case_overdue"

// ComplaintNoticeFa is shown on every case page, on the thank-you page after consent and
// documented beside the SMS offer: a follow-up case is about the agency's service, while formal
// complaints belong to the national channels (DOMAIN.md §1), which Afkar points to and never
// absorbs.
const ComplaintNoticeFa = "پیگیری این پرونده دربارهٔ کیفیت خدمت همین دستگاه است. برای ثبت شکایت رسمی از سامانه‌های ملی سامد (۱۱۱) و فواد (۱۲۸) استفاده کنید."

// ComplaintNoticeEn is ComplaintNoticeFa in English, for API clients.
const ComplaintNoticeEn = "This case is about the agency's service. Formal complaints belong to the national channels SAMAD (111) and FAVAD (128)."

// Case is one follow-up of an unhappy, consenting citizen. The number is stored only sealed
// (PhoneEnc, encrypted with the SMS channel's key) and as a keyed hash; Phone is filled only when
// an agency admin reveals it, and PhoneMasked is what every other reader sees.
type Case struct {
	ID         ID         `json:"id"`
	AgencyID   ID         `json:"agency_id"`
	OfficeID   ID         `json:"office_id"`
	ResponseID string     `json:"response_id"`
	Channel    Channel    `json:"channel"`
	Rating     int        `json:"rating"`
	CreatedAt  time.Time  `json:"created_at"`
	OwnerID    ID         `json:"owner_user_id,omitempty"`
	Status     CaseStatus `json:"status"`
	AckDue     time.Time  `json:"ack_due"`
	AckedAt    *time.Time `json:"acknowledged_at,omitempty"`
	// EscalatedAt is when the watcher found it unacknowledged past AckDue and alerted the admins.
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	Outcome     string     `json:"outcome,omitempty"`
	// Consent is the citizen's agreement to be contacted (always true for a case made today;
	// kept so the resolution SMS checks it explicitly).
	Consent     bool   `json:"contact_consent"`
	PhoneEnc    []byte `json:"-"`
	PhoneHash   string `json:"-"`
	PhoneMasked string `json:"phone_masked,omitempty"`
	Phone       string `json:"phone,omitempty"`
	// ResolutionSMSAt is when the one «was it resolved?» SMS was queued; ResolutionAnswer the
	// citizen's reply ("yes", "no"; "" none yet).
	ResolutionSMSAt  *time.Time `json:"resolution_sms_at,omitempty"`
	ResolutionAnswer string     `json:"resolution_answer,omitempty"`
}

// NewCase is what a channel knows when a consenting citizen's low rating is accepted.
type NewCase struct {
	AgencyID   ID
	OfficeID   ID
	ResponseID string
	Channel    Channel
	Rating     int
	// Phone is the number as the citizen gave it (normalised by the cases service).
	Phone string
}

// CaseStats is the responsiveness figure of one agency for a period (the ranking's
// responsiveness criterion): cases created in the period, how many were acknowledged, the
// median hours to acknowledge, and the share acknowledged within CaseAckTarget (of all cases
// created, an unacknowledged one counting as late once its target has passed).
type CaseStats struct {
	AgencyID         ID       `json:"agency_id"`
	From             string   `json:"from"`
	To               string   `json:"to"`
	Cases            int      `json:"cases"`
	Acknowledged     int      `json:"acknowledged"`
	MedianAckHours   *float64 `json:"median_ack_hours"`
	WithinTargetRate *float64 `json:"within_48h_share"`
}

// Kinds of CasePrompt.
const (
	PromptOffer      = "offer"      // «reply 1 to be contacted», after a low SMS rating
	PromptResolution = "resolution" // «was it resolved? 1 yes, 2 no», after a case is resolved
)

// CasePrompt is a question put to a number by SMS that waits for its reply, one per number. An
// offer carries what the case it may open needs; a resolution prompt names its case.
type CasePrompt struct {
	PhoneHash  string
	Kind       string
	CaseID     ID
	AgencyID   ID
	OfficeID   ID
	ResponseID string
	Rating     int
	ExpiresAt  time.Time
}

// LowRating reads a rating answer's raw value — a JSON number, or a string of digits as the web
// form sends it (Persian digits too) — and reports it when it may open a case (1 to CaseMaxRating).
func LowRating(raw json.RawMessage) (int, bool) {
	var n int
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		var err error
		if n, err = strconv.Atoi(NormalizeDigits(strings.TrimSpace(s))); err != nil {
			return 0, false
		}
	}
	return n, n >= 1 && n <= CaseMaxRating
}
