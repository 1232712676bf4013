package sqlstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
)

// kioskFixture is an agency with an office, in a fresh store.
func kioskFixture(t *testing.T, dialect string) (*sqlstore.Store, survey.Agency, survey.Office) {
	t.Helper()
	ctx := testCtx(t)
	s := sqltest.Open(t, dialect)
	p := survey.Province{Name: "استان"}
	a := survey.Agency{Name: "اداره"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateProvince(ctx, &p))
	a.ProvinceID = p.ID
	must(s.CreateAgency(ctx, &a))
	o := survey.Office{AgencyID: a.ID, Name: "دفتر مرکزی"}
	must(s.CreateOffice(ctx, &o))
	return s, a, o
}

func newKiosk(t *testing.T, s *sqlstore.Store, a survey.Agency, o survey.Office, code string, expires time.Time) survey.Kiosk {
	t.Helper()
	k := survey.Kiosk{AgencyID: a.ID, OfficeID: o.ID, Name: "کیوسک سالن", FreeText: true, PairingCode: code, PairingExpiresAt: &expires}
	if err := s.CreateKiosk(testCtx(t), &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOfficeHoursStorage(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, _, o := kioskFixture(t, dialect)
		got, err := s.OfficeHours(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(got, survey.DefaultOfficeHours()) {
			t.Fatalf("hours of a new office: %+v, %v", got, err)
		}
		h := survey.OfficeHours{Weekly: []survey.HoursSpan{{Day: "sat", Open: "08:00", Close: "12:00"}}, Holidays: []string{"1405-01-01"}}
		if err := s.SetOfficeHours(ctx, o.ID, h); err != nil {
			t.Fatal(err)
		}
		if got, err = s.OfficeHours(ctx, o.ID); err != nil || !reflect.DeepEqual(got, h) {
			t.Fatalf("stored hours: %+v, %v", got, err)
		}
		always := survey.OfficeHours{AlwaysOpen: true}
		if err := s.SetOfficeHours(ctx, o.ID, always); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.OfficeHours(ctx, o.ID); !got.AlwaysOpen || got.Weekly == nil || got.Holidays == nil {
			t.Fatalf("always open read back as %+v", got)
		}
		wantCode(t, s.SetOfficeHours(ctx, o.ID+100, h), survey.ECodeNotFound)
		_, err = s.OfficeHours(ctx, o.ID+100)
		wantCode(t, err, survey.ECodeNotFound)
		if got, err := s.Office(ctx, o.ID); err != nil || got != o {
			t.Fatalf("Office = %+v, %v", got, err)
		}
		_, err = s.Office(ctx, o.ID+100)
		wantCode(t, err, survey.ECodeNotFound)
	})
}

func TestKioskStorage(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, a, o := kioskFixture(t, dialect)
		now := time.Now().UTC().Truncate(time.Microsecond)
		exp := now.Add(15 * time.Minute)
		k := newKiosk(t, s, a, o, "ABCD2345", exp)
		if k.ID == 0 || k.CreatedAt.IsZero() {
			t.Fatalf("created %+v", k)
		}
		got, err := s.Kiosk(ctx, k.ID)
		if err != nil || got.Name != k.Name || !got.FreeText || got.Paired || got.PairingCode != "ABCD2345" ||
			!got.PairingExpiresAt.Equal(exp) || got.PairingUsedAt != nil || got.Battery != nil {
			t.Fatalf("Kiosk = %+v, %v", got, err)
		}
		if code, ok := got.PendingCode(now); !ok || code != "ABCD2345" {
			t.Fatalf("pending code %q %v", code, ok)
		}
		// The same code for another kiosk is a conflict; an unknown office is invalid.
		dup := survey.Kiosk{AgencyID: a.ID, OfficeID: o.ID, Name: "دوم", PairingCode: "ABCD2345", PairingExpiresAt: &exp}
		wantCode(t, s.CreateKiosk(ctx, &dup), survey.ECodeConflict)
		bad := survey.Kiosk{AgencyID: a.ID, OfficeID: o.ID + 100, Name: "بی‌دفتر"}
		if se := wantCode(t, s.CreateKiosk(ctx, &bad), survey.ECodeInvalid); se.Fields["office_id"].Code == "" {
			t.Fatalf("unknown office: %+v", se)
		}
		other := newKiosk(t, s, a, o, "WXYZ6789", exp)

		byCode, err := s.KioskByPairingCode(ctx, "ABCD2345")
		if err != nil || byCode.ID != k.ID {
			t.Fatalf("by code: %+v, %v", byCode, err)
		}
		_, err = s.KioskByPairingCode(ctx, "ZZZZZZZZ")
		wantCode(t, err, survey.ECodeNotFound)

		// Pairing: the code must still be pending and unexpired; it works once.
		if ok, err := s.CompletePairing(ctx, k.ID, "WXYZ6789", "hash-a", now); ok || err != nil {
			t.Fatalf("pairing with another kiosk's code: %v, %v", ok, err)
		}
		if ok, err := s.CompletePairing(ctx, k.ID, "ABCD2345", "hash-a", exp); ok || err != nil {
			t.Fatalf("pairing at expiry: %v, %v", ok, err)
		}
		if ok, err := s.CompletePairing(ctx, k.ID, "ABCD2345", "hash-a", now); !ok || err != nil {
			t.Fatalf("pairing: %v, %v", ok, err)
		}
		if ok, err := s.CompletePairing(ctx, k.ID, "ABCD2345", "hash-b", now); ok || err != nil {
			t.Fatalf("second use of a code: %v, %v", ok, err)
		}
		got, _ = s.KioskByToken(ctx, "hash-a")
		if got.ID != k.ID || !got.Paired || !got.PairedAt.Equal(now) || got.PairingUsedAt == nil {
			t.Fatalf("paired kiosk %+v", got)
		}
		if _, ok := got.PendingCode(now); ok {
			t.Fatal("a used code is still pending")
		}
		_, err = s.KioskByToken(ctx, "hash-b")
		wantCode(t, err, survey.ECodeNotFound)

		// A new code leaves the token; using it rotates the token.
		if err := s.SetPairingCode(ctx, k.ID, "NEWC2345", exp); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SetPairingCode(ctx, k.ID, "WXYZ6789", exp), survey.ECodeConflict)
		wantCode(t, s.SetPairingCode(ctx, k.ID+100, "QQQQ2345", exp), survey.ECodeNotFound)
		if got, _ := s.KioskByToken(ctx, "hash-a"); got.ID != k.ID {
			t.Fatal("a new code revoked the token before it was used")
		}
		if ok, err := s.CompletePairing(ctx, k.ID, "NEWC2345", "hash-c", now); !ok || err != nil {
			t.Fatalf("re-pairing: %v, %v", ok, err)
		}
		_, err = s.KioskByToken(ctx, "hash-a")
		wantCode(t, err, survey.ECodeNotFound)

		// Heartbeats and syncs.
		sync := now.Add(-time.Minute)
		if err := s.RecordHeartbeat(ctx, k.ID, survey.KioskHealth{AppVersion: "1.2.0", Queued: 3, OldestQueuedS: 40,
			LastSyncAt: &sync, SkewMS: -1500, Battery: &survey.Battery{Level: 0.5, Charging: true}, Rejected: 7, StorageErrors: 2}, now); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Kiosk(ctx, k.ID)
		if got.AppVersion != "1.2.0" || got.Queued != 3 || got.OldestQueuedS != 40 || !got.LastSyncAt.Equal(sync) ||
			got.SkewMS != -1500 || got.Battery == nil || got.Battery.Level != 0.5 || !got.Battery.Charging || !got.LastSeenAt.Equal(now) ||
			got.Rejected != 7 || got.StorageErrors != 2 {
			t.Fatalf("after heartbeat %+v (battery %+v)", got, got.Battery)
		}
		if err := s.RecordHeartbeat(ctx, k.ID, survey.KioskHealth{}, now); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.Kiosk(ctx, k.ID); got.Battery != nil || got.LastSyncAt != nil || got.Rejected != 0 || got.StorageErrors != 0 {
			t.Fatalf("a heartbeat without battery kept the old one: %+v", got)
		}
		wantCode(t, s.RecordHeartbeat(ctx, k.ID+100, survey.KioskHealth{}, now), survey.ECodeNotFound)
		rec := survey.KioskSync{KioskID: k.ID, ReceivedAt: now.Add(time.Second), SentAt: now.Add(-3 * time.Hour), SkewMS: 3 * 3600 * 1000,
			Corrected: true, Items: 5, Accepted: 3, Duplicates: 1, Rejected: 1}
		if err := s.RecordSync(ctx, rec); err != nil {
			t.Fatal(err)
		}
		syncs, err := s.KioskSyncs(ctx, k.ID)
		if err != nil || len(syncs) != 1 || !reflect.DeepEqual(syncs[0], rec) {
			t.Fatalf("syncs %+v, %v; want %+v", syncs, err, rec)
		}
		if got, _ = s.Kiosk(ctx, k.ID); got.SkewMS != rec.SkewMS || !got.LastSeenAt.Equal(rec.ReceivedAt) {
			t.Fatalf("a sync did not update the kiosk: %+v", got)
		}

		// Revoking clears the token and any pending code.
		if err := s.SetPairingCode(ctx, k.ID, "PEND2345", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeKioskToken(ctx, k.ID, now); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Kiosk(ctx, k.ID)
		if got.Paired || got.PairingCode != "" || got.RevokedAt == nil {
			t.Fatalf("revoked kiosk %+v", got)
		}
		_, err = s.KioskByToken(ctx, "hash-c")
		wantCode(t, err, survey.ECodeNotFound)
		wantCode(t, s.RevokeKioskToken(ctx, k.ID+100, now), survey.ECodeNotFound)

		all, err := s.Kiosks(ctx, a.ID)
		if err != nil || len(all) != 2 || all[0].ID != k.ID || all[1].ID != other.ID {
			t.Fatalf("Kiosks = %+v, %v", all, err)
		}
		if all, _ := s.Kiosks(ctx, 0); len(all) != 2 {
			t.Fatalf("every kiosk: %d", len(all))
		}
		if none, err := s.Kiosks(ctx, a.ID+100); err != nil || len(none) != 0 {
			t.Fatalf("another agency: %+v, %v", none, err)
		}
	})
}

