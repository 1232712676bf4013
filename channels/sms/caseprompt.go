package sms

import (
	"context"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Closing the loop by SMS: after a low rating (and after its follow-up questions, if any) the
// citizen gets ONE offer to be contacted; a «۱» or «بله» within the conversation window opens a
// follow-up case with the number it came from. After a case is resolved, the citizen who agreed
// may get one question whether the matter was resolved; the reply is recorded on the case. The
// cases package does both (CasePrompts); this file only tells it when, and hands it the replies.
//
// The offer SMS does not promise to handle complaints: formal complaints belong to the national
// channels (سامد ۱۱۱, فواد ۱۲۸), which the case page and the thank-you page point to
// (survey.ComplaintNoticeFa); a two-part SMS has no room for that notice.

// CaseOffer is a low rating the SMS channel stored: what a case opened from it needs. The
// number itself comes with the citizen's «۱» (the reply's own ciphertext).
type CaseOffer struct {
	PhoneHash  string
	InboundID  survey.ID
	AgencyID   survey.ID
	OfficeID   survey.ID
	ResponseID string
	Rating     int
	At         time.Time
}

// CasePrompts is the follow-up cases' side of an SMS conversation (cases.Service).
type CasePrompts interface {
	// OfferCase is told of every low rating once its response is stored (ratings above
	// survey.CaseMaxRating never reach it); it queues the one offer SMS.
	OfferCase(ctx context.Context, o CaseOffer) error
	// AnswerPrompt takes a yes/no reply to the number's open prompt and reports whether one was
	// open; a reply that is no answer never reaches it.
	AnswerPrompt(ctx context.Context, phoneHash string, phoneEnc []byte, yes bool, at time.Time) (bool, error)
}

// ParseYesNo reads a reply to a yes/no prompt: «۱», «بله», «آره», "yes" are yes; «۲», «خیر»,
// «نه», "no" are no; anything else is no answer (ok false).
func ParseYesNo(text string) (yes, ok bool) {
	s := strings.ToLower(strings.Trim(Normalize(text), " \t\r\n.!،,"))
	switch s {
	case "1", "بله", "بلی", "آره", "اره", "yes", "y":
		return true, true
	case "2", "خیر", "نه", "no", "n":
		return false, true
	}
	return false, false
}

// answerCasePrompt hands a yes/no reply to the number's open prompt, if any.
func (b *Inbox) answerCasePrompt(ctx context.Context, in survey.SMSInbound, reply Reply, res *survey.InboundResult) (bool, error) {
	if b.opts.Cases == nil || reply.Kind == KindOptOut || reply.Kind == KindResubscribe {
		return false, nil
	}
	yes, ok := ParseYesNo(in.Text)
	if !ok {
		return false, nil
	}
	took, err := b.opts.Cases.AnswerPrompt(ctx, in.PhoneHash, in.PhoneEnc, yes, in.ReceivedAt)
	if err != nil || !took {
		return false, err
	}
	res.Outcome = survey.InboundCaseReply
	return true, nil
}

// offerCase tells the cases side of a stored low rating (answers[0] is the rating).
func (b *Inbox) offerCase(ctx context.Context, phoneHash string, inbound, agency, office survey.ID,
	responseID string, answers []survey.SubmittedAnswer, at time.Time) error {
	if b.opts.Cases == nil || len(answers) == 0 {
		return nil
	}
	rating, low := survey.LowRating(answers[0].Value)
	if !low {
		return nil
	}
	return b.opts.Cases.OfferCase(ctx, CaseOffer{PhoneHash: phoneHash, InboundID: inbound, AgencyID: agency,
		OfficeID: office, ResponseID: responseID, Rating: rating, At: at})
}
