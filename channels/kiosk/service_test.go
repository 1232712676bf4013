package kiosk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// env is the channel over the real store and intake (buffering in the SQL inbox) on one dialect.
type env struct {
	store   *sqlstore.Store
	clock   *survey.ManualClock
	svc     *kiosk.Service
	in      *intake.Intake
	admin   survey.Principal
	agency  survey.Agency
	office  survey.Office
	version survey.Version
}

// tuesday10 is Tuesday 1 December 2026, 10:00 in Tehran: the default hours are open.
var tuesday10 = time.Date(2026, 12, 1, 10, 0, 0, 0, survey.Tehran)

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{store: sqltest.Open(t, dialect), clock: survey.NewManualClock(tuesday10), admin: survey.Principal{Role: survey.RoleProvinceAdmin, Name: "test"}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	p := survey.Province{Name: "استان"}
	must(e.store.CreateProvince(ctx, &p))
	e.agency = survey.Agency{ProvinceID: p.ID, Name: "اداره"}
	must(e.store.CreateAgency(ctx, &e.agency))
	e.office = survey.Office{AgencyID: e.agency.ID, Name: "دفتر"}
	must(e.store.CreateOffice(ctx, &e.office))
	sv := survey.Survey{AgencyID: e.agency.ID, Title: "نظرسنجی"}
	must(e.store.CreateSurvey(ctx, &sv))
	e.version = survey.Version{SurveyID: sv.ID, Questions: []survey.Question{{ID: "q1", Type: survey.TypeRating5, Title: "رضایت", Required: true}}}
	must(e.store.PublishVersion(ctx, &e.version))
	log := slog.New(slog.DiscardHandler)
	e.in = intake.New(e.store, e.store.Inbox(), nil, intake.Options{Stored: e.store, Clock: e.clock, Logger: log})
	t.Cleanup(e.in.Close)
	e.svc = kiosk.NewService(e.store, e.in, kiosk.Options{Clock: e.clock, Logger: log})
	return e
}

func eachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Parallel()
	for _, d := range sqltest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

