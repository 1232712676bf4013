-- histogram_totals: histogram cells a report filter selects, summed per question, channel and
-- value (a rating, an nps score, 0/1, or a choice option id). Filter as in rollup_totals.
-- The period comes split (sqlstore.splitPeriod, migration 0019): whole Jalali months :m_from…:m_to
-- from the month table, and the partial months at each end, days :a_from…:a_to and :b_from…:b_to,
-- from the day table; an empty :m_from, :a_from or :b_from leaves that part out. A zero :agency
-- or :office means "any".
-- Read by: Store.HistogramTotals → analytics.Scores.
SELECT question_id, channel, value, CAST(SUM(n) AS BIGINT)
FROM (
    SELECT question_id, channel, value, n
    FROM rollup_value_months
    WHERE CAST(@m_from AS TEXT) <> '' AND month >= @m_from AND month <= @m_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT question_id, channel, value, n
    FROM rollup_values
    WHERE CAST(@a_from AS TEXT) <> '' AND day >= @a_from AND day <= @a_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT question_id, channel, value, n
    FROM rollup_values
    WHERE CAST(@b_from AS TEXT) <> '' AND day >= @b_from AND day <= @b_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
) AS t
GROUP BY question_id, channel, value
ORDER BY question_id, channel, value
