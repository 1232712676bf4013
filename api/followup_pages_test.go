package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// followUpEnv is the dashboards with the real alert desk and cases service over the real store:
// an open score-drop alert for each agency and follow-up cases for each, one of the tax
// agency's overdue (opened 60 h ago, on the citizen's response with a phone number in its
// comment) and one fresh.
type followUpEnv struct {
	*dashEnv
	taxDrop, regDrop              survey.ID
	overdue, fresh, regCase       survey.ID
	taxOffice                     survey.ID
	privacy                       *sms.Privacy
	casesSvc                      *cases.Service
	casesClock                    *survey.ManualClock
	ctx                           context.Context
	store                         *sqlstore.Store
	taxAdminB, taxStaffB, adminB  *browser
	taxAdminCSRF, taxStaffCSRF    string
	adminCSRF                     string
	taxAgencyPath, taxCasesPath   string
	regAgencyPath, regCasesPath   string
	alertTaxPath, alertRegPath    string
	overduePath, freshPath, regCP string
}

func newFollowUpEnv(t *testing.T, store *sqlstore.Store) *followUpEnv {
	t.Helper()
	ctx := context.Background()
	privacy, err := sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
	if err != nil {
		t.Fatal(err)
	}
	clock := survey.NewManualClock(time.Now().Add(-60 * time.Hour))
	svc := cases.New(store, privacy, cases.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	e := &followUpEnv{privacy: privacy, casesSvc: svc, casesClock: clock, ctx: ctx, store: store}
	e.dashEnv = newDashEnvWith(t, store, func(d *api.Deps) {
		d.Alerts = &analytics.AlertDesk{Store: store, Audit: store.Audit}
		d.Cases = svc
	})
	f := e.f
	regOffice := survey.Office{AgencyID: f.registry.ID, Name: "دفتر ثبت"}
	if err := store.CreateOffice(ctx, &regOffice); err != nil {
		t.Fatal(err)
	}
	open := func(agency, office survey.ID, detail string) survey.ID {
		t.Helper()
		if ok, err := store.OpenAlert(ctx, survey.Alert{Kind: survey.AlertScoreDrop, AgencyID: agency, OfficeID: office,
			Subject: fmt.Sprintf("office:%d", office), OpenedAt: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), Detail: detail}); err != nil || !ok {
			t.Fatalf("OpenAlert: %v, %v", ok, err)
		}
		as, err := store.Alerts(ctx, agency, true)
		if err != nil || len(as) == 0 {
			t.Fatalf("alerts: %v", err)
		}
		return as[len(as)-1].ID
	}
	e.taxDrop = open(f.tax.ID, f.office.ID, `{"office_name":"دفتر مرکزی مالیات","observed":3.5,"expected":4,"z":-8.1,"n":210}`)
	e.regDrop = open(f.registry.ID, regOffice.ID, `{"observed":3.1,"n":90}`)
	mk := func(agency survey.ID, response string) survey.ID {
		t.Helper()
		k, _, err := svc.Open(ctx, survey.NewCase{AgencyID: agency, OfficeID: f.office.ID, ResponseID: response, Channel: survey.ChannelKiosk,
			Rating: 1, Phone: "09123456789"})
		if err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	e.overdue = mk(f.tax.ID, e.dashEnv.comment)
	clock.Advance(50 * time.Hour)
	e.fresh = mk(f.tax.ID, "00000000-0000-4000-8000-000000000099")
	e.regCase = mk(f.registry.ID, "00000000-0000-4000-8000-000000000098")
	e.taxOffice = f.office.ID

	login := func(user string) (*browser, string) {
		b := e.browser(t)
		b.login(t, user, e.pw[user]).wantStatus(t, http.StatusSeeOther)
		return b, b.me(t).CSRFToken
	}
	e.taxAdminB, e.taxAdminCSRF = login("tax.admin")
	e.taxStaffB, e.taxStaffCSRF = login("tax.staff")
	e.adminB, e.adminCSRF = login("admin")
	e.taxAgencyPath = "/dashboard/agencies/" + f.tax.ID.String()
	e.regAgencyPath = "/dashboard/agencies/" + f.registry.ID.String()
	e.taxCasesPath, e.regCasesPath = e.taxAgencyPath+"/cases", e.regAgencyPath+"/cases"
	e.alertTaxPath = fmt.Sprintf("/dashboard/alerts/%d/ack", e.taxDrop)
	e.alertRegPath = fmt.Sprintf("/dashboard/alerts/%d/ack", e.regDrop)
	e.overduePath = fmt.Sprintf("/dashboard/cases/%d/", e.overdue)
	e.freshPath = fmt.Sprintf("/dashboard/cases/%d/", e.fresh)
	e.regCP = fmt.Sprintf("/dashboard/cases/%d/", e.regCase)
	return e
}

// form posts a url-encoded form with the browser's cookies.
func (b *browser) form(t *testing.T, path string, v url.Values) reply {
	t.Helper()
	return b.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", v.Encode())
}

func wantLocation(t *testing.T, r reply, want string) {
	t.Helper()
	r.wantStatus(t, http.StatusSeeOther)
	if got := r.header.Get("Location"); got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
}

func wantIn(t *testing.T, page reply, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(page.body), w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

// checkStaffPage asserts what every staff page must be: RTL Persian, no script, nothing from
// outside, and half-spaces (ZWNJ) after «می».
func checkStaffPage(t *testing.T, page reply) {
	t.Helper()
	s := string(page.body)
	wantIn(t, page, `<html lang="fa" dir="rtl">`, "Vazirmatn", "\u200c")
	if strings.Contains(s, "<script") || strings.Contains(s, "http://") || strings.Contains(s, "https://") {
		t.Error("a staff page must have no script and nothing from outside")
	}
	if m := regexp.MustCompile(`(^|[\s«(])(ن?می) [\p{Arabic}]`).FindString(s); m != "" {
		t.Errorf("%q needs a half-space (ZWNJ) after «می»", m)
	}
}

func wantNotIn(t *testing.T, page reply, not ...string) {
	t.Helper()
	for _, w := range not {
		if strings.Contains(string(page.body), w) {
			t.Errorf("the page must not have %q", w)
		}
	}
}

// TestAlertsOnTheDashboards: the agency dashboard lists its open alert in words (kind, office,
// figures) with the acknowledgement form for its admin; the form without its CSRF token is
// refused, with it the alert is acknowledged with the comment and the answer goes back to the
// block; another agency's alert is 404; the viewer sees no form and is refused; the province
// dashboard lists every agency's open alerts, linked, and its admin acknowledges from there;
// the audit page shows the acknowledgement.
func TestAlertsOnTheDashboards(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newFollowUpEnv(t, store)
		page := e.taxAdminB.do(t, http.MethodGet, e.taxAgencyPath, "", "").wantStatus(t, http.StatusOK)
		wantIn(t, page, `id="alerts"`, "هشدارها (۱ باز)", "افت معنادار نمره", "دفتر مرکزی مالیات", "z = −۸٫۱", "۲۱۰ نفر",
			`action="`+e.alertTaxPath+`"`, `name="comment"`, `name="csrf_token" value="`+e.taxAdminCSRF+`"`,
			`href="/dashboard/audit"`, `href="`+e.taxCasesPath+`"`, "۲ باز", "۱ گذشته از مهلت ۴۸ ساعته")
		wantNotIn(t, page, e.alertRegPath)

		comment := "با سرپرست دفتر صحبت شد؛ یک باجه اضافه می‌شود"
		r := e.taxAdminB.form(t, e.alertTaxPath, url.Values{"comment": {comment}, "back": {e.f.tax.ID.String()}})
		r.wantStatus(t, http.StatusForbidden) // no CSRF token
		if a, err := store.Alert(e.ctx, e.taxDrop); err != nil || a.AcknowledgedAt != nil {
			t.Fatalf("acknowledged without a CSRF token: %+v %v", a, err)
		}
		e.taxAdminB.form(t, e.alertRegPath, url.Values{"comment": {"x"}, "csrf_token": {e.taxAdminCSRF}}).envelope(t, http.StatusNotFound, "not_found")
		e.taxStaffB.form(t, e.alertTaxPath, url.Values{"comment": {"x"}, "csrf_token": {e.taxStaffCSRF}}).envelope(t, http.StatusForbidden, "forbidden")
		wantLocation(t, e.taxAdminB.form(t, e.alertTaxPath, url.Values{"comment": {comment}, "back": {e.f.tax.ID.String()}, "csrf_token": {e.taxAdminCSRF}}),
			e.taxAgencyPath+"#alerts")
		a, err := store.Alert(e.ctx, e.taxDrop)
		if err != nil || a.AcknowledgedAt == nil || a.AckComment != comment || a.AcknowledgedBy != "نام tax.admin" {
			t.Fatalf("after the form: %+v %v", a, err)
		}
		page = e.taxAdminB.do(t, http.MethodGet, e.taxAgencyPath, "", "").wantStatus(t, http.StatusOK)
		wantIn(t, page, "باز، دیده‌شده", "دیده‌شده به‌دست نام tax.admin", comment)
		wantNotIn(t, page, `action="`+e.alertTaxPath+`"`)

		// The viewer reads the alerts and the cases link, never a form, and no audit link.
		vp := e.taxStaffB.do(t, http.MethodGet, e.taxAgencyPath, "", "").wantStatus(t, http.StatusOK)
		wantIn(t, vp, "افت معنادار نمره", `href="`+e.taxCasesPath+`"`)
		wantNotIn(t, vp, `action="/dashboard/alerts/`, `href="/dashboard/audit"`)

		// The province dashboard: every agency's open alerts, linked; its admin acknowledges.
		pp := e.adminB.do(t, http.MethodGet, "/dashboard", "", "").wantStatus(t, http.StatusOK)
		wantIn(t, pp, `id="alerts"`, `href="`+e.regAgencyPath+`#alerts"`, "اداره کل ثبت اسناد", `action="`+e.alertRegPath+`"`, `href="/dashboard/audit"`)
		wantNotIn(t, pp, `action="`+e.alertTaxPath+`"`) // acknowledged already
		wantLocation(t, e.adminB.form(t, e.alertRegPath, url.Values{"comment": {"پیگیری استان"}, "back": {"province"}, "csrf_token": {e.adminCSRF}}),
			"/dashboard#alerts")

		// The audit page shows both acknowledgements to the province admin, the agency's own to
		// its admin, and nothing to the viewer.
		ap := e.adminB.do(t, http.MethodGet, "/dashboard/audit", "", "").wantStatus(t, http.StatusOK)
		wantIn(t, ap, `<html lang="fa" dir="rtl">`, "گزارش تغییرات", "دیدن و تأیید", "هشدار", comment, "پیگیری استان", "نام tax.admin", "اداره کل ثبت اسناد")
		checkStaffPage(t, ap)
		tp := e.taxAdminB.do(t, http.MethodGet, "/dashboard/audit", "", "").wantStatus(t, http.StatusOK)
		wantIn(t, tp, comment)
		wantNotIn(t, tp, "پیگیری استان")
		fp := e.adminB.do(t, http.MethodGet, "/dashboard/audit?agency_id="+e.f.registry.ID.String(), "", "").wantStatus(t, http.StatusOK)
		wantIn(t, fp, "پیگیری استان")
		wantNotIn(t, fp, comment)
		e.taxStaffB.do(t, http.MethodGet, "/dashboard/audit", "", "").envelope(t, http.StatusForbidden, "forbidden")
		if loc := e.browser(t).do(t, http.MethodGet, "/dashboard/audit", "", "").wantStatus(t, http.StatusSeeOther).header.Get("Location"); loc != "/login" {
			t.Fatalf("the audit page without a session → %q", loc)
		}
	})
}

