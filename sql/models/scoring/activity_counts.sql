-- The marts' helper sql/models/marts/activity_counts.sql at every cut-off of score_pairs: one row
-- per cut-off, contact and activity type with the same counts, each against its own cut-off day
-- instead of the as-of date (crm_pipeline/scoring learns from past cut-offs with these; at a run's
-- as-of date it reads the marts' own rows, and a test keeps the two equal).
-- Parameters: $tenant_id, $decline_recent_days, $decline_baseline_days. Reads score_pairs
-- (cutoff DATE, contact_id).
-- What counts: activities dated up to the end of the cut-off day, except email bounces and
-- scheduled meetings; d = cut-off date minus activity date in whole days.
WITH acts AS (
    SELECT p.cutoff,
           a.contact_id,
           a.type,
           coalesce(lower(a.direction), '') = 'inbound' AS inbound,
           a.occurred_at,
           date_diff('day', CAST(a.occurred_at AS DATE), p.cutoff) AS d
    FROM score_pairs AS p
    JOIN core.activities AS a ON a.contact_id = p.contact_id
    WHERE a.tenant_id = $tenant_id
      AND a.occurred_at < p.cutoff + INTERVAL 1 DAY
      AND a.type <> 'email_bounce'
      AND NOT (a.type = 'meeting' AND coalesce(lower(a.status), '') = 'scheduled')
)
SELECT cutoff,
       contact_id,
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
GROUP BY cutoff, contact_id, type
