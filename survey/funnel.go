package survey

import "time"

// FunnelInvitation is one invitation as the funnel counts it: what became of the visit Afkar was
// told about, from the invitation, its SMS and the replies (the funnel_invitations query). The
// funnel is built from these per office and Tehran day (analytics.BuildFunnel), so the SQL stays
// the same on both dialects.
type FunnelInvitation struct {
	OfficeID   ID
	VisitedAt  time.Time
	Status     InvitationStatus
	SkipReason string
	Sent       bool
	Delivered  bool
	// FailClass is the error class of its failed SMS ("" when none failed).
	FailClass string
	// AnsweredVia is "sms", "link" or "" (unanswered).
	AnsweredVia string
	// OptedOut: the number sent an opt-out after the invitation was sent and before it expired.
	OptedOut bool
	Parts    int64
	Cost     int64
}
