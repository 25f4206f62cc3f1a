-- Open enrollments that end on this as-of date, with the first exit reason that applies:
--   suppressed    erased, bounced e-mail, consent denied in an outreach workflow; or the
--                 contact is gone (erased);
--   manual        the contact was deleted by a person;
--   goal_met      converted (lead nurture), every step completed (onboarding), no longer at
--                 risk (retention);
--   disqualified  lead nurture: no activity for disqualify_cold_days days, or an activity
--                 marked disqualified since the enrollment began;
--   timed_out     open timeout_days days after its trigger (onboarding);
--   criteria_lost no longer meets the entry criteria (e.g. a customer who churned).
-- Parameters: $tenant_id, $as_of (DATE), $lead_nurture_disqualify_cold_days. Reads wf_match,
-- wf_workflows (timeout_days per workflow).
CREATE OR REPLACE TEMP TABLE wf_exits AS
SELECT h.workflow, h.contact_id, h.enrolled_at,
       CASE
           WHEN m.contact_id IS NULL AND c.contact_id IS NULL
               THEN CASE WHEN g.contact_id IS NOT NULL THEN 'suppressed' ELSE 'manual' END
           WHEN m.suppressed THEN 'suppressed'
           WHEN m.goal THEN 'goal_met'
           WHEN h.workflow = 'lead_nurture'
                AND (m.disqualified_at >= h.triggered_at
                     OR CAST($as_of AS DATE) - coalesce(
                            CAST($as_of AS DATE) - m.days_since_last_activity, h.enrolled_at)
                        >= $lead_nurture_disqualify_cold_days)
               THEN 'disqualified'
           WHEN w.timeout_days IS NOT NULL
                AND CAST($as_of AS DATE) - CAST(h.triggered_at AS DATE) >= w.timeout_days
               THEN 'timed_out'
           WHEN NOT coalesce(m.criteria, false) THEN 'criteria_lost'
       END AS exit_reason
FROM marts.work_queue_history AS h
LEFT JOIN wf_match AS m USING (workflow, contact_id)
LEFT JOIN wf_contacts AS c USING (contact_id)
LEFT JOIN (SELECT DISTINCT contact_id FROM gdpr.suppressions WHERE tenant_id = $tenant_id) AS g
       USING (contact_id)
LEFT JOIN wf_workflows AS w USING (workflow)
WHERE h.tenant_id = $tenant_id AND h.exited_at IS NULL;

DELETE FROM wf_exits WHERE exit_reason IS NULL;

UPDATE marts.work_queue_history AS h
SET exited_at = CAST($as_of AS DATE), exit_reason = x.exit_reason
FROM wf_exits AS x
WHERE h.tenant_id = $tenant_id AND h.exited_at IS NULL
  AND h.workflow = x.workflow AND h.contact_id = x.contact_id AND h.enrolled_at = x.enrolled_at;
