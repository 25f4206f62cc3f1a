-- The subscribers' part of `monthly_revenue`: net revenue per calendar month, up to and including
-- the as-of date, of contacts while subscribed (their latest subscription_start or
-- subscription_end at or before the activity is a start); of it the first purchases made while
-- subscribed (`first_revenue`, `new_customers`: a contact's first purchase day, as the customer
-- summary counts it) and the part of the contacts in $large_ids (`large_revenue`, so the large
-- customers' part is not counted twice). Only contacts with a subscription activity are read.
-- Parameters: $tenant_id, $as_of, $large_ids.
WITH subscription_events AS (
    SELECT contact_id, occurred_at, type = 'subscription_start' AS starts
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type IN ('subscription_start', 'subscription_end')
      AND occurred_at < CAST($as_of AS DATE) + 1
),
money AS (
    SELECT contact_id, occurred_at, type,
           CAST(CASE WHEN type = 'purchase' THEN amount_base ELSE -amount_base END
                AS DECIMAL(18, 6)) AS amount
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type IN ('purchase', 'refund') AND amount_base IS NOT NULL
      AND occurred_at < CAST($as_of AS DATE) + 1
      AND contact_id IN (SELECT contact_id FROM subscription_events)
),
tagged AS (
    SELECT m.contact_id, m.occurred_at, m.type, m.amount,
           coalesce(s.starts, false) AS subscribed,
           CAST(m.occurred_at AS DATE) = min(CAST(m.occurred_at AS DATE)) FILTER (
               WHERE m.type = 'purchase') OVER (PARTITION BY m.contact_id) AS first_day
    FROM money AS m
    ASOF LEFT JOIN subscription_events AS s
      ON m.contact_id = s.contact_id AND m.occurred_at >= s.occurred_at
)
SELECT CAST(date_trunc('month', occurred_at) AS DATE) AS month,
       CAST(sum(amount) AS DOUBLE) AS revenue,
       CAST(coalesce(sum(amount) FILTER (WHERE first_day AND type = 'purchase'), 0) AS DOUBLE)
           AS first_revenue,
       count(DISTINCT contact_id) FILTER (WHERE first_day AND type = 'purchase') AS new_customers,
       CAST(coalesce(sum(amount) FILTER (
           WHERE list_contains(CAST($large_ids AS VARCHAR[]), contact_id)), 0) AS DOUBLE)
           AS large_revenue
FROM tagged
WHERE subscribed
GROUP BY 1
ORDER BY 1
