-- 0014_comment_moderation: moderators' decisions about citizens' written comments (PostgreSQL).
-- Keep it in step with migrations/sqlite/0014_comment_moderation.sql.

-- One row per moderated comment: a text answer (question_id) of a stored response. A comment
-- without a row is visible. state is visible, hidden or abusive (survey.CommentState); the
-- audit log keeps the history, this table only the last decision.
CREATE TABLE comment_moderation (
    response_id  UUID NOT NULL,
    question_id  TEXT COLLATE "C" NOT NULL,
    agency_id    BIGINT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('visible', 'hidden', 'abusive')),
    actor_name   TEXT NOT NULL DEFAULT '',
    actor_user_id BIGINT,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (response_id, question_id)
);
CREATE INDEX comment_moderation_agency_idx ON comment_moderation (agency_id);
-- The comments list pages through an agency's responses newest first.
CREATE INDEX responses_agency_submitted_idx ON responses (agency_id, submitted_at DESC);
