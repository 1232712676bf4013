package kiosk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// silenceDetail is a kiosk_silent alert's Detail.
type silenceDetail struct {
	KioskID       survey.ID `json:"kiosk_id"`
	KioskName     string    `json:"kiosk_name"`
	OfficeName    string    `json:"office_name"`
	SilentSince   time.Time `json:"silent_since"`
	SilentSeconds int64     `json:"silent_seconds"`
}

// Watch is one sweep of the watcher: every paired kiosk whose office is open now and which has
// not been heard from (or, never heard from, was paired) more than SilentAfter ago gets a
// kiosk_silent alert, unless one is open already — the store's unique index on open alerts makes
// that hold across replicas sweeping at once. It returns how many alerts it opened. A closed
// office's kiosk sleeps, so its silence is not news; its next heartbeat resolves the alert.
func (s *Service) Watch(ctx context.Context) (opened int, err error) {
	ks, err := s.store.Kiosks(ctx, 0)
	if err != nil {
		return 0, err
	}
	now := s.now()
	offices := &officeInfos{s: s, seen: map[survey.ID]officeInfo{}}
	for _, k := range ks {
		since, ok := silentSince(k)
		if !ok || now.Sub(since) <= SilentAfter {
			continue
		}
		info, err := offices.get(ctx, k.OfficeID)
		if err != nil {
			return opened, err
		}
		if !Open(info.hours, now) {
			continue
		}
		detail, _ := json.Marshal(silenceDetail{KioskID: k.ID, KioskName: k.Name, OfficeName: info.name,
			SilentSince: since.UTC(), SilentSeconds: int64(now.Sub(since) / time.Second)})
		did, err := s.store.OpenAlert(ctx, survey.Alert{Kind: survey.AlertKioskSilent, AgencyID: k.AgencyID, OfficeID: k.OfficeID,
			Subject: subject(k.ID), OpenedAt: now, Detail: string(detail)})
		if err != nil {
			return opened, err
		}
		if did {
			opened++
			s.log.Warn("kiosk silent; alert opened", "kiosk", k.ID, "agency", k.AgencyID, "office", k.OfficeID,
				"silent_for", now.Sub(since).Round(time.Second))
		}
	}
	return opened, nil
}

// RunWatcher sweeps every interval until ctx ends, logging failed sweeps (the next one tries
// again). It returns when ctx is done, so serve can wait for it on shutdown.
func (s *Service) RunWatcher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Watch(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("kiosk watcher sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
