package sms

// TEMPORARY stub until branch smsset lands (deleted at merge).

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/afkar-gov/afkar/survey"
)

// ComposeFollowUp (stub).
func ComposeFollowUp(q survey.Question) (string, error) {
	var b strings.Builder
	b.WriteString(q.Title)
	for i, o := range q.Options {
		b.WriteString("\n" + strconv.Itoa(i+1) + " " + o.Label)
	}
	b.WriteString("\n" + OptOutFooter)
	return b.String(), nil
}

// ParseFollowUp (stub).
func ParseFollowUp(text string, q survey.Question) (json.RawMessage, bool) {
	var ids []string
	for _, f := range strings.Fields(Normalize(text)) {
		if f == "و" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > len(q.Options) {
			return nil, false
		}
		ids = append(ids, q.Options[n-1].ID)
	}
	if len(ids) == 0 {
		return nil, false
	}
	if !q.Multiple {
		if len(ids) > 1 {
			return nil, false
		}
		b, _ := json.Marshal(ids[0])
		return b, true
	}
	b, _ := json.Marshal(ids)
	return b, true
}
