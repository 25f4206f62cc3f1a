-- Activity lines of one import, parsed in one pass per line: every contract field as text (ids,
-- references and codes trimmed, NULL when absent or empty), the timestamp in UTC when it is ISO
-- 8601 with a time zone, and a content hash over the values as sent, so that key order and
-- whitespace between tokens do not make a re-delivery look different.
-- Parameters: $tenant_id, $import_id, and $first_line, $last_line: the slice of the import
-- parsed at once (lines are stored in order, so other slices' row groups are skipped).
-- Produces the temp table _act_parsed.
CREATE OR REPLACE TEMP TABLE _act_parsed AS
WITH lines AS (
    SELECT line_number, line,
           -- valid JSON that opens with a brace is an object (the first test is cheap)
           json_valid(line) AND (starts_with(line, '{')
                                 OR regexp_matches(line, '^[ \t\r\n]*\{')) AS is_object
    FROM raw.activity_events
    WHERE tenant_id = $tenant_id AND import_id = $import_id
      AND line_number BETWEEN $first_line AND $last_line
),
objects AS (
    SELECT line_number, is_object,
           unnest(json_transform(CASE WHEN is_object THEN line END, '{
               "activity_id": "VARCHAR", "tenant_id": "VARCHAR", "type": "VARCHAR",
               "occurred_at": "VARCHAR", "contact_id": "VARCHAR", "source_id": "VARCHAR",
               "email": "VARCHAR", "phone": "VARCHAR", "actor": "VARCHAR",
               "actor_kind": "VARCHAR", "direction": "VARCHAR", "subject": "VARCHAR",
               "notes": "VARCHAR", "amount": "VARCHAR", "currency": "VARCHAR",
               "ticket_id": "VARCHAR", "status": "VARCHAR"}'))
    FROM lines
),
fields AS (
    SELECT line_number, is_object,
           -- md5 is enough to tell equal content from different, and much cheaper than sha256
           -- (hashes stored as sha256 by earlier versions are rewritten once: activities_rehash)
           md5(to_json([
               activity_id, type, occurred_at, contact_id, source_id, email, phone, actor,
               actor_kind, direction, subject, notes, amount, currency, ticket_id, status
           ])::VARCHAR) AS content_hash,
           nullif(trim(activity_id), '') AS activity_id,
           nullif(trim(tenant_id), '') AS line_tenant,
           nullif(trim(type), '') AS type_raw,
           nullif(trim(occurred_at), '') AS occurred_raw,
           nullif(trim(contact_id), '') AS contact_ref,
           nullif(trim(source_id), '') AS source_ref,
           nullif(trim(email), '') AS email_ref,
           nullif(trim(phone), '') AS phone_ref,
           nullif(trim(actor), '') AS actor,
           lower(nullif(trim(actor_kind), '')) AS actor_kind_given,
           nullif(trim(direction), '') AS direction,
           subject,
           notes,
           nullif(trim(amount), '') AS amount_raw,
           upper(nullif(trim(currency), '')) AS currency_given,
           nullif(trim(ticket_id), '') AS ticket_id,
           nullif(trim(status), '') AS status
    FROM objects
)
SELECT *,
       lower(type_raw) AS type,
       lower(actor) AS actor_key,
       try_cast(amount_raw AS DOUBLE) AS amount_value,
       regexp_full_match(
           occurred_raw,
           '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)'
       ) AS has_zone,
       -- the shape matched, so t, z and a decimal comma are all that the cast needs changed
       -- (upper() on every value was a good part of this step's time)
       CASE WHEN has_zone AND (contains(occurred_raw, 't') OR contains(occurred_raw, 'z')
                               OR contains(occurred_raw, ','))
            THEN try_cast(replace(upper(occurred_raw), ',', '.') AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
            WHEN has_zone
            THEN try_cast(occurred_raw AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
       END AS occurred_at
FROM fields;
