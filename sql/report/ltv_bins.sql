-- Customers by expected value over the next 365 days, in powers of ten of the base currency
-- (bin -1: less than 1).
SELECT CAST(CASE WHEN coalesce(expected_clv_365d, 0) < 1 THEN -1
                 ELSE least(floor(log10(expected_clv_365d)), 9) END AS INTEGER) AS bin,
       count(*) AS customers, sum(coalesce(expected_clv_365d, 0)) AS value
FROM marts.customer_ltv
WHERE tenant_id = $t
GROUP BY ALL
ORDER BY bin
