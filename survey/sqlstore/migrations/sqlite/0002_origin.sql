-- 0002_origin: where a response came from, and telling a resend from a reused id (SQLite).
-- Keep it in step with migrations/postgres/0002_origin.sql.

-- The content hash of each stored response (survey.Response.Hash): the same id sent again with
-- the same hash is a resend; with another hash, an id_conflict. '' for rows stored before this
-- migration, which match any resend.
ALTER TABLE responses ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- Integration tokens are scoped: one agency (agency_id, already there), optionally one office,
-- and the channel their submissions are recorded with. Integration tokens made before this
-- migration have no channel and are refused until reissued (`afkar token --channel …`).
ALTER TABLE api_tokens ADD COLUMN office_id INTEGER REFERENCES offices (id);
ALTER TABLE api_tokens ADD COLUMN channel TEXT NOT NULL DEFAULT '';

-- The bootstrap province admin (AFKAR_ADMIN_TOKEN) is a token row like any other, marked so that
-- registering a new one at start replaces the old: at most one row is the bootstrap token.
ALTER TABLE api_tokens ADD COLUMN bootstrap INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX api_tokens_bootstrap_key ON api_tokens (bootstrap) WHERE bootstrap = 1;
