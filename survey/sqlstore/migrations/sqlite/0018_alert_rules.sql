-- 0018_alert_rules: an agency's simple alert rules (sqlite). Keep it in step with
-- migrations/postgres/0018_alert_rules.sql.

-- agency_alert_rules: the HappyOrNot-style rules an agency switched on (survey.AlertRules),
-- read by the alert watcher on each run; a zero level is off, no row means no rule. Set through
-- PUT /api/v1/agencies/{id}/alert-rules (audited) by the agency's or the province's admins.
CREATE TABLE agency_alert_rules (
    agency_id     INTEGER PRIMARY KEY REFERENCES agencies (id) ON DELETE CASCADE,
    unhappy_share REAL NOT NULL DEFAULT 0,
    score_below   REAL NOT NULL DEFAULT 0,
    score_above   REAL NOT NULL DEFAULT 0,
    min_n         BIGINT NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    updated_by    TEXT NOT NULL DEFAULT ''
);
