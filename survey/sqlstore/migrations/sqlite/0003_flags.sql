-- 0003_flags: flagged responses and the kiosk that took each response (SQLite).
-- Keep it in step with migrations/postgres/0003_flags.sql.

-- Why a stored response is left out of the scores (survey.Response.Flag: interval, burst,
-- after_hours), '' for a counted one. The fold adds a flagged response only to its reserved
-- rollup row '@flagged:<flag>', and `afkar reaggregate` reads the flag back to do the same.
-- Older rows are counted ones.
ALTER TABLE responses ADD COLUMN flag TEXT NOT NULL DEFAULT '';

-- The kiosk that took the response (survey.Response.DeviceID), 0 for other channels.
ALTER TABLE responses ADD COLUMN device_id INTEGER NOT NULL DEFAULT 0;
