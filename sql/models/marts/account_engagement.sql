-- marts.account_engagement: per account of the tenant, its linked contacts' activity rolled up
-- (core.contact_accounts), on the same windows as marts.engagement.
-- Parameters: $tenant_id, $as_of (DATE), $trend_band. Reads mart_contacts.
-- engaged_contacts_90d: contacts with at least one activity in the last 90 days. trend: the
-- engagement rule applied to the account's sums (last 30 days against the average 30 days of
-- the 90 before). Accounts without linked contacts have a row of zeros.
WITH members AS (
    SELECT l.account_id, c.*
    FROM core.contact_accounts AS l
    JOIN mart_contacts AS c USING (contact_id)
    WHERE l.tenant_id = $tenant_id
),
rolled AS (
    SELECT account_id,
           count(*) AS contacts,
           count(*) FILTER (WHERE activities_90d > 0) AS engaged_contacts_90d,
           count(*) FILTER (WHERE stage IN ('customer', 'advocate')) AS customers,
           count(*) FILTER (WHERE stage IN ('lead', 'prospect')) AS open_leads,
           sum(activities_30d) AS activities_30d,
           sum(activities_90d) AS activities_90d,
           sum(inbound_90d) AS inbound_90d,
           sum(prior_90d) AS prior_90d,
           max(last_activity_at) AS last_activity_at
    FROM members
    GROUP BY account_id
)
SELECT $tenant_id AS tenant_id,
       a.account_id,
       CAST($as_of AS DATE) AS as_of,
       CAST(coalesce(r.contacts, 0) AS INTEGER) AS contacts,
       CAST(coalesce(r.engaged_contacts_90d, 0) AS INTEGER) AS engaged_contacts_90d,
       CAST(coalesce(r.customers, 0) AS INTEGER) AS customers,
       CAST(coalesce(r.open_leads, 0) AS INTEGER) AS open_leads,
       CAST(coalesce(r.activities_30d, 0) AS INTEGER) AS activities_30d,
       CAST(coalesce(r.activities_90d, 0) AS INTEGER) AS activities_90d,
       CAST(coalesce(r.inbound_90d, 0) AS INTEGER) AS inbound_90d,
       r.last_activity_at,
       CAST(date_diff('day', CAST(r.last_activity_at AS DATE), CAST($as_of AS DATE)) AS INTEGER)
           AS days_since_last_activity,
       CASE
           WHEN coalesce(r.activities_30d, 0) = 0 AND coalesce(r.prior_90d, 0) = 0 THEN 'none'
           WHEN r.activities_30d > (1 + $trend_band) * r.prior_90d / 3.0 THEN 'rising'
           WHEN r.activities_30d < (1 - $trend_band) * r.prior_90d / 3.0 THEN 'falling'
           ELSE 'steady'
       END AS trend
FROM core.accounts AS a
LEFT JOIN rolled AS r USING (account_id)
WHERE a.tenant_id = $tenant_id
