-- The golden contact each parsed activity line refers to, trying its references in order:
-- contact_id (an alias resolves to its surviving contact), source_id (the most recently linked
-- source row with that id), email, phone (each matched against the golden record first, then
-- against the staged rows of the contact's sources, secondary emails and phones included). Every look-up is keyed by this tenant, so
-- another tenant's contact is never found.
-- Inputs: _act_parsed, _act_email_keys(email_ref, email_key), _act_phone_keys(phone_ref,
-- phone_key). Parameters: $tenant_id. Produces the temp table _act_links.
CREATE OR REPLACE TEMP TABLE _act_links AS
WITH contacts AS (
    SELECT contact_id, email, phone FROM core.contacts WHERE tenant_id = $tenant_id
),
sources AS (
    SELECT s.import_id, s.row_number, s.source_id, s.linked_at,
           coalesce(a.contact_id, s.contact_id) AS contact_id
    FROM core.contact_sources s
    LEFT JOIN core.contact_aliases a ON a.tenant_id = s.tenant_id AND a.alias_id = s.contact_id
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
),
by_id AS (
    SELECT r.ref, coalesce(a.contact_id, r.ref) AS contact_id
    FROM (SELECT DISTINCT contact_ref AS ref FROM _act_parsed WHERE contact_ref IS NOT NULL) r
    LEFT JOIN core.contact_aliases a ON a.tenant_id = $tenant_id AND a.alias_id = r.ref
    WHERE coalesce(a.contact_id, r.ref) IN (SELECT contact_id FROM contacts)
),
by_source AS (
    SELECT source_id AS ref, contact_id
    FROM sources
    WHERE source_id IN (SELECT source_ref FROM _act_parsed WHERE source_ref IS NOT NULL)
    QUALIFY row_number() OVER (
        PARTITION BY source_id ORDER BY linked_at DESC, import_id DESC, row_number DESC
    ) = 1
),
by_email AS (
    SELECT k.email_ref AS ref, m.contact_id
    FROM _act_email_keys k
    JOIN (
        SELECT email, contact_id, 0 AS rank_, NULL::TIMESTAMP AS linked_at
        FROM contacts WHERE email IS NOT NULL
        UNION ALL
        SELECT email, contact_id, 1, linked_at FROM staged WHERE email IS NOT NULL
    ) m ON m.email = k.email_key
    QUALIFY row_number() OVER (
        PARTITION BY k.email_ref ORDER BY m.rank_, m.linked_at DESC NULLS LAST, m.contact_id
    ) = 1
),
by_phone AS (
    SELECT k.phone_ref AS ref, m.contact_id
    FROM _act_phone_keys k
    JOIN (
        SELECT phone, contact_id, 0 AS rank_, NULL::TIMESTAMP AS linked_at
        FROM contacts WHERE phone IS NOT NULL
        UNION ALL
        SELECT phone, contact_id, 1, linked_at FROM staged WHERE phone IS NOT NULL
    ) m ON m.phone = k.phone_key
    QUALIFY row_number() OVER (
        PARTITION BY k.phone_ref ORDER BY m.rank_, m.linked_at DESC NULLS LAST, m.contact_id
    ) = 1
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
