-- The latest as-of date a tenant's history or marts have seen (NULL before its first run).
-- Parameters: $tenant_id. A refresh for an earlier date leaves the history alone.
SELECT max(d) FROM (
    SELECT max(coalesce(left_on, entered_on)) AS d FROM marts.segment_history
    WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(coalesce(left_on, entered_on)) FROM marts.lifecycle_history
    WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(entered_on) FROM marts.segment_history WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(entered_on) FROM marts.lifecycle_history WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(as_of) FROM marts.lifecycle WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(as_of) FROM marts.contact_segments WHERE tenant_id = $tenant_id
) AS seen
