-- headline_by_office: the per-citizen headline rollups ('@headline') per agency and office over
-- a period, with the citizens whose mean is 4 or more (histogram buckets '4' and '5'). A zero
-- :agency means every agency: the province table reads all of them in this ONE grouped query
-- (summing offices per agency), never one query per agency. Callers check the principal first;
-- :office is always 0 here.
-- The period comes split (sqlstore.splitPeriod, migration 0019): whole Jalali months :m_from…:m_to
-- from the month table, and the partial months at each end, days :a_from…:a_to and :b_from…:b_to,
-- from the day table; an empty :m_from, :a_from or :b_from leaves that part out. A zero :agency
-- or :office means "any".
-- Read by: Store.HeadlineByOffice → analytics.Dashboard.ProvinceTable and .Offices.
SELECT agency_id, office_id, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT),
       CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(sat) AS BIGINT)
FROM (
    SELECT agency_id, office_id, n, sum, sum_sq, 0 AS sat
    FROM rollup_months
    WHERE CAST(@m_from AS TEXT) <> '' AND month >= @m_from AND month <= @m_to
      AND question_id = '@headline'
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, n, sum, sum_sq, 0 AS sat
    FROM rollups
    WHERE CAST(@a_from AS TEXT) <> '' AND day >= @a_from AND day <= @a_to
      AND question_id = '@headline'
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, n, sum, sum_sq, 0 AS sat
    FROM rollups
    WHERE CAST(@b_from AS TEXT) <> '' AND day >= @b_from AND day <= @b_to
      AND question_id = '@headline'
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, 0, 0, 0, n
    FROM rollup_value_months
    WHERE CAST(@m_from AS TEXT) <> '' AND month >= @m_from AND month <= @m_to
      AND question_id = '@headline' AND value IN ('4', '5')
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, 0, 0, 0, n
    FROM rollup_values
    WHERE CAST(@a_from AS TEXT) <> '' AND day >= @a_from AND day <= @a_to
      AND question_id = '@headline' AND value IN ('4', '5')
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT agency_id, office_id, 0, 0, 0, n
    FROM rollup_values
    WHERE CAST(@b_from AS TEXT) <> '' AND day >= @b_from AND day <= @b_to
      AND question_id = '@headline' AND value IN ('4', '5')
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
) AS t
GROUP BY agency_id, office_id
ORDER BY agency_id, office_id
