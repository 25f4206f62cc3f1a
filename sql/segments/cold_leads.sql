-- outreach: true
-- Cold leads: not a customer (lifecycle stage other than customer and advocate, so churned
-- customers are included) and no activity in the last $cold_days (60) days, including contacts
-- with no activity at all.
SELECT e.contact_id
FROM marts.engagement AS e
JOIN marts.lifecycle AS l ON l.tenant_id = e.tenant_id AND l.contact_id = e.contact_id
WHERE e.tenant_id = $tenant_id
  AND l.stage NOT IN ('customer', 'advocate')
  AND (e.days_since_last_activity IS NULL OR e.days_since_last_activity > $cold_days)
