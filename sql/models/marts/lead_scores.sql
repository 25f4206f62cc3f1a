-- marts.lead_scores: each contact's lead score 0-100 and its components (worked out in
-- contact_lead_score.sql), with its rank within the tenant.
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_contacts.
-- score_percentile: percent_rank of lead_score within the tenant (ties share the lower rank;
-- 0 when the tenant has one contact).
-- percent_rank without sorting every contact: (contacts with a lower score) / (contacts - 1),
-- worked out per distinct score (scores have two decimals, so there are few of them).
WITH percentiles AS (
    SELECT lead_score,
           CASE WHEN sum(n) OVER () > 1
                THEN CAST(coalesce(sum(n) OVER (ORDER BY lead_score ROWS BETWEEN UNBOUNDED PRECEDING
                                                                     AND 1 PRECEDING), 0) AS DOUBLE)
                     / CAST(sum(n) OVER () - 1 AS DOUBLE)
                ELSE 0.0
           END AS score_percentile
    FROM (SELECT lead_score, count(*) AS n FROM mart_contacts GROUP BY lead_score)
)
SELECT $tenant_id AS tenant_id,
       s.contact_id,
       CAST($as_of AS DATE) AS as_of,
       s.lead_score,
       s.fit_score,
       s.engagement_score,
       s.fit_company_size,
       s.fit_role,
       s.fit_industry,
       s.engagement_recency,
       s.engagement_frequency,
       s.engagement_depth,
       p.score_percentile
FROM mart_contacts AS s
JOIN percentiles AS p USING (lead_score)
