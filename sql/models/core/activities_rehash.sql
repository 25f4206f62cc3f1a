-- Content hashes stored as sha256 (64 hex digits) by earlier versions, rewritten as md5 over the
-- same canonical text, recomputed from each activity's raw line, so that a re-delivery of an
-- activity stored before the change is still recognised as one. Runs only while such hashes
-- remain; the field list and its order must stay those of activities_parse.sql.
-- Parameters: $tenant_id.
UPDATE core.activities AS a
SET content_hash = md5(to_json([
        o.activity_id, o.type, o.occurred_at, o.contact_id, o.source_id, o.email, o.phone,
        o.actor, o.actor_kind, o.direction, o.subject, o.notes, o.amount, o.currency,
        o.ticket_id, o.status
    ])::VARCHAR)
FROM (
    SELECT e.import_id, e.line_number,
           -- parsed only when valid JSON (the WHERE alone does not order evaluation)
           unnest(json_transform(CASE WHEN json_valid(e.line) THEN e.line END, '{
               "activity_id": "VARCHAR", "type": "VARCHAR", "occurred_at": "VARCHAR",
               "contact_id": "VARCHAR", "source_id": "VARCHAR", "email": "VARCHAR",
               "phone": "VARCHAR", "actor": "VARCHAR", "actor_kind": "VARCHAR",
               "direction": "VARCHAR", "subject": "VARCHAR", "notes": "VARCHAR",
               "amount": "VARCHAR", "currency": "VARCHAR", "ticket_id": "VARCHAR",
               "status": "VARCHAR"}'))
    FROM raw.activity_events e
    SEMI JOIN (
        SELECT import_id, line_number FROM core.activities
        WHERE tenant_id = $tenant_id AND length(content_hash) = 64
    ) s USING (import_id, line_number)
    WHERE e.tenant_id = $tenant_id AND json_valid(e.line)
) o
WHERE a.tenant_id = $tenant_id AND length(a.content_hash) = 64
  AND a.import_id = o.import_id AND a.line_number = o.line_number;
