-- Every reference by which an activity line can name a golden contact of this tenant, with the
-- contact it names: kind 'contact_id' (a contact's own id, or an alias resolving to its surviving
-- contact), 'source_id' (the source row with that id linked most recently), 'email' and 'phone'
-- (matched against the golden record first, then against the staged rows of the contact's
-- sources, secondary emails and phones included, the most recently linked first). Built once per
-- run of process_activities, so the slices of every import only look keys up. Every look-up is
-- keyed by this tenant, so another tenant's contact is never found.
-- Parameters: $tenant_id. Produces the temp table _act_keys(kind, key, contact_id).
CREATE OR REPLACE TEMP TABLE _act_keys AS
WITH contacts AS (
    SELECT contact_id, email, phone FROM core.contacts WHERE tenant_id = $tenant_id
),
aliases AS (
    SELECT alias_id, contact_id FROM core.contact_aliases WHERE tenant_id = $tenant_id
),
sources AS (
    SELECT s.import_id, s.row_number, s.source_id, s.linked_at,
           coalesce(a.contact_id, s.contact_id) AS contact_id
    FROM core.contact_sources s
    LEFT JOIN aliases a ON a.alias_id = s.contact_id
    WHERE s.tenant_id = $tenant_id
      AND coalesce(a.contact_id, s.contact_id) IN (SELECT contact_id FROM contacts)
),
staged AS (
    SELECT unnest(list_prepend(r.email, coalesce(r.other_emails, []))) AS email,
           NULL::VARCHAR AS phone, s.contact_id, s.linked_at
    FROM staging.contact_rows r
    JOIN sources s USING (import_id, row_number)
    WHERE r.tenant_id = $tenant_id
    UNION ALL
    SELECT NULL, unnest(list_prepend(r.phone, coalesce(r.other_phones, []))), s.contact_id,
           s.linked_at
    FROM staging.contact_rows r
    JOIN sources s USING (import_id, row_number)
    WHERE r.tenant_id = $tenant_id
)
-- an id that is an alias names the alias's contact, never itself
SELECT 'contact_id' AS kind, alias_id AS key, contact_id
FROM aliases WHERE contact_id IN (SELECT contact_id FROM contacts)
UNION ALL
SELECT 'contact_id', contact_id, contact_id
FROM contacts WHERE contact_id NOT IN (SELECT alias_id FROM aliases)
UNION ALL
SELECT 'source_id', source_id, contact_id
FROM sources
WHERE source_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY source_id ORDER BY linked_at DESC, import_id DESC, row_number DESC
) = 1
UNION ALL
SELECT 'email', email, contact_id
FROM (
    SELECT email, contact_id, 0 AS rank_, NULL::TIMESTAMP AS linked_at
    FROM contacts WHERE email IS NOT NULL
    UNION ALL
    SELECT email, contact_id, 1, linked_at FROM staged WHERE email IS NOT NULL
)
QUALIFY row_number() OVER (
    PARTITION BY email ORDER BY rank_, linked_at DESC NULLS LAST, contact_id
) = 1
UNION ALL
SELECT 'phone', phone, contact_id
FROM (
    SELECT phone, contact_id, 0 AS rank_, NULL::TIMESTAMP AS linked_at
    FROM contacts WHERE phone IS NOT NULL
    UNION ALL
    SELECT phone, contact_id, 1, linked_at FROM staged WHERE phone IS NOT NULL
)
QUALIFY row_number() OVER (
    PARTITION BY phone ORDER BY rank_, linked_at DESC NULLS LAST, contact_id
) = 1;
