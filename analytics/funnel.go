package analytics

import (
	"sort"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// FunnelCounts is what became of the visits of one office and day (or of all of them, as totals):
// the steps a programme like Punjab's watches — invited, held, skipped (by reason), sent,
// delivered, failed (by error class), answered by SMS or by link, opted out — and the SMS parts
// and cost they took (cost in Kavenegar's rials).
type FunnelCounts struct {
	Invitations  int64            `json:"invitations"`
	Held         int64            `json:"held"`
	Skipped      map[string]int64 `json:"skipped"`
	Sent         int64            `json:"sent"`
	Delivered    int64            `json:"delivered"`
	Failed       map[string]int64 `json:"failed"`
	AnsweredSMS  int64            `json:"answered_sms"`
	AnsweredLink int64            `json:"answered_link"`
	OptOuts      int64            `json:"opt_outs"`
	Parts        int64            `json:"parts"`
	Cost         int64            `json:"cost"`
}

// FunnelDay is one office's funnel on one Tehran day of visits.
type FunnelDay struct {
	Day       string    `json:"day"`
	DayJalali string    `json:"day_jalali"`
	OfficeID  survey.ID `json:"office_id"`
	FunnelCounts
}

// Funnel is GET /api/v1/agencies/{id}/funnel: per office and Tehran day of the visit, and totals.
type Funnel struct {
	AgencyID survey.ID    `json:"agency_id"`
	From     string       `json:"from"`
	To       string       `json:"to"`
	Totals   FunnelCounts `json:"totals"`
	Days     []FunnelDay  `json:"days"`
}

func newCounts() FunnelCounts {
	return FunnelCounts{Skipped: map[string]int64{}, Failed: map[string]int64{}}
}

// add counts one invitation.
func (c *FunnelCounts) add(f survey.FunnelInvitation) {
	c.Invitations++
	switch f.Status {
	case survey.InvitationHeld:
		c.Held++
	case survey.InvitationSkipped:
		c.Skipped[f.SkipReason]++
	case survey.InvitationFailed:
		class := f.FailClass
		if class == "" {
			class = "unknown"
		}
		c.Failed[class]++
	}
	if f.Sent {
		c.Sent++
	}
	if f.Delivered {
		c.Delivered++
	}
	switch f.AnsweredVia {
	case "sms":
		c.AnsweredSMS++
	case "link":
		c.AnsweredLink++
	}
	if f.OptedOut {
		c.OptOuts++
	}
	c.Parts += f.Parts
	c.Cost += f.Cost
}

// BuildFunnel buckets invitations by office and Tehran day of the visit, ordered by day then
// office, with totals. from and to are the Tehran days asked for (to inclusive).
func BuildFunnel(agency survey.ID, from, to time.Time, invs []survey.FunnelInvitation) Funnel {
	out := Funnel{AgencyID: agency, From: from.In(survey.Tehran).Format(survey.DayFormat),
		To: to.In(survey.Tehran).Format(survey.DayFormat), Totals: newCounts(), Days: []FunnelDay{}}
	type key struct {
		day    string
		office survey.ID
	}
	index := map[key]int{}
	for _, f := range invs {
		day := survey.TehranDay(f.VisitedAt)
		k := key{day.Format(survey.DayFormat), f.OfficeID}
		i, ok := index[k]
		if !ok {
			i = len(out.Days)
			index[k] = i
			out.Days = append(out.Days, FunnelDay{Day: k.day, DayJalali: FormatJalali(day), OfficeID: f.OfficeID,
				FunnelCounts: newCounts()})
		}
		out.Days[i].add(f)
		out.Totals.add(f)
	}
	sort.Slice(out.Days, func(i, j int) bool {
		if out.Days[i].Day != out.Days[j].Day {
			return out.Days[i].Day < out.Days[j].Day
		}
		return out.Days[i].OfficeID < out.Days[j].OfficeID
	})
	return out
}
