-- marts.lifecycle for a run whose as-of date is before the latest one the tenant's history has seen
-- (a backfill or a look at the past: the history is left untouched, see crm_pipeline/marts.py).
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_contacts and marts.lifecycle_history.
-- stage_since: entered_on of the history spell of this stage that covered the as-of date
-- (entered_on <= as_of and not left by then); NULL when no spell did.
SELECT $tenant_id AS tenant_id,
       s.contact_id,
       CAST($as_of AS DATE) AS as_of,
       s.stage,
       h.entered_on AS stage_since,
       s.reason
FROM mart_contacts AS s
LEFT JOIN marts.lifecycle_history AS h
    ON h.tenant_id = $tenant_id
   AND h.contact_id = s.contact_id
   AND h.stage = s.stage
   AND h.entered_on <= CAST($as_of AS DATE)
   AND (h.left_on IS NULL OR h.left_on > CAST($as_of AS DATE))
