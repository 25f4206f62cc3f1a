-- Purchase summary per customer of one tenant at an as-of date: the inputs of BG/NBD and Gamma-Gamma.
-- Parameters: $tenant_id, $as_of (DATE).
-- Days are UTC calendar days; the as-of date is the last day observed (its purchases count), and
-- ages are whole days between dates, as lifetimes' summary with freq='D' and observation_period_end=as_of.
-- Refunds (positive amounts meaning money returned) reduce the latest purchase day on or before them
-- (the first purchase day when they precede every purchase); refunds of contacts without a purchase
-- are ignored here. Missing amounts count as 0. Amounts are summed as DECIMAL (to the millionth) so
-- the sums, and hence the fits, do not depend on the order parallel aggregation adds them in.
WITH purchase_days AS (
    SELECT contact_id,
           CAST(occurred_at AS DATE) AS day,
           sum(CAST(coalesce(amount_base, 0) AS DECIMAL(18, 6))) AS value
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND type = 'purchase'
      AND CAST(occurred_at AS DATE) <= $as_of
    GROUP BY contact_id, day
),
refunds AS (
    SELECT contact_id,
           CAST(occurred_at AS DATE) AS day,
           sum(CAST(coalesce(amount_base, 0) AS DECIMAL(18, 6))) AS refunded
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND type = 'refund'
      AND CAST(occurred_at AS DATE) <= $as_of
    GROUP BY contact_id, day
),
-- Only the purchase days of customers with a refund take part in attributing refunds: the as-of
-- join would otherwise sort every purchase day of the tenant, refunds or not.
refunded_purchase_days AS (
    SELECT * FROM purchase_days WHERE contact_id IN (SELECT contact_id FROM refunds)
),
first_days AS (
    SELECT contact_id, min(day) AS first_day
    FROM refunded_purchase_days
    GROUP BY contact_id
),
refunds_by_purchase_day AS (
    SELECT r.contact_id,
           coalesce(p.day, f.first_day) AS day,
           sum(r.refunded) AS refunded
    FROM refunds AS r
    JOIN first_days AS f ON f.contact_id = r.contact_id
    ASOF LEFT JOIN refunded_purchase_days AS p ON p.contact_id = r.contact_id AND r.day >= p.day
    GROUP BY ALL
),
net_days AS (
    SELECT d.contact_id,
           d.day,
           d.value - coalesce(r.refunded, 0) AS net_value
    FROM purchase_days AS d
    LEFT JOIN refunds_by_purchase_day AS r ON r.contact_id = d.contact_id AND r.day = d.day
),
customers AS (
    SELECT contact_id,
           count(*) - 1 AS frequency,
           min(day) AS first_purchase_on,
           max(day) AS last_purchase_on,
           sum(net_value) AS historical_revenue,
           arg_min(net_value, day) AS first_order_value
    FROM net_days
    GROUP BY contact_id
)
SELECT contact_id,
       CAST(frequency AS INTEGER) AS frequency,
       CAST(date_diff('day', first_purchase_on, last_purchase_on) AS DOUBLE) AS recency_days,
       CAST(date_diff('day', first_purchase_on, CAST($as_of AS DATE)) AS DOUBLE) AS tenure_days,
       CASE WHEN frequency > 0
            THEN CAST(historical_revenue - first_order_value AS DOUBLE) / frequency END AS avg_order_value,
       CAST(historical_revenue AS DOUBLE) AS historical_revenue,
       CAST(first_order_value AS DOUBLE) AS first_order_value,
       first_purchase_on
FROM customers
ORDER BY contact_id
