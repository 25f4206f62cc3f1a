-- The latest as-of date the tenant's workflow tables have seen (NULL before the first run).
-- Parameters: $tenant_id.
SELECT max(d) FROM (
    SELECT max(greatest(enrolled_at, coalesce(exited_at, enrolled_at))) AS d
    FROM marts.work_queue_history WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(greatest(entered_on, coalesce(left_on, entered_on)))
    FROM marts.workflow_eligibility WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(as_of) FROM marts.work_queue WHERE tenant_id = $tenant_id
    UNION ALL
    SELECT max(as_of) FROM marts.workflow_performance WHERE tenant_id = $tenant_id
) AS seen
