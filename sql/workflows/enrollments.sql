-- New enrollments: contacts whose eligibility spell opened on this as-of date (not eligible at
-- the previous run, or never seen) and without an open enrollment in the workflow.
-- Parameters: $tenant_id, $as_of (DATE).
INSERT INTO marts.work_queue_history
    (tenant_id, workflow, contact_id, account_id, enrolled_at, triggered_at, enroll_reason,
     exited_at, exit_reason)
SELECT $tenant_id, m.workflow, m.contact_id, m.account_id, CAST($as_of AS DATE), m.triggered_at,
       m.enroll_reason, NULL, NULL
FROM wf_match AS m
JOIN marts.workflow_eligibility AS e
  ON e.tenant_id = $tenant_id AND e.workflow = m.workflow AND e.contact_id = m.contact_id
 AND e.entered_on = CAST($as_of AS DATE) AND e.left_on IS NULL
WHERE NOT EXISTS (SELECT 1 FROM marts.work_queue_history AS h
                  WHERE h.tenant_id = $tenant_id AND h.exited_at IS NULL
                    AND h.workflow = m.workflow AND h.contact_id = m.contact_id);
