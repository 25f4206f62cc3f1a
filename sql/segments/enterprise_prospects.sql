-- outreach: true
-- Enterprise prospects: company size of at least $enterprise_min_size (100) employees, not yet a
-- customer: never a customer (no purchase ever, no subscription ever), i.e. lifecycle stage
-- prospect or lead. A churned customer is not a prospect.
SELECT c.contact_id
FROM core.contacts AS c
JOIN marts.lifecycle AS l ON l.tenant_id = c.tenant_id AND l.contact_id = c.contact_id
WHERE c.tenant_id = $tenant_id
  AND c.company_size >= $enterprise_min_size
  AND l.stage IN ('prospect', 'lead')
