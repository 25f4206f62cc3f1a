-- Net revenue (purchases minus refunds, base currency) per calendar month, up to and including the
-- as-of date, of the contacts in $contact_ids only (the tenant's large customers, a handful): the
-- part of `monthly_revenue` the tenant-level forecast carves out. Summed as DECIMAL as there.
-- Parameters: $tenant_id, $as_of, $contact_ids.
SELECT CAST(date_trunc('month', occurred_at) AS DATE) AS month,
       CAST(sum(CAST(CASE WHEN type = 'purchase' THEN amount_base ELSE -amount_base END
                     AS DECIMAL(18, 6))) AS DOUBLE) AS revenue
FROM core.activities
WHERE tenant_id = $tenant_id AND type IN ('purchase', 'refund') AND amount_base IS NOT NULL
  AND occurred_at < CAST($as_of AS DATE) + 1
  AND contact_id IN (SELECT unnest(CAST($contact_ids AS VARCHAR[])))
GROUP BY 1
ORDER BY 1
