-- 0016_cases: follow-up cases of unhappy citizens who agreed to be contacted, and the one-number
-- prompts (the SMS offer, the resolution question) that wait for a reply (PostgreSQL). Keep it in
-- step with migrations/sqlite/0016_cases.sql.

-- A case (survey.Case). response_id is unique: a resend of the same response or consent opens
-- one case. phone_enc is the number sealed with the SMS channel's key (empty once purged after
-- the retention period), phone_hash its keyed hash. escalated_at is set once, by the watcher.
CREATE TABLE cases (
    id                 BIGSERIAL PRIMARY KEY,
    agency_id          BIGINT NOT NULL REFERENCES agencies (id),
    office_id          BIGINT NOT NULL DEFAULT 0,
    response_id        TEXT NOT NULL UNIQUE,
    channel            TEXT NOT NULL,
    rating             INTEGER NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    owner_user_id      BIGINT,
    status             TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'closed_no_contact')),
    ack_due            TIMESTAMPTZ NOT NULL,
    acknowledged_at    TIMESTAMPTZ,
    escalated_at       TIMESTAMPTZ,
    resolved_at        TIMESTAMPTZ,
    outcome            TEXT NOT NULL DEFAULT '',
    contact_consent    BOOLEAN NOT NULL DEFAULT FALSE,
    phone_enc          BYTEA NOT NULL,
    phone_hash         TEXT NOT NULL,
    resolution_sms_at  TIMESTAMPTZ,
    resolution_answer  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cases_agency_idx ON cases (agency_id, status, created_at);
CREATE INDEX cases_ack_due_idx ON cases (ack_due) WHERE acknowledged_at IS NULL AND escalated_at IS NULL;

-- A question put to a number by SMS that waits for its reply: kind 'offer' (after a low SMS
-- rating: «۱» opens a case) or 'resolution' (after a case is resolved: «۱» yes, «۲» no). One
-- open prompt per number; a newer one replaces it. The offer carries what the case needs.
CREATE TABLE case_prompts (
    phone_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('offer', 'resolution')),
    case_id     BIGINT,
    agency_id   BIGINT NOT NULL,
    office_id   BIGINT NOT NULL DEFAULT 0,
    response_id TEXT NOT NULL DEFAULT '',
    rating      INTEGER NOT NULL DEFAULT 0,
    expires_at  TIMESTAMPTZ NOT NULL
);
