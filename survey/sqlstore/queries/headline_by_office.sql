-- headline_by_office: the per-citizen headline (n, Σx, Σx² and the satisfied citizens, whose
-- mean is 4 or more) per agency and office over a period, from the headline tables (migration
-- 0020). A zero :agency means every agency: the province table reads all of them in this ONE
-- grouped query (summing offices per agency), never one query per agency. Callers check the
-- principal first; :office is always 0 here.
-- The period comes split (sqlstore.splitPeriod, migration 0019): whole Jalali months :m_from…:m_to
-- from headline_months, and the partial months at each end, days :a_from…:a_to and :b_from…:b_to,
-- from headline_days; an empty :m_from, :a_from or :b_from leaves that part out. A zero :agency
-- or :office means "any".
-- Read by: Store.HeadlineByOffice → analytics.Dashboard.ProvinceTable and .Offices.
SELECT agency_id, office_id, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT),
       CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(satisfied) AS BIGINT)
FROM (
    SELECT agency_id, office_id, n, sum, sum_sq, satisfied
    FROM headline_months
    WHERE CAST(@m_from AS TEXT) <> '' AND month >= @m_from AND month <= @m_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, n, sum, sum_sq, satisfied
    FROM headline_days
    WHERE CAST(@a_from AS TEXT) <> '' AND day >= @a_from AND day <= @a_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, n, sum, sum_sq, satisfied
    FROM headline_days
    WHERE CAST(@b_from AS TEXT) <> '' AND day >= @b_from AND day <= @b_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
) AS t
GROUP BY agency_id, office_id
ORDER BY agency_id, office_id
