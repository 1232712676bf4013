package kiosk

import (
	"context"
	"fmt"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// NewKiosk is what staff send to create a kiosk.
type NewKiosk struct {
	OfficeID survey.ID `json:"office_id"`
	Name     string    `json:"name"`
	FreeText bool      `json:"free_text"`
}

// Pairing is a pending pairing code: what a person types on the tablet (or scans), and until
// when it works.
type Pairing struct {
	Code      string    `json:"pairing_code"`
	ExpiresAt time.Time `json:"pairing_expires_at"`
}

// Created is a new kiosk with its first pairing code.
type Created struct {
	ID       survey.ID `json:"id"`
	AgencyID survey.ID `json:"agency_id"`
	OfficeID survey.ID `json:"office_id"`
	Name     string    `json:"name"`
	FreeText bool      `json:"free_text"`
	Pairing
}

// PairingSheet is what the printable pairing sheet shows: whose kiosk it is and its pending code.
type PairingSheet struct {
	KioskID    survey.ID
	KioskName  string
	AgencyName string
	OfficeName string
	Pairing
}

// codeAttempts bounds retries when a fresh code happens to equal a stored one (about one in
// 10¹¹ per kiosk).
const codeAttempts = 5

// withNewCode makes a fresh code and hands it to store until one is not taken.
func (s *Service) withNewCode(store func(code string, expires time.Time) error) (Pairing, error) {
	for attempt := 1; ; attempt++ {
		code, err := NewPairingCode()
		if err != nil {
			return Pairing{}, survey.Wrap(survey.ECodeInternal, err, "ساخت کد جفت‌سازی ناموفق بود.", "cannot make a pairing code")
		}
		p := Pairing{Code: code, ExpiresAt: s.now().Add(s.opts.PairingTTL).Truncate(time.Microsecond)}
		err = store(code, p.ExpiresAt)
		if err == nil {
			return p, nil
		}
		if survey.ErrorCode(err) != survey.ECodeConflict || attempt == codeAttempts {
			return Pairing{}, err
		}
	}
}

// Create makes a kiosk in office req.OfficeID with a pairing code. The caller must manage the
// office's agency; an unknown office and one of an agency the caller cannot read are alike not
// found.
func (s *Service) Create(ctx context.Context, p survey.Principal, req NewKiosk) (Created, error) {
	office, err := s.officeFor(ctx, p, req.OfficeID, true)
	if err != nil {
		return Created{}, err
	}
	name, err := checkName(req.Name)
	if err != nil {
		return Created{}, err
	}
	k := survey.Kiosk{AgencyID: office.AgencyID, OfficeID: office.ID, Name: name, FreeText: req.FreeText}
	pairing, err := s.withNewCode(func(code string, expires time.Time) error {
		k.PairingCode, k.PairingExpiresAt = code, &expires
		return s.store.CreateKiosk(ctx, &k)
	})
	if err != nil {
		return Created{}, err
	}
	s.log.Info("kiosk created", "kiosk", k.ID, "agency", k.AgencyID, "office", k.OfficeID, "by", p.Name)
	return Created{ID: k.ID, AgencyID: k.AgencyID, OfficeID: k.OfficeID, Name: k.Name, FreeText: k.FreeText, Pairing: pairing}, nil
}

// NewPairing gives kiosk id a new pairing code (the previous pending one stops working). The
// kiosk's current device token keeps working until the new code is used: re-pairing a tablet,
// or pairing a replacement, rotates the token.
func (s *Service) NewPairing(ctx context.Context, p survey.Principal, id survey.ID) (Pairing, error) {
	k, err := s.kioskFor(ctx, p, id, true)
	if err != nil {
		return Pairing{}, err
	}
	return s.withNewCode(func(code string, expires time.Time) error {
		return s.store.SetPairingCode(ctx, k.ID, code, expires)
	})
}

// PendingPairing returns kiosk id's pending code for the pairing sheet and QR code; not found
// when it has none that still works.
func (s *Service) PendingPairing(ctx context.Context, p survey.Principal, id survey.ID) (PairingSheet, error) {
	k, err := s.kioskFor(ctx, p, id, true)
	if err != nil {
		return PairingSheet{}, err
	}
	code, ok := k.PendingCode(s.now())
	if !ok {
		return PairingSheet{}, survey.Errorf(survey.ECodeNotFound,
			"این کیوسک کد جفت‌سازی معتبری ندارد؛ کد تازه بسازید.", "the kiosk has no valid pairing code; make a new one")
	}
	sheet := PairingSheet{KioskID: k.ID, KioskName: k.Name, Pairing: Pairing{Code: code, ExpiresAt: *k.PairingExpiresAt}}
	if a, err := s.store.Agency(ctx, k.AgencyID); err == nil {
		sheet.AgencyName = a.Name
	}
	if o, err := s.store.Office(ctx, k.OfficeID); err == nil {
		sheet.OfficeName = o.Name
	}
	return sheet, nil
}

// Revoke clears kiosk id's device token and pending code: the tablet is refused from its next
// request and the kiosk is unpaired. Its open silence alert is resolved, since an unpaired
// kiosk is expected to be silent.
func (s *Service) Revoke(ctx context.Context, p survey.Principal, id survey.ID) error {
	k, err := s.kioskFor(ctx, p, id, true)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.store.RevokeKioskToken(ctx, k.ID, now); err != nil {
		return err
	}
	if _, err := s.store.ResolveAlerts(ctx, survey.AlertKioskSilent, subject(k.ID), now); err != nil {
		return err
	}
	s.log.Info("kiosk token revoked", "kiosk", k.ID, "by", p.Name)
	return nil
}

// Listing is one kiosk in the fleet list.
type Listing struct {
	ID            survey.ID       `json:"id"`
	AgencyID      survey.ID       `json:"agency_id"`
	OfficeID      survey.ID       `json:"office_id"`
	OfficeName    string          `json:"office_name"`
	Name          string          `json:"name"`
	FreeText      bool            `json:"free_text"`
	Status        Status          `json:"status"`
	PairedAt      *time.Time      `json:"paired_at"`
	LastSeenAt    *time.Time      `json:"last_seen_at"`
	AppVersion    string          `json:"app_version"`
	Queued        int             `json:"queued"`
	OldestQueuedS int             `json:"oldest_queued_s"`
	LastSyncAt    *time.Time      `json:"last_sync_at"`
	SkewMS        int64           `json:"skew_ms"`
	Battery       *survey.Battery `json:"battery"`
	OpenNow       bool            `json:"open_now"`
	// Rejected and StorageErrors are the tablet's counts of lost or at-risk answers, as its last
	// heartbeat reported (see Heartbeat).
	Rejected      int `json:"rejected"`
	StorageErrors int `json:"storage_errors"`
}

// officeInfo caches what a listing or a sweep needs of each office.
type officeInfo struct {
	name  string
	hours survey.OfficeHours
}

// officeInfos loads offices' names and hours once per call.
type officeInfos struct {
	s    *Service
	seen map[survey.ID]officeInfo
}

func (o *officeInfos) get(ctx context.Context, id survey.ID) (officeInfo, error) {
	if info, ok := o.seen[id]; ok {
		return info, nil
	}
	var info officeInfo
	office, err := o.s.store.Office(ctx, id)
	if err != nil {
		return info, err
	}
	if info.hours, err = o.s.store.OfficeHours(ctx, id); err != nil {
		return info, err
	}
	info.name = office.Name
	o.seen[id] = info
	return info, nil
}

// List returns the kiosks p may see with their status: agency roles their own agency's (asking
// for another agency is not found), province roles every agency's or agencyID's (0: all).
func (s *Service) List(ctx context.Context, p survey.Principal, agencyID survey.ID) ([]Listing, error) {
	if !p.IsStaff() {
		return nil, survey.ErrForbiddenAgency()
	}
	if p.Role == survey.RoleAgencyAdmin || p.Role == survey.RoleAgencyStaff {
		if agencyID != 0 && agencyID != p.AgencyID {
			return nil, survey.ErrForbiddenAgency()
		}
		agencyID = p.AgencyID
	}
	if agencyID != 0 {
		if _, err := s.store.Agency(ctx, agencyID); err != nil {
			return nil, notFoundAs(err, survey.ErrForbiddenAgency)
		}
	}
	ks, err := s.store.Kiosks(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	offices := &officeInfos{s: s, seen: map[survey.ID]officeInfo{}}
	out := make([]Listing, 0, len(ks))
	for _, k := range ks {
		if !p.CanReadAgency(k.AgencyID) {
			continue
		}
		info, err := offices.get(ctx, k.OfficeID)
		if err != nil {
			return nil, err
		}
		open := Open(info.hours, now)
		out = append(out, Listing{
			ID: k.ID, AgencyID: k.AgencyID, OfficeID: k.OfficeID, OfficeName: info.name, Name: k.Name,
			FreeText: k.FreeText, Status: StatusOf(k, open, now), PairedAt: k.PairedAt, LastSeenAt: k.LastSeenAt,
			AppVersion: k.AppVersion, Queued: k.Queued, OldestQueuedS: k.OldestQueuedS, LastSyncAt: k.LastSyncAt,
			SkewMS: k.SkewMS, Battery: k.Battery, OpenNow: open, Rejected: k.Rejected, StorageErrors: k.StorageErrors,
		})
	}
	return out, nil
}

// Stats are a kiosk's presses per Tehran day.
type Stats struct {
	KioskID survey.ID  `json:"kiosk_id"`
	Days    []DayStats `json:"days"`
}

// DayStats is one day of Stats: the presses counted, those each flag set aside, and when the
// last one was pressed.
type DayStats struct {
	Day       string     `json:"day"`
	DayJalali string     `json:"day_jalali"`
	Accepted  int64      `json:"accepted"`
	Flagged   FlagCounts `json:"flagged"`
	LastPress time.Time  `json:"last_press"`
}

// FlagCounts counts flagged presses by flag.
type FlagCounts struct {
	Interval   int64 `json:"interval"`
	Burst      int64 `json:"burst"`
	AfterHours int64 `json:"after_hours"`
}

// Stats returns kiosk id's presses per day from fromDay to toDay (Gregorian "2026-12-01",
// inclusive; "" from the first press, and until today). Days without presses are left out. The
// caller must be able to read the kiosk's agency.
func (s *Service) Stats(ctx context.Context, p survey.Principal, id survey.ID, fromDay, toDay string) (Stats, error) {
	k, err := s.kioskFor(ctx, p, id, false)
	if err != nil {
		return Stats{}, err
	}
	if toDay == "" {
		toDay = survey.TehranDay(s.now()).Format(survey.DayFormat)
	}
	if fromDay != "" && fromDay > toDay {
		return Stats{}, fieldError("from", "after_to", "تاریخ آغاز نباید پس از تاریخ پایان باشد.", "from must not be after to")
	}
	days, err := s.store.KioskDays(ctx, k.ID, fromDay, toDay)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{KioskID: k.ID, Days: make([]DayStats, 0, len(days))}
	for _, d := range days {
		t, err := time.ParseInLocation(survey.DayFormat, d.Day, survey.Tehran)
		if err != nil {
			return Stats{}, survey.Wrap(survey.ECodeInternal, err, "روز نامعتبر در آمار کیوسک.", fmt.Sprintf("bad day %q in kiosk stats", d.Day))
		}
		out.Days = append(out.Days, DayStats{Day: d.Day, DayJalali: jalaliDay(t), Accepted: d.Accepted,
			Flagged:   FlagCounts{Interval: d.Interval, Burst: d.Burst, AfterHours: d.AfterHours},
			LastPress: d.LastPress.UTC()})
	}
	return out, nil
}

// Hours returns office id's hours to anyone who may read its agency.
func (s *Service) Hours(ctx context.Context, p survey.Principal, officeID survey.ID) (survey.OfficeHours, error) {
	o, err := s.officeFor(ctx, p, officeID, false)
	if err != nil {
		return survey.OfficeHours{}, err
	}
	return s.store.OfficeHours(ctx, o.ID)
}

// SetHours stores office id's hours (checked by CheckHours) and returns them as stored. The
// caller must manage the office's agency.
func (s *Service) SetHours(ctx context.Context, p survey.Principal, officeID survey.ID, h survey.OfficeHours) (survey.OfficeHours, error) {
	o, err := s.officeFor(ctx, p, officeID, true)
	if err != nil {
		return survey.OfficeHours{}, err
	}
	h, err = CheckHours(h)
	if err != nil {
		return survey.OfficeHours{}, err
	}
	if err := s.store.SetOfficeHours(ctx, o.ID, h); err != nil {
		return survey.OfficeHours{}, err
	}
	s.log.Info("office hours changed", "office", o.ID, "agency", o.AgencyID, "by", p.Name)
	return h, nil
}

// subject is the alert subject of kiosk id.
func subject(id survey.ID) string { return "kiosk:" + id.String() }
