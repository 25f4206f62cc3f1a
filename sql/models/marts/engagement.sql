-- marts.engagement: per contact (every contact of the tenant, also those without activity).
-- Parameters: $tenant_id, $as_of (DATE), $trend_band. Reads mart_contacts.
--
-- Counts exclude email bounces and scheduled meetings; windows are d <= N days (see
-- activity_counts.sql). inbound_90d: activities the contact started (direction inbound, webinars,
-- downloads, forms, purchases) with d <= 90.
-- trend compares the last 30 days (d <= 30) with the average 30 days of the 90 before
-- (baseline = activities with 31 <= d <= 120, divided by 3):
--   none    no activity in either window;
--   rising  last 30 days > (1 + $trend_band) x baseline (so any activity after a silent baseline);
--   falling last 30 days < (1 - $trend_band) x baseline;
--   steady  otherwise. Default band 0.25: within +-25 % of the baseline is steady.
SELECT $tenant_id AS tenant_id,
       contact_id,
       CAST($as_of AS DATE) AS as_of,
       last_activity_at,
       days_since_last_activity,
       activities_7d,
       activities_30d,
       activities_90d,
       activities_365d,
       inbound_90d,
       CASE
           WHEN activities_30d = 0 AND prior_90d = 0 THEN 'none'
           WHEN activities_30d > (1 + $trend_band) * prior_90d / 3.0 THEN 'rising'
           WHEN activities_30d < (1 - $trend_band) * prior_90d / 3.0 THEN 'falling'
           ELSE 'steady'
       END AS trend
FROM mart_contacts
