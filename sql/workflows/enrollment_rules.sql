-- The temp table wf_match: per workflow and contact, whether the contact meets the workflow's
-- entry criteria and its goal on this as-of date, and whether it is suppressed. Rows for
-- contacts that meet the criteria or have an open enrollment only.
-- Parameters: $tenant_id, $as_of (DATE), $hot_percentile, and per workflow (settings
-- `workflows`, data/reference/workflows.yaml): $lead_nurture_disqualify_cold_days,
-- $customer_onboarding_timeout_days, $retention_min_churn_probability, and $<workflow>_outreach.
--
-- lead_nurture         criteria: lifecycle stage lead, active in the last
--                      disqualify_cold_days days (or never active) and no activity marked
--                      disqualified in them; goal: customer or advocate (converted);
--                      high_score: lead score percentile >= hot_percentile (the outreach steps).
-- customer_onboarding  criteria: customer or advocate whose first purchase or subscription
--                      start is less than timeout_days old; goal: every step completed
--                      (decided with the step evidence, step_evidence.sql).
-- retention            criteria: customer or advocate at risk (retention_risk.declining, or a
--                      learned churn_probability >= min_churn_probability); goal: a customer
--                      no longer at risk (re-engaged).
-- suppressed (every workflow): erased (gdpr.suppressions) or a bounced e-mail address; in the
-- outreach workflows also consent_status denied.
CREATE OR REPLACE TEMP TABLE wf_match AS
WITH open_enrollments AS (
    SELECT DISTINCT workflow, contact_id FROM marts.work_queue_history
    WHERE tenant_id = $tenant_id AND exited_at IS NULL
),
rules AS (
    SELECT 'lead_nurture' AS workflow, contact_id, account_id,
           stage = 'lead'
               AND coalesce(days_since_last_activity < $lead_nurture_disqualify_cold_days, true)
               AND NOT coalesce(disqualified_at >= CAST($as_of AS DATE)
                                - to_days(CAST($lead_nurture_disqualify_cold_days AS INTEGER)),
                                false) AS criteria,
           coalesce(stage IN ('customer', 'advocate'), false) AS goal,
           erased OR email_bounced OR (consent_denied AND $lead_nurture_outreach) AS suppressed,
           coalesce(score_percentile >= $hot_percentile, false) AS high_score,
           CAST($as_of AS DATE)::TIMESTAMP AS triggered_at,
           'lifecycle lead' || CASE WHEN score_percentile >= $hot_percentile
               THEN ', lead score ' || round(lead_score, 1) || ' in the top '
                    || round(100 * (1 - $hot_percentile)) || '%' ELSE '' END AS enroll_reason,
           days_since_last_activity, disqualified_at, erased
    FROM wf_contacts
    UNION ALL
    SELECT 'customer_onboarding', contact_id, account_id,
           coalesce(stage IN ('customer', 'advocate')
                    AND customer_since >= CAST($as_of AS DATE)
                        - to_days(CAST($customer_onboarding_timeout_days AS INTEGER) - 1), false),
           false,  -- every step completed: decided with the step evidence
           erased OR email_bounced OR (consent_denied AND $customer_onboarding_outreach),
           false,
           customer_since,
           'became a customer on ' || strftime(customer_since, '%Y-%m-%d')
               || ' (first purchase or subscription start)',
           days_since_last_activity, disqualified_at, erased
    FROM wf_contacts
    UNION ALL
    SELECT 'retention', contact_id, account_id,
           coalesce(stage IN ('customer', 'advocate')
                    AND (declining OR churn_probability >= $retention_min_churn_probability),
                    false),
           coalesce(stage IN ('customer', 'advocate')
                    AND NOT (coalesce(declining, false)
                             OR coalesce(churn_probability >= $retention_min_churn_probability,
                                         false)), false),
           erased OR email_bounced OR (consent_denied AND $retention_outreach),
           coalesce(churn_probability >= $retention_min_churn_probability, false),
           CAST($as_of AS DATE)::TIMESTAMP,
           CASE WHEN declining THEN 'declining engagement' ELSE 'churn risk' END
               || CASE WHEN churn_probability IS NOT NULL
                       THEN ' (churn probability ' || round(churn_probability, 2) || ')'
                       ELSE '' END,
           days_since_last_activity, disqualified_at, erased
    FROM wf_contacts
)
SELECT r.*
FROM rules AS r
LEFT JOIN open_enrollments AS o USING (workflow, contact_id)
WHERE r.criteria OR o.contact_id IS NOT NULL;
