-- response_count: raw responses stored for one agency, or for all when :agency is 0 — flagged
-- ones included: they are stored like any other, only their rollups differ.
-- Read by: Store.ResponseCount (`afkar reaggregate`, the benchmark's acknowledged = stored check).
SELECT COUNT(*)
FROM responses
WHERE (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