// pairedKiosk creates and pairs a kiosk, returning its principal.
func (e *env) pairedKiosk(t *testing.T, name string) survey.Principal {
	t.Helper()
	ctx := context.Background()
	c, err := e.svc.Create(ctx, e.admin, kiosk.NewKiosk{OfficeID: e.office.ID, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	paired, err := e.svc.Pair(ctx, c.Code)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Authenticate(ctx, paired.Token)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != survey.RoleKiosk || p.KioskID != c.ID || p.OfficeID != e.office.ID || p.AgencyID != e.agency.ID || p.Channel != survey.ChannelKiosk {
		t.Fatalf("principal %+v", p)
	}
	return p
}

func (e *env) openAlerts(t *testing.T) []survey.Alert {
	t.Helper()
	as, err := e.store.Alerts(context.Background(), e.agency.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestWatcher(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		watch := func(want int) {
			t.Helper()
			n, err := e.svc.Watch(ctx)
			if err != nil || n != want {
				t.Fatalf("Watch opened %d (%v), want %d", n, err, want)
			}
		}
		p := e.pairedKiosk(t, "کیوسک")
		// An unpaired kiosk is never watched.
		if _, err := e.svc.Create(ctx, e.admin, kiosk.NewKiosk{OfficeID: e.office.ID, Name: "جفت‌نشده"}); err != nil {
			t.Fatal(err)
		}
		watch(0)
		e.clock.Advance(kiosk.SilentAfter)
		watch(0) // silent exactly 15 minutes: not yet
		e.clock.Advance(time.Second)
		watch(1)
		watch(0)
		// Another replica sweeping at the same time opens nothing more.
		other := kiosk.NewService(e.store, e.in, kiosk.Options{Clock: e.clock, Logger: slog.New(slog.DiscardHandler)})
		if n, err := other.Watch(ctx); n != 0 || err != nil {
			t.Fatalf("second replica opened %d, %v", n, err)
		}
		as := e.openAlerts(t)
		if len(as) != 1 || as[0].Kind != survey.AlertKioskSilent || as[0].Subject != fmt.Sprintf("kiosk:%d", p.KioskID) ||
			as[0].OfficeID != e.office.ID || !as[0].OpenedAt.Equal(e.clock.Now()) {
			t.Fatalf("open alerts %+v", as)
		}
		var detail struct {
			KioskID       survey.ID `json:"kiosk_id"`
			SilentSeconds int64     `json:"silent_seconds"`
		}
		if err := json.Unmarshal([]byte(as[0].Detail), &detail); err != nil || detail.KioskID != p.KioskID || detail.SilentSeconds != 901 {
			t.Fatalf("detail %s (%v)", as[0].Detail, err)
		}

		// A heartbeat resolves it.
		now := e.clock.Now()
		if _, err := e.svc.Heartbeat(ctx, p, kiosk.Heartbeat{Clock: &now}); err != nil {
			t.Fatal(err)
		}
		if as := e.openAlerts(t); len(as) != 0 {
			t.Fatalf("open after a heartbeat: %+v", as)
		}
		watch(0)
		// Silent again: a new alert.
		e.clock.Advance(16 * time.Minute)
		watch(1)
		// While the office is closed silence is expected: 16:00 on Tuesday, then Friday.
		if _, err := e.svc.Heartbeat(ctx, p, kiosk.Heartbeat{Clock: &now}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(6 * time.Hour)
		watch(0)
		e.clock.Advance(3 * 24 * time.Hour)
		watch(0)
		// Revoking the token resolves the alert and ends the watching.
		e.clock.Advance(3*24*time.Hour + 18*time.Hour) // Tuesday 10:31, open
		watch(1)
		if err := e.svc.Revoke(ctx, e.admin, p.KioskID); err != nil {
			t.Fatal(err)
		}
		if as := e.openAlerts(t); len(as) != 0 {
			t.Fatalf("open after revoking: %+v", as)
		}
		watch(0)
	})
}

// Two overlapping batches of one kiosk at once give every press one verdict: the one it gets
// in whichever batch judged it first, answered again to the other.
func TestConcurrentBatches(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pairedKiosk(t, "کیوسک")
		var items []json.RawMessage
		base := tuesday10.Add(-10 * time.Minute)
		for i := 0; i < 20; i++ {
			b, _ := json.Marshal(map[string]any{"id": uuid.NewString(), "survey_id": e.version.SurveyID, "survey_version": 1,
				"submitted_at": base.Add(time.Duration(i) * 1500 * time.Millisecond), "answers": []map[string]any{{"question_id": "q1", "value": 4}}})
			items = append(items, b)
		}
		now := e.clock.Now()
		results := make([]kiosk.BatchResult, 4)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each batch holds 15 of the 20 items, starting at a different one.
				var part []json.RawMessage
				for k := 0; k < 15; k++ {
					part = append(part, items[(i*5+k)%20])
				}
				r, err := e.svc.Batch(ctx, p, kiosk.Batch{SentAt: &now, Items: part})
				if err != nil {
					t.Error(err)
				}
				results[i] = r
			}()
		}
		wg.Wait()
		flags := map[string]survey.Flag{}
		accepted := map[string]int{}
		for _, r := range results {
			for _, x := range r.Results {
				if x.Status == kiosk.Rejected {
					t.Fatalf("rejected: %+v", x.Error)
				}
				if f, seen := flags[x.ID]; seen && f != x.Flag {
					t.Fatalf("%s got %q in one batch and %q in another", x.ID, f, x.Flag)
				}
				flags[x.ID] = x.Flag
				if x.Status == kiosk.Accepted {
					accepted[x.ID]++
				}
			}
		}
		if len(flags) != 20 || len(accepted) != 20 {
			t.Fatalf("%d ids judged, %d accepted", len(flags), len(accepted))
		}
		for id, n := range accepted {
			if n != 1 {
				t.Fatalf("%s accepted %d times", id, n)
			}
		}
		// Presses 1.5 s apart: whatever order the batches ran in, no two unflagged presses are
		// closer than the minimum interval.
		presses, err := e.store.KioskPresses(ctx, p.KioskID)
		if err != nil || len(presses) != 20 {
			t.Fatalf("%d presses, %v", len(presses), err)
		}
		var last time.Time
		for _, kp := range presses {
			if kp.Flag != "" {
				continue
			}
			if !last.IsZero() && kp.PressedAt.Sub(last) < kiosk.DefaultMinInterval {
				t.Fatalf("unflagged presses %s and %s", last, kp.PressedAt)
			}
			last = kp.PressedAt
		}
	})
}

