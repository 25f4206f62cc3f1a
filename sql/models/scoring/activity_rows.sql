-- The activity counts of every pair of score_pairs (sql/models/scoring/activity_counts.sql, or the
-- marts' own at a run's as-of date), one row per pair and activity type, in numbers only:
-- crm_pipeline/scoring/features.py adds them up per pair (`activity_columns`).
-- No parameters. Reads score_activity_counts and score_pairs (i, cutoff, contact_id).
--   k        the type: 0 email, 1 call, 2 meeting, 3 support, 4 webinar, 5 download,
--            6 form_submission, 7 purchase, 8 refund, 9 subscription_start, 10 subscription_end,
--            11 anything else
--   last_us  the latest activity of the type, in microseconds since 1970 (UTC)
SELECT p.i,
       CAST(CASE c.type
           WHEN 'email' THEN 0 WHEN 'call' THEN 1 WHEN 'meeting' THEN 2 WHEN 'support' THEN 3
           WHEN 'webinar' THEN 4 WHEN 'download' THEN 5 WHEN 'form_submission' THEN 6
           WHEN 'purchase' THEN 7 WHEN 'refund' THEN 8 WHEN 'subscription_start' THEN 9
           WHEN 'subscription_end' THEN 10 ELSE 11
       END AS TINYINT) AS k,
       CAST(c.n_total AS INTEGER) AS n_total,
       CAST(c.n_total_inbound AS INTEGER) AS n_total_inbound,
       CAST(c.n_30d AS INTEGER) AS n_30d,
       CAST(c.n_90d AS INTEGER) AS n_90d,
       CAST(c.n_90d_inbound AS INTEGER) AS n_90d_inbound,
       CAST(c.n_365d AS INTEGER) AS n_365d,
       CAST(c.n_recent AS INTEGER) AS n_recent,
       CAST(c.n_baseline AS INTEGER) AS n_baseline,
       epoch_us(c.last_at) AS last_us
FROM score_activity_counts AS c
JOIN score_pairs AS p ON p.cutoff = c.cutoff AND p.contact_id = c.contact_id
