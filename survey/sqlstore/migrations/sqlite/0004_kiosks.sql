-- 0004_kiosks: lobby kiosks — office hours, the kiosks and their pairing, the presses the
-- stuffing filter judged, each batch a kiosk sent, and alerts (SQLite). Keep it in step with
-- migrations/postgres/0004_kiosks.sql.

-- An office's hours (survey.OfficeHours as JSON); '' means the default (Saturday to Wednesday,
-- 07:30–14:30).
ALTER TABLE offices ADD COLUMN hours TEXT NOT NULL DEFAULT '';

-- A lobby tablet of one office. token_hash is the hex SHA-256 of its device token (NULL: not
-- paired). pairing_code is kept in plain text while it is pending — short-lived, single-use,
-- printed on the pairing sheet — and, once used (pairing_used_at), only to tell "already used"
-- from "unknown"; a new code replaces it. The remaining columns are what the last heartbeat and
-- batch reported (rejected: answers the server refused since pairing; storage_errors: answers
-- the tablet could not write to its own storage).
CREATE TABLE kiosks (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id          INTEGER NOT NULL REFERENCES agencies (id),
    office_id          INTEGER NOT NULL REFERENCES offices (id),
    name               TEXT NOT NULL,
    free_text          INTEGER NOT NULL DEFAULT 0,
    token_hash         TEXT UNIQUE,
    paired_at          TIMESTAMP,
    pairing_code       TEXT,
    pairing_expires_at TIMESTAMP,
    pairing_used_at    TIMESTAMP,
    created_at         TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    revoked_at         TIMESTAMP,
    last_seen_at       TIMESTAMP,
    app_version        TEXT NOT NULL DEFAULT '',
    queued             INTEGER NOT NULL DEFAULT 0,
    oldest_queued_s    INTEGER NOT NULL DEFAULT 0,
    last_sync_at       TIMESTAMP,
    skew_ms            INTEGER NOT NULL DEFAULT 0,
    battery_level      REAL,
    battery_charging   INTEGER,
    rejected           INTEGER NOT NULL DEFAULT 0,
    storage_errors     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX kiosks_pairing_code_key ON kiosks (pairing_code) WHERE pairing_code IS NOT NULL;
CREATE INDEX kiosks_agency_id_idx ON kiosks (agency_id);
CREATE INDEX kiosks_office_id_idx ON kiosks (office_id);

-- Every press a kiosk's stuffing filter judged, by response id: when it was pressed (the tablet's
-- clock, corrected for skew; UTC), its Tehran day (YYYY-MM-DD) and the verdict ('' counted,
-- interval, burst, after_hours). A resend finds its press here and keeps its time and verdict.
-- pressed_at holds the driver's UTC text ('2026-12-01 08:00:00.25+00:00'), which sorts in time
-- order, so the index serves the filter's time windows as it does on PostgreSQL.
CREATE TABLE kiosk_presses (
    kiosk_id    INTEGER NOT NULL REFERENCES kiosks (id),
    response_id TEXT NOT NULL,
    pressed_at  TIMESTAMP NOT NULL,
    day         TEXT NOT NULL,
    flag        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kiosk_id, response_id)
);
CREATE INDEX kiosk_presses_pressed_at_idx ON kiosk_presses (kiosk_id, pressed_at);

-- One row per batch a kiosk sent: the tablet's clock at sending, the skew and whether the
-- batch's times were corrected by it, and what became of its items.
CREATE TABLE kiosk_syncs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kiosk_id    INTEGER NOT NULL REFERENCES kiosks (id),
    received_at TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP NOT NULL,
    skew_ms     INTEGER NOT NULL,
    corrected   INTEGER NOT NULL,
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
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    agency_id       INTEGER NOT NULL REFERENCES agencies (id),
    office_id       INTEGER NOT NULL DEFAULT 0,
    subject         TEXT NOT NULL,
    opened_at       TIMESTAMP NOT NULL,
    resolved_at     TIMESTAMP,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_agency_idx ON alerts (agency_id, opened_at);
