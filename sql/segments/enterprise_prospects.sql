-- outreach: true
-- Enterprise prospects: company size of at least $enterprise_min_size (100) employees, not yet a
-- customer: never a customer (no purchase ever, no subscription ever), i.e. lifecycle stage
-- prospect or lead. A churned customer is not a prospect. The size is the contact's own
-- company_size, else its account's employees (the exact count, else the lower bound of the
-- range its firmographics give: 51-200 counts as 51).
SELECT c.contact_id
FROM core.contacts AS c
JOIN marts.lifecycle AS l ON l.tenant_id = c.tenant_id AND l.contact_id = c.contact_id
LEFT JOIN core.contact_accounts AS ca ON ca.tenant_id = c.tenant_id AND ca.contact_id = c.contact_id
LEFT JOIN core.accounts AS a ON a.tenant_id = ca.tenant_id AND a.account_id = ca.account_id
WHERE c.tenant_id = $tenant_id
  AND coalesce(c.company_size, a.employee_count, a.employees_min) >= $enterprise_min_size
  AND l.stage IN ('prospect', 'lead')
