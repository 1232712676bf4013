package sms

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/afkar-gov/afkar/survey"
)

// This file holds the texts of a survey asked by SMS beyond the invitation (survey.SMSSettings):
// which question an invitation carries, the follow-up SMS after a rating and how a reply to it
// reads. The conversation itself (who is asked what, when) is the dialogue's.

// InvitationQuestion returns the question an invitation carries under a version's SMS settings
// (nil: the defaults): the short LinkQuestion beside a web link, Question otherwise, and "" —
// which ComposeInvitation reads as its default — when the survey sets none.
func InvitationQuestion(st *survey.SMSSettings, link bool) string {
	if st == nil {
		return ""
	}
	if link {
		return st.LinkQuestion
	}
	return st.Question
}

// Hints of a follow-up SMS.
const (
	yesNoHint   = "۱ بله / ۲ خیر"
	rating5Hint = "عددی از ۱ تا ۵"
	// multipleHint is short on purpose: a choice of five labels and its title leave little of
	// two parts (134 characters). %s is an example of two digits.
	multipleHint = "چند عدد هم می‌شود، مثل %s"
)

// ComposeFollowUp builds the Persian SMS that asks q after the rating: its title, then one line
// per option «۱ صف و معطلی» for a choice (and a hint that several digits may be sent when it
// takes several, «چند عدد هم می‌شود، مثل ۱ ۳»), «۱ بله / ۲ خیر» for yes/no, «عددی از ۱ تا ۵» for a rating, and «لغو ۱۱» last.
// ErrTooLong when the text takes more than MaxParts: the survey's labels are too long for SMS.
func ComposeFollowUp(q survey.Question) (string, error) {
	title := strings.Join(strings.Fields(q.Title), " ")
	if title == "" {
		return "", fmt.Errorf("sms: question %q has no title to ask", q.ID)
	}
	lines := []string{title}
	switch q.Type {
	case survey.TypeChoice:
		if len(q.Options) < 2 || len(q.Options) > survey.MaxSMSChoiceOptions {
			return "", fmt.Errorf("sms: question %q has %d options; by SMS 2 to %d", q.ID, len(q.Options), survey.MaxSMSChoiceOptions)
		}
		for i, o := range q.Options {
			lines = append(lines, survey.FormatPersianDigits(strconv.Itoa(i+1))+" "+strings.Join(strings.Fields(o.Label), " "))
		}
		if q.Multiple {
			example := "۱ ۳"
			if len(q.Options) < 3 {
				example = "۱ ۲"
			}
			lines = append(lines, fmt.Sprintf(multipleHint, example))
		}
	case survey.TypeYesNo:
		lines = append(lines, yesNoHint)
	case survey.TypeRating5:
		lines = append(lines, rating5Hint)
	default:
		return "", fmt.Errorf("sms: question %q of type %s is not asked by SMS", q.ID, q.Type)
	}
	lines = append(lines, OptOutFooter)
	text := strings.Join(lines, "\n")
	if p, _ := Parts(text); p > MaxParts {
		return "", fmt.Errorf("%w: follow-up %q takes %d parts", ErrTooLong, q.ID, p)
	}
	return text, nil
}

// Worst cases CheckSMS composes with.
const (
	checkAgency = "سازمان تأمین آب"                          // 15 characters: a long agency name, to be shown whole
	checkLink   = "https://afkar.example.ir/s/0123456789abc" // 40 characters
)

// CheckSMS reports whether a version can be asked by SMS within MaxParts per message, which
// survey.Version.Check cannot know: every invitation variant (reply by digit, and beside a
// 40-character link) with a 15-letter agency name shown whole, and every follow-up question.
// Call it where versions are published, after Check. The error names the first text that does
// not fit (errors.Is ErrTooLong) or cannot be composed.
func CheckSMS(v survey.Version) error {
	var errs []error
	for _, link := range []string{"", checkLink} {
		inv := Invitation{Agency: checkAgency, Question: InvitationQuestion(v.SMS, link != ""), Link: link}
		text, err := ComposeInvitation(inv)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("invitation (link %v): %w", link != "", err))
		case !strings.HasPrefix(text, checkAgency+":"):
			errs = append(errs, fmt.Errorf("invitation (link %v): %w with a 15-letter agency name", link != "", ErrTooLong))
		}
	}
	if v.SMS != nil {
		for _, id := range v.SMS.FollowUp {
			q, _, ok := v.Question(id)
			if !ok {
				errs = append(errs, fmt.Errorf("follow-up %q: not a question of the version", id))
				continue
			}
			if _, err := ComposeFollowUp(q); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Words that answer a yes/no follow-up, as Normalize writes them.
var (
	yesWords = words("بله", "بلی", "آره", "اره", "آری", "yes", "y", "baleh", "bale", "areh")
	noWords  = words("نه", "خیر", "نخیر", "no", "n", "na", "kheir", "nakheir")
)

// ParseFollowUp reads a reply to the follow-up SMS that asked q, as the value a
// survey.SubmittedAnswer takes for it, and false when the reply does not answer it (the dialogue
// then keeps the reply as a comment, or asks again). Matched on Normalize'd text:
//
//   - choice: one digit per option (1 is the first). Several digits for a question that takes
//     several — separated by spaces, commas («،» or ","), «و», or adjacent («13») — each counted
//     once; any other text, a digit out of range, or several digits for a single choice → false.
//     The value is a list of option ids: ["waiting","documents"].
//   - yesno: 1 or «بله» / «آره» / «بلی» / "yes" → true; 2 or «نه» / «خیر» / "no" → false.
//   - rating5: a 1–5 rating as Parse reads an invitation's reply.
//
// An opt-out («۱۱», «لغو») is never an answer: the caller honours it first. «۱۲» is: a citizen
// in a conversation has not opted out, so to a choice that takes several it means options 1 and 2.
func ParseFollowUp(text string, q survey.Question) (json.RawMessage, bool) {
	if Parse(text).Kind == KindOptOut {
		return nil, false
	}
	s := Normalize(text)
	switch q.Type {
	case survey.TypeChoice:
		digits, ok := choiceDigits(s)
		if !ok || len(digits) == 0 || (len(digits) > 1 && !q.Multiple) {
			return nil, false
		}
		ids := make([]string, 0, len(digits))
		for _, d := range digits {
			if d < 1 || d > len(q.Options) {
				return nil, false
			}
			ids = append(ids, q.Options[d-1].ID)
		}
		b, err := json.Marshal(ids)
		return b, err == nil
	case survey.TypeYesNo:
		w := strings.Trim(s, " .!،,؛;")
		switch {
		case w == "1" || yesWords[w]:
			return json.RawMessage("true"), true
		case w == "2" || noWords[w]:
			return json.RawMessage("false"), true
		}
	case survey.TypeRating5:
		if r := Parse(text); r.Kind == KindRating && r.Rating >= 1 && r.Rating <= 5 {
			return json.RawMessage(strconv.Itoa(r.Rating)), true
		}
	}
	return nil, false
}

// choiceDigits reads a normalised reply made only of digits and separators as the digits it
// holds, in order, each once; false when anything else is in it.
func choiceDigits(s string) ([]int, bool) {
	var out []int
	seen := [10]bool{}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d := int(r - '0')
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		case r == ' ' || r == ',' || r == '،' || r == 'و' || r == '.' || r == '-' || r == '/' || r == '+' || r == '؛' || r == ';':
		default:
			return nil, false
		}
	}
	return out, true
}
