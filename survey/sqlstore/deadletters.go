package sqlstore

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// maxDeadLetterText bounds the stored source and reason: an error message can quote the data.
const maxDeadLetterText = 2000

// Quarantine keeps an entry that cannot be processed in dead_letters for a person to inspect (and
// replay once the cause is fixed), so that the aggregator can ack it and move on instead of
// blocking its stream. source says where the entry was ("redis/1731234567890-0": the buffer and
// the entry's ref), reason why it was set aside (undecodable bytes, an invalid id, or the
// database's own refusal with its SQLSTATE), raw is the entry exactly as it was buffered.
//
// The data that made the entry fail must not make this insert fail too: the payload is binary,
// and source and reason are cleaned of NUL bytes and invalid UTF-8 (which PostgreSQL's text
// refuses) and cut to a bounded length.
func (s *Store) Quarantine(ctx context.Context, source string, raw []byte, reason string) error {
	if raw == nil {
		raw = []byte{}
	}
	source, reason = cleanText(source), cleanText(reason)
	// source comes first: GORM expands a []byte right after "(" into one parameter per byte.
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec("INSERT INTO dead_letters (source, reason, payload) VALUES (?, ?, ?)", source, reason, raw).Error
	})
}

// cleanText makes s storable as text on both dialects.
func cleanText(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\0`), "\uFFFD")
	if len(s) > maxDeadLetterText {
		s = strings.ToValidUTF8(s[:maxDeadLetterText], "") + "…"
	}
	return s
}