func TestKioskPresses(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, a, o := kioskFixture(t, dialect)
		k := newKiosk(t, s, a, o, "ABCD2345", time.Now().Add(time.Hour))
		// 20:29:59.5 UTC is 23:59:59.5 in Tehran on 1 December; half a second later is 2 December.
		base := time.Date(2026, 12, 1, 20, 29, 59, 500_000_000, time.UTC)
		at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
		first := []survey.KioskPress{
			{ResponseID: "a", PressedAt: at(0)},
			{ResponseID: "b", PressedAt: at(250), Flag: survey.FlagInterval},
			{ResponseID: "c", PressedAt: at(500)},
			{ResponseID: "d", PressedAt: at(10_000), Flag: survey.FlagBurst},
			{ResponseID: "e", PressedAt: at(3_600_000), Flag: survey.FlagAfterHours},
		}
		record := func(ids []string, add []survey.KioskPress, from, to time.Time) (known, window []survey.KioskPress) {
			t.Helper()
			err := s.RecordPresses(ctx, k.ID, ids, func(kn []survey.KioskPress, w func(from, to time.Time) ([]survey.KioskPress, error)) ([]survey.KioskPress, error) {
				known = kn
				var err error
				window, err = w(from, to)
				return add, err
			})
			if err != nil {
				t.Fatal(err)
			}
			return known, window
		}
		known, window := record([]string{"a", "b"}, first, base.Add(-time.Hour), base.Add(time.Hour))
		if len(known) != 0 || len(window) != 0 {
			t.Fatalf("before any press: known %v, window %v", known, window)
		}
		// Sub-second times order correctly in both dialects, and the window is inclusive.
		known, window = record([]string{"b", "c", "zz"}, []survey.KioskPress{{ResponseID: "a", PressedAt: at(99)}}, at(250), at(10_000))
		if len(known) != 2 || len(window) != 3 || window[0].ResponseID != "b" || window[1].ResponseID != "c" || window[2].ResponseID != "d" {
			t.Fatalf("known %+v, window %+v", known, window)
		}
		for _, kp := range known {
			want := first[1]
			if kp.ResponseID == "c" {
				want = first[2]
			}
			want.KioskID = k.ID
			if !reflect.DeepEqual(kp, want) {
				t.Fatalf("recorded %+v, want %+v", kp, want)
			}
		}
		// The second record's "a" did not replace the first.
		all, err := s.KioskPresses(ctx, k.ID)
		if err != nil || len(all) != 5 || !all[0].PressedAt.Equal(at(0)) {
			t.Fatalf("presses %+v, %v", all, err)
		}
		// A press for an unknown kiosk is not found.
		err = s.RecordPresses(ctx, k.ID+100, nil, func([]survey.KioskPress, func(time.Time, time.Time) ([]survey.KioskPress, error)) ([]survey.KioskPress, error) {
			t.Fatal("decide ran for an unknown kiosk")
			return nil, nil
		})
		wantCode(t, err, survey.ECodeNotFound)

		days, err := s.KioskDays(ctx, k.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		want := []survey.KioskDay{
			{Day: "2026-12-01", Accepted: 1, Interval: 1, LastPress: at(250)},
			{Day: "2026-12-02", Accepted: 1, Burst: 1, AfterHours: 1, LastPress: at(3_600_000)},
		}
		if !reflect.DeepEqual(days, want) {
			t.Fatalf("KioskDays\n got %+v\nwant %+v", days, want)
		}
		if days, _ := s.KioskDays(ctx, k.ID, "2026-12-02", "2026-12-02"); len(days) != 1 || days[0].Day != "2026-12-02" {
			t.Fatalf("one day: %+v", days)
		}
		if days, _ := s.KioskDays(ctx, k.ID, "", "2026-12-01"); len(days) != 1 || days[0].Day != "2026-12-01" {
			t.Fatalf("until the first day: %+v", days)
		}
		if days, err := s.KioskDays(ctx, k.ID+100, "", ""); err != nil || len(days) != 0 {
			t.Fatalf("another kiosk: %+v, %v", days, err)
		}
	})
}

