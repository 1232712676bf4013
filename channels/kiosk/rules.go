package kiosk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Skew is how far a tablet's clock is behind the server's: server time when a batch arrived
// minus the tablet's clock when it sent it (positive: the tablet is slow). When its magnitude
// exceeds tolerance the batch is corrected — every new item's time gets skew added — so a tablet
// set to the wrong day, month or year still files its answers on the day they were given.
// Within the tolerance nothing is touched: the network and the tablet's own drift account for
// that much, and the filter's intervals are measured on the tablet's clock anyway.
func Skew(now, sentAt time.Time, tolerance time.Duration) (skew time.Duration, corrected bool) {
	skew = now.Sub(sentAt) // saturates at ±292 years
	// Compared on both sides rather than through |skew|: the most negative Duration (a clock
	// set to year 9999) has no positive counterpart.
	return skew, skew > tolerance || skew < -tolerance
}

// Burst is the burst rule: more than N presses within Window is too many for one lobby.
type Burst struct {
	N      int
	Window time.Duration
}

// String writes the rule as ParseBurst reads it ("10/60s").
func (b Burst) String() string { return strconv.Itoa(b.N) + "/" + b.Window.String() }

// ParseBurst reads "N/DURATION" (e.g. "10/60s", "20/2m"): N from 1 to 10,000, the window from
// one second to one day.
func ParseBurst(s string) (Burst, error) {
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Burst{}, errors.New("want N/DURATION such as 10/60s")
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 || count > 10000 {
		return Burst{}, fmt.Errorf("count %q: want 1–10000", n)
	}
	window, err := time.ParseDuration(strings.TrimSpace(w))
	if err != nil || window < time.Second || window > 24*time.Hour {
		return Burst{}, fmt.Errorf("window %q: want a duration from 1s to 24h", w)
	}
	return Burst{N: count, Window: window}, nil
}

// Rules are one kiosk's stuffing filter: its office's hours, the minimum interval between two
// presses and the burst rule. Zero MinInterval or Burst.N turns that rule off.
type Rules struct {
	Hours       survey.OfficeHours
	MinInterval time.Duration
	Burst       Burst
}

// Press is one press as the filter sees it: the response id, when it was pressed on the
// tablet's (corrected) clock, and — for a recorded press — the verdict it was given.
type Press struct {
	ID   string
	At   time.Time
	Flag survey.Flag
}

// Decide gives each of fresh (presses that arrived now) its flag, given the kiosk's recorded
// presses (at least those within MinInterval and Burst.Window of the fresh ones). It is a pure
// function: the same presses in give the same flags out.
//
// A fresh press whose id is recorded (a resend), or repeats an id earlier in fresh, keeps that
// press's flag. The others are taken in time order (ties by id) and each, once decided, counts
// as recorded for the ones after it. A press at t is flagged — the first rule that matches wins:
//   - after_hours: the office is closed at t;
//   - interval: another press of the kiosk, flagged or not, is less than MinInterval away from t
//     (either side: a batch that arrives late still sees the presses recorded after it);
//   - burst: counting itself, more than Burst.N presses, flagged or not, fall in (t−Window, t].
//
// Flags are returned in the order of fresh.
func (r Rules) Decide(recorded, fresh []Press) []survey.Flag {
	known := make(map[string]survey.Flag, len(recorded)+len(fresh))
	times := make([]time.Time, 0, len(recorded)+len(fresh))
	for _, p := range recorded {
		if _, dup := known[p.ID]; !dup {
			known[p.ID] = p.Flag
			times = append(times, p.At)
		}
	}
	slices.SortFunc(times, time.Time.Compare)

	order := make([]int, len(fresh))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := fresh[a].At.Compare(fresh[b].At); c != 0 {
			return c
		}
		return strings.Compare(fresh[a].ID, fresh[b].ID)
	})
	decided := map[string]survey.Flag{}
	for _, i := range order {
		p := fresh[i]
		if _, ok := known[p.ID]; ok {
			continue
		}
		if _, ok := decided[p.ID]; ok {
			continue
		}
		f := r.flag(times, p.At)
		decided[p.ID] = f
		at, _ := slices.BinarySearchFunc(times, p.At, time.Time.Compare)
		times = slices.Insert(times, at, p.At)
	}
	out := make([]survey.Flag, len(fresh))
	for i, p := range fresh {
		if f, ok := known[p.ID]; ok {
			out[i] = f
		} else {
			out[i] = decided[p.ID]
		}
	}
	return out
}

