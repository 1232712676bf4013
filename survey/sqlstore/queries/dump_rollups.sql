-- dump_rollups: every rollup cell in primary-key order, for the canonical dump that proves a
-- re-aggregation reproduced the live rollups byte for byte.
-- Read by: Store.DumpRollups (`afkar reaggregate` tests).
SELECT agency_id, office_id, survey_id, survey_version, question_id, channel, day, type, n, sum, sum_sq
FROM rollups
ORDER BY agency_id, office_id, survey_id, survey_version, question_id, channel, day
