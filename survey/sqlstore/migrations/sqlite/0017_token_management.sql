-- 0017_token_management: API tokens can be revoked and say when they were last used
-- (sqlite). Keep it in step with migrations/postgres/0017_token_management.sql.

-- revoked_at: a revoked token authenticates nothing (its row stays, for the audit log and the
-- list). last_used_at: when it last authenticated, to the minute (the principal cache in front of
-- the store asks again at most every few seconds, so this is when a request last used it, within
-- that).
ALTER TABLE api_tokens ADD COLUMN revoked_at TIMESTAMP;
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMP;
