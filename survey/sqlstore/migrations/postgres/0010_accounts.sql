-- 0010_accounts: people's accounts, their login sessions, and the audit log of changes
-- (PostgreSQL). Keep it in step with migrations/sqlite/0010_accounts.sql.

-- A person's account (survey/staff.User). password_hash is an Argon2id PHC string; login is
-- stored lower case. failed_logins counts consecutive failures; locked_until, when in the
-- future, refuses every login.
CREATE TABLE users (
    id                  BIGSERIAL PRIMARY KEY,
    login               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    agency_id           BIGINT REFERENCES agencies (id),
    disabled            BOOLEAN NOT NULL DEFAULT false,
    password_hash       TEXT NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    password_changed_at TIMESTAMPTZ,
    last_login_at       TIMESTAMPTZ
);
CREATE INDEX users_agency_id_idx ON users (agency_id);

-- A login session; token_hash is the hex SHA-256 of the cookie's token.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Who changed what, when (survey.AuditEntry). before/after are JSON texts of the entity, never
-- with secrets. No foreign keys: an entry outlives the user, token or agency it names.
CREATE TABLE audit_log (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_user_id  BIGINT,
    actor_token_id BIGINT,
    actor_name     TEXT NOT NULL DEFAULT '',
    action         TEXT NOT NULL,
    entity         TEXT NOT NULL,
    entity_id      BIGINT,
    agency_id      BIGINT,
    before         TEXT,
    after          TEXT
);
CREATE INDEX audit_log_agency_id_idx ON audit_log (agency_id, id);
