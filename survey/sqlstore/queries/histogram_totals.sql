-- histogram_totals: histogram cells a report filter selects, summed per question, channel and
-- value (a rating, an nps score, 0/1, or a choice option id). Filter as in rollup_totals.
-- Read by: Store.HistogramTotals → analytics.Scores.
SELECT question_id, channel, value, CAST(SUM(n) AS BIGINT)
FROM rollup_values
WHERE (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
  AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
  AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
  AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
GROUP BY question_id, channel, value
ORDER BY question_id, channel, value
