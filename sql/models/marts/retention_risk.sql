-- marts.retention_risk: customers (lifecycle stage customer or advocate) against their own baseline.
-- Parameters: $tenant_id, $as_of (DATE), $decline_recent_days (30), $decline_baseline_days (180),
-- $decline_ratio (0.5). Reads mart_contact_activity and mart_lifecycle_stage.
--   activities_last_30d    activities with d <= $decline_recent_days
--   baseline_monthly_rate  activities in the $decline_baseline_days days before that window,
--                          per $decline_recent_days days (count x recent / baseline days)
--   ratio                  activities_last_30d / baseline_monthly_rate; NULL when the baseline is 0
--   declining              ratio < $decline_ratio (false when the ratio is NULL)
WITH rates AS (
    SELECT a.contact_id,
           a.recent_activities AS activities_last_30d,
           a.baseline_activities * CAST($decline_recent_days AS DOUBLE) / $decline_baseline_days
               AS baseline_monthly_rate
    FROM mart_contact_activity AS a
    JOIN mart_lifecycle_stage AS s USING (contact_id)
    WHERE s.stage IN ('customer', 'advocate')
)
SELECT $tenant_id AS tenant_id,
       contact_id,
       CAST($as_of AS DATE) AS as_of,
       activities_last_30d,
       baseline_monthly_rate,
       CASE WHEN baseline_monthly_rate > 0 THEN activities_last_30d / baseline_monthly_rate END
           AS ratio,
       coalesce(baseline_monthly_rate > 0
                AND activities_last_30d / baseline_monthly_rate < $decline_ratio, false)
           AS declining
FROM rates
