-- dump_headline_days: every headline day cell (migration 0020) in primary-key order, as text
-- columns, for the canonical dump.
-- Read by: Store.DumpRollups.
SELECT day, agency_id, office_id, n, sum, sum_sq, satisfied
FROM headline_days
ORDER BY day, agency_id, office_id
