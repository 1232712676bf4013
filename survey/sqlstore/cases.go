package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// This file keeps follow-up cases (survey.Case) and the SMS prompts waiting for a citizen's reply
// (survey.CasePrompt). Every state change is one conditional UPDATE, so two staff (or two
// replicas' watchers) acting at once change a case once; the workflow rules are the cases
// package's.

type caseRow struct {
	ID               int64 `gorm:"primaryKey"`
	AgencyID         int64
	OfficeID         int64
	ResponseID       string
	Channel          string
	Rating           int
	CreatedAt        time.Time
	OwnerUserID      *int64
	Status           string
	AckDue           time.Time
	AcknowledgedAt   *time.Time
	EscalatedAt      *time.Time
	ResolvedAt       *time.Time
	Outcome          string
	ContactConsent   bool
	PhoneEnc         []byte
	PhoneHash        string
	ResolutionSMSAt  *time.Time `gorm:"column:resolution_sms_at"`
	ResolutionAnswer string
}

func (caseRow) TableName() string { return "cases" }

func (r caseRow) toCase() survey.Case {
	c := survey.Case{ID: survey.ID(r.ID), AgencyID: survey.ID(r.AgencyID), OfficeID: survey.ID(r.OfficeID), ResponseID: r.ResponseID,
		Channel: survey.Channel(r.Channel), Rating: r.Rating, CreatedAt: r.CreatedAt.UTC(), Status: survey.CaseStatus(r.Status),
		AckDue: r.AckDue.UTC(), AckedAt: utcPtr(r.AcknowledgedAt), EscalatedAt: utcPtr(r.EscalatedAt), ResolvedAt: utcPtr(r.ResolvedAt),
		Outcome: r.Outcome, Consent: r.ContactConsent, PhoneEnc: r.PhoneEnc, PhoneHash: r.PhoneHash,
		ResolutionSMSAt: utcPtr(r.ResolutionSMSAt), ResolutionAnswer: r.ResolutionAnswer}
	if r.OwnerUserID != nil {
		c.OwnerID = survey.ID(*r.OwnerUserID)
	}
	return c
}

// CreateCase stores c unless a case of its response exists already, and returns the stored
// case and whether it is new: a resent response or consent opens one case.
func (s *Store) CreateCase(ctx context.Context, c survey.Case) (survey.Case, bool, error) {
	if c.PhoneEnc == nil {
		c.PhoneEnc = []byte{}
	}
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec(`INSERT INTO cases (agency_id, office_id, response_id, channel, rating, created_at, status, ack_due,
 outcome, contact_consent, phone_enc, phone_hash, resolution_answer)
VALUES (?, ?, ?, ?, ?, ?, 'open', ?, '', ?, ?, ?, '') ON CONFLICT (response_id) DO NOTHING`,
			int64(c.AgencyID), int64(c.OfficeID), c.ResponseID, string(c.Channel), c.Rating, utc(c.CreatedAt), utc(c.AckDue),
			c.Consent, c.PhoneEnc, c.PhoneHash)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return survey.Case{}, false, refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	var row caseRow
	if err := s.read(ctx).Where("response_id = ?", c.ResponseID).Take(&row).Error; err != nil {
		return survey.Case{}, false, s.dbError(err)
	}
	return row.toCase(), n > 0, nil
}

// Case returns one case; an unknown id is ECodeNotFound.
func (s *Store) Case(ctx context.Context, id survey.ID) (survey.Case, error) {
	var row caseRow
	if err := s.read(ctx).Where("id = ?", int64(id)).Take(&row).Error; err != nil {
		return survey.Case{}, s.dbError(err)
	}
	return row.toCase(), nil
}

// Cases lists an agency's cases, newest first, of one status ("" every status), at most limit.
func (s *Store) Cases(ctx context.Context, agencyID survey.ID, status survey.CaseStatus, limit int) ([]survey.Case, error) {
	q := s.read(ctx).Where("agency_id = ?", int64(agencyID)).Order("created_at DESC, id DESC")
	if status != "" {
		q = q.Where("status = ?", string(status))
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []caseRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Case, len(rows))
	for i, r := range rows {
		out[i] = r.toCase()
	}
	return out, nil
}

