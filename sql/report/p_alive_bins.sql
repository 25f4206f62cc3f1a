-- Customers by the model's probability that they are still active, in tenths.
SELECT CAST(least(floor(p_alive * 10), 9) AS INTEGER) AS bin, count(*) AS customers
FROM marts.customer_ltv
WHERE tenant_id = $t AND p_alive IS NOT NULL
GROUP BY ALL
ORDER BY bin
