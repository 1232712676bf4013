package sqlstore

import (
	"context"

	"gorm.io/gorm"
)

// Quarantine keeps an entry that cannot be processed (undecodable bytes, an invalid response)
// in dead_letters for a person to inspect, so that the aggregator can ack it and move on.
func (s *Store) Quarantine(ctx context.Context, source string, raw []byte, reason string) error {
	if raw == nil {
		raw = []byte{}
	}
	// source comes first: GORM expands a []byte right after "(" into one parameter per byte.
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("INSERT INTO dead_letters (source, reason, payload) VALUES (?, ?, ?)", source, reason, raw).Error
	})
}
