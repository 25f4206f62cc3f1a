-- Purchase summary per customer of one tenant at one or more as-of dates: the inputs of BG/NBD and
-- Gamma-Gamma. A template: `ltv.summary.customer_summaries_query` fills the per-date column lists
-- (the i-th date's columns end in _i). Parameters: $tenant_id, $last (the latest date), $as_of_i.
-- Days are UTC calendar days; the as-of date is the last day observed (its purchases count), and
-- ages are whole days between dates, as lifetimes' summary with freq='D' and observation_period_end=as_of.
-- Refunds (positive amounts meaning money returned) reduce the latest purchase day on or before them
-- (the first purchase day when they precede every purchase); refunds of contacts without a purchase
-- are ignored here. Missing amounts count as 0. Amounts are summed as DECIMAL (to the millionth) so
-- the sums, and hence the fits, do not depend on the order parallel aggregation adds them in.
-- Only the purchase days of customers with a refund take part in attributing refunds: the as-of
-- join would otherwise sort every purchase day of the tenant, refunds or not. Refunds are then
-- summed per customer (what each date deducts from the revenue and from the first purchase day)
-- and deducted after the purchase days are aggregated: exact in DECIMAL, and the million purchase
-- days without a refund are never joined.
WITH purchase_days AS (
    SELECT contact_id,
           CAST(occurred_at AS DATE) AS day,
           sum(CAST(coalesce(amount_base, 0) AS DECIMAL(18, 6))) AS value
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type = 'purchase' AND occurred_at < CAST($last AS DATE) + 1
    GROUP BY contact_id, day
),
refunds AS (
    SELECT contact_id,
           CAST(occurred_at AS DATE) AS day,
           sum(CAST(coalesce(amount_base, 0) AS DECIMAL(18, 6))) AS refunded
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type = 'refund' AND occurred_at < CAST($last AS DATE) + 1
    GROUP BY contact_id, day
),
refunded_purchase_days AS (
    SELECT contact_id, CAST(occurred_at AS DATE) AS day
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type = 'purchase' AND occurred_at < CAST($last AS DATE) + 1
      AND contact_id IN (SELECT contact_id FROM refunds)
    GROUP BY contact_id, day
),
first_days AS (
    SELECT contact_id, min(day) AS first_day FROM refunded_purchase_days GROUP BY contact_id
),
refunds_by_purchase_day AS (
    SELECT r.contact_id, coalesce(p.day, f.first_day) AS day, any_value(f.first_day) AS first_day,
           {refunded}
    FROM refunds AS r
    JOIN first_days AS f ON f.contact_id = r.contact_id
    ASOF LEFT JOIN refunded_purchase_days AS p ON p.contact_id = r.contact_id AND r.day >= p.day
    GROUP BY r.contact_id, coalesce(p.day, f.first_day)
),
refunds_by_customer AS (
    SELECT contact_id, {refund_totals}
    FROM refunds_by_purchase_day
    GROUP BY contact_id
),
customers AS (
    SELECT contact_id, min(day) AS first_purchase_on, arg_min(value, day) AS first_day_value,
           {aggregates}
    FROM purchase_days
    GROUP BY contact_id
),
nets AS (
    SELECT c.*, {nets}
    FROM customers AS c LEFT JOIN refunds_by_customer AS r USING (contact_id)
)
SELECT contact_id, first_purchase_on, {columns}
FROM nets
ORDER BY contact_id
