-- Subscriptions of one tenant per calendar month, up to and including the as-of date: the starts
-- and ends of the month, and the subscribers at its start. A subscriber is a contact whose
-- latest subscription_start or subscription_end is a start; a start while subscribed (a renewal
-- or a plan change) or an end while not subscribed changes nothing. Parameters: $tenant_id,
-- $as_of.
WITH events AS (
    SELECT contact_id, occurred_at, type = 'subscription_start' AS starts
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type IN ('subscription_start', 'subscription_end')
      AND occurred_at < CAST($as_of AS DATE) + 1
),
changes AS (
    SELECT contact_id, occurred_at, starts,
           coalesce(lag(starts) OVER (PARTITION BY contact_id ORDER BY occurred_at, starts),
                    false) AS was_subscribed
    FROM events
)
SELECT CAST(date_trunc('month', occurred_at) AS DATE) AS month,
       count(*) FILTER (WHERE starts AND NOT was_subscribed) AS starts,
       count(*) FILTER (WHERE NOT starts AND was_subscribed) AS ends
FROM changes
GROUP BY 1
ORDER BY 1
