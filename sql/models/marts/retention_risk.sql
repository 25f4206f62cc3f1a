-- marts.retention_risk: customers (lifecycle stage customer or advocate) against their own baseline.
-- Parameters: $tenant_id, $as_of (DATE), $decline_recent_days (30), $decline_baseline_days (180),
-- $decline_ratio (0.5). Reads mart_contacts and mart_churn_model_scores.
--   activities_last_30d    activities with d <= $decline_recent_days
--   baseline_monthly_rate  activities in the $decline_baseline_days days before that window,
--                          per $decline_recent_days days (count x recent / baseline days)
--   ratio                  activities_last_30d / baseline_monthly_rate; NULL when the baseline is 0
--   declining              ratio < $decline_ratio (false when the ratio is NULL)
-- churn_probability, churn_method, top_factors: from mart_churn_model_scores (crm_pipeline/scoring),
-- method rule when it has no row for the customer.
WITH rates AS (
    SELECT contact_id,
           recent_activities AS activities_last_30d,
           baseline_activities * CAST($decline_recent_days AS DOUBLE) / $decline_baseline_days
               AS baseline_monthly_rate
    FROM mart_contacts
    WHERE stage IN ('customer', 'advocate')
)
SELECT $tenant_id AS tenant_id,
       r.contact_id,
       CAST($as_of AS DATE) AS as_of,
       r.activities_last_30d,
       r.baseline_monthly_rate,
       CASE WHEN r.baseline_monthly_rate > 0 THEN r.activities_last_30d / r.baseline_monthly_rate
       END AS ratio,
       coalesce(r.baseline_monthly_rate > 0
                AND r.activities_last_30d / r.baseline_monthly_rate < $decline_ratio, false)
           AS declining,
       m.churn_probability,
       coalesce(m.churn_method, 'rule') AS churn_method,
       coalesce(m.top_factors, CAST([] AS VARCHAR[])) AS top_factors
FROM rates AS r
LEFT JOIN mart_churn_model_scores AS m USING (contact_id)