// TestCasesPage: the cases page lists the agency's cases with status, age against the 48 h
// target (the overdue one highlighted), the rating, the redacted comment and the masked number;
// its admin acknowledges, takes, reveals (audited, the number only in that answer) and resolves
// through the forms; a closed case and a missing outcome come back with a message; another
// agency's case is 404; the viewer sees no forms and is refused; CSRF is required.
func TestCasesPage(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newFollowUpEnv(t, store)
		page := e.taxAdminB.do(t, http.MethodGet, e.taxCasesPath, "", "").wantStatus(t, http.StatusOK)
		wantIn(t, page, `<html lang="fa" dir="rtl">`, "پیگیری شهروندان ناراضی", survey.ComplaintNoticeFa,
			fmt.Sprintf(`class="overdue" data-case="%d"`, e.overdue), fmt.Sprintf(`class="" data-case="%d"`, e.fresh),
			"گذشته از مهلت ۴۸ ساعته", "مانده تا مهلت ۴۸ ساعته", "۱ از ۵", "0912***6789", survey.Redacted, "دفتر",
			`action="`+e.overduePath+`ack"`, `action="`+e.overduePath+`assign"`, `action="`+e.overduePath+`resolve"`, `action="`+e.overduePath+`reveal"`)
		wantNotIn(t, page, "3456789", "۳۴۵۶۷۸۹", "0912 345", "۰۹۱۲ ۳۴۵")
		checkStaffPage(t, page)

		// Tenancy and roles.
		e.taxAdminB.do(t, http.MethodGet, e.regCasesPath, "", "").wantStatus(t, http.StatusNotFound)
		e.taxAdminB.form(t, e.regCP+"ack", url.Values{"csrf_token": {e.taxAdminCSRF}}).envelope(t, http.StatusNotFound, "not_found")
		e.taxAdminB.form(t, e.overduePath+"ack", url.Values{}).wantStatus(t, http.StatusForbidden) // no CSRF token
		vp := e.taxStaffB.do(t, http.MethodGet, e.taxCasesPath, "", "").wantStatus(t, http.StatusOK)
		wantIn(t, vp, "0912***6789")
		wantNotIn(t, vp, `action="/dashboard/cases/`)
		for _, act := range []string{"ack", "assign", "resolve", "reveal"} {
			e.taxStaffB.form(t, e.overduePath+act, url.Values{"csrf_token": {e.taxStaffCSRF}, "outcome": {"x"}}).envelope(t, http.StatusForbidden, "forbidden")
		}
		if k, err := store.Case(e.ctx, e.overdue); err != nil || k.Status != survey.CaseOpen || k.OwnerID != 0 {
			t.Fatalf("refused forms changed the case: %+v %v", k, err)
		}

		// The admin works the overdue case.
		back := e.taxCasesPath + "?flash=%s#cases"
		csrf := url.Values{"csrf_token": {e.taxAdminCSRF}}
		wantLocation(t, e.taxAdminB.form(t, e.overduePath+"ack", csrf), fmt.Sprintf(back, "ack"))
		wantLocation(t, e.taxAdminB.form(t, e.overduePath+"ack", csrf), fmt.Sprintf(back, "conflict"))
		wantLocation(t, e.taxAdminB.form(t, e.overduePath+"assign", csrf), fmt.Sprintf(back, "assign"))
		k, err := store.Case(e.ctx, e.overdue)
		if err != nil || k.Status != survey.CaseAcknowledged || k.OwnerID != e.taxAdmin.ID {
			t.Fatalf("after ack and assign: %+v %v", k, err)
		}
		after := e.taxAdminB.do(t, http.MethodGet, e.taxCasesPath+"?flash=conflict", "", "").wantStatus(t, http.StatusOK)
		wantIn(t, after, "data-flash", "پیش‌تر پذیرفته", "شما (نام tax.admin)", "پذیرش پس از")
		wantNotIn(t, after, `action="`+e.overduePath+`ack"`, `action="`+e.overduePath+`assign"`)

		rev := e.taxAdminB.form(t, e.overduePath+"reveal", csrf).wantStatus(t, http.StatusOK)
		wantIn(t, rev, "data-phone", survey.FormatPersianDigits("989123456789")) // html/template writes the + as &#43;
		if strings.Count(string(rev.body), "data-phone") != 1 {
			t.Error("the reveal shows more than the one number")
		}
		log, err := store.AuditLog(e.ctx, survey.AuditQuery{AgencyID: e.f.tax.ID, Entity: "case"})
		revealed := false
		for _, a := range log {
			revealed = revealed || (a.Action == "reveal_phone" && a.EntityID == e.overdue && a.ActorUserID == e.taxAdmin.ID)
		}
		if err != nil || !revealed {
			t.Fatalf("the reveal is not audited: %+v %v", log, err)
		}
		// The province admin may read and resolve, never reveal.
		e.adminB.form(t, e.freshPath+"reveal", url.Values{"csrf_token": {e.adminCSRF}}).envelope(t, http.StatusForbidden, "forbidden")
		ap := e.adminB.do(t, http.MethodGet, e.taxCasesPath, "", "").wantStatus(t, http.StatusOK)
		wantNotIn(t, ap, `/reveal"`, `/assign"`)
		wantIn(t, ap, `action="`+e.freshPath+`resolve"`)

		wantLocation(t, e.taxAdminB.form(t, e.overduePath+"resolve", url.Values{"csrf_token": {e.taxAdminCSRF}, "outcome": {"  "}}), fmt.Sprintf(back, "invalid"))
		wantLocation(t, e.taxAdminB.form(t, e.overduePath+"resolve", url.Values{"csrf_token": {e.taxAdminCSRF}, "outcome": {"تماس گرفته شد؛ نوبت تازه داده شد"}}),
			fmt.Sprintf(back, "resolve"))
		if k, err = store.Case(e.ctx, e.overdue); err != nil || k.Status != survey.CaseResolved || k.Outcome != "تماس گرفته شد؛ نوبت تازه داده شد" || k.ResolutionSMSAt != nil {
			t.Fatalf("after resolve: %+v %v", k, err)
		}
		closed := e.taxAdminB.do(t, http.MethodGet, e.taxCasesPath+"?status=resolved", "", "").wantStatus(t, http.StatusOK)
		wantIn(t, closed, "بسته با نتیجه", "نوبت تازه")
		wantNotIn(t, closed, fmt.Sprintf(`data-case="%d"`, e.fresh), `action="`+e.overduePath)
		e.taxAdminB.do(t, http.MethodGet, e.taxCasesPath+"?status=gone", "", "").envelope(t, http.StatusUnprocessableEntity, "invalid")

		// The audit page reads the case's history as fields, never the number.
		audit := e.taxAdminB.do(t, http.MethodGet, "/dashboard/audit", "", "").wantStatus(t, http.StatusOK)
		wantIn(t, audit, "دیدن شمارهٔ کامل", "پرونده پیگیری", "بستن", "پیش از تغییر")
		wantNotIn(t, audit, "3456789", "۳۴۵۶۷۸۹", "phone_enc")
	})
}

