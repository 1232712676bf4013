-- dump_headline_months: every headline month cell (migration 0020) in primary-key order, as text
-- columns, for the canonical dump.
-- Read by: Store.DumpRollups.
SELECT month, agency_id, office_id, n, sum, sum_sq, satisfied
FROM headline_months
ORDER BY month, agency_id, office_id
