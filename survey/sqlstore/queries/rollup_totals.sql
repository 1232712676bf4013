-- rollup_totals: the rollups a report filter selects, summed over offices, survey versions and
-- days, per question (and its type) and channel. A zero :agency or :office and an empty :from_day
-- or :to_day mean "any"; days are inclusive Tehran days written YYYY-MM-DD. :office restricts a
-- score to one office. Flagged responses appear only as their '@flagged:<flag>' rows (type
-- 'flag'), which readers of questions skip with every other '@' row.
-- Read by: Store.RollupTotals → analytics.Scores.
SELECT question_id, type, channel,
       CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT)
FROM rollups
WHERE (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
  AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
  AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
  AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
GROUP BY question_id, type, channel
ORDER BY question_id, channel, type
