-- marts.engagement_by_type: per contact and activity type, the same counts as marts.engagement
-- (so a contact's rows add up to its engagement counts: bounces and scheduled meetings excluded).
-- Only types the contact has had up to the as-of date get a row.
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_activity_counts (one row per contact and type)
-- and mart_contacts (the tenant's contacts: activities of no known contact are left out).
SELECT $tenant_id AS tenant_id,
       a.contact_id,
       a.type,
       CAST($as_of AS DATE) AS as_of,
       CAST(a.n_7d AS INTEGER) AS count_7d,
       CAST(a.n_30d AS INTEGER) AS count_30d,
       CAST(a.n_90d AS INTEGER) AS count_90d,
       CAST(a.n_365d AS INTEGER) AS count_365d,
       a.last_at
FROM mart_activity_counts AS a
SEMI JOIN mart_contacts AS c ON c.contact_id = a.contact_id
