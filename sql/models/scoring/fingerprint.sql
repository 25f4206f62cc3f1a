-- A digest of everything a model trained at $anchor learns from (crm_pipeline/scoring/store.py):
-- a stored model is used again only while this is unchanged, so the scores of an as-of date
-- never depend on which runs came before it. Parameters: $tenant_id, $anchor (DATE), $last (DATE,
-- the newest cut-off). Reads score_contact_facts (contact_facts.sql).
--   features   activities dated up to the end of the newest cut-off's day
--   labels     purchases, subscription starts and ends dated up to the end of the anchor day
--   contacts   known by the newest cut-off: profile fields, known_since, and the system they came
--              from
--   profile    audited profile updates (what undoes later changes at a cut-off)
-- Activities dated later, and contacts first known later, do not change it: adding today's
-- activity log does not retrain a model of an earlier anchor.
WITH acts AS (
    SELECT count(*) AS n,
           coalesce(bit_xor(hash(activity_id, contact_id, type, occurred_at, direction, status,
                                 amount_base)), 0) AS h
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND (occurred_at < CAST($last AS DATE) + INTERVAL 1 DAY
           OR (type IN ('purchase', 'subscription_start', 'subscription_end')
               AND occurred_at < CAST($anchor AS DATE) + INTERVAL 1 DAY))
),
sources AS (
    SELECT s.contact_id, arg_min(coalesce(i.vendor, 'unknown'), s.linked_at) AS source
    FROM core.contact_sources AS s
    JOIN raw.imports AS i ON i.tenant_id = s.tenant_id AND i.import_id = s.import_id
    WHERE s.tenant_id = $tenant_id
    GROUP BY s.contact_id
),
people AS (
    SELECT count(*) AS n,
           coalesce(bit_xor(hash(c.contact_id, c.industry, c.company_size, c.job_title, c.country,
                                 f.known_since, s.source)), 0) AS h
    FROM core.contacts AS c
    JOIN score_contact_facts AS f USING (contact_id)
    LEFT JOIN sources AS s USING (contact_id)
    WHERE c.tenant_id = $tenant_id
      AND f.known_since < CAST($last AS DATE) + INTERVAL 1 DAY
),
profile AS (
    SELECT count(*) AS n, coalesce(bit_xor(hash(entity_id, "at", previous)), 0) AS h
    FROM audit.changes
    WHERE tenant_id = $tenant_id AND entity = 'contact' AND action = 'update'
      AND previous IS NOT NULL
)
SELECT concat_ws(':', a.n, a.h, p.n, p.h, u.n, u.h)
FROM acts AS a, people AS p, profile AS u
