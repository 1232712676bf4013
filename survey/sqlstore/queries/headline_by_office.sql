-- headline_by_office: the per-citizen headline rollups ('@headline') per agency and office over
-- a period, with the citizens whose mean is 4 or more (histogram buckets '4' and '5'). A zero
-- :agency means every agency: the province table reads all of them in this ONE grouped query
-- (summing offices per agency), never one query per agency. Callers check the principal first.
-- Read by: Store.HeadlineByOffice → analytics.Dashboard.ProvinceTable and .Offices.
SELECT agency_id, office_id, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT),
       CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(sat) AS BIGINT)
FROM (
    SELECT agency_id, office_id, n, sum, sum_sq, 0 AS sat
    FROM rollups
    WHERE question_id = '@headline'
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
      AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
    UNION ALL
    SELECT agency_id, office_id, 0, 0, 0, n
    FROM rollup_values
    WHERE question_id = '@headline' AND value IN ('4', '5')
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
      AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
) AS t
GROUP BY agency_id, office_id
ORDER BY agency_id, office_id
