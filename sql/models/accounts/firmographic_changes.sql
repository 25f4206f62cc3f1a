-- The accounts whose columns change with the chosen firmographic values (_firmo_chosen, with
-- name_key added), their new columns and the audit's previous/new (changed columns only).
-- A field never observed keeps the account's value; the name its contacts give is replaced
-- only by a name set by hand or from a source ranked for names (a file only fills a name that
-- is still the bare domain); the primary domain is only filled, never changed.
-- Exact counts fill employee_count / annual_revenue; ranges fill employee_range /
-- revenue_range; both give the bounds. Parameters: $tenant_id. Produces _firmo_changes.
CREATE OR REPLACE TEMP TABLE _firmo_changes AS
WITH next AS (
    SELECT a.account_id,
           CASE WHEN c.name IS NOT NULL AND (a.name_key IS NULL OR c.name_preferred)
                THEN c.name ELSE a.name END AS name,
           CASE WHEN c.name IS NOT NULL AND (a.name_key IS NULL OR c.name_preferred)
                THEN c.name_key ELSE a.name_key END AS name_key,
           coalesce(a.domain, c.domain) AS domain,
           coalesce(c.website, a.website) AS website,
           coalesce(c.industry, a.industry) AS industry,
           CASE WHEN c.employees IS NULL THEN a.employee_count
                WHEN c.employees_min = c.employees_max THEN CAST(c.employees_min AS BIGINT)
           END AS employee_count,
           CASE WHEN c.employees IS NULL THEN a.employee_range
                WHEN c.employees_min IS DISTINCT FROM c.employees_max THEN c.employees
           END AS employee_range,
           CASE WHEN c.employees IS NULL THEN a.employees_min
                ELSE CAST(c.employees_min AS BIGINT) END AS employees_min,
           CASE WHEN c.employees IS NULL THEN a.employees_max
                ELSE CAST(c.employees_max AS BIGINT) END AS employees_max,
           CASE WHEN c.annual_revenue IS NULL THEN a.annual_revenue
                WHEN c.annual_revenue_min = c.annual_revenue_max
                THEN CAST(c.annual_revenue_min AS DECIMAL(18, 2))
           END AS annual_revenue,
           CASE WHEN c.annual_revenue IS NULL THEN a.revenue_range
                WHEN c.annual_revenue_min IS DISTINCT FROM c.annual_revenue_max
                THEN c.annual_revenue
           END AS revenue_range,
           CASE WHEN c.annual_revenue IS NULL THEN a.annual_revenue_min
                ELSE CAST(c.annual_revenue_min AS DECIMAL(18, 2)) END AS annual_revenue_min,
           CASE WHEN c.annual_revenue IS NULL THEN a.annual_revenue_max
                ELSE CAST(c.annual_revenue_max AS DECIMAL(18, 2)) END AS annual_revenue_max,
           coalesce(c.country, a.country) AS country,
           coalesce(c.city, a.city) AS city,
           coalesce(c.naics, a.naics) AS naics,
           coalesce(c.sic, a.sic) AS sic,
           coalesce(c.linkedin_url, a.linkedin_url) AS linkedin_url
    FROM _firmo_chosen AS c
    JOIN core.accounts AS a ON a.tenant_id = $tenant_id AND a.account_id = c.account_id
),
pairs AS (
    SELECT n.*,
           [{'k': 'name', 'o': a.name::VARCHAR, 'n': n.name::VARCHAR},
            {'k': 'domain', 'o': a.domain, 'n': n.domain},
            {'k': 'website', 'o': a.website, 'n': n.website},
            {'k': 'industry', 'o': a.industry, 'n': n.industry},
            {'k': 'employee_count', 'o': a.employee_count::VARCHAR, 'n': n.employee_count::VARCHAR},
            {'k': 'employee_range', 'o': a.employee_range, 'n': n.employee_range},
            {'k': 'employees_min', 'o': a.employees_min::VARCHAR, 'n': n.employees_min::VARCHAR},
            {'k': 'employees_max', 'o': a.employees_max::VARCHAR, 'n': n.employees_max::VARCHAR},
            {'k': 'annual_revenue', 'o': a.annual_revenue::VARCHAR, 'n': n.annual_revenue::VARCHAR},
            {'k': 'revenue_range', 'o': a.revenue_range, 'n': n.revenue_range},
            {'k': 'annual_revenue_min', 'o': a.annual_revenue_min::VARCHAR,
             'n': n.annual_revenue_min::VARCHAR},
            {'k': 'annual_revenue_max', 'o': a.annual_revenue_max::VARCHAR,
             'n': n.annual_revenue_max::VARCHAR},
            {'k': 'country', 'o': a.country, 'n': n.country},
            {'k': 'city', 'o': a.city, 'n': n.city},
            {'k': 'naics', 'o': a.naics, 'n': n.naics},
            {'k': 'sic', 'o': a.sic, 'n': n.sic},
            {'k': 'linkedin_url', 'o': a.linkedin_url, 'n': n.linkedin_url}] AS kv
    FROM next AS n
    JOIN core.accounts AS a ON a.tenant_id = $tenant_id AND a.account_id = n.account_id
),
diffs AS (
    SELECT * EXCLUDE (kv), list_filter(kv, lambda x: x.o IS DISTINCT FROM x.n) AS changed
    FROM pairs
)
SELECT * EXCLUDE (changed),
       to_json(map_from_entries(list_transform(changed, lambda x: {'key': x.k, 'value': x.o})))
           AS previous,
       to_json(map_from_entries(list_transform(changed, lambda x: {'key': x.k, 'value': x.n})))
           AS new
FROM diffs
WHERE len(changed) > 0