// updateCase runs one conditional UPDATE of case id and reports whether it changed the row.
func (s *Store) updateCase(ctx context.Context, id survey.ID, set map[string]any, where string, args ...any) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		q := db.Model(&caseRow{}).Where("id = ?", int64(id))
		if where != "" {
			q = q.Where(where, args...)
		}
		res := q.Updates(set)
		n = res.RowsAffected
		return res.Error
	})
	return n > 0, err
}

// AssignCase makes user the owner of an unclosed case.
func (s *Store) AssignCase(ctx context.Context, id, user survey.ID) (bool, error) {
	return s.updateCase(ctx, id, map[string]any{"owner_user_id": int64(user)}, "status IN ('open', 'acknowledged')")
}

// AckCase acknowledges an open case at now (false: it was not open).
func (s *Store) AckCase(ctx context.Context, id survey.ID, now time.Time) (bool, error) {
	return s.updateCase(ctx, id, map[string]any{"status": string(survey.CaseAcknowledged), "acknowledged_at": utc(now)}, "status = 'open'")
}

// CloseCase closes an unclosed case with status (resolved or closed_no_contact) and outcome at
// now; a case never acknowledged counts as acknowledged now.
func (s *Store) CloseCase(ctx context.Context, id survey.ID, status survey.CaseStatus, outcome string, now time.Time) (bool, error) {
	ok, err := s.updateCase(ctx, id, map[string]any{"status": string(status), "outcome": outcome, "resolved_at": utc(now),
		"acknowledged_at": gorm.Expr("COALESCE(acknowledged_at, ?)", utc(now))}, "status IN ('open', 'acknowledged')")
	return ok, err
}

// MarkResolutionSMS records that the case's resolution SMS was queued at now; false when it was
// before (so it is queued at most once).
func (s *Store) MarkResolutionSMS(ctx context.Context, id survey.ID, now time.Time) (bool, error) {
	return s.updateCase(ctx, id, map[string]any{"resolution_sms_at": utc(now)}, "resolution_sms_at IS NULL")
}

// RecordResolutionAnswer records the citizen's reply to the resolution SMS (the first one).
func (s *Store) RecordResolutionAnswer(ctx context.Context, id survey.ID, answer string) (bool, error) {
	return s.updateCase(ctx, id, map[string]any{"resolution_answer": answer}, "resolution_answer = ''")
}

// OverdueCases lists cases still open (unacknowledged) past their ack_due at now and not yet
// escalated, oldest first, at most limit.
func (s *Store) OverdueCases(ctx context.Context, now time.Time, limit int) ([]survey.Case, error) {
	var rows []caseRow
	err := s.read(ctx).Where("status = 'open' AND acknowledged_at IS NULL AND escalated_at IS NULL AND ack_due < ?", utc(now)).
		Order("ack_due, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.Case, len(rows))
	for i, r := range rows {
		out[i] = r.toCase()
	}
	return out, nil
}

// EscalateCase marks an overdue case escalated at now; false when it was escalated or
// acknowledged meanwhile (another replica's watcher, a quick colleague).
func (s *Store) EscalateCase(ctx context.Context, id survey.ID, now time.Time) (bool, error) {
	return s.updateCase(ctx, id, map[string]any{"escalated_at": utc(now)}, "escalated_at IS NULL AND acknowledged_at IS NULL")
}

// CaseAckTimes returns, for the cases of agency created in [from, to), when each was created and
// acknowledged (nil: not yet), for the responsiveness figure.
func (s *Store) CaseAckTimes(ctx context.Context, agency survey.ID, from, to time.Time) (created []time.Time, acked []*time.Time, err error) {
	var rows []caseRow
	err = s.read(ctx).Select("created_at, acknowledged_at").Where("agency_id = ? AND created_at >= ? AND created_at < ?",
		int64(agency), utc(from), utc(to)).Order("id").Find(&rows).Error
	if err != nil {
		return nil, nil, s.dbError(err)
	}
	for _, r := range rows {
		created = append(created, r.CreatedAt.UTC())
		acked = append(acked, utcPtr(r.AcknowledgedAt))
	}
	return created, acked, nil
}

// QueueCaseSMS queues an information SMS to a case's number, once per localID: the number is
// stored in sms_phones first (a web-form or kiosk number was never invited), so the outbox can
// send to it and an opt-out of the number still holds.
func (s *Store) QueueCaseSMS(ctx context.Context, phoneHash string, phoneEnc []byte, localID, text string, parts int, now time.Time) (bool, error) {
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(upsertPhone, phoneHash, phoneEnc, utc(now)).Error; err != nil {
			return err
		}
		r := tx.Exec(`INSERT INTO sms_outbox (phone_hash, local_id, text, parts, next_attempt_at, state, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (local_id) DO NOTHING`, phoneHash, localID, text, parts, utc(now), utc(now))
		n = r.RowsAffected
		return r.Error
	})
	return n > 0, err
}

