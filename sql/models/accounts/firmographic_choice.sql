-- The value each account takes for each observed field, from core.firmographics (valid
-- observations only), for the accounts in _firmo_accounts. Order of preference:
--   1. set by hand (source 'manual'), the newest;
--   2. where the tenant lists sources for the field (_firmo_priority: field, source, rank), the
--      best-ranked source, then the newest observation ("the preferred provider, kept fresh");
--   3. otherwise fill blanks only: the first observation stays until a person changes it;
--   4. within one import (same time), the value more of its rows give, then the later row.
-- One row per account with an observation; name_preferred when its name comes from a person or
-- a source the tenant ranks for names (only such a name replaces the one its contacts give).
-- Parameters: $tenant_id.
WITH obs AS (
    SELECT f.*,
           count(*) OVER (PARTITION BY f.account_id, f.field, f.import_id, f.value) AS same_rows
    FROM core.firmographics AS f
    WHERE f.tenant_id = $tenant_id AND f.problem IS NULL
      AND f.account_id IN (SELECT account_id FROM _firmo_accounts)
),
listed AS (SELECT DISTINCT field FROM _firmo_priority),
ranked AS (
    SELECT o.account_id, o.field, o.value, o.value_min, o.value_max,
           o.source = 'manual' OR p.rank IS NOT NULL AS preferred,
           row_number() OVER (
               PARTITION BY o.account_id, o.field
               ORDER BY (o.source = 'manual') DESC,
                        CASE WHEN o.source = 'manual' THEN o.observed_at END DESC NULLS LAST,
                        coalesce(p.rank, 1000000),
                        CASE WHEN l.field IS NOT NULL THEN -epoch_us(o.observed_at)
                             ELSE epoch_us(o.observed_at) END,
                        o.same_rows DESC,
                        o.row_number DESC
           ) AS pick
    FROM obs AS o
    LEFT JOIN _firmo_priority AS p ON p.field = o.field AND p.source = o.source
    LEFT JOIN listed AS l ON l.field = o.field
)
SELECT account_id,
       any_value(value) FILTER (WHERE field = 'name') AS name,
       coalesce(any_value(preferred) FILTER (WHERE field = 'name'), false) AS name_preferred,
       any_value(value) FILTER (WHERE field = 'domain') AS domain,
       any_value(value) FILTER (WHERE field = 'website') AS website,
       any_value(value) FILTER (WHERE field = 'industry') AS industry,
       any_value(value) FILTER (WHERE field = 'employees') AS employees,
       any_value(value_min) FILTER (WHERE field = 'employees') AS employees_min,
       any_value(value_max) FILTER (WHERE field = 'employees') AS employees_max,
       any_value(value) FILTER (WHERE field = 'annual_revenue') AS annual_revenue,
       any_value(value_min) FILTER (WHERE field = 'annual_revenue') AS annual_revenue_min,
       any_value(value_max) FILTER (WHERE field = 'annual_revenue') AS annual_revenue_max,
       any_value(value) FILTER (WHERE field = 'country') AS country,
       any_value(value) FILTER (WHERE field = 'city') AS city,
       any_value(value) FILTER (WHERE field = 'naics') AS naics,
       any_value(value) FILTER (WHERE field = 'sic') AS sic,
       any_value(value) FILTER (WHERE field = 'linkedin_url') AS linkedin_url
FROM ranked
WHERE pick = 1
GROUP BY account_id
