-- 0012_alert_notify: alerts sent to agency admins by SMS (postgres). Keep it in step with
-- migrations/sqlite/0012_alert_notify.sql.

-- alert_phones: the mobile number a person gets alerts on, encrypted and keyed-hashed like every
-- number (channels/sms Privacy); set by the person (PUT /api/v1/me/alert-phone).
CREATE TABLE alert_phones (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone_enc  BYTEA NOT NULL,
    phone_hash TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- alert_notifications: one row per alert and person an SMS was queued for (or refused by the
-- per-person cap, capped = true); the cap counts a person's rows of the last 24 h.
CREATE TABLE alert_notifications (
    alert_id  BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    queued_at TIMESTAMPTZ NOT NULL,
    capped    BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX alert_notifications_user_idx ON alert_notifications (user_id, queued_at);

-- notified_at: when the alert's recipients were handled; NULL while still to notify.
ALTER TABLE alerts ADD COLUMN notified_at TIMESTAMPTZ;
CREATE INDEX alerts_unnotified_idx ON alerts (opened_at) WHERE notified_at IS NULL;
