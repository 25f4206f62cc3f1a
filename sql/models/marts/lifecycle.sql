-- marts.lifecycle: the derived stage of every contact (rules in lifecycle_stage.sql) and since when.
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_lifecycle_stage and marts.lifecycle_history.
-- stage_since: entered_on of the history spell of this stage that covers the as-of date
-- (entered_on <= as_of and not left by then): the start of the current spell. History begins with
-- the tenant's first run, so stage_since is never earlier than that run's as-of date. NULL only when
-- a run for an earlier as-of date than the latest found no matching spell (history is not rewritten
-- by such runs; see crm_pipeline/marts.py).
SELECT $tenant_id AS tenant_id,
       s.contact_id,
       CAST($as_of AS DATE) AS as_of,
       s.stage,
       h.entered_on AS stage_since,
       s.reason
FROM mart_lifecycle_stage AS s
LEFT JOIN marts.lifecycle_history AS h
    ON h.tenant_id = $tenant_id
   AND h.contact_id = s.contact_id
   AND h.stage = s.stage
   AND h.entered_on <= CAST($as_of AS DATE)
   AND (h.left_on IS NULL OR h.left_on > CAST($as_of AS DATE))