// The service refuses principals that are not a paired kiosk's, and staff that may not manage.
func TestServicePrincipals(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pairedKiosk(t, "کیوسک")
		now := e.clock.Now()
		staff := survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: e.agency.ID}
		if _, err := e.svc.Batch(ctx, staff, kiosk.Batch{SentAt: &now}); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("staff batch: %v", err)
		}
		if _, err := e.svc.Config(ctx, survey.Principal{Role: survey.RoleKiosk, AgencyID: e.agency.ID}); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("kiosk principal without a kiosk: %v", err)
		}
		if _, err := e.svc.Authenticate(ctx, "afk_staff-token-0000000000"); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("staff token: %v", err)
		}
		if _, err := e.svc.List(ctx, p, 0); survey.ErrorCode(err) != survey.ECodeNotFound {
			t.Fatalf("a kiosk listing kiosks: %v", err)
		}
		if _, err := e.svc.Hours(ctx, p, e.office.ID); survey.ErrorCode(err) != survey.ECodeNotFound {
			t.Fatalf("a kiosk reading hours: %v", err)
		}
		if _, err := e.svc.SetHours(ctx, staff, e.office.ID, survey.OfficeHours{AlwaysOpen: true}); survey.ErrorCode(err) != survey.ECodeForbidden {
			t.Fatalf("a viewer setting hours: %v", err)
		}
		// A revoked kiosk's principal (still cached by a caller) cannot report in.
		if err := e.svc.Revoke(ctx, e.admin, p.KioskID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Heartbeat(ctx, survey.Principal{Role: survey.RoleKiosk, AgencyID: e.agency.ID, OfficeID: e.office.ID, KioskID: p.KioskID + 100},
			kiosk.Heartbeat{Clock: &now}); survey.ErrorCode(err) != survey.ECodeUnauthorized {
			t.Fatalf("heartbeat for an unknown kiosk: %v", err)
		}
	})
}

// caseRecorder stands in for the cases service where only the kiosk's side is under test: it
// records what it was asked to open.
type caseRecorder struct {
	mu     sync.Mutex
	opened []survey.NewCase
}

func (r *caseRecorder) Open(_ context.Context, nc survey.NewCase) (survey.Case, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opened = append(r.opened, nc)
	return survey.Case{ID: survey.ID(len(r.opened)), AgencyID: nc.AgencyID, Consent: true}, true, nil
}

// TestConfigContactOffer: the tablet is told to offer a follow-up call only when the server
// opens cases and the survey has an unconditional rating to judge by, with the cases' own
// threshold and the complaint notice, so the app and openCase apply one rule.
func TestConfigContactOffer(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.pairedKiosk(t, "کیوسک")
		cfg, err := e.svc.Config(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ContactOffer != nil {
			t.Fatalf("a server without cases offers contact: %+v", cfg.ContactOffer)
		}
		withCases := kiosk.NewService(e.store, e.in, kiosk.Options{Clock: e.clock, Logger: slog.New(slog.DiscardHandler), Cases: &caseRecorder{}})
		if cfg, err = withCases.Config(ctx, p); err != nil {
			t.Fatal(err)
		}
		want := kiosk.ContactOffer{QuestionID: "q1", MaxRating: survey.CaseMaxRating, ComplaintNotice: survey.ComplaintNoticeFa}
		if cfg.ContactOffer == nil || *cfg.ContactOffer != want {
			t.Fatalf("contact offer %+v, want %+v", cfg.ContactOffer, want)
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var wire struct {
			Offer map[string]any `json:"contact_offer"`
		}
		if err := json.Unmarshal(raw, &wire); err != nil || wire.Offer["question_id"] != "q1" || wire.Offer["max_rating"] != float64(2) {
			t.Fatalf("contact_offer on the wire: %s (%v)", raw, err)
		}
		// A new version whose only rating is conditional: nothing to judge by, no offer.
		v := survey.Version{SurveyID: e.version.SurveyID, Questions: []survey.Question{
			{ID: "first", Type: survey.TypeYesNo, Title: "بار اول؟", Required: true},
			{ID: "again", Type: survey.TypeRating5, Title: "دوباره", ShowIf: &survey.Condition{QuestionID: "first", Op: "eq", Value: 0}},
		}}
		if err := e.store.PublishVersion(ctx, &v); err != nil {
			t.Fatal(err)
		}
		if cfg, err = withCases.Config(ctx, p); err != nil {
			t.Fatal(err)
		}
		if cfg.Survey == nil || cfg.Survey.Version != v.Version {
			t.Fatalf("config survey %+v, want version %d", cfg.Survey, v.Version)
		}
		if cfg.ContactOffer != nil {
			t.Fatalf("a survey without an unconditional rating offers contact: %+v", cfg.ContactOffer)
		}
	})
}
