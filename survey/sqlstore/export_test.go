package sqlstore

import "gorm.io/gorm"

// TestDB exposes the GORM handle to this package's external tests, which tamper with rows
// (drop a migration record, corrupt a rollup, plant an undecodable inbox payload) to prove the
// store notices.
func (s *Store) TestDB() *gorm.DB { return s.db }
