-- The accounts with the most contacts engaged in the last 90 days.
SELECT a.account_id, a.name, a.domain, e.contacts, e.engaged_contacts_90d, e.customers,
       e.open_leads, e.activities_90d, e.trend
FROM marts.account_engagement e
JOIN core.accounts a USING (tenant_id, account_id)
WHERE e.tenant_id = $t
ORDER BY e.engaged_contacts_90d DESC, e.activities_90d DESC, a.name, a.account_id
LIMIT $n
