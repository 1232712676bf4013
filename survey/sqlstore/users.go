package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// The Store keeps people's accounts, sessions and the audit log for survey/staff.
var _ staff.Store = (*Store)(nil)

type userRow struct {
	ID                int64 `gorm:"primaryKey"`
	Login             string
	Name              string
	Role              string
	AgencyID          *int64
	Disabled          bool
	PasswordHash      string
	FailedLogins      int
	LockedUntil       *time.Time
	CreatedAt         time.Time
	PasswordChangedAt *time.Time
	LastLoginAt       *time.Time
}

func (userRow) TableName() string { return "users" }

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func idOf(p *int64) survey.ID {
	if p == nil {
		return 0
	}
	return survey.ID(*p)
}

func (r userRow) user() staff.User {
	return staff.User{ID: survey.ID(r.ID), Login: r.Login, Name: r.Name, Role: survey.Role(r.Role),
		AgencyID: idOf(r.AgencyID), Disabled: r.Disabled, PasswordHash: r.PasswordHash, FailedLogins: r.FailedLogins,
		LockedUntil: timeOf(r.LockedUntil), CreatedAt: r.CreatedAt.UTC(), PasswordChangedAt: timeOf(r.PasswordChangedAt),
		LastLoginAt: timeOf(r.LastLoginAt)}
}

func userNotFound() error { return notFound("این کاربر پیدا نشد.", "user not found") }

// CreateUser stores a new account and sets u.ID. A taken login is ECodeConflict on login; an
// unknown agency ECodeInvalid on agency_id.
func (s *Store) CreateUser(ctx context.Context, u *staff.User) error {
	row := userRow{Login: u.Login, Name: u.Name, Role: string(u.Role), AgencyID: optionalID(u.AgencyID),
		Disabled: u.Disabled, PasswordHash: u.PasswordHash, CreatedAt: u.CreatedAt.UTC(),
		PasswordChangedAt: optionalTime(u.PasswordChangedAt)}
	if row.CreatedAt.IsZero() {
		row.CreatedAt = time.Now().UTC()
	}
	err := s.write(ctx, func(db *gorm.DB) error { return db.Create(&row).Error })
	if survey.ErrorCode(err) == survey.ECodeConflict {
		const fa, en = "این نام کاربری پیش‌تر گرفته شده است.", "this login is taken"
		return &survey.Error{Code: survey.ECodeConflict, Message: en, MessageFA: fa, Err: err,
			Fields: map[string]survey.FieldError{"login": {Code: "taken", Message: en, MessageFA: fa}}}
	}
	if err != nil {
		return refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	u.ID = survey.ID(row.ID)
	return nil
}

func (s *Store) userWhere(ctx context.Context, query string, arg any) (staff.User, error) {
	var rows []userRow
	if err := s.read(ctx).Where(query, arg).Limit(1).Find(&rows).Error; err != nil {
		return staff.User{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return staff.User{}, userNotFound()
	}
	return rows[0].user(), nil
}

// UserByLogin returns the account with login (already normalised by the caller).
func (s *Store) UserByLogin(ctx context.Context, login string) (staff.User, error) {
	return s.userWhere(ctx, "login = ?", login)
}

// UserByID returns the account id.
func (s *Store) UserByID(ctx context.Context, id survey.ID) (staff.User, error) {
	return s.userWhere(ctx, "id = ?", int64(id))
}

// Users lists agency's accounts (0: every account) by id.
func (s *Store) Users(ctx context.Context, agency survey.ID) ([]staff.User, error) {
	q := s.read(ctx).Order("id")
	if agency != 0 {
		q = q.Where("agency_id = ?", int64(agency))
	}
	var rows []userRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]staff.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

// UpdateUser writes an account's mutable fields.
func (s *Store) UpdateUser(ctx context.Context, u staff.User) error {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Model(&userRow{}).Where("id = ?", int64(u.ID)).Updates(map[string]any{
			"name": u.Name, "role": string(u.Role), "agency_id": optionalID(u.AgencyID), "disabled": u.Disabled,
			"password_hash": u.PasswordHash, "password_changed_at": optionalTime(u.PasswordChangedAt),
			"failed_logins": u.FailedLogins, "locked_until": optionalTime(u.LockedUntil)})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	if n == 0 {
		return userNotFound()
	}
	return nil
}

// LoginFailed counts a failed login in one statement, so concurrent guesses cannot slip past
// the lock; the lockAfter-th failure locks the account until until and resets the count.
func (s *Store) LoginFailed(ctx context.Context, id survey.ID, lockAfter int, until time.Time) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Exec(`UPDATE users SET
			locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END,
			failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END
			WHERE id = ?`, lockAfter, until.UTC(), lockAfter, int64(id)).Error
	})
}

