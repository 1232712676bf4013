package sqlstore

import (
	"context"

	"gorm.io/gorm"
)

// TestDB exposes the GORM handle to this package's external tests, which tamper with rows
// (drop a migration record, corrupt a rollup, plant an undecodable inbox payload) to prove the
// store notices.
func (s *Store) TestDB() *gorm.DB { return s.db }

// TestWrite runs fn through the store's write path, so that tests see its error translation
// (dbError) applied to statements they choose.
func (s *Store) TestWrite(fn func(db *gorm.DB) error) error {
	return s.write(context.Background(), fn)
}

// MigrationCount is how many migrations this binary knows: versions are numbered by the lead
// and may leave gaps while parallel branches hold the numbers between them, so a count of
// applied migrations is compared with this, not with LatestVersion.
func MigrationCount() int { return len(migrations[DialectPostgres]) }
