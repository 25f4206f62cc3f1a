-- marts.lead_scores: each contact's lead score 0-100 and its components (worked out in
-- contact_lead_score.sql), the learned score where the tenant's model is in use, and its rank
-- within the tenant.
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_contacts and mart_lead_model_scores
-- (crm_pipeline/scoring: score_method, conversion_probability, top_factors per contact).
-- The score in use: conversion_probability for a contact whose score_method is learned (an open
-- lead of a tenant whose model beat the rule), lead_score otherwise.
-- score_percentile: percent_rank of the score in use among the tenant's contacts scored the same
-- way (ties share the lower rank; 0 when there is one), so hot_leads' threshold takes the top
-- fifth of the open leads by learned probability, and of the others by lead_score.
-- percent_rank without sorting every contact: (contacts with a lower score) / (contacts - 1),
-- worked out per distinct score.
WITH scored AS (
    SELECT s.contact_id,
           s.lead_score,
           s.fit_score,
           s.engagement_score,
           s.fit_company_size,
           s.fit_role,
           s.fit_industry,
           s.engagement_recency,
           s.engagement_frequency,
           s.engagement_depth,
           coalesce(m.score_method, 'rule') AS score_method,
           m.conversion_probability,
           coalesce(m.top_factors, CAST([] AS VARCHAR[])) AS top_factors,
           CASE WHEN m.score_method = 'learned' THEN m.conversion_probability
                ELSE s.lead_score END AS rank_value
    FROM mart_contacts AS s
    LEFT JOIN mart_lead_model_scores AS m USING (contact_id)
),
percentiles AS (
    SELECT score_method,
           rank_value,
           CASE WHEN sum(n) OVER (PARTITION BY score_method) > 1
                THEN CAST(coalesce(sum(n) OVER (PARTITION BY score_method ORDER BY rank_value
                                                ROWS BETWEEN UNBOUNDED PRECEDING
                                                AND 1 PRECEDING), 0) AS DOUBLE)
                     / CAST(sum(n) OVER (PARTITION BY score_method) - 1 AS DOUBLE)
                ELSE 0.0
           END AS score_percentile
    FROM (SELECT score_method, rank_value, count(*) AS n FROM scored GROUP BY ALL)
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
       p.score_percentile,
       s.score_method,
       s.conversion_probability,
       s.top_factors
FROM scored AS s
JOIN percentiles AS p USING (score_method, rank_value)
