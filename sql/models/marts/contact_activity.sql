-- Step 1 of the helper mart_contacts (crm_pipeline/marts.py composes the steps into one statement):
-- every contact of the tenant, with its activity rolled up from mart_activity_counts (zeros and
-- NULLs for contacts without activity) and the profile fields the scores need.
-- Parameters: $tenant_id, $as_of (DATE). Reads only the columns it needs of core.contacts.
--
-- inbound: the contact started it: any activity with direction inbound, plus webinars, downloads,
--   form submissions and purchases.
-- engagement signal (lifecycle lead and advocate): form_submission, download, webinar, or an
--   inbound email or call.
-- depth (lead score): meetings held, webinars, downloads, form submissions, and anything inbound.
WITH per_contact AS (
    SELECT contact_id,
           max(last_at) AS last_activity_at,
           sum(n_7d) AS activities_7d,
           sum(n_30d) AS activities_30d,
           sum(n_90d) AS activities_90d,
           sum(n_365d) AS activities_365d,
           sum(n_prior_90d) AS prior_90d,
           sum(n_recent) AS recent_activities,
           sum(n_baseline) AS baseline_activities,
           sum(CASE WHEN type IN ('webinar', 'download', 'form_submission', 'purchase')
                    THEN n_90d ELSE n_90d_inbound END) AS inbound_90d,
           sum(CASE WHEN type IN ('webinar', 'download', 'form_submission') THEN n_total
                    WHEN type IN ('email', 'call') THEN n_total_inbound END) AS signals_ever,
           sum(CASE WHEN type IN ('webinar', 'download', 'form_submission') THEN n_90d
                    WHEN type IN ('email', 'call') THEN n_90d_inbound END) AS signals_90d,
           sum(CASE WHEN type IN ('meeting', 'webinar', 'download', 'form_submission')
                    THEN n_90d ELSE n_90d_inbound END) AS depth_90d,
           max(last_at) FILTER (WHERE type = 'purchase') AS last_purchase_at,
           max(last_at) FILTER (WHERE type = 'subscription_start') AS last_subscription_start_at,
           max(last_at) FILTER (WHERE type = 'subscription_end') AS last_subscription_end_at
    FROM mart_activity_counts
    GROUP BY contact_id
)
SELECT c.contact_id,
       c.company_size,
       c.job_title,
       c.industry,
       p.last_activity_at,
       date_diff('day', CAST(p.last_activity_at AS DATE), CAST($as_of AS DATE))
           AS days_since_last_activity,
       CAST(coalesce(p.activities_7d, 0) AS INTEGER) AS activities_7d,
       CAST(coalesce(p.activities_30d, 0) AS INTEGER) AS activities_30d,
       CAST(coalesce(p.activities_90d, 0) AS INTEGER) AS activities_90d,
       CAST(coalesce(p.activities_365d, 0) AS INTEGER) AS activities_365d,
       CAST(coalesce(p.prior_90d, 0) AS INTEGER) AS prior_90d,
       CAST(coalesce(p.recent_activities, 0) AS INTEGER) AS recent_activities,
       CAST(coalesce(p.baseline_activities, 0) AS INTEGER) AS baseline_activities,
       CAST(coalesce(p.inbound_90d, 0) AS INTEGER) AS inbound_90d,
       CAST(coalesce(p.signals_ever, 0) AS INTEGER) AS signals_ever,
       CAST(coalesce(p.signals_90d, 0) AS INTEGER) AS signals_90d,
       CAST(coalesce(p.depth_90d, 0) AS INTEGER) AS depth_90d,
       p.last_purchase_at,
       date_diff('day', CAST(p.last_purchase_at AS DATE), CAST($as_of AS DATE))
           AS days_since_last_purchase,
       coalesce(
           p.last_subscription_start_at IS NOT NULL
           AND (p.last_subscription_end_at IS NULL
                OR p.last_subscription_end_at < p.last_subscription_start_at),
           false
       ) AS subscription_active,
       p.last_subscription_start_at IS NOT NULL AS ever_subscribed
FROM (
    SELECT contact_id, company_size, job_title, industry
    FROM core.contacts
    WHERE tenant_id = $tenant_id
) AS c
LEFT JOIN per_contact AS p USING (contact_id)
