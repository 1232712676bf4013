package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// This file keeps the web-link channel's one piece of state: which single-use links have been
// answered (weblink_uses). The rules live in channels/weblink.

// ClaimLink marks the link tokenID as used by responseID at `at` and reports whether this call
// did; false means the link was already used (by this or another response). The table's primary
// key decides between concurrent claims, on every replica.
func (s *Store) ClaimLink(ctx context.Context, tokenID, responseID string, at time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec("INSERT INTO weblink_uses (token_id, response_id, used_at) VALUES (?, ?, ?) ON CONFLICT (token_id) DO NOTHING",
			tokenID, responseID, utc(at))
		n = res.RowsAffected
		return res.Error
	})
	return n > 0, err
}

// ReleaseLink undoes ClaimLink(tokenID, responseID) when the response could not be stored after
// all, so the citizen can try again; a claim by another response is left alone.
func (s *Store) ReleaseLink(ctx context.Context, tokenID, responseID string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("DELETE FROM weblink_uses WHERE token_id = ? AND response_id = ?", tokenID, responseID).Error
	})
}

// LinkUsed reports whether the link tokenID has been used.
func (s *Store) LinkUsed(ctx context.Context, tokenID string) (bool, error) {
	var n int64
	err := s.read(ctx).Raw("SELECT COUNT(*) FROM weblink_uses WHERE token_id = ?", tokenID).Scan(&n).Error
	return n > 0, s.dbError(err)
}
