-- 0015_national: indexes for reading rollups at national size (PostgreSQL). Keep it in step with
-- migrations/sqlite/0015_national.sql. Measured on 20 M responses / ~500 agencies: see
-- docs/benchmarks.md ("National size").
--
-- The primary keys lead with agency, office, survey, version, question, channel and then day, so
-- an agency's score over 30 days walked every cell the agency ever had (two years: ~45,000 rows in
-- rollups, ~100,000 in rollup_values) to keep the few hundred of the period. These lead with the
-- agency and the day instead. Plain key columns only, no INCLUDE of n/sum: a fold updates n, sum
-- and sum_sq in place, and those updates stay heap-only (HOT, see 0001) only while no index holds
-- the changed columns.
CREATE INDEX rollups_agency_day_idx ON rollups (agency_id, day);
CREATE INDEX rollup_values_agency_day_idx ON rollup_values (agency_id, day);

-- The province table reads every agency's response count and headline score for a period: one
-- grouped query over question_id IN ('', '@headline') and a day range, which this serves without
-- touching the other questions' cells.
CREATE INDEX rollups_question_day_idx ON rollups (question_id, day, agency_id);
