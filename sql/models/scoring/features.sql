-- Features of each (cutoff, contact_id) pair of the temp table score_pairs that come from the
-- contact rather than from counting activities: profile fields, seniority, country, source, how
-- long known, how long since the first activity and the first conversion. The activity counts are
-- added by crm_pipeline/scoring/features.py from score_activity_counts (the same pairs, by `i`).
-- Everything is what the warehouse held up to the end of the cut-off day (UTC) and nothing later:
-- the same query gives the training rows at past cut-offs and the rows scored at a run's as-of
-- date, so a model is applied to exactly what it learned from.
-- Parameters: $tenant_id; $role_top, $role_high, $role_mid (the tenant's title patterns). Reads
-- score_pairs (i, cutoff DATE, contact_id) and score_contact_facts (contact_facts.sql).
--
-- Profile fields (industry, company_size, job_title) as they were at the cut-off: the current
-- value, unless the audit trail shows an update after the cut-off day changed it; then the value
-- that update replaced (the earliest such update's previous value). Seniority: the level of the
-- title by the tenant's role keywords, as the rule reads it (contact_lead_score.sql).
WITH profile_updates AS (  -- profile fields changed after the earliest cut-off, with what they were
    SELECT entity_id AS contact_id,
           "at",
           json_exists(previous, '$.industry') AS had_industry,
           previous->>'$.industry' AS industry,
           json_exists(previous, '$.company_size') AS had_company_size,
           TRY_CAST(previous->>'$.company_size' AS BIGINT) AS company_size,
           json_exists(previous, '$.job_title') AS had_job_title,
           previous->>'$.job_title' AS job_title
    FROM audit.changes
    WHERE tenant_id = $tenant_id
      AND entity = 'contact'
      AND action = 'update'
      AND previous IS NOT NULL
      AND "at" >= (SELECT min(cutoff) FROM score_pairs) + INTERVAL 1 DAY
      AND (json_exists(previous, '$.industry') OR json_exists(previous, '$.company_size')
           OR json_exists(previous, '$.job_title'))
),
profile_then AS (
    SELECT p.cutoff,
           p.contact_id,
           bool_or(u.had_industry) AS industry_changed,
           arg_min_null(u.industry, u."at") FILTER (WHERE u.had_industry) AS industry,
           bool_or(u.had_company_size) AS company_size_changed,
           arg_min_null(u.company_size, u."at") FILTER (WHERE u.had_company_size) AS company_size,
           bool_or(u.had_job_title) AS job_title_changed,
           arg_min_null(u.job_title, u."at") FILTER (WHERE u.had_job_title) AS job_title
    FROM score_pairs AS p
    JOIN profile_updates AS u ON u.contact_id = p.contact_id AND u."at" >= p.cutoff + INTERVAL 1 DAY
    GROUP BY p.cutoff, p.contact_id
),
first_source AS (  -- the system the contact's first source row came from (raw.imports.vendor)
    SELECT s.contact_id, arg_min(coalesce(i.vendor, 'unknown'), s.linked_at) AS source
    FROM core.contact_sources AS s
    JOIN raw.imports AS i ON i.tenant_id = s.tenant_id AND i.import_id = s.import_id
    WHERE s.tenant_id = $tenant_id
    GROUP BY s.contact_id
),
profiles AS (
    SELECT p.i,
           p.cutoff,
           p.contact_id,
           CASE WHEN t.industry_changed THEN t.industry ELSE c.industry END AS industry,
           CASE WHEN t.company_size_changed THEN t.company_size ELSE c.company_size END
               AS company_size,
           CASE WHEN t.job_title_changed THEN t.job_title ELSE c.job_title END AS job_title,
           c.country,
           coalesce(s.source, 'unknown') AS source,
           f.known_since,
           f.first_activity_at,
           f.first_conversion_at
    FROM score_pairs AS p
    JOIN core.contacts AS c ON c.tenant_id = $tenant_id AND c.contact_id = p.contact_id
    LEFT JOIN profile_then AS t ON t.cutoff = p.cutoff AND t.contact_id = p.contact_id
    LEFT JOIN first_source AS s ON s.contact_id = p.contact_id
    LEFT JOIN score_contact_facts AS f ON f.contact_id = p.contact_id
),
seniority AS (  -- the title patterns matched once per distinct title
    SELECT title_key,
           CASE
               WHEN regexp_matches(title, $role_top) THEN 'top'
               WHEN regexp_matches(title, $role_high) THEN 'high'
               WHEN regexp_matches(title, $role_mid) THEN 'mid'
               WHEN trim(title) <> '' THEN 'other'
               ELSE 'none'
           END AS seniority
    FROM (
        SELECT title_key,
               regexp_replace(lower(title_key), '\bvice[ -]?president\b', 'vp', 'g') AS title
        FROM (SELECT DISTINCT coalesce(job_title, '') AS title_key FROM profiles)
    )
)
SELECT p.i,
       p.cutoff,
       p.contact_id,
       p.company_size,
       p.job_title,
       p.industry,
       lower(trim(coalesce(p.industry, ''))) AS industry_key,
       r.seniority,
       coalesce(p.country, '') AS country,
       p.source,
       CASE WHEN p.known_since < p.cutoff + INTERVAL 1 DAY
            THEN date_diff('day', CAST(p.known_since AS DATE), p.cutoff) ELSE 0
       END AS known_days,
       CASE WHEN p.first_activity_at < p.cutoff + INTERVAL 1 DAY
            THEN date_diff('day', CAST(p.first_activity_at AS DATE), p.cutoff)
       END AS days_since_first_activity,
       CASE WHEN p.first_conversion_at < p.cutoff + INTERVAL 1 DAY
            THEN date_diff('day', CAST(p.first_conversion_at AS DATE), p.cutoff)
       END AS customer_days
FROM profiles AS p
JOIN seniority AS r ON r.title_key = coalesce(p.job_title, '')
