-- outreach: true
-- Hot leads: activity in the last $hot_days (14) days and a lead score in the tenant's top fifth
-- (score_percentile >= $hot_percentile, 0.8). Customers are not excluded.
SELECT e.contact_id
FROM marts.engagement AS e
JOIN marts.lead_scores AS s ON s.tenant_id = e.tenant_id AND s.contact_id = e.contact_id
WHERE e.tenant_id = $tenant_id
  AND e.days_since_last_activity <= $hot_days
  AND s.score_percentile >= $hot_percentile
