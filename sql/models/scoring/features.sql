-- Features of each (cutoff, contact_id) pair of the temp table score_pairs, from what the
-- warehouse holds about the contact up to the end of the cut-off day (UTC) and nothing later:
-- the same query gives the training rows at past cut-offs and the scored rows at a run's as-of
-- date, so a model sees at scoring time exactly what it learned from (crm_pipeline/scoring).
-- Parameters: $tenant_id; $role_top, $role_high, $role_mid (the tenant's title patterns);
-- $decline_recent_days, $decline_baseline_days, $decline_ratio (the tenant's decline rule).
-- Reads score_pairs (cutoff DATE, contact_id) and score_contact_facts (contact_facts.sql).
--
-- Activities: those dated up to the end of the cut-off day; scheduled meetings are never activity
-- (as in the marts); email bounces are counted apart (bounces) and are not activity.
-- d = cut-off date minus activity date in whole days; "in the last N days" is d <= N.
-- Kinds: email and call split by direction (_in: inbound, _out: anything else), then meeting,
-- support, webinar, download, form_submission; each counted in the last 30 and 180 days.
-- Rule ingredients, as sql/models/marts/contact_activity.sql works them out at the as-of date:
--   days_since_last_activity, activities_90d, depth_90d (meetings, webinars, downloads, forms
--   and anything inbound, in the last 90 days), company_size, job_title, industry.
-- Profile fields (industry, company_size, job_title) as they were at the cut-off: the current
-- value, unless the audit trail shows an update after the cut-off day changed it; then the value
-- that update replaced (the earliest such update's previous value).
-- Customer facts (retention): subscribed (the latest subscription_start not followed by a
-- subscription_end), purchase days in 90 / 365 days, net revenue of the last 365 days (purchases
-- less refunds, base currency), refunds in 365 days, days since the last and the first purchase,
-- and the decline rule's recent and baseline activity counts and flag (as retention_risk.sql).
-- Sums of amounts are DECIMAL, so they do not depend on the order parallel threads add them in.
WITH acts AS (
    SELECT p.cutoff,
           p.contact_id,
           a.type,
           a.occurred_at,
           coalesce(lower(a.direction), '') = 'inbound' AS inbound,
           date_diff('day', CAST(a.occurred_at AS DATE), p.cutoff) AS d,
           coalesce(a.amount_base, 0) AS amount
    FROM score_pairs AS p
    JOIN core.activities AS a ON a.contact_id = p.contact_id
    WHERE a.tenant_id = $tenant_id
      AND a.occurred_at < p.cutoff + INTERVAL 1 DAY
      AND NOT (a.type = 'meeting' AND coalesce(lower(a.status), '') = 'scheduled')
),
counted AS (
    SELECT cutoff,
           contact_id,
           max(occurred_at) FILTER (WHERE type <> 'email_bounce') AS last_activity_at,
           min(occurred_at) FILTER (WHERE type <> 'email_bounce') AS first_activity_at,
           count(*) FILTER (WHERE type <> 'email_bounce' AND d <= 90) AS activities_90d,
           count(*) FILTER (
               WHERE type <> 'email_bounce' AND d <= 90
                 AND (type IN ('meeting', 'webinar', 'download', 'form_submission') OR inbound)
           ) AS depth_90d,
           count(*) FILTER (
               WHERE type IN ('webinar', 'download', 'form_submission')
                  OR (type IN ('email', 'call') AND inbound)
           ) AS signals_ever,
           count(*) FILTER (WHERE type = 'email_bounce') AS bounces,
           count(*) FILTER (WHERE type = 'email' AND inbound AND d <= 30) AS email_in_30d,
           count(*) FILTER (WHERE type = 'email' AND inbound AND d <= 180) AS email_in_180d,
           count(*) FILTER (WHERE type = 'email' AND NOT inbound AND d <= 30) AS email_out_30d,
           count(*) FILTER (WHERE type = 'email' AND NOT inbound AND d <= 180) AS email_out_180d,
           count(*) FILTER (WHERE type = 'call' AND inbound AND d <= 30) AS call_in_30d,
           count(*) FILTER (WHERE type = 'call' AND inbound AND d <= 180) AS call_in_180d,
           count(*) FILTER (WHERE type = 'call' AND NOT inbound AND d <= 30) AS call_out_30d,
           count(*) FILTER (WHERE type = 'call' AND NOT inbound AND d <= 180) AS call_out_180d,
           count(*) FILTER (WHERE type = 'meeting' AND d <= 30) AS meeting_30d,
           count(*) FILTER (WHERE type = 'meeting' AND d <= 180) AS meeting_180d,
           count(*) FILTER (WHERE type = 'support' AND d <= 30) AS support_30d,
           count(*) FILTER (WHERE type = 'support' AND d <= 180) AS support_180d,
           count(*) FILTER (WHERE type = 'webinar' AND d <= 30) AS webinar_30d,
           count(*) FILTER (WHERE type = 'webinar' AND d <= 180) AS webinar_180d,
           count(*) FILTER (WHERE type = 'download' AND d <= 30) AS download_30d,
           count(*) FILTER (WHERE type = 'download' AND d <= 180) AS download_180d,
           count(*) FILTER (WHERE type = 'form_submission' AND d <= 30) AS form_submission_30d,
           count(*) FILTER (WHERE type = 'form_submission' AND d <= 180) AS form_submission_180d,
           max(occurred_at) FILTER (WHERE type = 'subscription_start') AS last_start_at,
           max(occurred_at) FILTER (WHERE type = 'subscription_end') AS last_end_at,
           max(occurred_at) FILTER (WHERE type = 'purchase') AS last_purchase_at,
           min(occurred_at) FILTER (WHERE type IN ('purchase', 'subscription_start'))
               AS first_conversion_at,
           count(DISTINCT CAST(occurred_at AS DATE)) FILTER (WHERE type = 'purchase' AND d <= 90)
               AS purchase_days_90d,
           count(DISTINCT CAST(occurred_at AS DATE)) FILTER (WHERE type = 'purchase' AND d <= 365)
               AS purchase_days_365d,
           sum(CAST(CASE WHEN type = 'purchase' THEN amount WHEN type = 'refund' THEN -amount END
                    AS DECIMAL(18, 6))) FILTER (WHERE d <= 365) AS revenue_365d,
           count(*) FILTER (WHERE type = 'refund' AND d <= 365) AS refunds_365d,
           count(*) FILTER (WHERE type <> 'email_bounce' AND d <= $decline_recent_days)
               AS recent_activities,
           count(*) FILTER (
               WHERE type <> 'email_bounce' AND d > $decline_recent_days
                 AND d <= $decline_recent_days + $decline_baseline_days
           ) AS baseline_activities
    FROM acts
    GROUP BY cutoff, contact_id
),
profile_updates AS (  -- profile fields changed after the earliest cut-off, with what they were
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
    SELECT p.cutoff,
           p.contact_id,
           CASE WHEN t.industry_changed THEN t.industry ELSE c.industry END AS industry,
           CASE WHEN t.company_size_changed THEN t.company_size ELSE c.company_size END
               AS company_size,
           CASE WHEN t.job_title_changed THEN t.job_title ELSE c.job_title END AS job_title,
           c.country,
           coalesce(s.source, 'unknown') AS source,
           f.known_since
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
SELECT p.cutoff,
       p.contact_id,
       p.company_size,
       p.job_title,
       p.industry,
       lower(trim(coalesce(p.industry, ''))) AS industry_key,
       r.seniority,
       coalesce(p.country, '') AS country,
       p.source,
       date_diff('day', CAST(p.known_since AS DATE), p.cutoff) AS known_days,
       date_diff('day', CAST(a.last_activity_at AS DATE), p.cutoff) AS days_since_last_activity,
       date_diff('day', CAST(a.first_activity_at AS DATE), p.cutoff) AS days_since_first_activity,
       CAST(coalesce(a.activities_90d, 0) AS INTEGER) AS activities_90d,
       CAST(coalesce(a.depth_90d, 0) AS INTEGER) AS depth_90d,
       CAST(coalesce(a.signals_ever, 0) AS INTEGER) AS signals_ever,
       CAST(coalesce(a.bounces, 0) AS INTEGER) AS bounces,
       CAST(coalesce(a.email_in_30d, 0) AS INTEGER) AS email_in_30d,
       CAST(coalesce(a.email_in_180d, 0) AS INTEGER) AS email_in_180d,
       CAST(coalesce(a.email_out_30d, 0) AS INTEGER) AS email_out_30d,
       CAST(coalesce(a.email_out_180d, 0) AS INTEGER) AS email_out_180d,
       CAST(coalesce(a.call_in_30d, 0) AS INTEGER) AS call_in_30d,
       CAST(coalesce(a.call_in_180d, 0) AS INTEGER) AS call_in_180d,
       CAST(coalesce(a.call_out_30d, 0) AS INTEGER) AS call_out_30d,
       CAST(coalesce(a.call_out_180d, 0) AS INTEGER) AS call_out_180d,
       CAST(coalesce(a.meeting_30d, 0) AS INTEGER) AS meeting_30d,
       CAST(coalesce(a.meeting_180d, 0) AS INTEGER) AS meeting_180d,
       CAST(coalesce(a.support_30d, 0) AS INTEGER) AS support_30d,
       CAST(coalesce(a.support_180d, 0) AS INTEGER) AS support_180d,
       CAST(coalesce(a.webinar_30d, 0) AS INTEGER) AS webinar_30d,
       CAST(coalesce(a.webinar_180d, 0) AS INTEGER) AS webinar_180d,
       CAST(coalesce(a.download_30d, 0) AS INTEGER) AS download_30d,
       CAST(coalesce(a.download_180d, 0) AS INTEGER) AS download_180d,
       CAST(coalesce(a.form_submission_30d, 0) AS INTEGER) AS form_submission_30d,
       CAST(coalesce(a.form_submission_180d, 0) AS INTEGER) AS form_submission_180d,
       coalesce(a.last_start_at IS NOT NULL
                AND (a.last_end_at IS NULL OR a.last_end_at < a.last_start_at), false)
           AS subscribed,
       CASE WHEN a.last_start_at IS NOT NULL
                 AND (a.last_end_at IS NULL OR a.last_end_at < a.last_start_at)
            THEN date_diff('day', CAST(a.last_start_at AS DATE), p.cutoff)
       END AS subscription_days,
       date_diff('day', CAST(a.last_purchase_at AS DATE), p.cutoff) AS days_since_last_purchase,
       date_diff('day', CAST(a.first_conversion_at AS DATE), p.cutoff) AS customer_days,
       CAST(coalesce(a.purchase_days_90d, 0) AS INTEGER) AS purchase_days_90d,
       CAST(coalesce(a.purchase_days_365d, 0) AS INTEGER) AS purchase_days_365d,
       CAST(coalesce(a.revenue_365d, 0) AS DOUBLE) AS revenue_365d,
       CAST(coalesce(a.refunds_365d, 0) AS INTEGER) AS refunds_365d,
       CAST(coalesce(a.recent_activities, 0) AS INTEGER) AS recent_activities,
       CAST(coalesce(a.baseline_activities, 0) AS INTEGER) * CAST($decline_recent_days AS DOUBLE)
           / $decline_baseline_days AS baseline_monthly_rate,
       coalesce(a.baseline_activities > 0
                AND coalesce(a.recent_activities, 0)
                    / (a.baseline_activities * CAST($decline_recent_days AS DOUBLE)
                       / $decline_baseline_days) < $decline_ratio, false) AS declining
FROM profiles AS p
JOIN seniority AS r ON r.title_key = coalesce(p.job_title, '')
LEFT JOIN counted AS a ON a.cutoff = p.cutoff AND a.contact_id = p.contact_id
