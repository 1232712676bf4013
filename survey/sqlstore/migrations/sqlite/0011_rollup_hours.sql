-- 0011_rollup_hours: the hourly per-citizen rollup, the alert watcher's state and alert
-- acknowledgements (sqlite). Keep it in step with the other dialect's 0011.
--
-- rollup_hours holds, per agency × office × Tehran day × Tehran hour (0–23), the per-citizen
-- headline values of counted responses exactly as the '@headline' rollup rows store them
-- (mean × 2520): n citizens, their sum and sum of squares. Folded in the same transaction as the
-- other rollups (additive upserts) and rebuilt by `afkar reaggregate`; responses folded before
-- this migration are not in it until the next reaggregate. Read by the alert watcher (hour-of-week
-- baselines) and the hour × weekday heatmap.
CREATE TABLE rollup_hours (
    agency_id INTEGER NOT NULL,
    office_id INTEGER NOT NULL,
    day       TEXT NOT NULL,
    hour      INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    n         INTEGER NOT NULL,
    sum       INTEGER NOT NULL,
    sum_sq    INTEGER NOT NULL,
    PRIMARY KEY (agency_id, office_id, day, hour)
) WITHOUT ROWID;
-- The province-wide season estimate and the heatmap read by day across offices.
CREATE INDEX rollup_hours_day_idx ON rollup_hours (day);

-- alert_tracks: the drop/rise alert state (analytics.AlertTrack as JSON) of each office and
-- kind of value, kept by the alert watcher between its daily runs.
CREATE TABLE alert_tracks (
    office_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    agency_id  INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT '{}',
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (office_id, kind)
);

-- The comment a person left when acknowledging an alert.
ALTER TABLE alerts ADD COLUMN ack_comment TEXT NOT NULL DEFAULT '';
