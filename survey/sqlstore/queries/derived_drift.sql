-- derived_drift: the cells where a derived table differs from what it is derived from (both
-- directions each): the month tables from the day tables summed per Jalali month through
-- jalali_days (migration 0019), headline_days from the '@headline' rollups and satisfied buckets
-- of rollups and rollup_values, and headline_months from headline_days summed per month
-- (migration 0020). 0 when they agree, which the fold, `afkar reaggregate`, the national seeder
-- and the migrations' backfills must all keep.
-- Read by: Store.DerivedDrift (tests).
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
 +
 (SELECT COUNT(*) FROM (
    SELECT day, agency_id, office_id, CAST(n AS BIGINT), CAST(sum AS BIGINT), CAST(sum_sq AS BIGINT), CAST(satisfied AS BIGINT)
    FROM headline_days
    EXCEPT
    SELECT day, agency_id, office_id, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT),
           CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(sat) AS BIGINT)
    FROM (SELECT day, agency_id, office_id, n, sum, sum_sq, 0 AS sat
          FROM rollups WHERE question_id = '@headline'
          UNION ALL
          SELECT day, agency_id, office_id, 0, 0, 0, n
          FROM rollup_values WHERE question_id = '@headline' AND value IN ('4', '5')) AS r
    GROUP BY day, agency_id, office_id) AS h0)
 +
 (SELECT COUNT(*) FROM (
    SELECT day, agency_id, office_id, CAST(SUM(n) AS BIGINT), CAST(SUM(sum) AS BIGINT),
           CAST(SUM(sum_sq) AS BIGINT), CAST(SUM(sat) AS BIGINT)
    FROM (SELECT day, agency_id, office_id, n, sum, sum_sq, 0 AS sat
          FROM rollups WHERE question_id = '@headline'
          UNION ALL
          SELECT day, agency_id, office_id, 0, 0, 0, n
          FROM rollup_values WHERE question_id = '@headline' AND value IN ('4', '5')) AS r
    GROUP BY day, agency_id, office_id
    EXCEPT
    SELECT day, agency_id, office_id, CAST(n AS BIGINT), CAST(sum AS BIGINT), CAST(sum_sq AS BIGINT), CAST(satisfied AS BIGINT)
    FROM headline_days) AS h1)
 +
 (SELECT COUNT(*) FROM (
    SELECT month, agency_id, office_id, CAST(n AS BIGINT), CAST(sum AS BIGINT), CAST(sum_sq AS BIGINT), CAST(satisfied AS BIGINT)
    FROM headline_months
    EXCEPT
    SELECT m.month, h.agency_id, h.office_id, CAST(SUM(h.n) AS BIGINT), CAST(SUM(h.sum) AS BIGINT),
           CAST(SUM(h.sum_sq) AS BIGINT), CAST(SUM(h.satisfied) AS BIGINT)
    FROM headline_days h JOIN jalali_days m ON m.day = h.day
    GROUP BY m.month, h.agency_id, h.office_id) AS h2)
 +
 (SELECT COUNT(*) FROM (
    SELECT m.month, h.agency_id, h.office_id, CAST(SUM(h.n) AS BIGINT), CAST(SUM(h.sum) AS BIGINT),
           CAST(SUM(h.sum_sq) AS BIGINT), CAST(SUM(h.satisfied) AS BIGINT)
    FROM headline_days h JOIN jalali_days m ON m.day = h.day
    GROUP BY m.month, h.agency_id, h.office_id
    EXCEPT
    SELECT month, agency_id, office_id, CAST(n AS BIGINT), CAST(sum AS BIGINT), CAST(sum_sq AS BIGINT), CAST(satisfied AS BIGINT)
    FROM headline_months) AS h3)
