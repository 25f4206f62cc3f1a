-- The golden contact each parsed activity line refers to, trying its references in order:
-- contact_id, source_id, email, phone, each looked up in _act_keys (see
-- activities_contact_keys.sql for what each kind of key matches).
-- Inputs: _act_parsed, _act_keys(kind, key, contact_id), _act_email_keys(email_ref, email_key),
-- _act_phone_keys(phone_ref, phone_key). Produces the temp table _act_links.
CREATE OR REPLACE TEMP TABLE _act_links AS
WITH by_id AS (
    SELECT key AS ref, contact_id FROM _act_keys WHERE kind = 'contact_id'
),
by_source AS (
    SELECT key AS ref, contact_id FROM _act_keys WHERE kind = 'source_id'
),
by_email AS (
    SELECT k.email_ref AS ref, m.contact_id
    FROM _act_email_keys k
    JOIN _act_keys m ON m.kind = 'email' AND m.key = k.email_key
),
by_phone AS (
    SELECT k.phone_ref AS ref, m.contact_id
    FROM _act_phone_keys k
    JOIN _act_keys m ON m.kind = 'phone' AND m.key = k.phone_key
)
SELECT p.line_number,
       coalesce(i.contact_id, s.contact_id, e.contact_id, ph.contact_id) AS contact_id,
       CASE WHEN i.contact_id IS NOT NULL THEN 'contact_id'
            WHEN s.contact_id IS NOT NULL THEN 'source_id'
            WHEN e.contact_id IS NOT NULL THEN 'email'
            WHEN ph.contact_id IS NOT NULL THEN 'phone'
       END AS linked_by
FROM _act_parsed p
LEFT JOIN by_id i ON i.ref = p.contact_ref
LEFT JOIN by_source s ON s.ref = p.source_ref
LEFT JOIN by_email e ON e.ref = p.email_ref
LEFT JOIN by_phone ph ON ph.ref = p.phone_ref
WHERE p.is_object;
