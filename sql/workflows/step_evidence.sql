-- The temp table wf_step_state: per subject (wf_subjects) and step that applies to it, the
-- activity that completed the step, when the step was reached and when it is due.
-- Parameters: $tenant_id, $as_of (DATE), $system_actor. Reads the registered tables wf_steps
-- (the tenant's workflow definitions) and wf_agents (actor, role: the roles registry).
--
-- A step is completed by the first activity on or after the subject's evidence_from, up to the
-- end of the as-of day, that matches its evidence: a listed type; the direction, when given;
-- the subject pattern (subject or notes, case-insensitive), when given; and an actor of a
-- listed role or agent name, or a person (an actor not in the registry). The pipeline's own
-- lines never count. Steps are completed independently (agents work in parallel): the current
-- step is the first one not completed. A step is reached when the one before it was completed
-- (the first: when the enrollment was triggered, e.g. onboarding's first purchase, else on the
-- enrollment date); it is due due_days after that.
CREATE OR REPLACE TEMP TABLE wf_step_state AS
WITH applicable AS (
    SELECT s.workflow, s.contact_id, s.enrolled_at, s.evidence_from, t.step_no, t.step,
           t.owner, t.due_days, t.next_action, t.types, t.direction, t."by", t.subject
    FROM wf_subjects AS s
    JOIN wf_steps AS t ON t.workflow = s.workflow AND (NOT t.high_score_only OR s.high_score)
),
evidence AS (
    SELECT p.workflow, p.contact_id, p.enrolled_at, p.step_no,
           min(a.occurred_at) AS completed_at,
           arg_min(a.activity_id, (a.occurred_at, a.activity_id)) AS activity_id
    FROM applicable AS p
    JOIN core.activities AS a
      ON a.tenant_id = $tenant_id AND a.contact_id = p.contact_id
     AND a.occurred_at >= p.evidence_from
     AND a.occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
     AND list_contains(p.types, a.type)
    LEFT JOIN wf_agents AS g ON g.actor = lower(trim(a.actor))
    WHERE a.actor IS NOT NULL
      AND lower(trim(a.actor)) <> $system_actor
      AND coalesce(lower(a.actor_kind), '') <> 'system'
      AND (p.direction IS NULL OR lower(a.direction) = p.direction)
      AND (p.subject IS NULL
           OR regexp_matches(coalesce(a.subject, '') || ' ' || coalesce(a.notes, ''),
                             p.subject, 'i'))
      AND (len(p."by") = 0 OR g.actor IS NULL
           OR list_contains(p."by", g.role) OR list_contains(p."by", g.actor))
    GROUP BY ALL
),
ordered AS (
    SELECT p.workflow, p.contact_id, p.enrolled_at, p.evidence_from, p.step_no, p.step,
           p.owner, p.due_days, p.next_action, e.completed_at, e.activity_id,
           lag(e.completed_at) OVER w AS previous_completed_at,
           row_number() OVER w AS position
    FROM applicable AS p
    LEFT JOIN evidence AS e USING (workflow, contact_id, enrolled_at, step_no)
    WINDOW w AS (PARTITION BY p.workflow, p.contact_id, p.enrolled_at ORDER BY p.step_no)
)
SELECT workflow, contact_id, enrolled_at, step_no, step, owner, next_action, completed_at,
       activity_id, reached_on,
       CAST(reached_on + to_days(CAST(due_days AS INTEGER)) AS DATE) AS due_on
FROM (
    SELECT *,
           CASE WHEN position = 1 THEN least(enrolled_at, CAST(evidence_from AS DATE))
                WHEN previous_completed_at IS NOT NULL THEN CAST(previous_completed_at AS DATE)
                WHEN completed_at IS NOT NULL THEN CAST(completed_at AS DATE)
           END AS reached_on
    FROM ordered
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
