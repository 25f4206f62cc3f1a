-- Features of each (cutoff, contact_id) pair of the temp table score_pairs, from what the
-- warehouse held about the contact up to the end of the cut-off day (UTC) and nothing later: the
-- same query gives the training rows at past cut-offs and the rows scored at a run's as-of date,
-- so a model is applied to exactly what it learned from (crm_pipeline/scoring).
-- Parameters: $tenant_id; $role_top, $role_high, $role_mid (the tenant's title patterns);
-- $decline_recent_days, $decline_baseline_days, $decline_ratio (the tenant's decline rule).
-- Reads score_pairs (cutoff DATE, contact_id), score_activity_counts (per cut-off, contact and
-- type: the marts' activity counts, activity_counts.sql) and score_contact_facts
-- (contact_facts.sql).
--
-- Activity is what the marts count (no email bounces, no scheduled meetings); windows are "in the
-- last N days" as in the marts (d <= N). Per kind:
--   email and call, each way (_in: inbound, _out: anything else): in the last 90 days, and ever;
--   meeting, support, webinar, download, form_submission: in the last 30, 90 and 365 days.
-- Rule ingredients, as sql/models/marts/contact_activity.sql works them out at the as-of date:
--   days_since_last_activity, activities_90d, depth_90d (meetings, webinars, downloads, forms
--   and anything inbound, in the last 90 days), signals_ever, company_size, job_title, industry.
-- Profile fields (industry, company_size, job_title) as they were at the cut-off: the current
-- value, unless the audit trail shows an update after the cut-off day changed it; then the value
-- that update replaced (the earliest such update's previous value).
-- Customer facts (retention): subscribed (the latest subscription_start not followed by a
-- subscription_end), purchases in the last 90 and 365 days, days since the last purchase and since
-- the first conversion, refunds in 365 days, and the decline rule's recent and baseline counts and
-- flag (as retention_risk.sql).
WITH counted AS (
    SELECT cutoff,
           contact_id,
           max(last_at) AS last_activity_at,
           sum(n_90d) AS activities_90d,
           sum(CASE WHEN type IN ('meeting', 'webinar', 'download', 'form_submission')
                    THEN n_90d ELSE n_90d_inbound END) AS depth_90d,
           sum(CASE WHEN type IN ('webinar', 'download', 'form_submission') THEN n_total
                    WHEN type IN ('email', 'call') THEN n_total_inbound END) AS signals_ever,
           sum(n_90d_inbound) FILTER (WHERE type = 'email') AS email_in_90d,
           sum(n_90d - n_90d_inbound) FILTER (WHERE type = 'email') AS email_out_90d,
           sum(n_total_inbound) FILTER (WHERE type = 'email') AS email_in_ever,
           sum(n_total - n_total_inbound) FILTER (WHERE type = 'email') AS email_out_ever,
           sum(n_90d_inbound) FILTER (WHERE type = 'call') AS call_in_90d,
           sum(n_90d - n_90d_inbound) FILTER (WHERE type = 'call') AS call_out_90d,
           sum(n_total_inbound) FILTER (WHERE type = 'call') AS call_in_ever,
           sum(n_total - n_total_inbound) FILTER (WHERE type = 'call') AS call_out_ever,
           sum(n_30d) FILTER (WHERE type = 'meeting') AS meeting_30d,
           sum(n_90d) FILTER (WHERE type = 'meeting') AS meeting_90d,
           sum(n_365d) FILTER (WHERE type = 'meeting') AS meeting_365d,
           sum(n_30d) FILTER (WHERE type = 'support') AS support_30d,
           sum(n_90d) FILTER (WHERE type = 'support') AS support_90d,
           sum(n_365d) FILTER (WHERE type = 'support') AS support_365d,
           sum(n_30d) FILTER (WHERE type = 'webinar') AS webinar_30d,
           sum(n_90d) FILTER (WHERE type = 'webinar') AS webinar_90d,
           sum(n_365d) FILTER (WHERE type = 'webinar') AS webinar_365d,
           sum(n_30d) FILTER (WHERE type = 'download') AS download_30d,
           sum(n_90d) FILTER (WHERE type = 'download') AS download_90d,
           sum(n_365d) FILTER (WHERE type = 'download') AS download_365d,
           sum(n_30d) FILTER (WHERE type = 'form_submission') AS form_submission_30d,
           sum(n_90d) FILTER (WHERE type = 'form_submission') AS form_submission_90d,
           sum(n_365d) FILTER (WHERE type = 'form_submission') AS form_submission_365d,
           sum(n_90d) FILTER (WHERE type = 'purchase') AS purchases_90d,
           sum(n_365d) FILTER (WHERE type = 'purchase') AS purchases_365d,
           max(last_at) FILTER (WHERE type = 'purchase') AS last_purchase_at,
           sum(n_365d) FILTER (WHERE type = 'refund') AS refunds_365d,
           max(last_at) FILTER (WHERE type = 'subscription_start') AS last_start_at,
           max(last_at) FILTER (WHERE type = 'subscription_end') AS last_end_at,
           sum(n_recent) AS recent_activities,
           sum(n_baseline) AS baseline_activities
    FROM score_activity_counts
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
SELECT p.cutoff,
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
       date_diff('day', CAST(a.last_activity_at AS DATE), p.cutoff) AS days_since_last_activity,
       CASE WHEN p.first_activity_at < p.cutoff + INTERVAL 1 DAY
            THEN date_diff('day', CAST(p.first_activity_at AS DATE), p.cutoff)
       END AS days_since_first_activity,
       CAST(coalesce(a.activities_90d, 0) AS INTEGER) AS activities_90d,
       CAST(coalesce(a.depth_90d, 0) AS INTEGER) AS depth_90d,
       CAST(coalesce(a.signals_ever, 0) AS INTEGER) AS signals_ever,
       CAST(coalesce(a.email_in_90d, 0) AS INTEGER) AS email_in_90d,
       CAST(coalesce(a.email_out_90d, 0) AS INTEGER) AS email_out_90d,
       CAST(coalesce(a.email_in_ever, 0) AS INTEGER) AS email_in_ever,
       CAST(coalesce(a.email_out_ever, 0) AS INTEGER) AS email_out_ever,
       CAST(coalesce(a.call_in_90d, 0) AS INTEGER) AS call_in_90d,
       CAST(coalesce(a.call_out_90d, 0) AS INTEGER) AS call_out_90d,
       CAST(coalesce(a.call_in_ever, 0) AS INTEGER) AS call_in_ever,
       CAST(coalesce(a.call_out_ever, 0) AS INTEGER) AS call_out_ever,
       CAST(coalesce(a.meeting_30d, 0) AS INTEGER) AS meeting_30d,
       CAST(coalesce(a.meeting_90d, 0) AS INTEGER) AS meeting_90d,
       CAST(coalesce(a.meeting_365d, 0) AS INTEGER) AS meeting_365d,
       CAST(coalesce(a.support_30d, 0) AS INTEGER) AS support_30d,
       CAST(coalesce(a.support_90d, 0) AS INTEGER) AS support_90d,
       CAST(coalesce(a.support_365d, 0) AS INTEGER) AS support_365d,
       CAST(coalesce(a.webinar_30d, 0) AS INTEGER) AS webinar_30d,
       CAST(coalesce(a.webinar_90d, 0) AS INTEGER) AS webinar_90d,
       CAST(coalesce(a.webinar_365d, 0) AS INTEGER) AS webinar_365d,
       CAST(coalesce(a.download_30d, 0) AS INTEGER) AS download_30d,
       CAST(coalesce(a.download_90d, 0) AS INTEGER) AS download_90d,
       CAST(coalesce(a.download_365d, 0) AS INTEGER) AS download_365d,
       CAST(coalesce(a.form_submission_30d, 0) AS INTEGER) AS form_submission_30d,
       CAST(coalesce(a.form_submission_90d, 0) AS INTEGER) AS form_submission_90d,
       CAST(coalesce(a.form_submission_365d, 0) AS INTEGER) AS form_submission_365d,
       coalesce(a.last_start_at IS NOT NULL
                AND (a.last_end_at IS NULL OR a.last_end_at < a.last_start_at), false)
           AS subscribed,
       CASE WHEN a.last_start_at IS NOT NULL
                 AND (a.last_end_at IS NULL OR a.last_end_at < a.last_start_at)
            THEN date_diff('day', CAST(a.last_start_at AS DATE), p.cutoff)
       END AS subscription_days,
       date_diff('day', CAST(a.last_purchase_at AS DATE), p.cutoff) AS days_since_last_purchase,
       CASE WHEN p.first_conversion_at < p.cutoff + INTERVAL 1 DAY
            THEN date_diff('day', CAST(p.first_conversion_at AS DATE), p.cutoff)
       END AS customer_days,
       CAST(coalesce(a.purchases_90d, 0) AS INTEGER) AS purchases_90d,
       CAST(coalesce(a.purchases_365d, 0) AS INTEGER) AS purchases_365d,
       CAST(coalesce(a.refunds_365d, 0) AS INTEGER) AS refunds_365d,
       CAST(coalesce(a.recent_activities, 0) AS INTEGER) AS recent_activities,
       coalesce(a.baseline_activities, 0) * CAST($decline_recent_days AS DOUBLE)
           / $decline_baseline_days AS baseline_monthly_rate,
       coalesce(a.baseline_activities > 0
                AND coalesce(a.recent_activities, 0)
                    / (a.baseline_activities * CAST($decline_recent_days AS DOUBLE)
                       / $decline_baseline_days) < $decline_ratio, false) AS declining
FROM profiles AS p
JOIN seniority AS r ON r.title_key = coalesce(p.job_title, '')
LEFT JOIN counted AS a ON a.cutoff = p.cutoff AND a.contact_id = p.contact_id
