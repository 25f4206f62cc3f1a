-- Step evidence, part 3: when each step was reached and when it is due; then onboarding's goal.
-- A step is reached when the one before it was completed (or when itself was, if done first);
-- the first step when the enrollment was triggered (onboarding's first purchase; otherwise the
-- enrollment date). It is due due_days after it was reached. The current step is the first one
-- not completed (queue.sql).
CREATE OR REPLACE TEMP TABLE wf_step_state AS
SELECT * EXCLUDE (previous_completed_at, due_days, evidence_from, after_previous),
       CAST(reached_on + to_days(CAST(due_days AS INTEGER)) AS DATE) AS due_on
FROM (
    SELECT *,
           CASE WHEN position = 1 THEN least(enrolled_at, CAST(evidence_from AS DATE))
                WHEN previous_completed_at IS NOT NULL THEN CAST(previous_completed_at AS DATE)
                WHEN completed_at IS NOT NULL THEN CAST(completed_at AS DATE)
           END AS reached_on
    FROM (
        SELECT *, lag(completed_at) OVER (PARTITION BY workflow, contact_id, enrolled_at
                                          ORDER BY position) AS previous_completed_at
        FROM wf_step_state
    )
);

-- Onboarding's goal: every step completed (a contact that already met it is never enrolled).
UPDATE wf_match AS m
SET goal = true
WHERE m.workflow = 'customer_onboarding'
  AND EXISTS (SELECT 1 FROM wf_step_state AS s
              WHERE s.workflow = m.workflow AND s.contact_id = m.contact_id)
  AND NOT EXISTS (SELECT 1 FROM wf_step_state AS s
                  WHERE s.workflow = m.workflow AND s.contact_id = m.contact_id
                    AND s.completed_at IS NULL);
