-- Accounts, those with a customer, and those with activity in the last 90 days.
SELECT count(*) AS accounts, count(*) FILTER (WHERE customers > 0) AS with_customers,
       count(*) FILTER (WHERE engaged_contacts_90d > 0) AS engaged_90d
FROM marts.account_engagement
WHERE tenant_id = $t
