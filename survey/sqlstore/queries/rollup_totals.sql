-- rollup_totals: the rollups a report filter selects, summed over offices, survey versions and
-- days, per question (and its type) and channel. :office restricts a score to one office.
-- The period comes split (sqlstore.splitPeriod, migration 0019): whole Jalali months :m_from…:m_to
-- from the month table, and the partial months at each end, days :a_from…:a_to and :b_from…:b_to,
-- from the day table; an empty :m_from, :a_from or :b_from leaves that part out. A zero :agency
-- or :office means "any".
-- Flagged responses appear only as their '@flagged:<flag>' rows (type 'flag'), which readers of
-- questions skip with every other '@' row.
-- Read by: Store.RollupTotals → analytics.Scores.
SELECT question_id, type, channel,
       CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT)
FROM (
    SELECT question_id, type, channel, n, sum, sum_sq
    FROM rollup_months
    WHERE CAST(@m_from AS TEXT) <> '' AND month >= @m_from AND month <= @m_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT question_id, type, channel, n, sum, sum_sq
    FROM rollups
    WHERE CAST(@a_from AS TEXT) <> '' AND day >= @a_from AND day <= @a_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
    UNION ALL
    SELECT question_id, type, channel, n, sum, sum_sq
    FROM rollups
    WHERE CAST(@b_from AS TEXT) <> '' AND day >= @b_from AND day <= @b_to
      AND (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
) AS t
GROUP BY question_id, type, channel
ORDER BY question_id, channel, type
