-- The customers at each cut-off of $cutoffs whose churn can be observed, and whether each churned
-- within $horizon_days days after it: what the churn model learns from
-- (crm_pipeline/scoring/retention.py). Parameters: $tenant_id, $cutoffs (DATE[]), $horizon_days,
-- $customer_purchase_days.
--   customer    at the cut-off (as the lifecycle rules say): an active subscription (the latest
--               subscription_start not followed by a subscription_end) or a purchase in the last
--               $customer_purchase_days days
--   observable  subscribed, or a repeat buyer: purchases on at least two days of the last 365
--               (a one-off buyer has no buying habit to lose)
--   churned     subscribed: a subscription_end within the $horizon_days days after the cut-off;
--               otherwise: no purchase within them ("no purchase when they used to buy")
WITH cutoffs AS (
    SELECT unnest(CAST($cutoffs AS DATE[])) AS cutoff
),
money AS (
    SELECT contact_id, type, occurred_at
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND type IN ('purchase', 'subscription_start', 'subscription_end')
),
state AS (
    SELECT k.cutoff,
           m.contact_id,
           max(m.occurred_at) FILTER (WHERE m.type = 'subscription_start' AND m.occurred_at < k.cutoff + INTERVAL 1 DAY) AS last_start,
           max(m.occurred_at) FILTER (WHERE m.type = 'subscription_end' AND m.occurred_at < k.cutoff + INTERVAL 1 DAY) AS last_end,
           max(m.occurred_at) FILTER (WHERE m.type = 'purchase' AND m.occurred_at < k.cutoff + INTERVAL 1 DAY) AS last_purchase,
           count(DISTINCT CAST(m.occurred_at AS DATE)) FILTER (
               WHERE m.type = 'purchase' AND m.occurred_at < k.cutoff + INTERVAL 1 DAY
                 AND m.occurred_at >= k.cutoff - INTERVAL 365 DAY
           ) AS purchase_days_365d,
           count(*) FILTER (
               WHERE m.type = 'purchase' AND m.occurred_at >= k.cutoff + INTERVAL 1 DAY
           ) AS purchases_after,
           count(*) FILTER (
               WHERE m.type = 'subscription_end' AND m.occurred_at >= k.cutoff + INTERVAL 1 DAY
           ) AS ends_after
    FROM cutoffs AS k
    JOIN money AS m
      ON m.occurred_at < k.cutoff + to_days(CAST($horizon_days AS INTEGER) + 1)
    GROUP BY k.cutoff, m.contact_id
),
status AS (
    SELECT *,
           coalesce(last_start IS NOT NULL AND (last_end IS NULL OR last_end < last_start), false)
               AS subscribed
    FROM state
)
SELECT cutoff,
       contact_id,
       CASE WHEN subscribed THEN ends_after > 0 ELSE purchases_after = 0 END AS churned
FROM status
WHERE (subscribed
       OR date_diff('day', CAST(last_purchase AS DATE), cutoff) <= $customer_purchase_days)
  AND (subscribed OR purchase_days_365d >= 2)
