-- Net revenue (purchases minus refunds, base currency) of one tenant per calendar month, up to and
-- including the as-of date: the history the tenant-level forecast (`value.tenant_forecast`) and its
-- back-test read. Months are UTC calendar months; the as-of date's month is partial unless the
-- as-of date is its last day. Amounts are summed as DECIMAL (to the millionth), so the sums do not
-- depend on the order parallel aggregation adds them in: the same as-of date, the same forecast.
-- Beside the total, two parts of it: `large_revenue`, the net revenue of the contacts in
-- $large_ids (the tenant's large customers) while not subscribed; `subscription_revenue`, the net revenue of contacts
-- while subscribed (their latest subscription_start or subscription_end at or before the
-- activity is a start), and of that, `subscription_first_revenue` and
-- `subscription_new_customers`: first purchases made while subscribed (a contact's first
-- purchase day, as the customer summary counts it).
-- Parameters: $tenant_id, $as_of, $large_ids.
WITH money AS (
    SELECT contact_id, occurred_at, type,
           CAST(CASE WHEN type = 'purchase' THEN amount_base ELSE -amount_base END
                AS DECIMAL(18, 6)) AS amount
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type IN ('purchase', 'refund') AND amount_base IS NOT NULL
      AND occurred_at < CAST($as_of AS DATE) + 1
),
subscription_events AS (
    SELECT contact_id, occurred_at, type = 'subscription_start' AS starts
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type IN ('subscription_start', 'subscription_end')
      AND occurred_at < CAST($as_of AS DATE) + 1
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
       CAST(coalesce(sum(amount) FILTER (WHERE list_contains($large_ids, contact_id)
                                            AND NOT subscribed), 0)
            AS DOUBLE) AS large_revenue,
       CAST(coalesce(sum(amount) FILTER (WHERE subscribed), 0) AS DOUBLE) AS subscription_revenue,
       CAST(coalesce(sum(amount) FILTER (WHERE subscribed AND first_day AND type = 'purchase'), 0)
            AS DOUBLE) AS subscription_first_revenue,
       count(DISTINCT contact_id) FILTER (WHERE subscribed AND first_day AND type = 'purchase')
           AS subscription_new_customers
FROM tagged
GROUP BY 1
ORDER BY 1
