-- outreach: false
-- Support-active: an open support ticket (the latest support activity with a status, per
-- ticket_id, says open) or any support activity in the last $support_days (14) days.
-- Support activities after the as-of date are ignored.
WITH support AS (
    SELECT contact_id, ticket_id, status, occurred_at
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND type = 'support'
      AND occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
),
ticket_status AS (
    SELECT contact_id, ticket_id, arg_max(lower(status), occurred_at) AS status
    FROM support
    WHERE ticket_id IS NOT NULL AND status IS NOT NULL
    GROUP BY contact_id, ticket_id
)
SELECT contact_id FROM ticket_status WHERE status = 'open'
UNION
SELECT contact_id FROM support
WHERE date_diff('day', CAST(occurred_at AS DATE), CAST($as_of AS DATE)) <= $support_days