func TestAlerts(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := testCtx(t)
		s, a, o := kioskFixture(t, dialect)
		now := time.Now().UTC().Truncate(time.Microsecond)
		alert := survey.Alert{Kind: survey.AlertKioskSilent, AgencyID: a.ID, OfficeID: o.ID, Subject: "kiosk:1", OpenedAt: now, Detail: `{"kiosk_id":1}`}
		for i, want := range []bool{true, false, false} {
			alert.OpenedAt = now.Add(time.Duration(i) * time.Minute)
			if opened, err := s.OpenAlert(ctx, alert); err != nil || opened != want {
				t.Fatalf("OpenAlert #%d = %v, %v; want %v", i+1, opened, err, want)
			}
		}
		other := alert
		other.Subject = "kiosk:2"
		if opened, err := s.OpenAlert(ctx, other); !opened || err != nil {
			t.Fatalf("another subject: %v, %v", opened, err)
		}
		open, err := s.Alerts(ctx, a.ID, true)
		if err != nil || len(open) != 2 || !open[0].OpenedAt.Equal(now) || open[0].Detail != alert.Detail || open[0].ResolvedAt != nil {
			t.Fatalf("open alerts %+v, %v", open, err)
		}
		if n, err := s.ResolveAlerts(ctx, survey.AlertKioskSilent, "kiosk:1", now); n != 1 || err != nil {
			t.Fatalf("ResolveAlerts = %d, %v", n, err)
		}
		if n, _ := s.ResolveAlerts(ctx, survey.AlertKioskSilent, "kiosk:1", now); n != 0 {
			t.Fatalf("resolved twice: %d", n)
		}
		// Once resolved, the subject may alert again.
		if opened, err := s.OpenAlert(ctx, alert); !opened || err != nil {
			t.Fatalf("reopening: %v, %v", opened, err)
		}
		all, _ := s.Alerts(ctx, 0, false)
		open, _ = s.Alerts(ctx, a.ID, true)
		if len(all) != 3 || len(open) != 2 || all[0].ResolvedAt == nil {
			t.Fatalf("all %+v, open %+v", all, open)
		}
		bad := alert
		bad.AgencyID, bad.Subject = a.ID+100, "kiosk:3"
		_, err = s.OpenAlert(context.Background(), bad)
		wantCode(t, err, survey.ECodeInvalid)
	})
}
