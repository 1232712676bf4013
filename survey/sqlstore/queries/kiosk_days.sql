-- kiosk_days: one kiosk's presses per Tehran day — counted ones and each flag's — and the last
-- press of the day, for the days from :from_day to :to_day (inclusive, YYYY-MM-DD; '' for
-- open-ended), by day.
-- Read by: Store.KioskDays → kiosk.Service.Stats (GET /api/v1/kiosks/{id}/stats).
SELECT day,
       CAST(SUM(CASE WHEN flag = '' THEN 1 ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN flag = 'interval' THEN 1 ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN flag = 'burst' THEN 1 ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN flag = 'after_hours' THEN 1 ELSE 0 END) AS BIGINT),
       MAX(pressed_at)
FROM kiosk_presses
WHERE kiosk_id = @kiosk
  AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
  AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
GROUP BY day
ORDER BY day
