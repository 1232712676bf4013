-- headline_by_day: the per-citizen headline rollups ('@headline') of one agency (and office, when
-- :office is not 0) per Tehran day, with the citizens whose mean is 4 or more (histogram buckets
-- '4' and '5'), in ONE grouped query: both tables are read for the same filter and summed per
-- day. Days are inclusive YYYY-MM-DD; an empty :from_day or :to_day means unbounded.
-- Read by: Store.HeadlineByDay → analytics.Dashboard.Trend.
SELECT day, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT),
       CAST(SUM(sat) AS BIGINT)
FROM (
    SELECT day, n, sum, sum_sq, 0 AS sat
    FROM rollups
    WHERE question_id = '@headline'
      AND agency_id = @agency
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
      AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
      AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
    UNION ALL
    SELECT day, 0, 0, 0, n
    FROM rollup_values
    WHERE question_id = '@headline' AND value IN ('4', '5')
      AND agency_id = @agency
      AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
      AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
      AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
) AS t
GROUP BY day
ORDER BY day
