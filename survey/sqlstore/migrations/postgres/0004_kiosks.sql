-- 0004_kiosks: lobby kiosks — office hours, the kiosks and their pairing, the presses the
-- stuffing filter judged, each batch a kiosk sent, and alerts (PostgreSQL). Keep it in step with
-- migrations/sqlite/0004_kiosks.sql.

-- An office's hours (survey.OfficeHours as JSON); '' means the default (Saturday to Wednesday,
-- 07:30–14:30). A constant default adds the column without rewriting the table.
ALTER TABLE offices ADD COLUMN hours TEXT NOT NULL DEFAULT '';

-- A lobby tablet of one office. token_hash is the hex SHA-256 of its device token (NULL: not
-- paired). pairing_code is kept in plain text while it is pending — short-lived, single-use,
-- printed on the pairing sheet — and, once used (pairing_used_at), only to tell "already used"
-- from "unknown"; a new code replaces it. The remaining columns are what the last heartbeat and
-- batch reported (rejected: answers the server refused since pairing; storage_errors: answers
-- the tablet could not write to its own storage).
CREATE TABLE kiosks (
    id                 BIGSERIAL PRIMARY KEY,
    agency_id          BIGINT NOT NULL REFERENCES agencies (id),
    office_id          BIGINT NOT NULL REFERENCES offices (id),
    name               TEXT NOT NULL,
    free_text          BOOLEAN NOT NULL DEFAULT FALSE,
    token_hash         TEXT UNIQUE,
    paired_at          TIMESTAMPTZ,
    pairing_code       TEXT,
    pairing_expires_at TIMESTAMPTZ,
    pairing_used_at    TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at         TIMESTAMPTZ,
    last_seen_at       TIMESTAMPTZ,
    app_version        TEXT NOT NULL DEFAULT '',
    queued             INTEGER NOT NULL DEFAULT 0,
    oldest_queued_s    INTEGER NOT NULL DEFAULT 0,
    last_sync_at       TIMESTAMPTZ,
    skew_ms            BIGINT NOT NULL DEFAULT 0,
    battery_level      REAL,
    battery_charging   BOOLEAN,
    rejected           INTEGER NOT NULL DEFAULT 0,
    storage_errors     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX kiosks_pairing_code_key ON kiosks (pairing_code) WHERE pairing_code IS NOT NULL;
CREATE INDEX kiosks_agency_id_idx ON kiosks (agency_id);
CREATE INDEX kiosks_office_id_idx ON kiosks (office_id);

-- Every press a kiosk's stuffing filter judged, by response id: when it was pressed (the tablet's
-- clock, corrected for skew; UTC), its Tehran day (YYYY-MM-DD) and the verdict ('' counted,
-- interval, burst, after_hours). A resend finds its press here and keeps its time and verdict.
CREATE TABLE kiosk_presses (
    kiosk_id    BIGINT NOT NULL REFERENCES kiosks (id),
    response_id TEXT NOT NULL,
    pressed_at  TIMESTAMPTZ NOT NULL,
    day         TEXT NOT NULL,
    flag        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kiosk_id, response_id)
);
CREATE INDEX kiosk_presses_pressed_at_idx ON kiosk_presses (kiosk_id, pressed_at);

-- One row per batch a kiosk sent: the tablet's clock at sending, the skew and whether the
-- batch's times were corrected by it, and what became of its items.
CREATE TABLE kiosk_syncs (
    id          BIGSERIAL PRIMARY KEY,
    kiosk_id    BIGINT NOT NULL REFERENCES kiosks (id),
    received_at TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL,
    skew_ms     BIGINT NOT NULL,
    corrected   BOOLEAN NOT NULL,
    items       INTEGER NOT NULL,
    accepted    INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL,
    rejected    INTEGER NOT NULL
);
CREATE INDEX kiosk_syncs_kiosk_idx ON kiosk_syncs (kiosk_id, received_at);

-- Alerts for staff (the first kind: kiosk_silent). subject names what an alert is about
-- ('kiosk:12'); at most one alert of a kind is open per subject, which keeps the watchers of
-- several replicas from opening it twice. office_id 0: not about one office. detail is a JSON
-- object for the kind.
CREATE TABLE alerts (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL,
    agency_id       BIGINT NOT NULL REFERENCES agencies (id),
    office_id       BIGINT NOT NULL DEFAULT 0,
    subject         TEXT NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_agency_idx ON alerts (agency_id, opened_at);