// TestOfficeScoresAPI: GET /api/v1/agencies/{id}/offices/scores answers the dashboard's office
// rows with n, mean, interval and index; tenancy as every agency route.
func TestOfficeScoresAPI(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, store *sqlstore.Store) {
		e := newDashEnv(t, store)
		var got struct {
			AgencyID survey.ID             `json:"agency_id"`
			Offices  []analytics.OfficeRow `json:"offices"`
		}
		path := fmt.Sprintf("/api/v1/agencies/%d/offices/scores?from=1405-07-01&to=1405-09-10", e.f.tax.ID)
		e.get(t, path, e.f.taxStaff).wantStatus(t, http.StatusOK).json(t, &got)
		if got.AgencyID != e.f.tax.ID || len(got.Offices) != 1 {
			t.Fatalf("offices: %+v", got)
		}
		o := got.Offices[0]
		if o.OfficeID != e.f.office.ID || o.Citizens != 7 || o.Mean.N != 7 || o.Mean.Value == nil || *o.Mean.Value < 24.0/7-1e-9 ||
			*o.Mean.Value > 24.0/7+1e-9 || !o.Mean.HasInterval() || o.Index.Value == nil || o.Enough {
			t.Fatalf("office row: %+v", o)
		}
		e.get(t, fmt.Sprintf("/api/v1/agencies/%d/offices/scores", e.f.registry.ID), e.f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		e.get(t, path, "").envelope(t, http.StatusUnauthorized, "unauthorized")
		e.get(t, fmt.Sprintf("/api/v1/agencies/%d/offices/scores?from=x", e.f.tax.ID), e.f.taxStaff).envelope(t, http.StatusUnprocessableEntity, "invalid")
	})
}
