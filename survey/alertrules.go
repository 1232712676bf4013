package survey

import (
	"math"
	"time"
)

// AlertRules are an agency's HappyOrNot-style alert rules, the simple kinds an agency may switch
// on beside the statistical drop test: a share of unhappy citizens in the window, and a window
// mean below or above a level. They are an agency's own choice (agency admins set them for their
// agency, province admins for any), so they are stored per agency and read by the alert watcher
// on each run. A zero field is off; with UnhappyShare, ScoreBelow and ScoreAbove all zero the
// agency has no simple rule.
type AlertRules struct {
	AgencyID ID `json:"agency_id"`
	// UnhappyShare opens share_unhappy when at least this share (0–1] of the window's citizens
	// were unhappy (a per-citizen headline mean below 3).
	UnhappyShare float64 `json:"unhappy_share"`
	// ScoreBelow and ScoreAbove (1–5) open score_below / score_above when the window's
	// per-citizen headline mean is below / above them.
	ScoreBelow float64 `json:"score_below"`
	ScoreAbove float64 `json:"score_above"`
	// MinN is the fewest citizens a window needs before any rule is judged (at least
	// MinAlertRuleN): a share or a mean of a handful of people is noise.
	MinN int64 `json:"min_n"`
	// UpdatedAt and UpdatedBy say who last changed them (zero when never set).
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// MinAlertRuleN is the smallest minimum count a rule may have, and DefaultAlertRuleN the one
// used when none is given (the watcher's own window minimum).
const (
	MinAlertRuleN     = 10
	DefaultAlertRuleN = 30
)

// Enabled reports whether any rule is on.
func (r AlertRules) Enabled() bool {
	return r.UnhappyShare > 0 || r.ScoreBelow > 0 || r.ScoreAbove > 0
}

// Check validates the rules and reports every broken one in Fields, with codes and messages in
// Persian and English: the share in (0, 1], levels within 1–5, below under above when both are
// set, and a minimum count of at least MinAlertRuleN. A zero MinN is not an error: the caller
// fills in DefaultAlertRuleN.
func (r AlertRules) Check() error {
	fields := map[string]FieldError{}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(r.UnhappyShare) || r.UnhappyShare < 0 || r.UnhappyShare > 1 {
		fields["unhappy_share"] = FieldError{Code: "out_of_range", Message: "unhappy_share must be in (0, 1], or 0 for off",
			MessageFA: "سهم ناراضیان باید بیشتر از ۰ و حداکثر ۱ باشد (۰ یعنی خاموش)."}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"score_below", r.ScoreBelow}, {"score_above", r.ScoreAbove}} {
		if bad(f.v) || f.v != 0 && (f.v < 1 || f.v > 5) {
			fields[f.name] = FieldError{Code: "out_of_range", Message: f.name + " must be within 1–5, or 0 for off",
				MessageFA: "سطح نمره باید بین ۱ و ۵ باشد (۰ یعنی خاموش)."}
		}
	}
	if _, clash := fields["score_below"]; !clash && r.ScoreBelow > 0 && r.ScoreAbove > 0 && r.ScoreBelow >= r.ScoreAbove {
		if _, clash := fields["score_above"]; !clash {
			fields["score_below"] = FieldError{Code: "below_not_under_above", Message: "score_below must be less than score_above",
				MessageFA: "سطح «زیر» باید کمتر از سطح «بالای» باشد."}
		}
	}
	if r.MinN != 0 && r.MinN < MinAlertRuleN {
		fields["min_n"] = FieldError{Code: "too_small", Message: "min_n must be at least 10",
			MessageFA: "حداقل تعداد شهروندان باید دست‌کم ۱۰ باشد."}
	}
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: ECodeInvalid, Message: "the alert rules are not valid", MessageFA: "قواعد هشدار معتبر نیستند.", Fields: fields}
}
