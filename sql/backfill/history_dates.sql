-- The as-of dates after $after (DATE) at which a tenant's histories changed, and the latest
-- date its marts were refreshed for: the dates a backfill ending at $after runs again, so the
-- history after it and the current marts stay as they were. Parameters: $tenant_id, $after.
SELECT DISTINCT d FROM (
    SELECT entered_on AS d FROM marts.segment_history WHERE tenant_id = $tenant_id
    UNION ALL SELECT left_on FROM marts.segment_history WHERE tenant_id = $tenant_id
    UNION ALL SELECT entered_on FROM marts.lifecycle_history WHERE tenant_id = $tenant_id
    UNION ALL SELECT left_on FROM marts.lifecycle_history WHERE tenant_id = $tenant_id
    UNION ALL SELECT enrolled_at FROM marts.work_queue_history WHERE tenant_id = $tenant_id
    UNION ALL SELECT exited_at FROM marts.work_queue_history WHERE tenant_id = $tenant_id
    UNION ALL SELECT entered_on FROM marts.workflow_eligibility WHERE tenant_id = $tenant_id
    UNION ALL SELECT left_on FROM marts.workflow_eligibility WHERE tenant_id = $tenant_id
    UNION ALL SELECT max(as_of) FROM marts.lifecycle WHERE tenant_id = $tenant_id
    UNION ALL SELECT max(as_of) FROM marts.contact_segments WHERE tenant_id = $tenant_id
    UNION ALL SELECT max(as_of) FROM marts.work_queue WHERE tenant_id = $tenant_id
) AS seen
WHERE d > CAST($after AS DATE)
ORDER BY d
