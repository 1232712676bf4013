// Package kiosk is the lobby-tablet channel: the rules by which a tablet in an office's waiting
// room becomes a trusted source of answers, and by which its answers are counted or set aside.
//
//   - Enrolment. Staff create a kiosk for one office; it gets a short pairing code (eight
//     characters a person can read aloud and type on a tablet, or scan as a QR code) that lives
//     for AFKAR_KIOSK_PAIRING_TTL and works once. Pairing trades the code for a device token
//     ("afkk_…", 32 random bytes) of which only the SHA-256 is stored; re-pairing rotates it and
//     revoking clears it. A device token stands for exactly one kiosk, office and agency on the
//     kiosk channel (survey.RoleKiosk): it can submit nothing else, and staff tokens are not
//     device tokens.
//   - Sync. A tablet answers offline and sends what it queued in batches. Each item carries the
//     client's UUID, so a batch sent twice, or two overlapping batches, count every answer once;
//     each item gets its own verdict (accepted, duplicate, rejected with the reason) so the tablet
//     knows what to drop. A tablet's clock may be wrong by hours or years: the batch says what the
//     clock read when it was sent, and when that differs from the server's clock by more than a
//     tolerance every new item's time is shifted by the difference.
//   - Stuffing filter. A lobby tablet can be pressed by anyone, as often as they like. Presses
//     closer together than a minimum interval, one press too many within a burst window, and
//     presses while the office is closed are stored but flagged, so nothing acknowledged is lost
//     and staff can audit it, yet flagged answers never reach a score. The decision is a pure
//     function of the kiosk's recorded presses (Rules.Decide), taken under a per-kiosk lock and
//     recorded with the press, so a resend always gets the verdict its first arrival got.
//   - Health. Tablets send heartbeats (queue length, battery, app version, clock); StatusOf turns
//     a kiosk's last contact and its office's hours into unpaired, sleeping, online, stale or
//     offline, and the watcher opens one kiosk_silent alert for a paired kiosk of an open office
//     that has gone quiet, which its next heartbeat resolves.
//   - Hours. Offices keep weekly hours and Jalali holidays (survey.OfficeHours); Open evaluates
//     them in Asia/Tehran with the Jalali calendar, and the tablet receives the holidays as
//     Gregorian dates so it can sleep offline too.
//
// The package imports the survey domain and the Jalali calendar only. It declares what it needs
// from storage (Store) and from intake (Intake) next to the Service that uses them; the SQL store
// and survey/intake implement them, and package api exposes the Service over HTTP.
package kiosk
