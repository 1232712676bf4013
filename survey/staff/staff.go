// Package staff is people's accounts: the users of the governorate's and agencies' PR offices,
// their passwords (Argon2id), their login sessions, login throttling and lockout, CSRF tokens
// for cookie sessions, and the account administration that admins do (create, disable, change a
// role, reset a password), each change written to the audit log. Storage stays behind the Store
// interface declared here (the SQL store implements it); the rules — who may manage whom, how
// long a session lives — are here, below any HTTP handler, so no route can forget them.
package staff

import (
	"context"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// User is a person's account. PasswordHash never leaves this package's callers as JSON.
type User struct {
	ID                survey.ID   `json:"id"`
	Login             string      `json:"login"`
	Name              string      `json:"name"`
	Role              survey.Role `json:"role"`
	AgencyID          survey.ID   `json:"agency_id,omitempty"`
	Disabled          bool        `json:"disabled"`
	PasswordHash      string      `json:"-"`
	FailedLogins      int         `json:"-"`
	LockedUntil       time.Time   `json:"locked_until,omitzero"`
	CreatedAt         time.Time   `json:"created_at"`
	PasswordChangedAt time.Time   `json:"password_changed_at,omitzero"`
	LastLoginAt       time.Time   `json:"last_login_at,omitzero"`
}

// Principal is the principal a session of u stands for.
func (u User) Principal() survey.Principal {
	return survey.Principal{Role: u.Role, AgencyID: u.AgencyID, Name: u.Name, UserID: u.ID, Via: survey.ViaSession}
}

// Session is a login session as stored: only the SHA-256 of its token (Hash), so a leaked table
// opens no session. LastSeenAt drives the idle timeout, ExpiresAt is the absolute end.
type Session struct {
	Hash       string
	UserID     survey.ID
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// Store keeps users, sessions and the audit log. Not-found lookups are survey.ECodeNotFound; a
// login already taken is ECodeConflict; an unknown agency is ECodeInvalid on agency_id.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	UserByLogin(ctx context.Context, login string) (User, error)
	UserByID(ctx context.Context, id survey.ID) (User, error)
	// Users lists the accounts of agency (0: every account), ordered by id.
	Users(ctx context.Context, agency survey.ID) ([]User, error)
	// UpdateUser writes u's name, role, agency, disabled flag, password hash,
	// password_changed_at, failed logins and lock.
	UpdateUser(ctx context.Context, u User) error
	// LoginFailed counts one failure atomically; the lockAfter-th consecutive failure sets
	// locked_until to until and starts the count again.
	LoginFailed(ctx context.Context, id survey.ID, lockAfter int, until time.Time) error
	// LoginSucceeded clears the failures and the lock and records the time.
	LoginSucceeded(ctx context.Context, id survey.ID, at time.Time) error
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, hash string) (Session, error)
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	// DeleteSessions ends every session of user except keepHash ("" for none).
	DeleteSessions(ctx context.Context, user survey.ID, keepHash string) error
	Audit(ctx context.Context, e survey.AuditEntry) error
	AuditLog(ctx context.Context, q survey.AuditQuery) ([]survey.AuditEntry, error)
}

// Session and lockout policy.
const (
	IdleTimeout     = 2 * time.Hour
	AbsoluteTimeout = 12 * time.Hour
	LockAfter       = 5                // consecutive failures that lock an account
	LockFor         = 15 * time.Minute // how long it stays locked
	// IPFailures failures from one client address within IPWindow refuse further attempts
	// from it (429) until the window passes, whatever the account.
	IPFailures = 20
	IPWindow   = 15 * time.Minute
	// touchEvery bounds session writes: last_seen_at moves at most once a minute.
	touchEvery = time.Minute
)

// SessionPrefix starts every session token.
const SessionPrefix = "afks_"

// Options configure a Service.
type Options struct {
	// Secret keys the CSRF tokens (AFKAR_SECRET_KEY); at least 16 bytes.
	Secret []byte
	// Clock is the time source (tests pass a survey.ManualClock); nil is the wall clock.
	Clock survey.Clock
}

// Service is the accounts service. It is safe for concurrent use.
type Service struct {
	st     Store
	secret []byte
	clock  survey.Clock
	ips    *ipThrottle
}

// New returns the service over st.
func New(st Store, o Options) *Service {
	if o.Clock == nil {
		o.Clock = survey.SystemClock{}
	}
	return &Service{st: st, secret: o.Secret, clock: o.Clock, ips: newIPThrottle()}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }
