-- Activity lines of one import, parsed in one pass per line: every contract field as text (ids,
-- references and codes trimmed, NULL when absent or empty), the timestamp in UTC when it is ISO
-- 8601 with a time zone (and that zone's offset in minutes), and a content hash over the values
-- as sent, so that key order and whitespace between tokens do not make a re-delivery look
-- different. Also what the checks need to refuse an ambiguous line: the first top-level key the
-- object repeats (a JSON reader would take one of its values silently), and whether
-- activity_id is a JSON string (a number or an array is not an id).
-- Parameters: $tenant_id, $import_id, and $first_line, $last_line: the slice of the import
-- parsed at once (lines are stored in order, so other slices' row groups are skipped).
-- Produces the temp table _act_parsed.
CREATE OR REPLACE TEMP TABLE _act_parsed AS
WITH lines AS (
    SELECT line_number, line,
           -- valid JSON that opens with a brace is an object (the first test is cheap)
           json_valid(line) AND (starts_with(line, '{')
                                 OR regexp_matches(line, '^[ \t\r\n]*\{')) AS is_object,
           json_keys(CASE WHEN is_object THEN line END) AS keys
    FROM raw.activity_events
    WHERE tenant_id = $tenant_id AND import_id = $import_id
      AND line_number BETWEEN $first_line AND $last_line
),
objects AS (
    SELECT line_number, is_object,
           -- a key given twice: the first repeat (a list of ten keys is searched in place, much
           -- cheaper than building a distinct list per line)
           list_filter(keys, lambda k, i: list_position(keys, k) <> i)[1] AS repeated_key,
           unnest(json_transform(CASE WHEN is_object THEN line END, '{
               "activity_id": "JSON", "tenant_id": "VARCHAR", "type": "VARCHAR",
               "occurred_at": "VARCHAR", "contact_id": "VARCHAR", "source_id": "VARCHAR",
               "email": "VARCHAR", "phone": "VARCHAR", "actor": "VARCHAR",
               "actor_kind": "VARCHAR", "direction": "VARCHAR", "subject": "VARCHAR",
               "notes": "VARCHAR", "amount": "VARCHAR", "currency": "VARCHAR",
               "ticket_id": "VARCHAR", "status": "VARCHAR"}'))
    FROM lines
),
ids AS (
    SELECT * REPLACE (CASE WHEN starts_with(activity_id, '"') THEN activity_id->>'$' END
                      AS activity_id),
           activity_id IS NOT NULL AND NOT starts_with(activity_id, '"') AS id_not_text
    FROM objects
),
fields AS (
    SELECT line_number, is_object, repeated_key, id_not_text,
           -- md5 is enough to tell equal content from different, and much cheaper than sha256
           -- (hashes stored as sha256 by earlier versions are rewritten once: activities_rehash);
           -- json_array writes the same text as to_json([...]) did, for less
           md5(json_array(
               activity_id, type, occurred_at, contact_id, source_id, email, phone, actor,
               actor_kind, direction, subject, notes, amount, currency, ticket_id, status
           )::VARCHAR) AS content_hash,
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
    FROM ids
),
zoned AS (
    -- the shape of occurred_at, and its offset's parts (all empty when the shape does not match)
    SELECT *,
           regexp_extract(
               occurred_raw,
               '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})?)$',
               ['z', 'sign', 'hh', 'mm']
           ) AS zone
    FROM fields
),
parsed AS (
    SELECT *,
           lower(type_raw) AS type,
           try_cast(amount_raw AS DOUBLE) AS amount_value,
           zone.z <> '' OR zone.sign <> '' AS has_zone,
           CASE WHEN zone.sign <> '' THEN CAST(zone.hh AS INTEGER) END AS offset_hours,
           CASE WHEN zone.sign <> '' THEN coalesce(TRY_CAST(zone.mm AS INTEGER), 0)
           END AS offset_minutes,
           -- the shape matched, so t, z and a decimal comma are all that the cast needs changed
           -- (upper() on every value was a good part of this step's time)
           CASE WHEN has_zone AND (contains(occurred_raw, 't') OR contains(occurred_raw, 'z')
                                   OR contains(occurred_raw, ','))
                THEN try_cast(replace(upper(occurred_raw), ',', '.') AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
                WHEN has_zone
                THEN try_cast(occurred_raw AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
           END AS occurred_at
    FROM zoned
)
SELECT * EXCLUDE (zone) FROM parsed;
