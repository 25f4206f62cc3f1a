-- The temp table wf_contacts: one row per contact of the tenant with what the workflows' rules
-- read, from the marts just refreshed for this as-of date (lifecycle, lead_scores,
-- retention_risk, engagement), core.contacts (consent, e-mail status), core.contact_accounts,
-- gdpr.suppressions and the activity log (the first purchase or subscription start, the last
-- activity marked disqualified). Parameters: $tenant_id, $as_of (DATE).
-- Nothing after the end of the as-of day (UTC) is read. Only contacts a workflow can concern:
-- leads, customers and advocates, and contacts with an open enrollment (to close it).
CREATE OR REPLACE TEMP TABLE wf_contacts AS
WITH customer_since AS (
    SELECT contact_id, min(occurred_at) AS customer_since
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
      AND type IN ('purchase', 'subscription_start')
    GROUP BY contact_id
),
disqualified AS (  -- few rows have a status: the IS NOT NULL test skips most of the log
    SELECT contact_id, max(occurred_at) AS disqualified_at
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
      AND status IS NOT NULL AND lower(status) = 'disqualified'
    GROUP BY contact_id
)
SELECT c.contact_id,
       ca.account_id,
       l.stage,
       s.score_percentile,
       s.lead_score,
       r.declining,
       r.churn_probability,
       e.days_since_last_activity,
       f.customer_since,
       q.disqualified_at,
       coalesce(lower(c.consent_status) = 'denied', false) AS consent_denied,
       coalesce(c.email_status = 'bounced', false) AS email_bounced,
       g.contact_id IS NOT NULL AS erased
FROM core.contacts AS c
LEFT JOIN marts.lifecycle AS l
       ON l.tenant_id = c.tenant_id AND l.contact_id = c.contact_id
LEFT JOIN marts.lead_scores AS s
       ON s.tenant_id = c.tenant_id AND s.contact_id = c.contact_id
LEFT JOIN marts.retention_risk AS r
       ON r.tenant_id = c.tenant_id AND r.contact_id = c.contact_id
LEFT JOIN marts.engagement AS e
       ON e.tenant_id = c.tenant_id AND e.contact_id = c.contact_id
LEFT JOIN core.contact_accounts AS ca
       ON ca.tenant_id = c.tenant_id AND ca.contact_id = c.contact_id
LEFT JOIN customer_since AS f ON f.contact_id = c.contact_id
LEFT JOIN disqualified AS q ON q.contact_id = c.contact_id
LEFT JOIN (SELECT DISTINCT contact_id FROM gdpr.suppressions WHERE tenant_id = $tenant_id) AS g
       ON g.contact_id = c.contact_id
WHERE c.tenant_id = $tenant_id
  AND (l.stage IN ('lead', 'customer', 'advocate')
       OR c.contact_id IN (SELECT contact_id FROM marts.work_queue_history
                           WHERE tenant_id = $tenant_id AND exited_at IS NULL));
