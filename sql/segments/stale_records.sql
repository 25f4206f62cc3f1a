-- outreach: false
-- Stale records: no activity in the last $stale_days (90) days, including contacts with no
-- activity at all: flagged for review (also listed in marts.data_hygiene as stale_record).
SELECT contact_id
FROM marts.engagement
WHERE tenant_id = $tenant_id
  AND (days_since_last_activity IS NULL OR days_since_last_activity > $stale_days)
