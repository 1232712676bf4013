package survey

// TEMPORARY stub until branch smsset lands (deleted at merge).

// SMSSettings (stub).
type SMSSettings struct {
	Question     string   `json:"question,omitempty"`
	LinkQuestion string   `json:"link_question,omitempty"`
	FollowUp     []string `json:"follow_up,omitempty"`
	MaxQuestions int      `json:"max_questions,omitempty"`
}

// SMSRatingQuestion (stub).
func (v *Version) SMSRatingQuestion() (Question, bool) {
	for _, q := range v.Questions {
		if q.Type == TypeRating5 && q.ShowIf == nil {
			return q, true
		}
	}
	return Question{}, false
}

// NextSMSQuestion (stub).
func (v *Version) NextSMSQuestion(answers []SubmittedAnswer, asked int) (Question, bool) {
	if v.SMS == nil {
		return Question{}, false
	}
	max := v.SMS.MaxQuestions
	if max == 0 {
		max = 2
	}
	if asked >= max {
		return Question{}, false
	}
	given := map[string]Answer{}
	for _, a := range answers {
		q, _, ok := v.Question(a.QuestionID)
		if !ok {
			continue
		}
		var fe fieldErrors
		if ans, _, ok := q.parse(a, 0, &fe); ok {
			given[q.ID] = ans
		}
	}
	for _, id := range v.SMS.FollowUp {
		if _, done := given[id]; done {
			continue
		}
		q, _, ok := v.Question(id)
		if ok && v.visible(q, given) {
			return q, true
		}
	}
	return Question{}, false
}