// flag decides one new press at t against the sorted times of the presses before it in the
// decision order.
func (r Rules) flag(times []time.Time, t time.Time) survey.Flag {
	if !Open(r.Hours, t) {
		return survey.FlagAfterHours
	}
	if r.MinInterval > 0 {
		// The nearest recorded presses on either side of t decide.
		i, _ := slices.BinarySearchFunc(times, t, time.Time.Compare)
		if i < len(times) && times[i].Sub(t) < r.MinInterval {
			return survey.FlagInterval
		}
		if i > 0 && t.Sub(times[i-1]) < r.MinInterval {
			return survey.FlagInterval
		}
	}
	if r.Burst.N > 0 && r.Burst.Window > 0 {
		// Presses in (t−Window, t], counting this one.
		lo, _ := slices.BinarySearchFunc(times, t.Add(-r.Burst.Window), func(a, b time.Time) int {
			if !a.After(b) {
				return -1
			}
			return 1
		})
		hi, _ := slices.BinarySearchFunc(times, t, func(a, b time.Time) int {
			if !a.After(b) {
				return -1
			}
			return 1
		})
		if hi-lo+1 > r.Burst.N {
			return survey.FlagBurst
		}
	}
	return ""
}

// Status is a kiosk's state as staff see it in the fleet list.
type Status string

// Statuses, in the order StatusOf tests them.
const (
	StatusUnpaired Status = "unpaired" // no device token: never paired, or revoked
	StatusSleeping Status = "sleeping" // the office is closed now; silence is expected
	StatusOnline   Status = "online"   // heard from within OnlineWithin
	StatusStale    Status = "stale"    // heard from within StaleWithin
	StatusOffline  Status = "offline"  // silent longer, or never heard from since pairing
)

// How recent a kiosk's last contact must be for each status. A tablet sends a heartbeat every
// minute, so two missed beats and a half make it stale; SilentAfter is also when the watcher
// raises an alert.
const (
	OnlineWithin = 150 * time.Second
	StaleWithin  = 15 * time.Minute
	SilentAfter  = StaleWithin
)

// StatusOf is k's status at now, given whether its office is open then. Unpaired wins over
// everything, then sleeping; otherwise the age of the last contact decides, and a kiosk not heard
// from since it was (re-)paired is offline.
func StatusOf(k survey.Kiosk, open bool, now time.Time) Status {
	switch {
	case !k.Paired:
		return StatusUnpaired
	case !open:
		return StatusSleeping
	case k.LastSeenAt == nil || (k.PairedAt != nil && k.LastSeenAt.Before(*k.PairedAt)):
		return StatusOffline
	}
	age := now.Sub(*k.LastSeenAt)
	switch {
	case age <= OnlineWithin:
		return StatusOnline
	case age <= StaleWithin:
		return StatusStale
	}
	return StatusOffline
}

// silentSince is when k was last heard from, or paired when it has not been since: the start of
// its silence for the watcher. False for an unpaired kiosk.
func silentSince(k survey.Kiosk) (time.Time, bool) {
	if !k.Paired {
		return time.Time{}, false
	}
	var since time.Time
	if k.PairedAt != nil {
		since = *k.PairedAt
	}
	if k.LastSeenAt != nil && k.LastSeenAt.After(since) {
		since = *k.LastSeenAt
	}
	return since, !since.IsZero()
}
