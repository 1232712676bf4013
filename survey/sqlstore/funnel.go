package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

var funnelInvitationsSQL = query("funnel_invitations")

// FunnelInvitations reads agency's invitations whose visit falls in [from, to), each with what
// became of it (the funnel_invitations query), ordered by office and visit.
func (s *Store) FunnelInvitations(ctx context.Context, agency survey.ID, from, to time.Time) (_ []survey.FunnelInvitation, err error) {
	rows, err := s.read(ctx).Raw(funnelInvitationsSQL, sql.Named("agency", int64(agency)),
		sql.Named("from_at", utc(from)), sql.Named("to_at", utc(to))).Rows()
	if err != nil {
		return nil, s.dbError(err)
	}
	defer closeRows(rows, &err)
	out := []survey.FunnelInvitation{}
	for rows.Next() {
		var (
			f                         survey.FunnelInvitation
			office                    int64
			visited                   any
			status                    string
			sent, delivered, optedOut int64
		)
		if err := rows.Scan(&office, &visited, &status, &f.SkipReason, &sent, &delivered, &f.FailClass,
			&f.AnsweredVia, &optedOut, &f.Parts, &f.Cost); err != nil {
			return nil, s.dbError(err)
		}
		if f.VisitedAt, err = scannedTime(visited); err != nil {
			return nil, internal(err)
		}
		f.OfficeID, f.Status = survey.ID(office), survey.InvitationStatus(status)
		f.Sent, f.Delivered, f.OptedOut = sent == 1, delivered == 1, optedOut == 1
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(err)
	}
	return out, nil
}

// LinkAnswered marks invitation id answered through its web link (answered_via 'link'), unless it
// was answered before: the funnel counts link answers from here, since a link's token id
// (weblink_uses) is a digest that does not name its invitation.
func (s *Store) LinkAnswered(ctx context.Context, id survey.ID, at time.Time) error {
	_, err := s.updateOne(ctx, "UPDATE invitations SET answered_at = ?, answered_via = 'link' WHERE id = ? AND answered_at IS NULL",
		utc(at), int64(id))
	return err
}
