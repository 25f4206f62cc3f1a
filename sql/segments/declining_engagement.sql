-- outreach: true
-- Declining engagement: a customer whose activity in the last $decline_recent_days (30) days fell
-- below $decline_ratio (half) of its average rate over the $decline_baseline_days (180) days
-- before, with a baseline above 0 (marts.retention_risk.declining).
SELECT contact_id
FROM marts.retention_risk
WHERE tenant_id = $tenant_id
  AND declining
