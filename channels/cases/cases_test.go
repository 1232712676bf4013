package cases_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
	"github.com/afkar-gov/afkar/survey/staff"
)

// The SQL store is the cases' storage.
var _ cases.Store = (*sqlstore.Store)(nil)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	store            *sqlstore.Store
	svc              *cases.Service
	privacy          *sms.Privacy
	clock            *survey.ManualClock
	logs             *lockedBuffer
	tax, registry    survey.Agency
	taxOffice        survey.Office
	taxAdmin, viewer survey.Principal
	regAdmin         survey.Principal
	province         survey.Principal
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code survey.Code) {
	t.Helper()
	if survey.ErrorCode(err) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

// eachDialect runs fn on both SQL dialects with a tax and a registry agency.
func eachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Parallel()
	for _, dialect := range sqltest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := &env{store: sqltest.Open(t, dialect), clock: survey.NewManualClock(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)), logs: &lockedBuffer{}}
			p := survey.Province{Name: "استان"}
			must(t, e.store.CreateProvince(ctx, &p))
			e.tax = survey.Agency{ProvinceID: p.ID, Name: "ادارهٔ مالیات"}
			must(t, e.store.CreateAgency(ctx, &e.tax))
			e.registry = survey.Agency{ProvinceID: p.ID, Name: "ادارهٔ ثبت احوال"}
			must(t, e.store.CreateAgency(ctx, &e.registry))
			e.taxOffice = survey.Office{AgencyID: e.tax.ID, Name: "دفتر مرکزی"}
			must(t, e.store.CreateOffice(ctx, &e.taxOffice))
			var err error
			e.privacy, err = sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
			must(t, err)
			log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e.svc = cases.New(e.store, e.privacy, cases.Options{Clock: e.clock, Logger: log})
			e.taxAdmin = survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.tax.ID, UserID: 901, Name: "مدیر مالیات"}
			e.viewer = survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: e.tax.ID, UserID: 902, Name: "کارشناس مالیات"}
			e.regAdmin = survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: e.registry.ID, Name: "مدیر ثبت"}
			e.province = survey.Principal{Role: survey.RoleProvinceAdmin, Name: "مدیر استان"}
			fn(t, e)
		})
	}
}

func (e *env) open(t *testing.T, id string, rating int) survey.Case {
	t.Helper()
	c, created, err := e.svc.Open(context.Background(), survey.NewCase{AgencyID: e.tax.ID, OfficeID: e.taxOffice.ID, ResponseID: id,
		Channel: survey.ChannelWeb, Rating: rating, Phone: "۰۹۱۲ ۳۴۵ ۶۷۸۹"})
	must(t, err)
	if !created {
		t.Fatalf("case %s was not new", id)
	}
	return c
}

func (e *env) outboxTexts(t *testing.T, text string) int {
	t.Helper()
	msgs, err := e.store.RecentOutbox(context.Background(), 100)
	must(t, err)
	n := 0
	for _, m := range msgs {
		if m.Text == text {
			n++
		}
	}
	return n
}

