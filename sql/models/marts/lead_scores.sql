-- marts.lead_scores: lead score 0-100 = fit (who they are) + engagement (what they do).
-- Parameters: $tenant_id, $as_of (DATE); weights $w_company_size, $w_role, $w_industry,
-- $w_recency, $w_frequency, $w_depth (adding up to 100); $target_industries (lower-case list);
-- $role_top, $role_high, $role_mid (whole-word patterns); $recency_zero_at_days,
-- $frequency_full_at, $depth_full_at. Reads mart_contact_activity.
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
-- score_percentile: percent_rank of lead_score within the tenant (ties share the lower rank;
-- 0 when the tenant has one contact).
WITH titles AS (
    SELECT contact_id,
           regexp_replace(lower(coalesce(job_title, '')), '\bvice[ -]?president\b', 'vp', 'g')
               AS title,
           company_size,
           lower(trim(coalesce(industry, ''))) AS industry,
           days_since_last_activity,
           activities_90d,
           depth_90d
    FROM mart_contact_activity
),
factors AS (
    SELECT contact_id,
           CASE
               WHEN company_size >= 1000 THEN 1.0
               WHEN company_size >= 250 THEN 0.75
               WHEN company_size >= 100 THEN 0.5
               WHEN company_size >= 20 THEN 0.25
               ELSE 0.0
           END AS f_company_size,
           CASE
               WHEN regexp_matches(title, $role_top) THEN 1.0
               WHEN regexp_matches(title, $role_high) THEN 0.75
               WHEN regexp_matches(title, $role_mid) THEN 0.5
               WHEN trim(title) <> '' THEN 0.25
               ELSE 0.0
           END AS f_role,
           CASE
               WHEN list_contains(CAST($target_industries AS VARCHAR[]), industry) THEN 1.0
               ELSE 0.0
           END AS f_industry,
           CASE
               WHEN days_since_last_activity IS NULL THEN 0.0
               ELSE greatest(0.0, 1.0 - days_since_last_activity / CAST($recency_zero_at_days AS DOUBLE))
           END AS f_recency,
           least(1.0, activities_90d / CAST($frequency_full_at AS DOUBLE)) AS f_frequency,
           least(1.0, depth_90d / CAST($depth_full_at AS DOUBLE)) AS f_depth
    FROM titles
),
components AS (
    SELECT contact_id,
           round($w_company_size * f_company_size, 2) AS fit_company_size,
           round($w_role * f_role, 2) AS fit_role,
           round($w_industry * f_industry, 2) AS fit_industry,
           round($w_recency * f_recency, 2) AS engagement_recency,
           round($w_frequency * f_frequency, 2) AS engagement_frequency,
           round($w_depth * f_depth, 2) AS engagement_depth
    FROM factors
),
scored AS (
    SELECT *,
           round(fit_company_size + fit_role + fit_industry, 2) AS fit_score,
           round(engagement_recency + engagement_frequency + engagement_depth, 2)
               AS engagement_score
    FROM components
)
SELECT $tenant_id AS tenant_id,
       contact_id,
       CAST($as_of AS DATE) AS as_of,
       round(fit_score + engagement_score, 2) AS lead_score,
       fit_score,
       engagement_score,
       fit_company_size,
       fit_role,
       fit_industry,
       engagement_recency,
       engagement_frequency,
       engagement_depth,
       percent_rank() OVER (ORDER BY round(fit_score + engagement_score, 2)) AS score_percentile
FROM scored