type casePromptRow struct {
	PhoneHash  string `gorm:"primaryKey"`
	Kind       string
	CaseID     *int64
	AgencyID   int64
	OfficeID   int64
	ResponseID string
	Rating     int
	ExpiresAt  time.Time
}

func (casePromptRow) TableName() string { return "case_prompts" }

// PutCasePrompt opens p for its number, replacing the number's earlier prompt.
func (s *Store) PutCasePrompt(ctx context.Context, p survey.CasePrompt) error {
	var caseID *int64
	if p.CaseID != 0 {
		id := int64(p.CaseID)
		caseID = &id
	}
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec(`INSERT INTO case_prompts (phone_hash, kind, case_id, agency_id, office_id, response_id, rating, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (phone_hash) DO UPDATE SET kind = excluded.kind, case_id = excluded.case_id,
 agency_id = excluded.agency_id, office_id = excluded.office_id, response_id = excluded.response_id, rating = excluded.rating,
 expires_at = excluded.expires_at`, p.PhoneHash, p.Kind, caseID, int64(p.AgencyID), int64(p.OfficeID), p.ResponseID, p.Rating,
			utc(p.ExpiresAt)).Error
	})
}

// TakeCasePrompt removes and returns the number's prompt if it was open at `at`; of two
// concurrent takers only one gets it.
func (s *Store) TakeCasePrompt(ctx context.Context, phoneHash string, at time.Time) (survey.CasePrompt, bool, error) {
	var row casePromptRow
	found := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("phone_hash = ? AND expires_at >= ?", phoneHash, utc(at)).Limit(1).Find(&row)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		del := tx.Exec("DELETE FROM case_prompts WHERE phone_hash = ? AND expires_at >= ?", phoneHash, utc(at))
		found = del.RowsAffected > 0
		return del.Error
	})
	if err != nil || !found {
		return survey.CasePrompt{}, false, err
	}
	p := survey.CasePrompt{PhoneHash: row.PhoneHash, Kind: row.Kind, AgencyID: survey.ID(row.AgencyID), OfficeID: survey.ID(row.OfficeID),
		ResponseID: row.ResponseID, Rating: row.Rating, ExpiresAt: row.ExpiresAt.UTC()}
	if row.CaseID != nil {
		p.CaseID = survey.ID(*row.CaseID)
	}
	return p, true, nil
}

// PurgeCasePhones forgets the numbers of cases closed before before (their ciphertext goes, the
// keyed hash stays) and drops prompts that expired before it; it says how many numbers it purged.
func (s *Store) PurgeCasePhones(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE cases SET phone_enc = ? WHERE length(phone_enc) > 0 AND resolved_at IS NOT NULL AND resolved_at < ?
 AND NOT EXISTS (SELECT 1 FROM case_prompts p WHERE p.case_id = cases.id AND p.expires_at >= ?)`, purgedEnc, utc(before), utc(before))
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Exec("DELETE FROM case_prompts WHERE expires_at < ?", utc(before)).Error
	})
	return int(n), err
}
