-- dump_rollup_value_months: every month histogram cell in primary-key order, for the canonical
-- dump.
-- Read by: Store.DumpRollups.
SELECT agency_id, month, office_id, survey_id, survey_version, question_id, channel, value, n
FROM rollup_value_months
ORDER BY agency_id, month, office_id, survey_id, survey_version, question_id, channel, value
