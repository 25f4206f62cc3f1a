-- The rows of marts.workflow_performance: per workflow and month of enrollment (a cohort), the
-- enrollments, how many are still open, exits by reason, the conversion rate (goal_met over
-- enrolled) and the median days each step took (reached to completed), from the whole history.
-- Parameters: $tenant_id, $as_of (DATE).
WITH cohorts AS (
    SELECT workflow, CAST(date_trunc('month', enrolled_at) AS DATE) AS month,
           count(*) AS enrolled,
           count(*) FILTER (WHERE exited_at IS NULL) AS still_open,
           count(*) FILTER (WHERE exit_reason = 'goal_met') AS exited_goal_met,
           count(*) FILTER (WHERE exit_reason = 'disqualified') AS exited_disqualified,
           count(*) FILTER (WHERE exit_reason = 'criteria_lost') AS exited_criteria_lost,
           count(*) FILTER (WHERE exit_reason = 'suppressed') AS exited_suppressed,
           count(*) FILTER (WHERE exit_reason = 'timed_out') AS exited_timed_out,
           count(*) FILTER (WHERE exit_reason = 'manual') AS exited_manual,
           median(exited_at - enrolled_at) FILTER (WHERE exited_at IS NOT NULL)
               AS median_days_enrolled
    FROM marts.work_queue_history
    WHERE tenant_id = $tenant_id
    GROUP BY ALL
),
steps AS (
    SELECT workflow, month, map(list(step ORDER BY step_no), list(days ORDER BY step_no))
               AS median_step_days
    FROM (
        SELECT workflow, CAST(date_trunc('month', enrolled_at) AS DATE) AS month, step,
               min(step_no) AS step_no,
               median(greatest(date_diff('day', reached_on, CAST(completed_at AS DATE)), 0))
                   AS days
        FROM marts.work_queue_steps
        WHERE tenant_id = $tenant_id AND completed_at IS NOT NULL
        GROUP BY ALL
    )
    GROUP BY ALL
)
SELECT $tenant_id AS tenant_id, c.*,
       round(c.exited_goal_met / c.enrolled, 4) AS conversion_rate,
       s.median_step_days,
       CAST($as_of AS DATE) AS as_of
FROM cohorts AS c
LEFT JOIN steps AS s USING (workflow, month)
