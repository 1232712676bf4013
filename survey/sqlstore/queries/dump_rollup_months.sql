-- dump_rollup_months: every month cell (migration 0019) in primary-key order, as text columns,
-- for the canonical dump.
-- Read by: Store.DumpRollups.
SELECT agency_id, month, office_id, survey_id, survey_version, question_id, channel, type, n, sum, sum_sq
FROM rollup_months
ORDER BY agency_id, month, office_id, survey_id, survey_version, question_id, channel
