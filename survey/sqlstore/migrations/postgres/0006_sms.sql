-- 0006_sms: the SMS channel — numbers (encrypted, and by keyed hash), invitations after a visit,
-- the send queue and raw inbound messages (postgres). Keep it in step with
-- migrations/sqlite/0006_sms.sql. No column holds a phone number in plain text.

-- One row per number Afkar may text or has heard from. hash is the HMAC-SHA256 of the E.164
-- number under a key derived from AFKAR_SECRET_KEY (channels/sms Privacy): the identity every
-- other table refers to. phone_enc is the AES-256-GCM ciphertext, to send. opted_out_at: the
-- citizen sent 11 or لغو (12 clears it); invalid_at: the gateway refused the number (411);
-- last_invited_at: the frequency cap across all agencies.
CREATE TABLE sms_phones (
    hash            TEXT PRIMARY KEY,
    phone_enc       BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    opted_out_at    TIMESTAMPTZ,
    invalid_at      TIMESTAMPTZ,
    last_invited_at TIMESTAMPTZ
);

-- A visit Afkar was told about and what became of its invitation (the funnel). A skipped one is
-- kept with its reason; send_after is when a queued or held one may go out; expires_at ends the
-- window in which a reply is matched to it.
CREATE TABLE invitations (
    id          BIGSERIAL PRIMARY KEY,
    agency_id   BIGINT NOT NULL REFERENCES agencies (id),
    office_id   BIGINT NOT NULL REFERENCES offices (id),
    phone_hash  TEXT NOT NULL,
    service     TEXT NOT NULL DEFAULT '',
    visited_at  TIMESTAMPTZ NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('sms', 'link')),
    status      TEXT NOT NULL CHECK (status IN ('held', 'queued', 'sent', 'delivered', 'failed', 'skipped')),
    skip_reason TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    send_after  TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX invitations_phone_idx ON invitations (phone_hash, created_at);
CREATE INDEX invitations_office_idx ON invitations (agency_id, office_id, created_at);

-- The send queue. local_id is Kavenegar's localid, the same on every attempt, so a retry or a
-- restart never delivers twice. state 'sending' marks a gateway call that began (and may have
-- happened): the next attempt looks the message up by local_id first. next_attempt_at is when it
-- is due (after quiet hours, after a backoff, or when a 'sending' claim's lease runs out).
CREATE TABLE sms_outbox (
    id              BIGSERIAL PRIMARY KEY,
    invitation_id   BIGINT REFERENCES invitations (id),
    phone_hash      TEXT NOT NULL REFERENCES sms_phones (hash),
    local_id        TEXT NOT NULL UNIQUE,
    text            TEXT NOT NULL DEFAULT '',
    parts           INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'paused')),
    message_id      TEXT NOT NULL DEFAULT '',
    status          INTEGER NOT NULL DEFAULT 0,
    cost            BIGINT NOT NULL DEFAULT 0,
    error_class     TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX sms_outbox_due_idx ON sms_outbox (state, next_attempt_at);
CREATE INDEX sms_outbox_invitation_idx ON sms_outbox (invitation_id);

-- Every message a citizen sent to our line, stored raw before it is parsed. dedupe_key makes the
-- same message from the push and the poll one row (the gateway's id, or a digest of sender, text
-- and minute when there is none).
CREATE TABLE sms_inbound (
    id            BIGSERIAL PRIMARY KEY,
    message_id    TEXT UNIQUE,
    dedupe_key    TEXT NOT NULL UNIQUE,
    phone_hash    TEXT NOT NULL,
    phone_enc     BYTEA NOT NULL,
    text          TEXT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    parsed_kind   TEXT NOT NULL DEFAULT '',
    invitation_id BIGINT REFERENCES invitations (id)
);
CREATE INDEX sms_inbound_phone_idx ON sms_inbound (phone_hash, received_at);
