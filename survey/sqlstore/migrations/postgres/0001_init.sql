-- 0001_init: Afkar's first schema (PostgreSQL). Keep it in step with migrations/sqlite/0001_init.sql:
-- the same tables, columns and keys, in each dialect's own types. Times are stored in UTC.

-- Catalog: who is surveyed and what is asked.
CREATE TABLE provinces (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE agencies (
    id          BIGSERIAL PRIMARY KEY,
    province_id BIGINT NOT NULL REFERENCES provinces (id),
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agencies_slug_key ON agencies (slug) WHERE slug <> '';
CREATE INDEX agencies_province_id_idx ON agencies (province_id);

CREATE TABLE offices (
    id         BIGSERIAL PRIMARY KEY,
    agency_id  BIGINT NOT NULL REFERENCES agencies (id),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX offices_agency_id_idx ON offices (agency_id);

CREATE TABLE surveys (
    id             BIGSERIAL PRIMARY KEY,
    agency_id      BIGINT NOT NULL REFERENCES agencies (id),
    title          TEXT NOT NULL,
    active_version INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX surveys_agency_id_idx ON surveys (agency_id);

-- A published version never changes: responses are read against exactly these questions.
CREATE TABLE survey_versions (
    survey_id    BIGINT NOT NULL REFERENCES surveys (id),
    version      INTEGER NOT NULL CHECK (version > 0),
    agency_id    BIGINT NOT NULL REFERENCES agencies (id),
    title        TEXT NOT NULL,
    definition   TEXT NOT NULL, -- JSON {"title","questions"}
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (survey_id, version)
);

CREATE FUNCTION survey_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'survey versions are immutable: publish a new version';
END
$$;
CREATE TRIGGER survey_versions_no_update BEFORE UPDATE ON survey_versions
    FOR EACH ROW EXECUTE FUNCTION survey_versions_immutable();

-- Raw responses, kept for audit, comments and re-aggregation. No foreign keys: a response was
-- validated against its survey version at intake, and a fold must never fail on one row.
CREATE TABLE responses (
    id             UUID PRIMARY KEY,
    agency_id      BIGINT NOT NULL,
    office_id      BIGINT NOT NULL DEFAULT 0,
    survey_id      BIGINT NOT NULL,
    survey_version INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    submitted_at   TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    day            TEXT COLLATE "C" NOT NULL, -- Asia/Tehran day, YYYY-MM-DD
    answers        TEXT NOT NULL,             -- JSON array of survey.Answer
    stored_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX responses_agency_day_idx ON responses (agency_id, day);

-- Additive rollups: what dashboards read. Text key columns use the "C" collation so that the
-- key order is byte order, as in Go and in SQLite. Every fold updates thousands of cells in
-- place; fillfactor 70 leaves room on each page for the new row versions, so updates stay
-- heap-only (no index writes) and the tables do not bloat between vacuums.
CREATE TABLE rollups (
    agency_id      BIGINT NOT NULL,
    office_id      BIGINT NOT NULL,
    survey_id      BIGINT NOT NULL,
    survey_version INTEGER NOT NULL,
    question_id    TEXT COLLATE "C" NOT NULL, -- '' counts responses
    channel        TEXT COLLATE "C" NOT NULL,
    day            TEXT COLLATE "C" NOT NULL,
    type           TEXT NOT NULL,
    n              BIGINT NOT NULL,
    sum            BIGINT NOT NULL,
    sum_sq         BIGINT NOT NULL,
    PRIMARY KEY (agency_id, office_id, survey_id, survey_version, question_id, channel, day)
) WITH (fillfactor = 70);

CREATE TABLE rollup_values (
    agency_id      BIGINT NOT NULL,
    office_id      BIGINT NOT NULL,
    survey_id      BIGINT NOT NULL,
    survey_version INTEGER NOT NULL,
    question_id    TEXT COLLATE "C" NOT NULL,
    channel        TEXT COLLATE "C" NOT NULL,
    day            TEXT COLLATE "C" NOT NULL,
    value          TEXT COLLATE "C" NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (agency_id, office_id, survey_id, survey_version, question_id, channel, day, value)
) WITH (fillfactor = 70);

-- The SQL inbox: a durable buffer between intake and the aggregator. seq is the delivery ref
-- and is never reused. Times are Unix microseconds (UTC).
CREATE TABLE inbox (
    seq          BIGSERIAL PRIMARY KEY,
    response_id  TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    created_us   BIGINT NOT NULL,
    consumer     TEXT,            -- NULL: never delivered
    delivered_us BIGINT,
    deliveries   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX inbox_undelivered_idx ON inbox (seq) WHERE consumer IS NULL;
CREATE INDEX inbox_delivered_idx ON inbox (delivered_us) WHERE consumer IS NOT NULL;

-- Entries that could not be processed, kept for a person to look at.
CREATE TABLE dead_letters (
    id         BIGSERIAL PRIMARY KEY,
    source     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Bearer tokens; only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    id         BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE, -- hex SHA-256
    role       TEXT NOT NULL,
    agency_id  BIGINT REFERENCES agencies (id),
    name       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
