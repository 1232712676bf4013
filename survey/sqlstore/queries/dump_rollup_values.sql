-- dump_rollup_values: every histogram cell in primary-key order, for the canonical dump.
-- Read by: Store.DumpRollups.
SELECT agency_id, office_id, survey_id, survey_version, question_id, channel, day, value, n
FROM rollup_values
ORDER BY agency_id, office_id, survey_id, survey_version, question_id, channel, day, value
