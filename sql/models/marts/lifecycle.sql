-- marts.lifecycle: the derived stage of every contact (rules in contact_lifecycle_stage.sql) and
-- since when, for a run that has just updated marts.lifecycle_history (lifecycle_history_update.sql).
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_lifecycle_spells (the stages matched with the
-- history before the update).
-- stage_since: entered_on of the history spell of this stage that covers the as-of date, i.e. the
-- start of the current spell: the spell the stage continues, or this as-of date when the update
-- opened a new one. History begins with the tenant's first run, so stage_since is never earlier
-- than that run's as-of date. (A run for an earlier date leaves the history alone: lifecycle_past.sql.)
SELECT $tenant_id AS tenant_id,
       contact_id,
       CAST($as_of AS DATE) AS as_of,
       stage,
       CASE WHEN in_history THEN entered_on ELSE CAST($as_of AS DATE) END AS stage_since,
       reason
FROM mart_lifecycle_spells
WHERE member
