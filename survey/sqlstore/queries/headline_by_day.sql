-- headline_by_day: the per-citizen headline of one agency (and office, when :office is not 0) per
-- Tehran day, with the citizens whose mean is 4 or more, from headline_days (migration 0020): one
-- row per office and day, summed per day. Days are inclusive YYYY-MM-DD; an empty :from_day or
-- :to_day means unbounded.
-- Read by: Store.HeadlineByDay → analytics.Dashboard.Trend.
SELECT day, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT),
       CAST(SUM(satisfied) AS BIGINT)
FROM headline_days
WHERE agency_id = @agency
  AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
  AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
  AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
GROUP BY day
ORDER BY day
