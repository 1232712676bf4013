-- 0001_init: Afkar's first schema (SQLite). Keep it in step with migrations/postgres/0001_init.sql:
-- the same tables, columns and keys, in each dialect's own types. Times are stored in UTC;
-- TIMESTAMP columns hold text the driver reads back as time values.

-- Catalog: who is surveyed and what is asked.
CREATE TABLE provinces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    province_id INTEGER NOT NULL REFERENCES provinces (id),
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE UNIQUE INDEX agencies_slug_key ON agencies (slug) WHERE slug <> '';
CREATE INDEX agencies_province_id_idx ON agencies (province_id);

CREATE TABLE offices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id  INTEGER NOT NULL REFERENCES agencies (id),
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX offices_agency_id_idx ON offices (agency_id);

CREATE TABLE surveys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id      INTEGER NOT NULL REFERENCES agencies (id),
    title          TEXT NOT NULL,
    active_version INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX surveys_agency_id_idx ON surveys (agency_id);

-- A published version never changes: responses are read against exactly these questions.
CREATE TABLE survey_versions (
    survey_id    INTEGER NOT NULL REFERENCES surveys (id),
    version      INTEGER NOT NULL CHECK (version > 0),
    agency_id    INTEGER NOT NULL REFERENCES agencies (id),
    title        TEXT NOT NULL,
    definition   TEXT NOT NULL, -- JSON {"title","questions"}
    published_at TIMESTAMP NOT NULL,
    PRIMARY KEY (survey_id, version)
);

CREATE TRIGGER survey_versions_no_update BEFORE UPDATE ON survey_versions
BEGIN
    SELECT RAISE(ABORT, 'survey versions are immutable: publish a new version');
END;

-- Raw responses, kept for audit, comments and re-aggregation. No foreign keys: a response was
-- validated against its survey version at intake, and a fold must never fail on one row.
CREATE TABLE responses (
    id             TEXT PRIMARY KEY, -- lower-case UUID
    agency_id      INTEGER NOT NULL,
    office_id      INTEGER NOT NULL DEFAULT 0,
    survey_id      INTEGER NOT NULL,
    survey_version INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    submitted_at   TIMESTAMP NOT NULL,
    received_at    TIMESTAMP NOT NULL,
    day            TEXT NOT NULL, -- Asia/Tehran day, YYYY-MM-DD
    answers        TEXT NOT NULL, -- JSON array of survey.Answer
    stored_at      TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
CREATE INDEX responses_agency_day_idx ON responses (agency_id, day);

-- Additive rollups: what dashboards read. SQLite compares text bytewise, like Go.
CREATE TABLE rollups (
    agency_id      INTEGER NOT NULL,
    office_id      INTEGER NOT NULL,
    survey_id      INTEGER NOT NULL,
    survey_version INTEGER NOT NULL,
    question_id    TEXT NOT NULL, -- '' counts responses
    channel        TEXT NOT NULL,
    day            TEXT NOT NULL,
    type           TEXT NOT NULL,
    n              INTEGER NOT NULL,
    sum            INTEGER NOT NULL,
    sum_sq         INTEGER NOT NULL,
    PRIMARY KEY (agency_id, office_id, survey_id, survey_version, question_id, channel, day)
) WITHOUT ROWID;

CREATE TABLE rollup_values (
    agency_id      INTEGER NOT NULL,
    office_id      INTEGER NOT NULL,
    survey_id      INTEGER NOT NULL,
    survey_version INTEGER NOT NULL,
    question_id    TEXT NOT NULL,
    channel        TEXT NOT NULL,
    day            TEXT NOT NULL,
    value          TEXT NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (agency_id, office_id, survey_id, survey_version, question_id, channel, day, value)
) WITHOUT ROWID;

-- The SQL inbox: a durable buffer between intake and the aggregator. seq is the delivery ref;
-- AUTOINCREMENT makes sure it is never reused, so a late retried ack cannot hit a newer row.
-- Times are Unix microseconds (UTC).
CREATE TABLE inbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id  TEXT NOT NULL,
    payload      BLOB NOT NULL,
    created_us   INTEGER NOT NULL,
    consumer     TEXT,            -- NULL: never delivered
    delivered_us INTEGER,
    deliveries   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX inbox_undelivered_idx ON inbox (seq) WHERE consumer IS NULL;
CREATE INDEX inbox_delivered_idx ON inbox (delivered_us) WHERE consumer IS NOT NULL;

-- Entries that could not be processed, kept for a person to look at.
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

-- Bearer tokens; only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE, -- hex SHA-256
    role       TEXT NOT NULL,
    agency_id  INTEGER REFERENCES agencies (id),
    name       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
