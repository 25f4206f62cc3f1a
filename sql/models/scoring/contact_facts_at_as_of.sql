-- score_contact_facts (contact_facts.sql) at a run's as-of date, from the marts' activity counts
-- (mart_activity_counts: activity up to the as-of date) rather than another pass over every
-- activity. Parameters: $tenant_id. Activity after the as-of date is not seen, which changes
-- nothing up to the as-of date: a contact first active later was not known by then either.
SELECT c.contact_id,
       least(c.created_at, a.first_at, c.first_seen_at) AS known_since,
       a.first_at AS first_activity_at,
       a.first_conversion_at
FROM core.contacts AS c
LEFT JOIN (
    SELECT contact_id,
           min(first_at) AS first_at,
           min(first_at) FILTER (WHERE type IN ('purchase', 'subscription_start'))
               AS first_conversion_at
    FROM mart_activity_counts
    GROUP BY contact_id
) AS a USING (contact_id)
WHERE c.tenant_id = $tenant_id
