-- Helper (temp table mart_activity_counts): the one pass over the tenant's activities.
-- One row per contact and activity type, with counts over every window the marts use (and, for
-- the two that need it, the inbound part), so later models roll these rows up instead of reading
-- core.activities again. Inbound: direction inbound (any case).
-- Parameters: $tenant_id, $as_of (DATE), $decline_recent_days, $decline_baseline_days.
--
-- What counts as activity: everything up to the end of the as-of day (UTC), except
--   * email_bounce (a bounce is not engagement), and
--   * meetings whose status is scheduled (not held, so not activity, whenever they are dated).
-- Activities after the as-of date are ignored.
-- Windows: d = as-of date minus activity date in whole days (0 on the as-of day).
-- "In the last N days" means d <= N, everywhere in the marts and segments.
--   n_7d / n_30d / n_90d / n_365d: d <= 7 / 30 / 90 / 365; n_total_inbound / n_90d_inbound: the
--   inbound ones of n_total / n_90d
--   n_prior_90d: 31 <= d <= 120 (the 90 days before the last 30; engagement.trend)
--   n_recent: d <= $decline_recent_days; n_baseline: the $decline_baseline_days days before that
--   (retention_risk); first_at / last_at: the first and the latest (first_at: crm_pipeline/scoring).
-- sql/models/scoring/activity_counts.sql gives the same rows at any number of past cut-offs.
WITH acts AS (
    SELECT contact_id,
           type,
           coalesce(lower(direction), '') = 'inbound' AS inbound,
           occurred_at,
           date_diff('day', CAST(occurred_at AS DATE), CAST($as_of AS DATE)) AS d
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
      AND type <> 'email_bounce'
      AND NOT (type = 'meeting' AND coalesce(lower(status), '') = 'scheduled')
)
SELECT contact_id,
       type,
       count(*) AS n_total,
       count(*) FILTER (WHERE inbound) AS n_total_inbound,
       count(*) FILTER (WHERE d <= 7) AS n_7d,
       count(*) FILTER (WHERE d <= 30) AS n_30d,
       count(*) FILTER (WHERE d <= 90) AS n_90d,
       count(*) FILTER (WHERE d <= 90 AND inbound) AS n_90d_inbound,
       count(*) FILTER (WHERE d <= 365) AS n_365d,
       count(*) FILTER (WHERE d BETWEEN 31 AND 120) AS n_prior_90d,
       count(*) FILTER (WHERE d <= $decline_recent_days) AS n_recent,
       count(*) FILTER (
           WHERE d > $decline_recent_days AND d <= $decline_recent_days + $decline_baseline_days
       ) AS n_baseline,
       min(occurred_at) AS first_at,
       max(occurred_at) AS last_at
FROM acts
GROUP BY contact_id, type
