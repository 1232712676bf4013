package analytics

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/survey"
)

// AlertRecords is the storage the alert desk reads and writes (sqlstore.Store).
type AlertRecords interface {
	Alerts(ctx context.Context, agencyID survey.ID, openOnly bool) ([]survey.Alert, error)
	Alert(ctx context.Context, id survey.ID) (survey.Alert, error)
	AckAlert(ctx context.Context, id survey.ID, by, comment string, now time.Time) (survey.Alert, error)
}

// MaxAckComment bounds an acknowledgement's comment, in characters.
const MaxAckComment = 1000

// AlertDesk is what staff do with alerts: list them and acknowledge them. It enforces tenancy
// from the principal, below any handler: an agency's staff see only their agency's alerts, an
// alert of an agency the caller may not read is not found, and only an admin of the alert's
// agency or a province admin may acknowledge it.
type AlertDesk struct {
	Store AlertRecords
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Audit, when set (the SQL store), records each acknowledgement in the audit log.
	Audit func(ctx context.Context, e survey.AuditEntry) error
}

// List returns the alerts p may read, by id: of agency (0: every agency p may read — all for
// province staff, the own agency for agency staff), the open ones only when openOnly.
func (d *AlertDesk) List(ctx context.Context, p survey.Principal, agency survey.ID, openOnly bool) ([]survey.Alert, error) {
	if !p.IsStaff() {
		return nil, survey.Errorf(survey.ECodeForbidden, "فقط کارکنان هشدارها را می‌بینند.", "only staff see alerts")
	}
	if agency == 0 && (p.Role == survey.RoleAgencyAdmin || p.Role == survey.RoleAgencyStaff) {
		agency = p.AgencyID
		if agency == 0 {
			return []survey.Alert{}, nil
		}
	}
	if agency != 0 && !p.CanReadAgency(agency) {
		return nil, survey.ErrForbiddenAgency()
	}
	as, err := d.Store.Alerts(ctx, agency, openOnly)
	if err != nil {
		return nil, err
	}
	out := make([]survey.Alert, 0, len(as))
	for _, a := range as {
		if p.CanReadAgency(a.AgencyID) { // belt and braces: the query is already narrowed
			out = append(out, a)
		}
	}
	return out, nil
}

// Ack records that p acknowledged alert id, with a comment (trimmed, at most MaxAckComment
// characters). An alert of an agency p may not read is not found; one it may read but not
// manage is forbidden.
func (d *AlertDesk) Ack(ctx context.Context, p survey.Principal, id survey.ID, comment string) (survey.Alert, error) {
	a, err := d.Store.Alert(ctx, id)
	if err != nil {
		return survey.Alert{}, err
	}
	if !p.IsStaff() || !p.CanReadAgency(a.AgencyID) {
		return survey.Alert{}, survey.Errorf(survey.ECodeNotFound, "این هشدار پیدا نشد.", "alert not found")
	}
	if !p.CanManageAgency(a.AgencyID) {
		return survey.Alert{}, survey.Errorf(survey.ECodeForbidden, "فقط مدیر دستگاه یا استان هشدار را تأیید می‌کند.",
			"only an admin of the agency or of the province acknowledges alerts")
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > MaxAckComment {
		return survey.Alert{}, &survey.Error{Code: survey.ECodeInvalid, Message: "comment too long", MessageFA: "توضیح بیش از حد بلند است.",
			Fields: map[string]survey.FieldError{"comment": {Code: "too_long", Message: "at most 1000 characters", MessageFA: "حداکثر ۱۰۰۰ نویسه"}}}
	}
	by := p.Name
	if by == "" {
		by = string(p.Role)
	}
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	acked, err := d.Store.AckAlert(ctx, id, by, comment, now)
	if err != nil || d.Audit == nil {
		return acked, err
	}
	after, _ := json.Marshal(map[string]string{"kind": acked.Kind, "subject": acked.Subject, "comment": comment})
	err = d.Audit(ctx, survey.AuditEntry{At: now, ActorUserID: p.UserID, ActorTokenID: p.TokenID, ActorName: by,
		Action: "ack", Entity: "alert", EntityID: id, AgencyID: acked.AgencyID, After: string(after)})
	return acked, err
}