// A case not acknowledged in 48 h is escalated once — one case_overdue alert for its agency,
// however often the watcher sweeps — and a case acknowledged in time never is.
func TestEscalationAfter48HoursFiresOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		late := e.open(t, "r-late", 1)
		onTime := e.open(t, "r-on-time", 2)
		if !late.AckDue.Equal(late.CreatedAt.Add(48 * time.Hour)) {
			t.Fatalf("ack_due %v for created %v", late.AckDue, late.CreatedAt)
		}
		e.clock.Advance(47 * time.Hour)
		if n, err := e.svc.Watch(ctx); err != nil || n != 0 {
			t.Fatalf("at 47 h: %d escalated, %v", n, err)
		}
		if _, err := e.svc.Ack(ctx, e.taxAdmin, onTime.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(90 * time.Minute)
		if n, err := e.svc.Watch(ctx); err != nil || n != 1 {
			t.Fatalf("at 48½ h: %d escalated, %v", n, err)
		}
		for range 3 {
			e.clock.Advance(time.Hour)
			if n, err := e.svc.Watch(ctx); err != nil || n != 0 {
				t.Fatalf("a later sweep: %d escalated, %v", n, err)
			}
		}
		alerts, err := e.store.Alerts(ctx, e.tax.ID, true)
		must(t, err)
		if len(alerts) != 1 || alerts[0].Kind != survey.AlertCaseOverdue || alerts[0].Subject != "case:"+late.ID.String() ||
			alerts[0].OfficeID != e.taxOffice.ID {
			t.Fatalf("alerts: %+v", alerts)
		}
		got, err := e.svc.Get(ctx, e.taxAdmin, late.ID)
		must(t, err)
		if got.EscalatedAt == nil || got.Status != survey.CaseOpen {
			t.Fatalf("the late case: %+v", got)
		}
		if got, _ := e.svc.Get(ctx, e.taxAdmin, onTime.ID); got.EscalatedAt != nil {
			t.Fatalf("the acknowledged case was escalated: %+v", got)
		}
		// Acknowledged at last, its alert is resolved.
		if _, err := e.svc.Ack(ctx, e.taxAdmin, late.ID); err != nil {
			t.Fatal(err)
		}
		if open, err := e.store.Alerts(ctx, e.tax.ID, true); err != nil || len(open) != 0 {
			t.Fatalf("open alerts after the ack: %+v, %v", open, err)
		}
	})
}

// Tenancy and roles: another agency's case is not found; a viewer reads but may not assign,
// acknowledge, resolve or reveal; only an admin of the case's own agency sees the full number,
// and that is audited without the number.
func TestCaseOwnershipByTenancy(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.open(t, "r-1", 1)
		if c.PhoneMasked != "0912***6789" || c.Phone != "" || c.PhoneEnc != nil {
			t.Fatalf("the opened case shows %+v", c)
		}
		_, err := e.svc.Get(ctx, e.regAdmin, c.ID)
		wantCode(t, err, survey.ECodeNotFound)
		_, err = e.svc.List(ctx, e.regAdmin, e.tax.ID, "")
		wantCode(t, err, survey.ECodeNotFound)
		_, err = e.svc.Resolve(ctx, e.regAdmin, c.ID, cases.Resolution{Outcome: "x"})
		wantCode(t, err, survey.ECodeNotFound)
		if list, err := e.svc.List(ctx, e.viewer, e.tax.ID, survey.CaseOpen); err != nil || len(list) != 1 {
			t.Fatalf("the viewer's list: %+v, %v", list, err)
		}
		_, err = e.svc.Assign(ctx, e.viewer, c.ID, 1)
		wantCode(t, err, survey.ECodeForbidden)
		_, err = e.svc.Resolve(ctx, e.viewer, c.ID, cases.Resolution{Outcome: "x"})
		wantCode(t, err, survey.ECodeForbidden)
		_, err = e.svc.Ack(ctx, e.viewer, c.ID)
		wantCode(t, err, survey.ECodeForbidden)
		_, err = e.svc.Reveal(ctx, e.viewer, c.ID)
		wantCode(t, err, survey.ECodeForbidden)
		_, err = e.svc.Reveal(ctx, e.province, c.ID)
		wantCode(t, err, survey.ECodeForbidden)

		// Assigned to the viewer's account, the viewer may acknowledge it.
		viewer := staff.User{Login: "viewer", Name: "کارشناس", Role: survey.RoleAgencyStaff, AgencyID: e.tax.ID, PasswordHash: "x"}
		must(t, e.store.CreateUser(ctx, &viewer))
		other := staff.User{Login: "other", Name: "دیگری", Role: survey.RoleAgencyStaff, AgencyID: e.registry.ID, PasswordHash: "x"}
		must(t, e.store.CreateUser(ctx, &other))
		_, err = e.svc.Assign(ctx, e.taxAdmin, c.ID, other.ID)
		wantCode(t, err, survey.ECodeInvalid)
		if got, err := e.svc.Assign(ctx, e.taxAdmin, c.ID, viewer.ID); err != nil || got.OwnerID != viewer.ID {
			t.Fatalf("assign: %+v, %v", got, err)
		}
		e.viewer.UserID = viewer.ID
		if got, err := e.svc.Ack(ctx, e.viewer, c.ID); err != nil || got.Status != survey.CaseAcknowledged || got.AckedAt == nil {
			t.Fatalf("the owner's ack: %+v, %v", got, err)
		}
		_, err = e.svc.Ack(ctx, e.taxAdmin, c.ID)
		wantCode(t, err, survey.ECodeConflict)

		full, err := e.svc.Reveal(ctx, e.taxAdmin, c.ID)
		if err != nil || full.Phone != "+989123456789" {
			t.Fatalf("reveal: %+v, %v", full, err)
		}
		log, err := e.store.AuditLog(ctx, survey.AuditQuery{AgencyID: e.tax.ID, Entity: "case"})
		must(t, err)
		actions := map[string]bool{}
		for _, a := range log {
			actions[a.Action] = true
			if strings.Contains(a.Before+a.After, "6789") {
				t.Fatalf("a number in the audit log: %+v", a)
			}
		}
		for _, want := range []string{"create", "assign", "acknowledge", "reveal_phone"} {
			if !actions[want] {
				t.Fatalf("audit actions %v lack %s", actions, want)
			}
		}
		if strings.Contains(e.logs.String(), "6789") {
			t.Fatalf("a number in the logs")
		}
	})
}

