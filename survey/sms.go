package survey

import "time"

// This file holds the SMS channel's records as stored: the phone numbers it knows (encrypted and
// by keyed hash), invitations after a visit, the send queue (outbox) and raw inbound messages.
// The rules that act on them — the frequency cap, quiet hours, opt-outs, retries — are the SMS
// channel's (channels/sms); a phone number in plain text never appears here.

// InvitationStatus is where an invitation stands in the funnel.
type InvitationStatus string

// Invitation statuses. Held waits for the end of quiet hours; queued waits for the sender; sent
// was accepted by the gateway; delivered reached the handset; failed did not and will not;
// skipped was recorded but never sent (SkipReason says why: the frequency cap, an opt-out, a
// visit too old, a number known to be invalid).
const (
	InvitationHeld      InvitationStatus = "held"
	InvitationQueued    InvitationStatus = "queued"
	InvitationSent      InvitationStatus = "sent"
	InvitationDelivered InvitationStatus = "delivered"
	InvitationFailed    InvitationStatus = "failed"
	InvitationSkipped   InvitationStatus = "skipped"
)

// Invitation is one citizen's visit that Afkar was told about, and what became of the invitation
// to rate it. PhoneHash is the keyed hash of the number (the number itself is in SMSPhone,
// encrypted). Via is how the citizen is asked to answer: "sms" (reply with a digit) or "link"
// (the text carries a signed link to the web form).
type Invitation struct {
	ID         ID               `json:"id"`
	AgencyID   ID               `json:"agency_id"`
	OfficeID   ID               `json:"office_id"`
	PhoneHash  string           `json:"-"`
	Service    string           `json:"service"`
	VisitedAt  time.Time        `json:"visited_at"`
	Via        string           `json:"via"`
	Status     InvitationStatus `json:"status"`
	SkipReason string           `json:"skip_reason,omitempty"`
	CreatedAt  time.Time        `json:"created_at"`
	// SendAfter is when the invitation may be sent (the end of quiet hours for a held one); nil
	// for a skipped one.
	SendAfter *time.Time `json:"send_after,omitempty"`
	// ExpiresAt ends the window in which a reply is matched to this invitation.
	ExpiresAt time.Time `json:"expires_at"`
}

// InvitationDecision is what the SMS channel's rules decided for one invitation given its
// number's stored state: its status (queued, held or skipped), the reason when skipped, and when
// it may be sent when not.
type InvitationDecision struct {
	Status     InvitationStatus
	SkipReason string
	SendAfter  *time.Time
}

// SMSPhone is what is known about one number: its ciphertext (to send to it), when the citizen
// opted out (لغو / 11), when the gateway called it invalid, and when it was last invited (the
// frequency cap across all agencies).
type SMSPhone struct {
	Hash          string
	PhoneEnc      []byte
	CreatedAt     time.Time
	OptedOutAt    *time.Time
	InvalidAt     *time.Time
	LastInvitedAt *time.Time
}

// OutboxState is a queued SMS's state in the sender.
type OutboxState string

// Outbox states. Sending marks a message whose gateway call began and may have happened: the
// next attempt asks the gateway by local id before sending (sms.Resend). Paused marks the message
// the sender stopped on (no credit, a disabled account); it becomes pending again when the
// sender restarts.
const (
	OutboxPending OutboxState = "pending"
	OutboxSending OutboxState = "sending"
	OutboxSent    OutboxState = "sent"
	OutboxFailed  OutboxState = "failed"
	OutboxPaused  OutboxState = "paused"
)

// OutboxMessage is one SMS in the send queue with everything the sender needs to send it: the
// number's ciphertext and state, the invitation's agency (for the text) and expiry.
type OutboxMessage struct {
	ID            ID
	InvitationID  ID
	PhoneHash     string
	LocalID       string
	Text          string
	Parts         int
	Attempts      int
	NextAttemptAt time.Time
	State         OutboxState
	MessageID     string
	Status        int
	Cost          int64
	ErrorClass    string
	CreatedAt     time.Time
	SentAt        *time.Time

	// From the number and the invitation, read with the message.
	PhoneEnc   []byte
	OptedOut   bool
	Invalid    bool
	AgencyID   ID
	AgencyName string
	OfficeID   ID
	Via        string
	ExpiresAt  *time.Time
}

// SMSInbound is one message a citizen sent to our line, stored raw before anything acts on it.
// DedupeKey makes a message that arrives twice (push and poll) stored once: the gateway's
// message id when it has one, else a digest of sender, text and minute.
type SMSInbound struct {
	ID           ID
	MessageID    string
	DedupeKey    string
	PhoneHash    string
	PhoneEnc     []byte
	Text         string
	ReceivedAt   time.Time
	ParsedKind   string
	InvitationID ID
	// Line is the number the message was sent to, when the gateway says (Kavenegar's "to").
	Line string
	// Outcome and ProcessedAt are set once the message is processed (InboundResult).
	Outcome     InboundOutcome
	ProcessedAt *time.Time
	Rating      int
	Comment     string
	ResponseID  string
}
