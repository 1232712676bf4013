-- hour_totals: the hourly per-citizen rollup (rollup_hours) summed over the selected offices, per
-- Tehran day and hour. A zero :agency or :office and an empty :from_day or :to_day mean "any";
-- days are inclusive Tehran days written YYYY-MM-DD. Values are on the CitizenScale (×2520).
-- Read by: Store.HourTotals → analytics.AlertWatcher (hour-of-week cells), the heatmap.
SELECT day, CAST(hour AS INTEGER), CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT), CAST(SUM(sum_sq) AS BIGINT)
FROM rollup_hours
WHERE (CAST(@agency AS BIGINT) = 0 OR agency_id = @agency)
  AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
  AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
  AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
GROUP BY day, hour
ORDER BY day, hour
