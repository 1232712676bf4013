-- 0014_survey_drafts: the editable draft of each survey, and which survey an office and a
-- channel use (PostgreSQL). Keep it in step with migrations/sqlite/0014_survey_drafts.sql.

-- The working copy staff edit (survey/authoring.Draft as JSON: title, questions, SMS settings).
-- It may be incomplete; publishing checks it and copies it into a new survey_versions row.
CREATE TABLE survey_drafts (
    survey_id  BIGINT PRIMARY KEY REFERENCES surveys (id) ON DELETE CASCADE,
    definition TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- Which survey an office (0: every office) and a channel ('': every channel) of an agency
-- use; the most specific row wins, and the agency's last published survey is the fallback.
CREATE TABLE survey_assignments (
    agency_id  BIGINT NOT NULL REFERENCES agencies (id),
    office_id  BIGINT NOT NULL DEFAULT 0,
    channel    TEXT NOT NULL DEFAULT '',
    survey_id  BIGINT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agency_id, office_id, channel)
);
