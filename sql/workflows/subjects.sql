-- The temp table wf_subjects: the enrollments whose steps this run works out: every open
-- enrollment, and every contact that may be enrolled on this date (it meets the criteria and
-- has no open eligibility spell; in onboarding, every contact meeting the criteria, since its
-- goal, every step completed, decides whether it is eligible at all).
-- Parameters: $tenant_id, $as_of (DATE).
-- evidence_from: activities on or after it count as step evidence (the enrollment's trigger:
-- the first purchase for onboarding, the enrollment date otherwise). high_score: the
-- high-scoring-only steps apply (lead nurture); they stay applicable to an enrollment once one
-- of its steps was completed on an earlier day, so a lead whose score drops after the outreach
-- keeps the steps it went through.
CREATE OR REPLACE TEMP TABLE wf_subjects AS
SELECT h.workflow, h.contact_id, h.enrolled_at, h.triggered_at AS evidence_from,
       coalesce(m.high_score, false) OR EXISTS (
           SELECT 1 FROM marts.work_queue_steps AS s
           WHERE s.tenant_id = $tenant_id AND s.workflow = h.workflow
             AND s.contact_id = h.contact_id AND s.enrolled_at = h.enrolled_at
             AND s.completed_at < CAST($as_of AS DATE)) AS high_score,
       true AS enrolled
FROM marts.work_queue_history AS h
LEFT JOIN wf_match AS m USING (workflow, contact_id)
WHERE h.tenant_id = $tenant_id AND h.exited_at IS NULL
UNION ALL
SELECT m.workflow, m.contact_id, CAST($as_of AS DATE), m.triggered_at, m.high_score, false
FROM wf_match AS m
WHERE m.criteria
  AND NOT EXISTS (SELECT 1 FROM marts.work_queue_history AS h
                  WHERE h.tenant_id = $tenant_id AND h.exited_at IS NULL
                    AND h.workflow = m.workflow AND h.contact_id = m.contact_id)
  AND (m.workflow = 'customer_onboarding'
       OR NOT EXISTS (SELECT 1 FROM marts.workflow_eligibility AS e
                      WHERE e.tenant_id = $tenant_id AND e.left_on IS NULL
                        AND e.workflow = m.workflow AND e.contact_id = m.contact_id));
