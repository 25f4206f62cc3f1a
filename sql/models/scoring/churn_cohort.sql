-- The customers at each cut-off of $cutoffs whose churn can be observed, and whether each churned
-- within $horizon_days days after it: what the churn model learns from
-- (crm_pipeline/scoring/retention.py). Parameters: $tenant_id, $cutoffs (DATE[]), $horizon_days,
-- $customer_purchase_days, $rate (the share of contacts kept, by a hash of the contact id: 1 but
-- for large tenants). Days are UTC dates: "at the cut-off" is up to the end of its day.
--   customer    at the cut-off (as the lifecycle rules say): an active subscription (the latest
--               subscription_start not followed by a subscription_end) or a purchase in the last
--               $customer_purchase_days days
--   observable  subscribed, or a repeat buyer: two or more purchases in the last 365 days (a
--               one-off buyer has no buying habit to lose)
--   churned     subscribed: a subscription_end within the $horizon_days days after the cut-off;
--               otherwise: no purchase within them ("no purchase when they used to buy")
-- Purchases are joined only to the cut-offs whose window they fall in (a range join), and
-- subscription events (few) to every cut-off up to the end of its horizon.
WITH cutoffs AS (
    SELECT unnest(CAST($cutoffs AS DATE[])) AS cutoff
),
purchases AS (
    SELECT contact_id, CAST(occurred_at AS DATE) AS day
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type = 'purchase'
      AND ($rate >= 1 OR (hash(contact_id) % 1000003) / 1000003.0 < $rate)
),
bought AS (
    SELECT k.cutoff,
           p.contact_id,
           max(p.day) FILTER (WHERE p.day <= k.cutoff) AS last_purchase,
           count(*) FILTER (WHERE p.day <= k.cutoff AND p.day >= k.cutoff - 365)
               AS purchases_365d,
           count(*) FILTER (WHERE p.day > k.cutoff) AS purchases_after
    FROM cutoffs AS k
    JOIN purchases AS p
      ON p.day >= k.cutoff - greatest(365, CAST($customer_purchase_days AS INTEGER))
     AND p.day <= k.cutoff + CAST($horizon_days AS INTEGER)
    GROUP BY k.cutoff, p.contact_id
),
subscriptions AS (
    SELECT k.cutoff,
           s.contact_id,
           max(s.occurred_at) FILTER (WHERE s.type = 'subscription_start' AND s.day <= k.cutoff)
               AS last_start,
           max(s.occurred_at) FILTER (WHERE s.type = 'subscription_end' AND s.day <= k.cutoff)
               AS last_end,
           count(*) FILTER (WHERE s.type = 'subscription_end' AND s.day > k.cutoff) AS ends_after
    FROM cutoffs AS k
    JOIN (
        SELECT contact_id, type, occurred_at, CAST(occurred_at AS DATE) AS day
        FROM core.activities
        WHERE tenant_id = $tenant_id AND type IN ('subscription_start', 'subscription_end')
          AND ($rate >= 1 OR (hash(contact_id) % 1000003) / 1000003.0 < $rate)
    ) AS s ON s.day <= k.cutoff + CAST($horizon_days AS INTEGER)
    GROUP BY k.cutoff, s.contact_id
),
status AS (
    SELECT coalesce(b.cutoff, s.cutoff) AS cutoff,
           coalesce(b.contact_id, s.contact_id) AS contact_id,
           coalesce(s.last_start IS NOT NULL
                    AND (s.last_end IS NULL OR s.last_end < s.last_start), false) AS subscribed,
           b.last_purchase,
           coalesce(b.purchases_365d, 0) AS purchases_365d,
           coalesce(b.purchases_after, 0) AS purchases_after,
           coalesce(s.ends_after, 0) AS ends_after
    FROM bought AS b
    FULL OUTER JOIN subscriptions AS s ON s.cutoff = b.cutoff AND s.contact_id = b.contact_id
)
SELECT cutoff,
       contact_id,
       CASE WHEN subscribed THEN ends_after > 0 ELSE purchases_after = 0 END AS churned
FROM status
WHERE (subscribed OR date_diff('day', last_purchase, cutoff) <= $customer_purchase_days)
  AND (subscribed OR purchases_365d >= 2)
