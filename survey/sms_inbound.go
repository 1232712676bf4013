package survey

import "time"

// This file holds what the SMS channel makes of a citizen's reply once it is stored raw
// (SMSInbound): the outcome recorded on the message's row, and the invitation a reply is matched
// to. The processing itself is the channel's (channels/sms Inbox).

// InboundOutcome is what processing did with one inbound message; staff read it beside the
// (masked) message, and the funnel counts it.
type InboundOutcome string

// Inbound outcomes.
const (
	// InboundScored: a rating, within its invitation's reply window, stored as a response.
	InboundScored InboundOutcome = "scored"
	// InboundLate: a reply after its invitation's reply window; kept as a comment, not scored.
	InboundLate InboundOutcome = "late"
	// InboundNoInvitation: a reply from a number with no invitation sent; kept as a comment.
	InboundNoInvitation InboundOutcome = "no_invitation"
	// InboundAnsweredBefore: a rating for an invitation already answered; kept as a comment
	// (one visit, one counted answer).
	InboundAnsweredBefore InboundOutcome = "answered_before"
	// InboundOptedOut: «۱۱», «لغو», "stop" — the number gets no more Afkar SMS.
	InboundOptedOut InboundOutcome = "opted_out"
	// InboundResubscribed: «۱۲» — an opt-out undone.
	InboundResubscribed InboundOutcome = "resubscribed"
	// InboundClarify: an ambiguous reply to an open invitation; one clarifying SMS was queued.
	InboundClarify InboundOutcome = "clarification_queued"
	// InboundAmbiguous: an ambiguous reply that gets no clarifying SMS (one was sent already,
	// or there is no open invitation); kept as a comment.
	InboundAmbiguous InboundOutcome = "ambiguous"
	// InboundComment: text without a rating or a command, to an open invitation.
	InboundComment InboundOutcome = "comment"
	// InboundRejected: a rating intake refused for good (the agency has no active survey, or
	// its survey cannot be answered with one rating); kept as a comment, logged.
	InboundRejected InboundOutcome = "rejected"
	// InboundUnknownSender: the sender is not a mobile number (an operator's notice).
	InboundUnknownSender InboundOutcome = "unknown_sender"
)

// InboundResult is what processing made of one inbound message, recorded on its row at once
// (with the invitation's answer when Answered).
type InboundResult struct {
	// Kind is the parser's verdict (rating, optout, resubscribe, ambiguous, none).
	Kind    string
	Outcome InboundOutcome
	// Rating is the 1–5 scored; 0 when none was.
	Rating int
	// Comment is the text kept for staff: what the parser left beside the rating, or the whole
	// reply when it was not scored.
	Comment string
	// ResponseID is the response the reply became, when scored.
	ResponseID string
	// InvitationID is the invitation the reply was matched to (0: none).
	InvitationID ID
	// Answered marks InvitationID answered by SMS.
	Answered bool
}

// InvitationMatch is a number's latest sent invitation, as a reply is matched against it: the
// invitation, and whether it was answered or clarified already.
type InvitationMatch struct {
	Invitation
	AnsweredAt  *time.Time
	ClarifiedAt *time.Time
}

// Open reports whether a reply at t is within the invitation's reply window.
func (m InvitationMatch) Open(t time.Time) bool { return !t.After(m.ExpiresAt) }
