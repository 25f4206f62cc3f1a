-- The rows of marts.work_queue: one per open enrollment, at its current step: the first step
-- not completed, or, once all are, the workflow's final step (no deadline).
-- Parameters: $tenant_id, $as_of (DATE). Reads wf_step_state, wf_match, wf_workflows.
-- priority: 1 overdue, or a high-scoring lead / a learned churn risk above the threshold;
-- 2 any other open step; 3 waiting in the final step.
WITH current_step AS (
    SELECT workflow, contact_id, enrolled_at,
           arg_min(step, step_no) AS step, arg_min(owner, step_no) AS owner,
           arg_min(next_action, step_no) AS next_action, arg_min(due_on, step_no) AS due_on
    FROM wf_step_state
    WHERE completed_at IS NULL
    GROUP BY ALL
)
SELECT $tenant_id AS tenant_id, h.workflow, h.contact_id, h.account_id, h.enrolled_at,
       h.enroll_reason,
       coalesce(c.step, w.final_step) AS step,
       coalesce(c.owner, w.final_owner) AS step_owner,
       c.due_on AS step_due_at,
       coalesce(CAST($as_of AS DATE) > c.due_on, false) AS overdue,
       CASE WHEN c.step IS NULL THEN 3
            WHEN CAST($as_of AS DATE) > c.due_on OR coalesce(m.high_score, false) THEN 1
            ELSE 2 END AS priority,
       coalesce(c.next_action, w.final_action) AS next_action,
       CAST($as_of AS DATE) AS as_of
FROM marts.work_queue_history AS h
JOIN wf_workflows AS w USING (workflow)
LEFT JOIN current_step AS c USING (workflow, contact_id, enrolled_at)
LEFT JOIN wf_match AS m USING (workflow, contact_id)
WHERE h.tenant_id = $tenant_id AND h.exited_at IS NULL
