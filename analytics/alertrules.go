package analytics

import (
	"context"
	"encoding/json"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// AlertRuleStore is the storage of agencies' simple alert rules (sqlstore.Store implements it).
type AlertRuleStore interface {
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	AlertRules(ctx context.Context, agency survey.ID) (survey.AlertRules, error)
	SetAlertRules(ctx context.Context, r survey.AlertRules) error
	Audit(ctx context.Context, e survey.AuditEntry) error
}

// AlertRuleSettings is how staff read and change an agency's simple alert rules (share unhappy,
// score below/above a level). It enforces tenancy from the principal below any handler: staff
// who may read an agency see its rules (another agency's are "not found"), only an admin of the
// agency or a province admin changes them, every change is validated (survey.AlertRules.Check)
// and written to the audit log with the rules before and after.
type AlertRuleSettings struct {
	Store AlertRuleStore
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Get returns agency's rules to p.
func (s *AlertRuleSettings) Get(ctx context.Context, p survey.Principal, agency survey.ID) (survey.AlertRules, error) {
	if !p.IsStaff() || !p.CanReadAgency(agency) {
		return survey.AlertRules{}, survey.ErrForbiddenAgency()
	}
	if _, err := s.Store.Agency(ctx, agency); err != nil {
		return survey.AlertRules{}, err
	}
	return s.Store.AlertRules(ctx, agency)
}

// Set replaces agency's rules with r (its AgencyID and stamps are ignored; a zero MinN takes
// survey.DefaultAlertRuleN) and returns what was stored.
func (s *AlertRuleSettings) Set(ctx context.Context, p survey.Principal, agency survey.ID, r survey.AlertRules) (survey.AlertRules, error) {
	before, err := s.Get(ctx, p, agency)
	if err != nil {
		return survey.AlertRules{}, err
	}
	if !p.CanManageAgency(agency) {
		return survey.AlertRules{}, survey.Errorf(survey.ECodeForbidden, "فقط مدیر دستگاه یا مدیر استان قواعد هشدار را تغییر می‌دهد.",
			"only an admin of the agency or of the province changes its alert rules")
	}
	if err := r.Check(); err != nil {
		return survey.AlertRules{}, err
	}
	if r.MinN == 0 {
		r.MinN = survey.DefaultAlertRuleN
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	by := p.Name
	if by == "" {
		by = string(p.Role)
	}
	r.AgencyID, r.UpdatedAt, r.UpdatedBy = agency, now.UTC(), by
	if err := s.Store.SetAlertRules(ctx, r); err != nil {
		return survey.AlertRules{}, err
	}
	e := survey.AuditEntry{At: now.UTC(), ActorUserID: p.UserID, ActorTokenID: p.TokenID, ActorName: by,
		Action: "update", Entity: "alert_rules", EntityID: agency, AgencyID: agency}
	if before.Enabled() || !before.UpdatedAt.IsZero() {
		b, _ := json.Marshal(auditRules(before))
		e.Before = string(b)
	}
	a, _ := json.Marshal(auditRules(r))
	e.After = string(a)
	return r, s.Store.Audit(ctx, e)
}

// auditRules is what the audit log keeps of rules: the rules, not who stamped them (the entry
// says that itself).
func auditRules(r survey.AlertRules) map[string]any {
	return map[string]any{"unhappy_share": r.UnhappyShare, "score_below": r.ScoreBelow, "score_above": r.ScoreAbove, "min_n": r.MinN}
}

// AlertRuleSource lists every agency's stored rules (sqlstore.Store).
type AlertRuleSource interface {
	AllAlertRules(ctx context.Context) ([]survey.AlertRules, error)
}

// StoredAlertRules is AlertWatcher.Rules over storage: each run reads the agencies' rules afresh,
// so a change made today applies on the next run without a restart.
func StoredAlertRules(src AlertRuleSource) func(ctx context.Context) (map[survey.ID]SimpleAlertRules, error) {
	return func(ctx context.Context) (map[survey.ID]SimpleAlertRules, error) {
		rs, err := src.AllAlertRules(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[survey.ID]SimpleAlertRules, len(rs))
		for _, r := range rs {
			out[r.AgencyID] = SimpleAlertRules{UnhappyShare: r.UnhappyShare, ScoreBelow: r.ScoreBelow, ScoreAbove: r.ScoreAbove, MinN: r.MinN}
		}
		return out, nil
	}
}
