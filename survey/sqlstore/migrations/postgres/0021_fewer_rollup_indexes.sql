-- 0021_fewer_rollup_indexes: drop the rollup indexes no query uses any more (postgres). Keep it in
-- step with migrations/sqlite/0021_fewer_rollup_indexes.sql.
--
-- They served the province table's scan of every agency's headline cells by day or month
-- (migrations 0015 and 0019); since migration 0020 it reads headline_days and headline_months.
-- The remaining readers of rollups, rollup_values and their month sums filter by agency (their
-- primary keys and the (agency_id, day) indexes) or read everything (dumps, drift). Every index
-- is written on every fold: these four cost the fold an index entry per cell of four tables.
DROP INDEX IF EXISTS rollups_question_day_idx;
DROP INDEX IF EXISTS rollup_values_headline_day_idx;
DROP INDEX IF EXISTS rollup_months_question_idx;
DROP INDEX IF EXISTS rollup_value_months_question_idx;
