-- marts.work_queue_steps for the enrollments this run can change: those open after it and
-- those it closed (their steps as they were on the exit date); the steps of enrollments closed
-- by earlier runs stay as they were. Steps not reached yet are left out.
-- Parameters: $tenant_id, $as_of (DATE).
DELETE FROM marts.work_queue_steps AS s
WHERE s.tenant_id = $tenant_id
  AND EXISTS (SELECT 1 FROM marts.work_queue_history AS h
              WHERE h.tenant_id = $tenant_id
                AND (h.exited_at IS NULL OR h.exited_at = CAST($as_of AS DATE))
                AND h.workflow = s.workflow AND h.contact_id = s.contact_id
                AND h.enrolled_at = s.enrolled_at);

INSERT INTO marts.work_queue_steps
    (tenant_id, workflow, contact_id, enrolled_at, step_no, step, step_owner, reached_on,
     due_on, completed_at, completed_by_activity)
SELECT $tenant_id, s.workflow, s.contact_id, s.enrolled_at, s.step_no, s.step, s.owner,
       s.reached_on, s.due_on, s.completed_at, s.activity_id
FROM wf_step_state AS s
JOIN marts.work_queue_history AS h
  ON h.tenant_id = $tenant_id AND h.workflow = s.workflow AND h.contact_id = s.contact_id
 AND h.enrolled_at = s.enrolled_at
 AND (h.exited_at IS NULL OR h.exited_at = CAST($as_of AS DATE))
WHERE s.reached_on IS NOT NULL;
