-- 0015_national: indexes for reading rollups at national size (SQLite). Keep it in step with
-- migrations/postgres/0015_national.sql, which says why.
CREATE INDEX rollups_agency_day_idx ON rollups (agency_id, day);
CREATE INDEX rollup_values_agency_day_idx ON rollup_values (agency_id, day);
CREATE INDEX rollups_question_day_idx ON rollups (question_id, day, agency_id);
