-- Step 2 of the helper mart_contacts: the contacts of step 1 (contact_activity) with their lead
-- score 0-100 = fit (who they are) + engagement (what they do), in named components.
-- Parameters: weights $w_company_size, $w_role, $w_industry, $w_recency,
-- $w_frequency, $w_depth (adding up to 100); $target_industries (lower-case list);
-- $role_top, $role_high, $role_mid (whole-word patterns); $recency_zero_at_days,
-- $frequency_full_at, $depth_full_at.
--
-- Each component is weight x a factor in [0, 1], rounded to 2 decimals; the scores are their sums.
--   fit_company_size  1 for 1000+ employees, 0.75 for 250+, 0.5 for 100+, 0.25 for 20+, else 0
--                     (unknown size 0)
--   fit_role          job title, lower-case, "vice president" read as "vp": 1 for a top keyword
--                     (ceo, cfo, cto, founder, owner, president, chief, ...), 0.75 high (vp, head,
--                     director), 0.5 mid (manager, lead), 0.25 any other title, 0 no title
--   fit_industry      1 when the industry (lower-case, trimmed) is in the tenant's target list
--   engagement_recency    1 - days since last activity / $recency_zero_at_days, at least 0
--                         (0 without activity)
--   engagement_frequency  activities in 90 days / $frequency_full_at, at most 1
--   engagement_depth      high-intent activities in 90 days (meetings held, webinars, downloads,
--                         forms, anything inbound) / $depth_full_at, at most 1
-- score_percentile is added when marts.lead_scores is written (lead_scores.sql).
-- Reads nothing but contact_activity (titles included), so crm_pipeline/scoring computes the same
-- score at past cut-offs from its own features (sql/models/scoring/features.sql).
WITH roles AS (  -- the title patterns matched once per distinct title, not once per contact
    SELECT title_key,
           CASE
               WHEN regexp_matches(title, $role_top) THEN 1.0
               WHEN regexp_matches(title, $role_high) THEN 0.75
               WHEN regexp_matches(title, $role_mid) THEN 0.5
               WHEN trim(title) <> '' THEN 0.25
               ELSE 0.0
           END AS f_role
    FROM (
        SELECT title_key,
               regexp_replace(lower(title_key), '\bvice[ -]?president\b', 'vp', 'g') AS title
        FROM (SELECT DISTINCT coalesce(job_title, '') AS title_key FROM contact_activity)
    )
),
factors AS (
    SELECT a.*,
           CASE
               WHEN a.company_size >= 1000 THEN 1.0
               WHEN a.company_size >= 250 THEN 0.75
               WHEN a.company_size >= 100 THEN 0.5
               WHEN a.company_size >= 20 THEN 0.25
               ELSE 0.0
           END AS f_company_size,
           r.f_role,
           CASE
               WHEN list_contains(CAST($target_industries AS VARCHAR[]),
                                  lower(trim(coalesce(a.industry, '')))) THEN 1.0
               ELSE 0.0
           END AS f_industry,
           CASE
               WHEN a.days_since_last_activity IS NULL THEN 0.0
               ELSE greatest(0.0, 1.0 - a.days_since_last_activity
                                        / CAST($recency_zero_at_days AS DOUBLE))
           END AS f_recency,
           least(1.0, a.activities_90d / CAST($frequency_full_at AS DOUBLE)) AS f_frequency,
           least(1.0, a.depth_90d / CAST($depth_full_at AS DOUBLE)) AS f_depth
    FROM contact_activity AS a
    JOIN roles AS r ON r.title_key = coalesce(a.job_title, '')
),
components AS (
    SELECT * EXCLUDE (f_company_size, f_role, f_industry, f_recency, f_frequency, f_depth),
           round($w_company_size * f_company_size, 2) AS fit_company_size,
           round($w_role * f_role, 2) AS fit_role,
           round($w_industry * f_industry, 2) AS fit_industry,
           round($w_recency * f_recency, 2) AS engagement_recency,
           round($w_frequency * f_frequency, 2) AS engagement_frequency,
           round($w_depth * f_depth, 2) AS engagement_depth
    FROM factors
)
SELECT *, round(fit_score + engagement_score, 2) AS lead_score
FROM (
    SELECT *,
           round(fit_company_size + fit_role + fit_industry, 2) AS fit_score,
           round(engagement_recency + engagement_frequency + engagement_depth, 2)
               AS engagement_score
    FROM components
)