// The resolution SMS goes out only when the citizen consented and a number is kept, and only
// once: no consent → no outbox row.
func TestResolutionSMSOnlyWithConsent(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.open(t, "r-consent", 2)
		got, err := e.svc.Resolve(ctx, e.taxAdmin, c.ID, cases.Resolution{Outcome: "مشکل برطرف شد", AskCitizen: true})
		if err != nil || got.Status != survey.CaseResolved || got.ResolutionSMSAt == nil || got.AckedAt == nil {
			t.Fatalf("resolve: %+v, %v", got, err)
		}
		if n := e.outboxTexts(t, cases.ResolutionText); n != 1 {
			t.Fatalf("%d resolution SMS, want 1", n)
		}
		_, err = e.svc.Resolve(ctx, e.taxAdmin, c.ID, cases.Resolution{Outcome: "again", AskCitizen: true})
		wantCode(t, err, survey.ECodeConflict)
		if n := e.outboxTexts(t, cases.ResolutionText); n != 1 {
			t.Fatalf("%d resolution SMS after a second resolve, want 1", n)
		}

		// A case stored without consent (an older record, say) never texts.
		hash := e.privacy.Hash("+989120000001")
		sealed, err := e.privacy.Seal("+989120000001")
		must(t, err)
		now := e.clock.Now()
		noConsent, _, err := e.store.CreateCase(ctx, survey.Case{AgencyID: e.tax.ID, ResponseID: "r-no-consent", Channel: survey.ChannelKiosk,
			Rating: 1, CreatedAt: now, AckDue: now.Add(survey.CaseAckTarget), Consent: false, PhoneEnc: sealed, PhoneHash: hash})
		must(t, err)
		got, err = e.svc.Resolve(ctx, e.taxAdmin, noConsent.ID, cases.Resolution{Outcome: "انجام شد", AskCitizen: true})
		if err != nil || got.ResolutionSMSAt != nil {
			t.Fatalf("resolve without consent: %+v, %v", got, err)
		}
		// Nor does one resolved without asking, or closed for no contact.
		quiet := e.open(t, "r-quiet", 1)
		_, err = e.svc.Resolve(ctx, e.taxAdmin, quiet.ID, cases.Resolution{Outcome: "بی‌پاسخ", AskCitizen: true, NoContact: true})
		must(t, err)
		msgs, err := e.store.RecentOutbox(ctx, 100)
		must(t, err)
		if len(msgs) != 1 {
			t.Fatalf("%d outbox rows, want 1", len(msgs))
		}
		_, err = e.svc.Resolve(ctx, e.taxAdmin, e.open(t, "r-empty", 1).ID, cases.Resolution{Outcome: "  "})
		wantCode(t, err, survey.ECodeInvalid)
	})
}

