-- Rows breaking the work queues' invariants, for the blocking asset check: more than one open
-- enrollment per workflow and contact; a queue row without its open enrollment or an open
-- enrollment without its queue row; an exit without a reason (or a reason without an exit).
-- Parameters: $tenant_id. One row: the offending count per kind.
SELECT
    (SELECT count(*) FROM (
        SELECT workflow, contact_id FROM marts.work_queue_history
        WHERE tenant_id = $tenant_id AND exited_at IS NULL
        GROUP BY ALL HAVING count(*) > 1)) AS duplicate_open_enrollments,
    (SELECT count(*) FROM (
        SELECT workflow, contact_id, enrolled_at FROM marts.work_queue
        WHERE tenant_id = $tenant_id
        EXCEPT
        SELECT workflow, contact_id, enrolled_at FROM marts.work_queue_history
        WHERE tenant_id = $tenant_id AND exited_at IS NULL)
     ) + (SELECT count(*) FROM (
        SELECT workflow, contact_id, enrolled_at FROM marts.work_queue_history
        WHERE tenant_id = $tenant_id AND exited_at IS NULL
        EXCEPT
        SELECT workflow, contact_id, enrolled_at FROM marts.work_queue
        WHERE tenant_id = $tenant_id)) AS queue_history_mismatches,
    (SELECT count(*) FROM marts.work_queue_history
     WHERE tenant_id = $tenant_id AND (exited_at IS NULL) <> (exit_reason IS NULL))
        AS exits_without_reason
