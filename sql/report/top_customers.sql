-- The customers of highest expected value over the next 365 days (ids and company only: the
-- report names no person).
SELECT l.contact_id, c.company, l.historical_revenue, l.expected_clv_365d, l.p_alive,
       l.frequency
FROM marts.customer_ltv l
LEFT JOIN core.contacts c USING (tenant_id, contact_id)
WHERE l.tenant_id = $t
ORDER BY l.expected_clv_365d DESC NULLS LAST, l.contact_id
LIMIT $n
