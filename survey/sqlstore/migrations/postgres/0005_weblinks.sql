-- 0005_weblinks: the single use of signed web links (PostgreSQL). Keep it in step with
-- migrations/sqlite/0005_weblinks.sql.

-- One row per invitation link that has been answered. token_id is the hex SHA-256 of the link's
-- signed payload (never the link itself, so the table gives no working links away); the primary
-- key decides a double submit, so a link counts one response. response_id is the response the
-- link answered; used_at when it was claimed. Poster links are not single-use and never appear.
CREATE TABLE weblink_uses (
    token_id    TEXT PRIMARY KEY,
    response_id TEXT NOT NULL,
    used_at     TIMESTAMPTZ NOT NULL
);
