-- export_responses: one agency's raw responses — flagged ones included, with their flag — for
-- the Tehran days :from_day to :to_day (inclusive, YYYY-MM-DD; '' for open-ended), optionally
-- one office (:office 0 for all), in day, submission time and id order. Read row by row, never
-- all at once: an export may be millions of rows. responses_agency_day_idx serves the range.
-- Read by: Store.EachResponse → analytics/export (GET /api/v1/agencies/{id}/responses.csv|.xlsx).
SELECT CAST(id AS TEXT), agency_id, office_id, survey_id, survey_version, channel, source,
       submitted_at, received_at, answers, flag, device_id
FROM responses
WHERE agency_id = @agency
  AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
  AND (CAST(@from_day AS TEXT) = '' OR day >= @from_day)
  AND (CAST(@to_day AS TEXT) = '' OR day <= @to_day)
ORDER BY day, submitted_at, id
