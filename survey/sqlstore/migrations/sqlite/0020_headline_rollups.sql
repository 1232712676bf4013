-- 0020_headline_rollups: the per-citizen headline ('@headline') alone, per agency, office and
-- Tehran day, and again per Jalali month (sqlite). Keep it in step with
-- migrations/postgres/0020_headline_rollups.sql.
--
-- The province table (every agency side by side) and the offices table read only the headline:
-- n, Σx, Σx² and the satisfied citizens (headline buckets 4 and 5). From rollups and
-- rollup_values that meant every survey version × channel × bucket cell of every agency: at
-- national size (20 M responses, 496 agencies) about a second for 30 days, 1.5 s for a year.
-- Here a day is one row per office that had citizens (~1,500 a day nationally) and a month one
-- row per office, so a 30-day table reads ~45,000 small rows and a year ~20,000 month rows plus
-- its partial months (survey/sqlstore/periods.go). The fold writes both tables in its
-- transaction (fold.go headlineCells), as do the national seeder's COPY and `afkar reaggregate`;
-- Store.DerivedDrift checks they equal the rollups they are derived from.
CREATE TABLE headline_days (
    day       TEXT NOT NULL, -- Tehran YYYY-MM-DD
    agency_id BIGINT NOT NULL,
    office_id BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    sum       BIGINT NOT NULL,
    sum_sq    BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    PRIMARY KEY (day, agency_id, office_id)
);
-- One agency's offices or trend over a period.
CREATE INDEX headline_days_agency_idx ON headline_days (agency_id, day);

CREATE TABLE headline_months (
    month     TEXT NOT NULL, -- Jalali YYYY-MM
    agency_id BIGINT NOT NULL,
    office_id BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    sum       BIGINT NOT NULL,
    sum_sq    BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    PRIMARY KEY (month, agency_id, office_id)
);
CREATE INDEX headline_months_agency_idx ON headline_months (agency_id, month);

-- Existing rollups: derived once, here (the same sums the fold keeps).
INSERT INTO headline_days (day, agency_id, office_id, n, sum, sum_sq, satisfied)
SELECT day, agency_id, office_id, SUM(n), SUM(sum), SUM(sum_sq), SUM(sat)
FROM (
    SELECT day, agency_id, office_id, n, sum, sum_sq, 0 AS sat
    FROM rollups WHERE question_id = '@headline'
    UNION ALL
    SELECT day, agency_id, office_id, 0, 0, 0, n
    FROM rollup_values WHERE question_id = '@headline' AND value IN ('4', '5')
) AS t
GROUP BY day, agency_id, office_id;

INSERT INTO headline_months (month, agency_id, office_id, n, sum, sum_sq, satisfied)
SELECT m.month, h.agency_id, h.office_id, SUM(h.n), SUM(h.sum), SUM(h.sum_sq), SUM(h.satisfied)
FROM headline_days h JOIN jalali_days m ON m.day = h.day
GROUP BY m.month, h.agency_id, h.office_id;
