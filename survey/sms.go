package survey

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

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

// SMSSettings say how a version is asked by SMS (nil: the defaults). An SMS conversation starts
// with the invitation, whose 1–5 question the citizen answers with a digit (SMSRatingQuestion);
// then, one SMS at a time, the FollowUp questions whose conditions hold, until MaxQuestions
// questions were asked. SMS costs per part and patience runs out fast, so the conversation is
// short by default and never longer than MaxSMSQuestions.
type SMSSettings struct {
	// Question is the 1–5 question in the invitation; "" = the SMS channel's default.
	Question string `json:"question,omitempty"`
	// LinkQuestion is the shorter question used beside a web link; "" = the default.
	LinkQuestion string `json:"link_question,omitempty"`
	// FollowUp lists the ids of the questions asked by SMS after the rating, in order, each only
	// when its ShowIf holds.
	FollowUp []string `json:"follow_up,omitempty"`
	// MaxQuestions is the most questions one SMS conversation asks, the rating included;
	// 0 = DefaultSMSMaxQuestions.
	MaxQuestions int `json:"max_questions,omitempty"`
}

// Limits of SMSSettings, checked when a version is published.
const (
	// DefaultSMSMaxQuestions: the rating and one follow-up; each further question is one more
	// paid SMS each way and fewer citizens answer it.
	DefaultSMSMaxQuestions = 2
	// MaxSMSQuestions bounds SMSSettings.MaxQuestions.
	MaxSMSQuestions = 4
	// MaxSMSQuestionRunes bounds the invitation's questions, so that with the agency's name,
	// a link and «لغو ۱۱» the invitation stays within two SMS parts.
	MaxSMSQuestionRunes = 60
	// MaxSMSChoiceOptions bounds a choice follow-up's options: each is answered with one digit.
	MaxSMSChoiceOptions = 9
)

// SMSMaxQuestions returns how many questions one SMS conversation may ask, the rating included.
func (v *Version) SMSMaxQuestions() int {
	if v.SMS == nil || v.SMS.MaxQuestions <= 0 {
		return DefaultSMSMaxQuestions
	}
	return min(v.SMS.MaxQuestions, MaxSMSQuestions)
}

// SMSRatingQuestion returns the question an SMS rating (the reply to the invitation) answers: the
// first rating5 question without a condition, since the invitation is asked of everyone. False
// when the version has none, and then it cannot be answered by SMS at all.
func (v *Version) SMSRatingQuestion() (Question, bool) {
	for _, q := range v.Questions {
		if q.Type == TypeRating5 && q.ShowIf == nil {
			return q, true
		}
	}
	return Question{}, false
}

// smsFollowUpType reports whether a question of type t can be a follow-up SMS: answered with a
// digit or a word. nps is 0–10 (10 and 11 clash with the opt-out commands) and free text has no
// place in a short exchange (the reply's leftover text is kept as a comment anyway).
func smsFollowUpType(t QuestionType) bool {
	return t == TypeChoice || t == TypeYesNo || t == TypeRating5
}

// NextSMSQuestion returns the next follow-up question to ask by SMS given the answers received so
// far in the conversation (the rating first) and how many questions were asked already (the
// rating included): the first FollowUp question not answered yet whose ShowIf holds against the
// answers. False when none is left or the conversation reached SMSMaxQuestions. Answers that do
// not fit their question (or name no question of v) count for nothing.
func (v *Version) NextSMSQuestion(answers []SubmittedAnswer, asked int) (Question, bool) {
	if v.SMS == nil || len(v.SMS.FollowUp) == 0 || asked >= v.SMSMaxQuestions() {
		return Question{}, false
	}
	given := make(map[string]Answer, len(answers))
	answered := make(map[string]bool, len(answers))
	for i, a := range answers {
		q, _, ok := v.Question(a.QuestionID)
		if !ok {
			continue
		}
		answered[q.ID] = true
		if ans, skip, ok := q.parse(a, i, &fieldErrors{}); ok && !skip {
			given[q.ID] = ans
		}
	}
	for _, id := range v.SMS.FollowUp {
		q, _, ok := v.Question(id)
		if !ok || answered[id] || !smsFollowUpType(q.Type) || !v.visible(q, given) {
			continue
		}
		return q, true
	}
	return Question{}, false
}

