-- Step evidence, part 1: the temp table wf_step_state (per subject of wf_subjects, each step
-- that applies to it, in order: `position`), not yet completed, and wf_candidates, every
-- activity that could complete one of those steps.
-- Parameters: $tenant_id, $as_of (DATE), $system_actor. Reads the registered tables wf_steps
-- (the tenant's workflow definitions) and wf_agents (actor, role: the roles registry).
--
-- An activity is evidence for a step when it occurred on or after the subject's evidence_from,
-- up to the end of the as-of day, and matches the step's evidence: a listed type; the
-- direction, when given; the subject pattern (subject or notes, case-insensitive), when given;
-- and an actor of a listed role or agent name, or a person (an actor not in the registry).
-- The pipeline's own lines, and lines without an actor, never count.
CREATE OR REPLACE TEMP TABLE wf_step_state AS
SELECT s.workflow, s.contact_id, s.enrolled_at, s.evidence_from, t.step_no, t.step, t.owner,
       t.due_days, t.next_action, t.after_previous,
       row_number() OVER (PARTITION BY s.workflow, s.contact_id, s.enrolled_at
                          ORDER BY t.step_no) AS position,
       CAST(NULL AS TIMESTAMP) AS completed_at,
       CAST(NULL AS VARCHAR) AS activity_id
FROM wf_subjects AS s
JOIN wf_steps AS t ON t.workflow = s.workflow AND (NOT t.high_score_only OR s.high_score);

CREATE OR REPLACE TEMP TABLE wf_candidates AS
SELECT p.workflow, p.contact_id, p.enrolled_at, p.position, a.occurred_at, a.activity_id
FROM wf_step_state AS p
JOIN wf_steps AS t ON t.workflow = p.workflow AND t.step_no = p.step_no
JOIN core.activities AS a
  ON a.tenant_id = $tenant_id AND a.contact_id = p.contact_id
 AND a.occurred_at >= p.evidence_from
 AND a.occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
 AND list_contains(t.types, a.type)
LEFT JOIN wf_agents AS g ON g.actor = lower(trim(a.actor))
WHERE a.actor IS NOT NULL
  AND lower(trim(a.actor)) <> $system_actor
  AND coalesce(lower(a.actor_kind), '') <> 'system'
  AND (t.direction IS NULL OR lower(a.direction) = t.direction)
  AND (t.subject IS NULL
       OR regexp_matches(coalesce(a.subject, '') || ' ' || coalesce(a.notes, ''), t.subject, 'i'))
  AND (len(t."by") = 0 OR g.actor IS NULL
       OR list_contains(t."by", g.role) OR list_contains(t."by", g.actor));
