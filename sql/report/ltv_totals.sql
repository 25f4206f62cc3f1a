-- The tenant's lifetime value totals.
SELECT count(*) AS customers, sum(expected_clv_365d) AS expected_clv_365d,
       sum(historical_revenue) AS historical_revenue, median(p_alive) AS median_p_alive
FROM marts.customer_ltv
WHERE tenant_id = $t
