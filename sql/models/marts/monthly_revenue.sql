-- Net revenue (purchases minus refunds, base currency) of one tenant per calendar month, up to and
-- including the as-of date: the history the tenant-level forecast (`value.tenant_forecast`) and its
-- back-test read. Months are UTC calendar months; the as-of date's month is partial unless the
-- as-of date is its last day. Amounts are summed as DECIMAL (to the millionth), so the sums do not
-- depend on the order parallel aggregation adds them in: the same as-of date, the same forecast.
-- Parameters: $tenant_id, $as_of.
SELECT CAST(date_trunc('month', occurred_at) AS DATE) AS month,
       CAST(sum(CAST(CASE WHEN type = 'purchase' THEN amount_base ELSE -amount_base END
                     AS DECIMAL(18, 6))) AS DOUBLE) AS revenue
FROM core.activities
WHERE tenant_id = $tenant_id AND type IN ('purchase', 'refund') AND amount_base IS NOT NULL
  AND occurred_at < CAST($as_of AS DATE) + 1
GROUP BY 1
ORDER BY 1
