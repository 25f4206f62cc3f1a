-- What putting a rule score into words needs, per contact at the run's as-of date
-- (crm_pipeline/scoring/explain.py): the lead score's components and what earned them, and the
-- decline rule's counts. Parameters: $tenant_id, $w_role. Reads mart_contacts.
-- seniority: the level whose factor earned fit_role (fit_role / $w_role: 1 top, 0.75 high,
-- 0.5 mid, 0.25 any other title, 0 none), so the title patterns are not matched again.
SELECT m.contact_id,
       m.stage,
       m.fit_company_size,
       m.fit_role,
       m.fit_industry,
       m.engagement_recency,
       m.engagement_frequency,
       m.engagement_depth,
       m.days_since_last_activity,
       m.activities_90d,
       m.depth_90d,
       m.recent_activities,
       m.baseline_activities,
       c.company_size,
       c.industry,
       CASE
           WHEN $w_role <= 0 OR m.fit_role <= 0 THEN 'none'
           WHEN m.fit_role >= 0.99 * $w_role THEN 'top'
           WHEN m.fit_role >= 0.74 * $w_role THEN 'high'
           WHEN m.fit_role >= 0.49 * $w_role THEN 'mid'
           ELSE 'other'
       END AS seniority
FROM mart_contacts AS m
JOIN core.contacts AS c ON c.tenant_id = $tenant_id AND c.contact_id = m.contact_id