// checkSMS adds SMSSettings' problems to fe (see Check).
func (v *Version) checkSMS(fe *fieldErrors) {
	st := v.SMS
	if st == nil {
		return
	}
	for _, f := range []struct{ field, text string }{{"sms.question", st.Question}, {"sms.link_question", st.LinkQuestion}} {
		if code := textProblem(f.text, false); code != "" {
			fe.addTextProblem(f.field, code)
		} else if utf8.RuneCountInString(strings.TrimSpace(f.text)) > MaxSMSQuestionRunes {
			fe.add(f.field, "too_long", FormatPersianDigits(fmt.Sprintf("پرسش پیامکی حداکثر %d نویسه است.", MaxSMSQuestionRunes)),
				fmt.Sprintf("%s is longer than %d characters", f.field, MaxSMSQuestionRunes))
		}
	}
	if st.MaxQuestions < 0 || st.MaxQuestions > MaxSMSQuestions {
		fe.add("sms.max_questions", "bounds", FormatPersianDigits(fmt.Sprintf("بیشینهٔ پرسش‌های پیامکی باید ۰ تا %d باشد.", MaxSMSQuestions)),
			fmt.Sprintf("sms.max_questions must be 0–%d (0: the default, %d)", MaxSMSQuestions, DefaultSMSMaxQuestions))
	}
	if len(st.FollowUp) == 0 {
		return
	}
	rating, hasRating := v.SMSRatingQuestion()
	_, ratingAt, _ := v.Question(rating.ID)
	if !hasRating {
		fe.add("sms.follow_up", "no_rating", "پرسش پیگیری پیامکی بدون پرسش امتیاز ۱ تا ۵ (بدون شرط) معنا ندارد.",
			"sms.follow_up needs an unconditional rating5 question for the invitation")
	}
	seen := map[string]bool{}
	for i, id := range st.FollowUp {
		p := fmt.Sprintf("sms.follow_up[%d]", i)
		q, at, ok := v.Question(id)
		switch {
		case !ok:
			fe.add(p, "unknown_question", "این پرسش در این نسخه نیست.", fmt.Sprintf("question %q is not in this version", id))
		case seen[id]:
			fe.add(p, "duplicate_id", "این پرسش دو بار در پیگیری پیامکی آمده است.", "question listed twice")
		case hasRating && at <= ratingAt:
			fe.add(p, "order", "پرسش پیگیری باید پس از پرسش امتیاز بیاید.", "a follow-up comes after the rating question")
		case !smsFollowUpType(q.Type):
			fe.add(p, "sms_type", "با پیامک فقط پرسش‌های چندگزینه‌ای، بله/خیر و امتیاز ۱ تا ۵ پرسیده می‌شوند.",
				"only choice, yesno and rating5 questions can be asked by SMS")
		case q.Type == TypeChoice && len(q.Options) > MaxSMSChoiceOptions:
			fe.add(p, "too_many_options", FormatPersianDigits(fmt.Sprintf("پرسش پیامکی حداکثر %d گزینه دارد (هر گزینه یک رقم).", MaxSMSChoiceOptions)),
				fmt.Sprintf("a choice asked by SMS has at most %d options (one digit each)", MaxSMSChoiceOptions))
		case strings.TrimSpace(q.Title) == "":
			fe.add(p, "title", "پرسش پیامکی عنوان لازم دارد.", "a question asked by SMS needs a title")
		}
		seen[id] = true
	}
}

// AlertRecipient is a person an agency's alerts go to by SMS: an enabled agency admin who gave
// an alert number (kept as ciphertext, to send, and keyed hash, for the outbox).
type AlertRecipient struct {
	UserID    ID
	PhoneHash string
	PhoneEnc  []byte
}
