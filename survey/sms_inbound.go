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
	// InboundAwaitingFollowUp: a rating that opened a follow-up conversation; its response is
	// submitted when the conversation ends (answered, abandoned or expired), with the follow-up
	// answers the citizen gave. The message keeps the conversation's opening state (Dialogue).
	InboundAwaitingFollowUp InboundOutcome = "awaiting_follow_up"
	// InboundFollowUp: an answer to a follow-up question, added to the conversation's response.
	InboundFollowUp InboundOutcome = "follow_up"
	// InboundCaseReply: a yes/no reply to a follow-up case's SMS prompt (the offer to be
	// contacted, or the question whether the matter was resolved), recorded by the cases side.
	InboundCaseReply InboundOutcome = "case_reply"
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
	// Dialogue is the conversation a rating opened (Outcome InboundAwaitingFollowUp), kept on
	// the message so the rating survives the loss of the live state.
	Dialogue *SMSDialogue
}

// SMSDialogue is one number's open SMS conversation: a rating arrived, and the survey asks
// follow-up questions by SMS (reasons as numbered options when the rating is low). Its response
// is submitted once, when the conversation ends, with every answer given — one citizen, one
// response. The live state is kept under a TTL (Redis, or the SQL store on the embedded
// default); the state at opening is also kept on the rating's message, durable.
type SMSDialogue struct {
	PhoneHash string `json:"phone_hash"`
	// InboundID is the message whose rating opened the conversation; ResponseID the response's
	// id, derived from that message so that submitting twice stores one response.
	InboundID    ID     `json:"inbound_id"`
	ResponseID   string `json:"response_id"`
	InvitationID ID     `json:"invitation_id"`
	AgencyID     ID     `json:"agency_id"`
	OfficeID     ID     `json:"office_id"`
	SurveyID     ID     `json:"survey_id"`
	Version      int    `json:"version"`
	// RatedAt is when the rating arrived: the response's submitted_at.
	RatedAt time.Time         `json:"rated_at"`
	Answers []SubmittedAnswer `json:"answers"`
	// Asked counts the questions asked so far, the invitation's rating included; Pending is the
	// question waiting for an answer.
	Asked     int       `json:"asked"`
	Pending   string    `json:"pending"`
	ExpiresAt time.Time `json:"expires_at"`
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
