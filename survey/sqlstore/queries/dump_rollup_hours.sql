-- dump_rollup_hours: every hourly cell in primary-key order, for the canonical dump that proves a
-- re-aggregation reproduced the live rollups byte for byte.
-- Read by: Store.DumpRollups (`afkar reaggregate` tests).
SELECT agency_id, office_id, day, CAST(hour AS INTEGER), n, sum, sum_sq
FROM rollup_hours
ORDER BY agency_id, office_id, day, hour
