-- month_drift: the cells where the month tables differ from the day tables summed per Jalali
-- month through jalali_months (both directions, both tables); 0 when they agree, which the fold,
-- `afkar reaggregate`, the national seeder and migration 0019's backfill must all keep.
-- Read by: Store.MonthDrift (tests).
SELECT
 (SELECT COUNT(*) FROM (
    SELECT agency_id, month, office_id, survey_id, survey_version, question_id, channel, type,
           CAST(n AS BIGINT) AS n, CAST(sum AS BIGINT) AS s, CAST(sum_sq AS BIGINT) AS sq
    FROM rollup_months
    EXCEPT
    SELECT r.agency_id, m.month, r.office_id, r.survey_id, r.survey_version, r.question_id, r.channel, MIN(r.type),
           CAST(SUM(r.n) AS BIGINT), CAST(SUM(r.sum) AS BIGINT), CAST(SUM(r.sum_sq) AS BIGINT)
    FROM rollups r JOIN jalali_days m ON m.day = r.day
    GROUP BY r.agency_id, m.month, r.office_id, r.survey_id, r.survey_version, r.question_id, r.channel) AS a)
 +
 (SELECT COUNT(*) FROM (
    SELECT r.agency_id, m.month, r.office_id, r.survey_id, r.survey_version, r.question_id, r.channel, MIN(r.type),
           CAST(SUM(r.n) AS BIGINT), CAST(SUM(r.sum) AS BIGINT), CAST(SUM(r.sum_sq) AS BIGINT)
    FROM rollups r JOIN jalali_days m ON m.day = r.day
    GROUP BY r.agency_id, m.month, r.office_id, r.survey_id, r.survey_version, r.question_id, r.channel
    EXCEPT
    SELECT agency_id, month, office_id, survey_id, survey_version, question_id, channel, type,
           CAST(n AS BIGINT), CAST(sum AS BIGINT), CAST(sum_sq AS BIGINT)
    FROM rollup_months) AS b)
 +
 (SELECT COUNT(*) FROM (
    SELECT agency_id, month, office_id, survey_id, survey_version, question_id, channel, value, CAST(n AS BIGINT) AS n
    FROM rollup_value_months
    EXCEPT
    SELECT v.agency_id, m.month, v.office_id, v.survey_id, v.survey_version, v.question_id, v.channel, v.value, CAST(SUM(v.n) AS BIGINT)
    FROM rollup_values v JOIN jalali_days m ON m.day = v.day
    GROUP BY v.agency_id, m.month, v.office_id, v.survey_id, v.survey_version, v.question_id, v.channel, v.value) AS c)
 +
 (SELECT COUNT(*) FROM (
    SELECT v.agency_id, m.month, v.office_id, v.survey_id, v.survey_version, v.question_id, v.channel, v.value, CAST(SUM(v.n) AS BIGINT)
    FROM rollup_values v JOIN jalali_days m ON m.day = v.day
    GROUP BY v.agency_id, m.month, v.office_id, v.survey_id, v.survey_version, v.question_id, v.channel, v.value
    EXCEPT
    SELECT agency_id, month, office_id, survey_id, survey_version, question_id, channel, value, CAST(n AS BIGINT)
    FROM rollup_value_months) AS d)
