-- marts.account_value: per account of the tenant, its contacts' purchases and expected value
-- (marts.customer_ltv of this run, and purchases less refunds in the 365 days up to the as-of
-- day), its share of the tenant's expected value, and its tier: strategic, then key, when the
-- larger of revenue_365d and expected_clv_365d reaches the tier's value threshold, or the
-- account's employees (the exact count, else the lower bound of its range) reach the tier's
-- size threshold; standard otherwise.
-- Parameters: $tenant_id, $as_of (DATE), $strategic_value, $key_value, $strategic_employees,
-- $key_employees.
WITH members AS (
    SELECT account_id, contact_id
    FROM core.contact_accounts
    WHERE tenant_id = $tenant_id
),
ltv AS (
    SELECT m.account_id,
           count(*) AS customers,
           sum(l.historical_revenue) AS historical_revenue,
           sum(l.expected_purchases_365d) AS expected_purchases_365d,
           sum(l.expected_clv_365d) AS expected_clv_365d
    FROM members AS m
    JOIN marts.customer_ltv AS l ON l.tenant_id = $tenant_id AND l.contact_id = m.contact_id
    GROUP BY m.account_id
),
recent AS (
    SELECT m.account_id,
           sum(CASE WHEN a.type = 'refund' THEN -abs(a.amount_base) ELSE a.amount_base END)
               AS revenue_365d
    FROM members AS m
    JOIN core.activities AS a ON a.tenant_id = $tenant_id AND a.contact_id = m.contact_id
    WHERE a.type IN ('purchase', 'refund') AND a.amount_base IS NOT NULL
      AND a.occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
      AND a.occurred_at >= CAST($as_of AS DATE) + INTERVAL 1 DAY - INTERVAL 365 DAY
    GROUP BY m.account_id
),
counts AS (SELECT account_id, count(*) AS contacts FROM members GROUP BY account_id),
total AS (
    SELECT sum(expected_clv_365d) AS clv FROM marts.customer_ltv WHERE tenant_id = $tenant_id
),
valued AS (
    SELECT a.account_id,
           coalesce(c.contacts, 0) AS contacts,
           coalesce(l.customers, 0) AS customers,
           coalesce(l.historical_revenue, 0) AS historical_revenue,
           coalesce(r.revenue_365d, 0) AS revenue_365d,
           coalesce(l.expected_purchases_365d, 0) AS expected_purchases_365d,
           coalesce(l.expected_clv_365d, 0) AS expected_clv_365d,
           coalesce(a.employee_count, a.employees_min) AS employees,
           a.employee_count IS NULL AND a.employees_min IS NOT NULL AS employees_is_floor
    FROM core.accounts AS a
    LEFT JOIN counts AS c USING (account_id)
    LEFT JOIN ltv AS l USING (account_id)
    LEFT JOIN recent AS r USING (account_id)
    WHERE a.tenant_id = $tenant_id
),
tiered AS (
    SELECT v.*,
           greatest(v.revenue_365d, v.expected_clv_365d) AS value_basis,
           CASE WHEN greatest(v.revenue_365d, v.expected_clv_365d) >= $strategic_value
                  OR v.employees >= $strategic_employees THEN 'strategic'
                WHEN greatest(v.revenue_365d, v.expected_clv_365d) >= $key_value
                  OR v.employees >= $key_employees THEN 'key'
                ELSE 'standard' END AS tier
    FROM valued AS v
)
SELECT $tenant_id AS tenant_id,
       account_id,
       CAST($as_of AS DATE) AS as_of,
       CAST(contacts AS INTEGER) AS contacts,
       CAST(customers AS INTEGER) AS customers,
       CAST(round(historical_revenue, 2) AS DECIMAL(18, 2)) AS historical_revenue,
       CAST(round(revenue_365d, 2) AS DECIMAL(18, 2)) AS revenue_365d,
       CAST(expected_purchases_365d AS DOUBLE) AS expected_purchases_365d,
       CAST(round(expected_clv_365d, 2) AS DECIMAL(18, 2)) AS expected_clv_365d,
       CASE WHEN coalesce((SELECT clv FROM total), 0) > 0
            THEN expected_clv_365d / (SELECT clv FROM total) ELSE 0 END AS forecast_share,
       tier,
       CASE tier
           WHEN 'standard' THEN 'below the key thresholds'
           ELSE CASE WHEN value_basis >= CASE tier WHEN 'strategic' THEN $strategic_value
                                                     ELSE $key_value END
                     THEN printf('365-day value %.0f >= %.0f', CAST(value_basis AS DOUBLE),
                                 CAST(CASE tier WHEN 'strategic' THEN $strategic_value
                                                ELSE $key_value END AS DOUBLE))
                     ELSE printf('%d%s employees >= %d', CAST(employees AS BIGINT),
                                 CASE WHEN employees_is_floor THEN '+' ELSE '' END,
                                 CAST(ceil(CASE tier WHEN 'strategic' THEN $strategic_employees
                                                     ELSE $key_employees END) AS BIGINT))
                END
       END AS tier_reason
FROM tiered
