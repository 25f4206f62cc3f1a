-- Each parsed activity line's outcome: accepted, merged (a re-delivery of content already
-- stored or seen earlier in the batch) or quarantined with the first rule it breaks, in the
-- contract's precedence. A large import is checked in slices, so an id seen in an earlier
-- slice of the same file is found stored with this import's id.
-- A value a later stage cannot hold is refused here, at the door: an activity_id that is not a
-- string of 1 to 256 characters, a repeated key (unparseable_row); a time zone offset beyond
-- +-14:00 (the widest real zone) or minutes past 59, a time before 1900 or after 9999 in UTC
-- (bad_timestamp); an amount, where given, that is not a finite number or is a trillion or more
-- in its own currency or in the tenant's base currency once converted: what DECIMAL(18, 6), the
-- type money is summed in, holds (bad_amount). A purchase or refund needs an amount; without a
-- currency it is in the base currency.
-- The kind of an actor comes from the roles registry (_act_actors), never from the line: a kind
-- the line declares must agree with it, and a name that only looks like an agent's or the
-- system's is refused (actor_not_permitted).
-- Inputs: _act_parsed, _act_links, _act_rates(currency, to_base), _act_actors(actor, kind,
-- agent, lookalike), _act_grants(actor, type), _act_types(type). Parameters: $tenant_id,
-- $import_id, $base_currency, $future_after (TIMESTAMP), $as_of (DATE), $max_amount,
-- $max_offset_minutes, $earliest and $latest (TIMESTAMP, both included),
-- $max_id_length. Produces the temp table _act_checked (line_number, the derived contact_id,
-- type, actor_kind, currency, to_base, and the outcome with its reason); the other fields stay
-- in _act_parsed.
CREATE OR REPLACE TEMP TABLE _act_checked AS
WITH facts AS NOT MATERIALIZED (
    SELECT p.line_number, p.is_object, p.repeated_key, p.id_not_text, p.content_hash,
           p.activity_id, p.line_tenant, p.type_raw, p.occurred_raw, p.contact_ref, p.source_ref,
           p.email_ref, p.phone_ref, p.actor, p.actor_kind_given, p.status, p.amount_raw, p.type,
           p.amount_value, p.has_zone, p.offset_hours, p.offset_minutes, p.occurred_at,
           l.contact_id,
           t.type IS NOT NULL AS known_type,
           coalesce(a.kind, 'user') AS actor_kind,  -- no actor: a person
           a.lookalike,
           g.actor IS NOT NULL AS granted,
           p.type IN ('purchase', 'refund') AS is_money,
           CASE WHEN p.type IN ('purchase', 'refund')
                THEN coalesce(p.currency_given, $base_currency)
                ELSE p.currency_given
           END AS currency,
           r.to_base
    FROM _act_parsed p
    LEFT JOIN _act_links l USING (line_number)
    LEFT JOIN _act_types t ON t.type = p.type
    LEFT JOIN _act_actors a ON a.actor = p.actor
    LEFT JOIN _act_grants g ON g.actor = a.agent AND g.type = p.type
    LEFT JOIN _act_rates r
      ON r.currency = CASE WHEN p.type IN ('purchase', 'refund')
                           THEN coalesce(p.currency_given, $base_currency)
                           ELSE p.currency_given END
),
checked AS MATERIALIZED (  -- narrow, and read four times below
    SELECT line_number, activity_id, content_hash, contact_id, type, actor_kind, currency,
           to_base,
        CASE
            WHEN NOT is_object THEN struct_pack(code := 'unparseable_row',
                detail := 'the line is not a JSON object')
            WHEN repeated_key IS NOT NULL THEN struct_pack(code := 'unparseable_row',
                detail := format('key ''{}'' appears more than once: which value is meant '
                                 'cannot be told', left(repeated_key, 80)))
            WHEN id_not_text THEN struct_pack(code := 'unparseable_row',
                detail := 'activity_id is not a string: give the sender''s id as a JSON string')
            WHEN activity_id IS NULL THEN struct_pack(code := 'unparseable_row',
                detail := 'activity_id is missing: every activity needs the sender''s id')
            WHEN length(activity_id) > $max_id_length THEN struct_pack(code := 'unparseable_row',
                detail := format('activity_id is {} characters long: at most {} are kept',
                                 length(activity_id), $max_id_length))
            WHEN line_tenant IS NULL THEN struct_pack(code := 'missing_tenant',
                detail := 'tenant_id is missing or empty')
            WHEN line_tenant <> $tenant_id THEN struct_pack(code := 'tenant_mismatch',
                detail := format('tenant_id ''{}'' is not the tenant of this import',
                                 left(line_tenant, 80)))
            WHEN occurred_raw IS NULL THEN struct_pack(code := 'bad_timestamp',
                detail := 'occurred_at is missing')
            WHEN occurred_at IS NULL AND NOT has_zone
                 AND try_cast(occurred_raw AS TIMESTAMP) IS NOT NULL
                THEN struct_pack(code := 'bad_timestamp',
                detail := format('occurred_at ''{}'' has no time zone: add Z or an offset '
                                 'such as +02:00', left(occurred_raw, 80)))
            WHEN offset_minutes > 59 OR offset_hours * 60 + offset_minutes > $max_offset_minutes
                THEN struct_pack(code := 'bad_timestamp',
                detail := format('occurred_at ''{}'' has a time zone offset beyond +-{}:{:02d}, '
                                 'the widest real zone', left(occurred_raw, 80),
                                 $max_offset_minutes // 60, $max_offset_minutes % 60))
            WHEN occurred_at IS NULL THEN struct_pack(code := 'bad_timestamp',
                detail := format('occurred_at ''{}'' is not an ISO 8601 date and time with '
                                 'a time zone', left(occurred_raw, 80)))
            WHEN NOT (occurred_at >= $earliest AND occurred_at <= $latest)
                THEN struct_pack(code := 'bad_timestamp',
                detail := format('occurred_at ''{}'' is outside the years {} to {} (UTC)',
                                 left(occurred_raw, 80), year($earliest), year($latest)))
            WHEN type IS NULL THEN struct_pack(code := 'unknown_activity_type',
                detail := 'type is missing')
            WHEN NOT known_type THEN struct_pack(code := 'unknown_activity_type',
                detail := format('type ''{}'' is not a known activity type',
                                 left(type_raw, 80)))
            WHEN occurred_at > $future_after
                 AND NOT (type = 'meeting' AND coalesce(lower(status), '') = 'scheduled')
                THEN struct_pack(code := 'future_timestamp',
                detail := format('occurred_at {} is more than a day after the as-of date {}',
                                 strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ'), $as_of))
            WHEN actor_kind_given NOT IN ('user', 'agent', 'system')
                THEN struct_pack(code := 'actor_not_permitted',
                detail := format('actor_kind ''{}'' is not user, agent or system',
                                 left(actor_kind_given, 80)))
            WHEN lookalike IS NOT NULL
                THEN struct_pack(code := 'actor_not_permitted',
                detail := format('actor ''{}'' looks like ''{}'' of the roles registry but is '
                                 'another name', left(actor, 80), lookalike))
            WHEN actor_kind_given = 'agent' AND actor IS NULL
                THEN struct_pack(code := 'actor_not_permitted',
                detail := 'actor is missing for an activity logged by an agent')
            WHEN actor_kind_given <> actor_kind
                THEN struct_pack(code := 'actor_not_permitted',
                detail := format('actor_kind ''{}'' does not match the roles registry, where '
                                 '{} is {}', left(actor_kind_given, 80),
                                 coalesce('''' || left(actor, 80) || '''', 'a line without actor'),
                                 CASE actor_kind WHEN 'agent' THEN 'an agent'
                                                 WHEN 'system' THEN 'the system'
                                                 ELSE 'a person (user)' END))
            WHEN actor_kind = 'agent' AND NOT granted
                THEN struct_pack(code := 'actor_not_permitted',
                detail := format('agent ''{}'' may not log {} activities',
                                 left(actor, 80), type))
            WHEN contact_ref IS NULL AND source_ref IS NULL AND email_ref IS NULL
                 AND phone_ref IS NULL
                THEN struct_pack(code := 'unknown_contact',
                detail := 'the line names no contact: give contact_id, source_id, email '
                          'or phone')
            -- Names only what the line gave, so the text is the same whether the reference
            -- is another tenant's contact or nobody's.
            WHEN contact_id IS NULL THEN struct_pack(code := 'unknown_contact',
                detail := 'no contact of this tenant matches ' || concat_ws(', ',
                    'contact_id ''' || left(contact_ref, 80) || '''',
                    'source_id ''' || left(source_ref, 80) || '''',
                    'email ''' || left(email_ref, 80) || '''',
                    'phone ''' || left(phone_ref, 80) || ''''))
            WHEN is_money AND amount_raw IS NULL THEN struct_pack(code := 'bad_amount',
                detail := format('amount is missing: a {} needs an amount', type))
            WHEN amount_raw IS NOT NULL AND NOT coalesce(isfinite(amount_value), false)
                THEN struct_pack(code := 'bad_amount',
                detail := format('amount ''{}'' is not a finite number', left(amount_raw, 80)))
            WHEN abs(amount_value) >= $max_amount THEN struct_pack(code := 'bad_amount',
                detail := format('amount ''{}'' is out of range: amounts must be below {} in '
                                 'absolute value', left(amount_raw, 80), $max_amount))
            WHEN is_money AND to_base IS NULL THEN struct_pack(code := 'unknown_currency',
                detail := format('currency ''{}'' of a {} has no exchange rate',
                                 left(currency, 80), type))
            WHEN abs(amount_value * to_base) >= $max_amount THEN struct_pack(code := 'bad_amount',
                detail := format('amount ''{}'' {} is {} {}, out of range: amounts must be '
                                 'below {} in absolute value', left(amount_raw, 80), currency,
                                 amount_value * to_base, $base_currency, $max_amount))
        END AS problem
    FROM facts
),
-- Only ids delivered more than once in the batch, or stored before, need the ordered look;
-- every other line without a problem is simply accepted.
repeats AS (
    SELECT activity_id FROM checked WHERE problem IS NULL
    GROUP BY activity_id HAVING count(*) > 1
    UNION
    SELECT activity_id FROM core.activities
    WHERE tenant_id = $tenant_id
      AND activity_id IN (SELECT activity_id FROM checked WHERE problem IS NULL)
),
deliveries AS (
    SELECT c.line_number,
           x.content_hash AS stored_hash,
           x.import_id AS stored_import,
           row_number() OVER w AS nth,
           first_value(c.content_hash) OVER w AS first_hash
    FROM checked c
    LEFT JOIN core.activities x
      ON x.tenant_id = $tenant_id AND x.activity_id = c.activity_id
    WHERE c.problem IS NULL AND c.activity_id IN (SELECT activity_id FROM repeats)
    WINDOW w AS (PARTITION BY c.activity_id ORDER BY c.line_number)
)
SELECT c.line_number, c.contact_id, c.type, c.actor_kind, c.currency, c.to_base,
       CASE WHEN c.problem IS NOT NULL THEN 'quarantined'
            WHEN d.stored_hash = c.content_hash THEN 'merged'
            WHEN d.stored_hash IS NOT NULL THEN 'quarantined'
            WHEN coalesce(d.nth, 1) = 1 THEN 'accepted'  -- NULL: delivered once
            WHEN d.first_hash = c.content_hash THEN 'merged'
            ELSE 'quarantined'
       END AS outcome,
       CASE WHEN c.problem IS NOT NULL THEN c.problem.code
            WHEN d.stored_hash <> c.content_hash
              OR (d.stored_hash IS NULL AND d.nth > 1 AND d.first_hash <> c.content_hash)
                THEN 'conflicting_duplicate'
       END AS reason_code,
       CASE WHEN c.problem IS NOT NULL THEN c.problem.detail
            WHEN d.stored_hash <> c.content_hash AND d.stored_import <> $import_id
                THEN format('activity_id ''{}'' was imported before with different content',
                            left(c.activity_id, 80))
            WHEN d.stored_hash <> c.content_hash
              OR (d.stored_hash IS NULL AND d.nth > 1 AND d.first_hash <> c.content_hash)
                THEN format('activity_id ''{}'' appears earlier in this file with different '
                            'content', left(c.activity_id, 80))
       END AS reason_detail
FROM checked c
LEFT JOIN deliveries d USING (line_number);
