package sqlstore

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// archiveBatch is how many raw responses ArchiveResponses moves per transaction.
const archiveBatch = 5000

// ArchiveHeader is the first line of an archive: the responses table's columns, in order.
var ArchiveHeader = []string{"id", "agency_id", "office_id", "survey_id", "survey_version", "channel", "source",
	"submitted_at", "received_at", "day", "answers", "content_hash", "flag", "device_id"}

// ArchiveResponses is the retention policy's one operation: it moves the raw responses of Tehran
// days before beforeDay ("2006-01-02") out of the database into w as CSV (ArchiveHeader, then one
// row per response, times RFC 3339 in UTC, answers as stored JSON), and returns how many it
// moved. Rollups are not touched, so every score, trend and ranking stays as it was; what is lost
// from the database is what only raw rows give — comments, re-aggregation and per-response
// exports of those days — and the archive file keeps them.
//
// It walks agency by agency over the (agency_id, day) index, archiveBatch rows per transaction:
// each batch is written to w and flush is called (a gzip writer's Flush, say) before the batch
// is deleted and committed, so a crash loses no response — at worst a re-run archives again the
// rows of a batch whose delete did not commit. flush may be nil.
func (s *Store) ArchiveResponses(ctx context.Context, beforeDay string, w io.Writer, flush func() error) (int64, error) {
	if _, err := time.Parse(survey.DayFormat, beforeDay); err != nil {
		return 0, survey.Errorf(survey.ECodeInvalid, "روز مرز بایگانی نامعتبر است: %s", "invalid archive cut day %q", beforeDay)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ArchiveHeader); err != nil {
		return 0, err
	}
	cw.Flush()
	var total int64
	agency := int64(-1)
	for {
		var next *int64
		if err := s.read(ctx).Raw("SELECT MIN(agency_id) FROM responses WHERE agency_id > ?", agency).Scan(&next).Error; err != nil {
			return total, s.dbError(err)
		}
		if next == nil {
			break
		}
		agency = *next
		for {
			n, err := s.archiveBatch(ctx, agency, beforeDay, cw, flush)
			total += int64(n)
			if err != nil {
				return total, err
			}
			if n < archiveBatch {
				break
			}
		}
	}
	return total, nil
}

// archiveBatch moves up to archiveBatch responses of one agency and returns how many.
func (s *Store) archiveBatch(ctx context.Context, agency int64, beforeDay string, cw *csv.Writer, flush func() error) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *gorm.DB) error {
		n = 0
		q := "SELECT CAST(id AS TEXT), agency_id, office_id, survey_id, survey_version, channel, source, submitted_at, received_at, day, answers, content_hash, flag, device_id" +
			" FROM responses WHERE agency_id = ? AND day < ? ORDER BY day, id LIMIT ?"
		if s.dialect == DialectPostgres {
			q += " FOR UPDATE"
		}
		rows, err := tx.Raw(q, agency, beforeDay, archiveBatch).Rows()
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var (
				id, channel, source, day, answers, hash, flag string
				ag, office, sid, device                       int64
				version                                       int
				submitted, received                           time.Time
			)
			if err := rows.Scan(&id, &ag, &office, &sid, &version, &channel, &source, &submitted, &received, &day, &answers, &hash, &flag, &device); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			i := strconv.FormatInt
			if err := cw.Write([]string{id, i(ag, 10), i(office, 10), i(sid, 10), strconv.Itoa(version), channel, source,
				submitted.UTC().Format(time.RFC3339Nano), received.UTC().Format(time.RFC3339Nano), day, answers, hash, flag, i(device, 10)}); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if flush != nil {
			if err := flush(); err != nil {
				return err
			}
		}
		for start := 0; start < len(ids); start += sqliteParams {
			chunk := ids[start:min(start+sqliteParams, len(ids))]
			var res *gorm.DB
			if s.dialect == DialectPostgres {
				res = tx.Exec("DELETE FROM responses WHERE id = ANY(CAST(? AS uuid[]))", "{"+strings.Join(chunk, ",")+"}")
			} else {
				res = tx.Exec("DELETE FROM responses WHERE id IN ?", chunk)
			}
			if res.Error != nil {
				return res.Error
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}