// Opening refuses what is not a case: a rating above 2, a number that is not a mobile number; the
// same response twice is one case.
func TestOpenRefusesAndDedupes(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, _, err := e.svc.Open(ctx, survey.NewCase{AgencyID: e.tax.ID, ResponseID: "r-3", Channel: survey.ChannelWeb, Rating: 3, Phone: "09121234567"})
		wantCode(t, err, survey.ECodeInvalid)
		_, _, err = e.svc.Open(ctx, survey.NewCase{AgencyID: e.tax.ID, ResponseID: "r-bad", Channel: survey.ChannelWeb, Rating: 1, Phone: "12345"})
		wantCode(t, err, survey.ECodeInvalid)
		first := e.open(t, "r-twice", 1)
		again, created, err := e.svc.Open(ctx, survey.NewCase{AgencyID: e.tax.ID, ResponseID: "r-twice", Channel: survey.ChannelWeb, Rating: 1, Phone: "09121234567"})
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("the same response again: %+v created %v, %v", again, created, err)
		}
	})
}

// The responsiveness figure: median hours to acknowledge and the share within 48 h; a closed
// case's number is forgotten after the retention period.
func TestStatsAndPurge(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := e.clock.Now()
		a := e.open(t, "r-a", 1)
		b := e.open(t, "r-b", 1)
		c := e.open(t, "r-c", 2)
		e.open(t, "r-d", 2) // never acknowledged
		e.clock.Advance(2 * time.Hour)
		_, err := e.svc.Ack(ctx, e.taxAdmin, a.ID)
		must(t, err)
		e.clock.Advance(8 * time.Hour) // 10 h
		_, err = e.svc.Ack(ctx, e.taxAdmin, b.ID)
		must(t, err)
		e.clock.Advance(50 * time.Hour) // 60 h: late
		_, err = e.svc.Ack(ctx, e.taxAdmin, c.ID)
		must(t, err)
		st, err := e.svc.Stats(ctx, e.viewer, e.tax.ID, start.Add(-time.Hour), start.Add(time.Hour))
		must(t, err)
		if st.Cases != 4 || st.Acknowledged != 3 || st.MedianAckHours == nil || *st.MedianAckHours != 10 ||
			st.WithinTargetRate == nil || *st.WithinTargetRate != 0.5 {
			t.Fatalf("stats %+v median %v share %v", st, st.MedianAckHours, st.WithinTargetRate)
		}
		_, err = e.svc.Stats(ctx, e.regAdmin, e.tax.ID, start, start.Add(time.Hour))
		wantCode(t, err, survey.ECodeNotFound)

		_, err = e.svc.Resolve(ctx, e.taxAdmin, a.ID, cases.Resolution{Outcome: "حل شد"})
		must(t, err)
		e.clock.Advance(sms.DefaultRetention - time.Hour)
		if n, err := e.svc.Purge(ctx, sms.DefaultRetention); err != nil || n != 0 {
			t.Fatalf("purged %d before the retention, %v", n, err)
		}
		e.clock.Advance(2 * time.Hour)
		if n, err := e.svc.Purge(ctx, sms.DefaultRetention); err != nil || n != 1 {
			t.Fatalf("purged %d, %v", n, err)
		}
		got, err := e.svc.Get(ctx, e.taxAdmin, a.ID)
		must(t, err)
		if got.PhoneMasked != "—" {
			t.Fatalf("a purged number shows %q", got.PhoneMasked)
		}
		_, err = e.svc.Reveal(ctx, e.taxAdmin, a.ID)
		wantCode(t, err, survey.ECodeConflict)
		if open, _ := e.svc.Get(ctx, e.taxAdmin, b.ID); open.PhoneMasked == "—" {
			t.Fatalf("an unclosed case lost its number")
		}
	})
}
