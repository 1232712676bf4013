package survey

import "time"

// Kiosk is a lobby tablet of one office, as stored: its name and settings, whether it is paired
// (holds a device token, of which only the hash is stored), its pending pairing code, and the
// health its last heartbeat reported. The rules that act on it — pairing, the batch sync, the
// stuffing filter, status, the silence watcher — are the kiosk channel's (channels/kiosk).
type Kiosk struct {
	ID       ID     `json:"id"`
	AgencyID ID     `json:"agency_id"`
	OfficeID ID     `json:"office_id"`
	Name     string `json:"name"`
	// FreeText tells the app to offer the survey's text questions (a keyboard in the lobby).
	FreeText bool `json:"free_text"`
	// Paired is true while a device token is valid for the kiosk.
	Paired   bool       `json:"paired"`
	PairedAt *time.Time `json:"paired_at"`
	// PairingCode is the code a tablet may pair with, kept in plain text while it is pending
	// (it is short-lived and single-use, and printed on the pairing sheet). PairingUsedAt is set
	// when a tablet used it: the code then stays only to tell "already used" from "unknown".
	PairingCode      string     `json:"-"`
	PairingExpiresAt *time.Time `json:"-"`
	PairingUsedAt    *time.Time `json:"-"`
	CreatedAt        time.Time  `json:"created_at"`
	RevokedAt        *time.Time `json:"revoked_at"`
	LastSeenAt       *time.Time `json:"last_seen_at"`
	AppVersion       string     `json:"app_version"`
	Queued           int        `json:"queued"`
	OldestQueuedS    int        `json:"oldest_queued_s"`
	LastSyncAt       *time.Time `json:"last_sync_at"`
	SkewMS           int64      `json:"skew_ms"`
	Battery          *Battery   `json:"battery"`
	// Rejected counts the answers the server refused since the tablet was paired (they are
	// dropped, never counted); StorageErrors counts the answers the tablet could not write to its
	// own storage (kept in memory until sent). Both as the last heartbeat reported; staff look
	// at them when either is not 0.
	Rejected      int `json:"rejected"`
	StorageErrors int `json:"storage_errors"`
}

// Battery is a tablet's battery as its browser reports it: Level 0…1.
type Battery struct {
	Level    float64 `json:"level"`
	Charging bool    `json:"charging"`
}

// PendingCode returns the kiosk's pairing code when one is pending and unexpired at now.
func (k *Kiosk) PendingCode(now time.Time) (string, bool) {
	if k.PairingCode == "" || k.PairingUsedAt != nil || k.PairingExpiresAt == nil || !now.Before(*k.PairingExpiresAt) {
		return "", false
	}
	return k.PairingCode, true
}

// KioskHealth is what a kiosk's heartbeat reports about itself, stored on the kiosk row.
type KioskHealth struct {
	AppVersion    string
	Queued        int
	OldestQueuedS int
	LastSyncAt    *time.Time
	SkewMS        int64
	Battery       *Battery
	Rejected      int
	StorageErrors int
}

// KioskPress is one answer a kiosk took, as its stuffing filter recorded it: the response id,
// when it was pressed on the tablet's clock (corrected for skew), and the filter's verdict
// (empty: counted). A press is recorded once; a resend of its id keeps this verdict.
type KioskPress struct {
	KioskID    ID
	ResponseID string
	PressedAt  time.Time
	Flag       Flag
}

// KioskSync is one batch a kiosk sent: when it arrived, what the tablet's clock said when it was
// sent, the skew between the two and whether the batch's times were corrected by it, and what
// became of its items.
type KioskSync struct {
	KioskID    ID
	ReceivedAt time.Time
	SentAt     time.Time
	SkewMS     int64
	Corrected  bool
	Items      int
	Accepted   int
	Duplicates int
	Rejected   int
}

// KioskDay is one Tehran day of a kiosk's presses: how many were counted and how many each flag
// set aside, and when the last one was pressed.
type KioskDay struct {
	Day        string
	Accepted   int64
	Interval   int64
	Burst      int64
	AfterHours int64
	LastPress  time.Time
}

// Alert kinds.
const (
	// AlertKioskSilent: a paired kiosk of an open office has not been heard from for a while.
	AlertKioskSilent = "kiosk_silent"
	// Score alerts about an office, opened by the alert watcher (analytics.AlertWatcher):
	// AlertScoreDrop and AlertScoreRise when its per-citizen score left its own baseline,
	// AlertShareUnhappy, AlertScoreBelow and AlertScoreAbove when an agency enabled those simple
	// rules. Their subject is "office:<id>".
	AlertScoreDrop    = "score_drop"
	AlertScoreRise    = "score_rise"
	AlertShareUnhappy = "share_unhappy"
	AlertScoreBelow   = "score_below"
	AlertScoreAbove   = "score_above"
)

// Alert is something staff should look at, open until resolved (by the condition ending) and
// possibly acknowledged by a person meanwhile. Subject names what it is about ("kiosk:12"): at
// most one alert of a kind is open per subject. Detail is a JSON object for the alert's kind.
type Alert struct {
	ID             ID         `json:"id"`
	Kind           string     `json:"kind"`
	AgencyID       ID         `json:"agency_id"`
	OfficeID       ID         `json:"office_id"`
	Subject        string     `json:"subject"`
	OpenedAt       time.Time  `json:"opened_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy string     `json:"acknowledged_by"`
	AckComment     string     `json:"ack_comment"`
	Detail         string     `json:"detail"`
}
