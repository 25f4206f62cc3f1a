-- Helper (temp table score_contact_facts) of crm_pipeline/scoring: one row per contact of the
-- tenant with when the warehouse's data first shows the contact and its first conversion.
-- Parameters: $tenant_id. At a run's as-of date the same columns come from the marts' activity
-- counts instead (contact_facts_at_as_of.sql); both count activity as the marts do (no email
-- bounces, no scheduled meetings), so they agree on every date up to the as-of date.
--   known_since          the earliest of the source's creation time (created_at), the contact's
--                        first activity, and the time this warehouse first saw the contact
--                        (first_seen_at): a contact belongs to a past cut-off's cohort only when
--                        it was known by the end of that day
--   first_activity_at    the first activity
--   first_conversion_at  the first purchase or subscription_start (NULL: never a customer)
SELECT c.contact_id,
       least(c.created_at, a.first_at, c.first_seen_at) AS known_since,
       a.first_at AS first_activity_at,
       a.first_conversion_at
FROM core.contacts AS c
LEFT JOIN (
    SELECT contact_id,
           min(occurred_at) AS first_at,
           min(occurred_at) FILTER (WHERE type IN ('purchase', 'subscription_start'))
               AS first_conversion_at
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND type <> 'email_bounce'
      AND NOT (type = 'meeting' AND coalesce(lower(status), '') = 'scheduled')
    GROUP BY contact_id
) AS a USING (contact_id)
WHERE c.tenant_id = $tenant_id
