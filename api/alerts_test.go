package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// alertReply is an alert as GET /api/v1/alerts answers it.
type alertReply struct {
	ID             survey.ID      `json:"id"`
	Kind           string         `json:"kind"`
	AgencyID       survey.ID      `json:"agency_id"`
	OfficeID       survey.ID      `json:"office_id"`
	ResolvedAt     *time.Time     `json:"resolved_at"`
	AcknowledgedAt *time.Time     `json:"acknowledged_at"`
	AcknowledgedBy string         `json:"acknowledged_by"`
	AckComment     string         `json:"ack_comment"`
	Detail         map[string]any `json:"detail"`
}

// TestAlertsAPI: the alerts routes over real HTTP and the real store on both dialects — an agency's
// staff see only their agency's alerts (another agency's is 404, even by id), province staff see
// all, state=all adds resolved ones; only an admin of the alert's agency or the province admin
// acknowledges, with a comment.
func TestAlertsAPI(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		ctx := context.Background()
		f := seedStore(t, store)
		regOffice := survey.Office{AgencyID: f.registry.ID, Name: "دفتر ثبت"}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(store.CreateOffice(ctx, &regOffice))
		taxAdmin, err := store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: f.tax.ID, Name: "tax admin"})
		must(err)
		regAdmin, err := store.CreateToken(ctx, survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: f.registry.ID, Name: "registry admin"})
		must(err)
		now := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		open := func(kind string, agency, office survey.ID, detail string) {
			t.Helper()
			if ok, err := store.OpenAlert(ctx, survey.Alert{Kind: kind, AgencyID: agency, OfficeID: office,
				Subject: fmt.Sprintf("office:%d", office), OpenedAt: now, Detail: detail}); err != nil || !ok {
				t.Fatalf("OpenAlert: %v, %v", ok, err)
			}
		}
		open(survey.AlertScoreDrop, f.tax.ID, f.office.ID, `{"observed":3.5,"expected":4,"z":-8.1,"n":210}`)
		open(survey.AlertScoreBelow, f.tax.ID, f.office.ID, `{"observed":3.5,"n":210,"level":3.7}`)
		open(survey.AlertScoreDrop, f.registry.ID, regOffice.ID, `{"observed":3.1,"n":90}`)
		if n, err := store.ResolveAlerts(ctx, survey.AlertScoreBelow, fmt.Sprintf("office:%d", f.office.ID), now.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("ResolveAlerts = %d, %v", n, err)
		}
		h := start(t, api.Deps{Catalog: store, Auth: store, Alerts: &analytics.AlertDesk{Store: store, Audit: store.Audit, Now: func() time.Time { return now.Add(2 * time.Hour) }}})

		list := func(path, token string) []alertReply {
			t.Helper()
			var out []alertReply
			h.get(t, path, token).wantStatus(t, http.StatusOK).json(t, &out)
			return out
		}
		ids := func(as []alertReply) string {
			var s []string
			for _, a := range as {
				s = append(s, fmt.Sprintf("%d:%s", a.AgencyID, a.Kind))
			}
			return strings.Join(s, ",")
		}
		tax, reg := f.tax.ID, f.registry.ID
		if got, want := ids(list("/api/v1/alerts", f.taxStaff)), fmt.Sprintf("%d:score_drop", tax); got != want {
			t.Fatalf("tax staff, open: %s, want %s", got, want)
		}
		if got, want := ids(list("/api/v1/alerts?state=all", f.taxStaff)), fmt.Sprintf("%d:score_drop,%d:score_below", tax, tax); got != want {
			t.Fatalf("tax staff, all: %s, want %s", got, want)
		}
		if got, want := ids(list("/api/v1/alerts?state=all", f.province)), fmt.Sprintf("%d:score_drop,%d:score_below,%d:score_drop", tax, tax, reg); got != want {
			t.Fatalf("province staff, all: %s, want %s", got, want)
		}
		if got, want := ids(list(fmt.Sprintf("/api/v1/alerts?agency_id=%d", reg), f.province)), fmt.Sprintf("%d:score_drop", reg); got != want {
			t.Fatalf("province staff, registry: %s, want %s", got, want)
		}
		all := list("/api/v1/alerts?state=all", adminToken)
		if len(all) != 3 || all[0].Detail["z"] != -8.1 || all[1].ResolvedAt == nil || all[0].ResolvedAt != nil {
			t.Fatalf("admin, all: %+v", all)
		}
		taxDrop, regDrop := all[0].ID, all[2].ID
		h.get(t, fmt.Sprintf("/api/v1/alerts?agency_id=%d", reg), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		h.get(t, "/api/v1/alerts?state=closed", f.taxStaff).envelope(t, http.StatusUnprocessableEntity, "invalid")
		h.get(t, "/api/v1/alerts", "").envelope(t, http.StatusUnauthorized, "unauthorized")
		h.get(t, "/api/v1/alerts", f.kiosk).envelope(t, http.StatusForbidden, "forbidden")

		ack := func(id survey.ID, token string) reply {
			return h.request(t, http.MethodPost, fmt.Sprintf("/api/v1/alerts/%d/ack", id), token, "application/json", `{"comment":"  بررسی شد؛ کارمند جدید  "}`)
		}
		ack(taxDrop, f.taxStaff).envelope(t, http.StatusForbidden, "forbidden") // may read, may not manage
		ack(taxDrop, regAdmin).envelope(t, http.StatusNotFound, "not_found")    // another agency's alert
		ack(regDrop, taxAdmin).envelope(t, http.StatusNotFound, "not_found")
		ack(99999, adminToken).envelope(t, http.StatusNotFound, "not_found")
		var got alertReply
		ack(taxDrop, taxAdmin).wantStatus(t, http.StatusOK).json(t, &got)
		if got.ID != taxDrop || got.AcknowledgedAt == nil || got.AcknowledgedBy != "tax admin" || got.AckComment != "بررسی شد؛ کارمند جدید" {
			t.Fatalf("acknowledged: %+v", got)
		}
		ack(regDrop, adminToken).wantStatus(t, http.StatusOK).json(t, &got)
		if got.AcknowledgedAt == nil || got.ResolvedAt != nil {
			t.Fatalf("province admin's acknowledgement: %+v", got)
		}
		// Both acknowledgements are in the audit log, by whom and with the comment.
		log, err := store.AuditLog(ctx, survey.AuditQuery{Entity: "alert"})
		must(err)
		if len(log) != 2 || log[1].ActorName != "tax admin" || log[1].EntityID != taxDrop || log[1].AgencyID != tax ||
			log[1].Action != "ack" || !strings.Contains(log[1].After, "کارمند جدید") || log[0].EntityID != regDrop {
			t.Fatalf("audit log: %+v", log)
		}
		// The tax staff's list shows the acknowledgement; the registry's alert stays out of it.
		mine := list("/api/v1/alerts", f.taxStaff)
		if len(mine) != 1 || mine[0].AckComment != "بررسی شد؛ کارمند جدید" || mine[0].AcknowledgedAt == nil {
			t.Fatalf("tax staff after ack: %+v", mine)
		}
		h.request(t, http.MethodPost, fmt.Sprintf("/api/v1/alerts/%d/ack", taxDrop), taxAdmin, "application/json",
			`{"comment":"`+strings.Repeat("ب", 1001)+`"}`).envelope(t, http.StatusUnprocessableEntity, "invalid")
	})
}
