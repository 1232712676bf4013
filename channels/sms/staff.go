package sms

import (
	"context"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// StaffStore is what staff's view of replies reads (the SQL store).
type StaffStore interface {
	AgencyInbound(ctx context.Context, agency survey.ID, from, to time.Time, limit int) ([]survey.SMSInbound, error)
}

// StaffInbound is one reply as an agency's staff see it: the number masked (0912***4567), never
// in full, with the text, what the parser made of it and what processing did.
type StaffInbound struct {
	ID           survey.ID `json:"id"`
	Phone        string    `json:"phone"`
	Text         string    `json:"text"`
	Kind         string    `json:"kind"`
	Outcome      string    `json:"outcome"`
	Rating       int       `json:"rating,omitempty"`
	InvitationID survey.ID `json:"invitation_id"`
	ReceivedAt   time.Time `json:"received_at"`
	// ReceivedJalali is ReceivedAt as a Persian Jalali date and time («۱۰ آذر ۱۴۰۵، ساعت ۱۰:۰۰»), set
	// by the API.
	ReceivedJalali string `json:"received_jalali"`
}

// Staff is staff's view of the replies to their agency's invitations.
type Staff struct {
	store   StaffStore
	privacy *Privacy
}

// NewStaff returns staff's view.
func NewStaff(store StaffStore, privacy *Privacy) *Staff {
	return &Staff{store: store, privacy: privacy}
}

// Inbound returns the latest limit replies to agency's invitations received in [from, to), newest
// first, numbers masked (a number whose ciphertext was purged shows as "—").
func (s *Staff) Inbound(ctx context.Context, agency survey.ID, from, to time.Time, limit int) ([]StaffInbound, error) {
	ib, err := s.store.AgencyInbound(ctx, agency, from, to, limit)
	if err != nil {
		return nil, err
	}
	d := Dev{privacy: s.privacy}
	out := make([]StaffInbound, 0, len(ib))
	for _, m := range ib {
		out = append(out, StaffInbound{ID: m.ID, Phone: d.mask(m.PhoneEnc, m.PhoneHash), Text: m.Text, Kind: m.ParsedKind,
			Outcome: string(m.Outcome), Rating: m.Rating, InvitationID: m.InvitationID, ReceivedAt: m.ReceivedAt})
	}
	return out, nil
}