// LoginSucceeded clears failures and lock and records the login time.
func (s *Store) LoginSucceeded(ctx context.Context, id survey.ID, at time.Time) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Model(&userRow{}).Where("id = ?", int64(id)).Updates(map[string]any{
			"failed_logins": 0, "locked_until": nil, "last_login_at": at.UTC()}).Error
	})
}

type sessionRow struct {
	TokenHash  string `gorm:"primaryKey"`
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// CreateSession stores a new session. Expired sessions are swept on the way, so the table holds
// only live ones and at most a day's logins of dead ones.
func (s *Store) CreateSession(ctx context.Context, se staff.Session) error {
	return s.write(ctx, func(db *gorm.DB) error {
		if err := db.Where("expires_at < ?", se.CreatedAt.UTC()).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		return db.Create(&sessionRow{TokenHash: se.Hash, UserID: int64(se.UserID), CreatedAt: se.CreatedAt.UTC(),
			LastSeenAt: se.LastSeenAt.UTC(), ExpiresAt: se.ExpiresAt.UTC()}).Error
	})
}

// Session returns the session with the token hash.
func (s *Store) Session(ctx context.Context, hash string) (staff.Session, error) {
	var rows []sessionRow
	if err := s.read(ctx).Where("token_hash = ?", hash).Limit(1).Find(&rows).Error; err != nil {
		return staff.Session{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return staff.Session{}, notFound("نشست پیدا نشد.", "session not found")
	}
	r := rows[0]
	return staff.Session{Hash: r.TokenHash, UserID: survey.ID(r.UserID), CreatedAt: r.CreatedAt.UTC(),
		LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// TouchSession moves a session's last_seen_at.
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Model(&sessionRow{}).Where("token_hash = ?", hash).Update("last_seen_at", at.UTC()).Error
	})
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Where("token_hash = ?", hash).Delete(&sessionRow{}).Error
	})
}

// DeleteSessions ends a user's sessions except keepHash.
func (s *Store) DeleteSessions(ctx context.Context, user survey.ID, keepHash string) error {
	return s.write(ctx, func(db *gorm.DB) error {
		return db.Where("user_id = ? AND token_hash <> ?", int64(user), keepHash).Delete(&sessionRow{}).Error
	})
}

type auditRow struct {
	ID           int64 `gorm:"primaryKey"`
	At           time.Time
	ActorUserID  *int64
	ActorTokenID *int64
	ActorName    string
	Action       string
	Entity       string
	EntityID     *int64
	AgencyID     *int64
	Before       *string
	After        *string
}

func (auditRow) TableName() string { return "audit_log" }

func optionalText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, e survey.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	row := auditRow{At: e.At.UTC(), ActorUserID: optionalID(e.ActorUserID), ActorTokenID: optionalID(e.ActorTokenID),
		ActorName: e.ActorName, Action: e.Action, Entity: e.Entity, EntityID: optionalID(e.EntityID),
		AgencyID: optionalID(e.AgencyID), Before: optionalText(e.Before), After: optionalText(e.After)}
	return s.write(ctx, func(db *gorm.DB) error { return db.Create(&row).Error })
}

// AuditLog lists entries newest first: of one agency when q.AgencyID is set, of one entity kind
// when q.Entity is, older than q.BeforeID when it is set, at most q.Limit (default 100).
func (s *Store) AuditLog(ctx context.Context, q survey.AuditQuery) ([]survey.AuditEntry, error) {
	db := s.read(ctx).Order("id DESC")
	if q.AgencyID != 0 {
		db = db.Where("agency_id = ?", int64(q.AgencyID))
	}
	if q.Entity != "" {
		db = db.Where("entity = ?", q.Entity)
	}
	if q.BeforeID != 0 {
		db = db.Where("id < ?", int64(q.BeforeID))
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var rows []auditRow
	if err := db.Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.AuditEntry, len(rows))
	for i, r := range rows {
		e := survey.AuditEntry{ID: survey.ID(r.ID), At: r.At.UTC(), ActorUserID: idOf(r.ActorUserID),
			ActorTokenID: idOf(r.ActorTokenID), ActorName: r.ActorName, Action: r.Action, Entity: r.Entity,
			EntityID: idOf(r.EntityID), AgencyID: idOf(r.AgencyID)}
		if r.Before != nil {
			e.Before = *r.Before
		}
		if r.After != nil {
			e.After = *r.After
		}
		out[i] = e
	}
	return out, nil
}
