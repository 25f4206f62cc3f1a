-- Step evidence, part 2, run once per position (1, 2, ...): the steps at $position are
-- completed by their first candidate activity; a step marked after_previous only by one after
-- the previous step's completion (a follow-up follows what it follows up), and not at all
-- while that step is open. Other steps are completed independently, so agents may work in
-- parallel. Parameters: $position.
UPDATE wf_step_state AS s
SET completed_at = e.completed_at, activity_id = e.activity_id
FROM (
    SELECT c.workflow, c.contact_id, c.enrolled_at,
           min(c.occurred_at) AS completed_at,
           arg_min(c.activity_id, (c.occurred_at, c.activity_id)) AS activity_id
    FROM wf_candidates AS c
    JOIN wf_step_state AS me
      ON me.workflow = c.workflow AND me.contact_id = c.contact_id
     AND me.enrolled_at = c.enrolled_at AND me.position = c.position
    LEFT JOIN wf_step_state AS prev
      ON prev.workflow = c.workflow AND prev.contact_id = c.contact_id
     AND prev.enrolled_at = c.enrolled_at AND prev.position = c.position - 1
    WHERE c.position = $position
      AND (NOT me.after_previous OR prev.contact_id IS NULL
           OR c.occurred_at > prev.completed_at)
    GROUP BY ALL
) AS e
WHERE s.position = $position AND s.workflow = e.workflow AND s.contact_id = e.contact_id
  AND s.enrolled_at = e.enrolled_at;
