-- 0010_accounts: people's accounts, their login sessions, and the audit log of changes
-- (SQLite). Keep it in step with migrations/postgres/0010_accounts.sql.

-- A person's account (survey/staff.User). password_hash is an Argon2id PHC string; login is
-- stored lower case. failed_logins counts consecutive failures; locked_until, when in the
-- future, refuses every login.
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    login               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    agency_id           INTEGER REFERENCES agencies (id),
    disabled            INTEGER NOT NULL DEFAULT 0,
    password_hash       TEXT NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMP,
    created_at          TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    password_changed_at TIMESTAMP,
    last_login_at       TIMESTAMP
);
CREATE INDEX users_agency_id_idx ON users (agency_id);

-- A login session; token_hash is the hex SHA-256 of the cookie's token.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Who changed what, when (survey.AuditEntry). before/after are JSON texts of the entity, never
-- with secrets. No foreign keys: an entry outlives the user, token or agency it names.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TIMESTAMP NOT NULL,
    actor_user_id  INTEGER,
    actor_token_id INTEGER,
    actor_name     TEXT NOT NULL DEFAULT '',
    action         TEXT NOT NULL,
    entity         TEXT NOT NULL,
    entity_id      INTEGER,
    agency_id      INTEGER,
    before         TEXT,
    after          TEXT
);
CREATE INDEX audit_log_agency_id_idx ON audit_log (agency_id, id);
