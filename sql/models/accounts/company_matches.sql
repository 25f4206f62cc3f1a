-- The account each row of a company file (_co_rows: row_number, domain (registrable or null),
-- name_key, domain_problem) belongs to, and how:
--   domain        its domain is one of an account's (core.account_domains, through merges);
--   company_name  otherwise its name key is exactly one account's, and the row gives no domain
--                 or that account has none (same name, different domains: two companies);
--   new           neither: the account it would create (the id the pipeline gives a domain,
--                 else a digest of the name key), used only with --create;
-- or a quarantine reason: missing_identity, bad_domain, ambiguous_account.
-- Parameters: $tenant_id.
WITH by_domain AS (
    SELECT r.row_number, coalesce(al.account_id, ad.account_id) AS account_id
    FROM _co_rows AS r
    JOIN core.account_domains AS ad ON ad.tenant_id = $tenant_id AND ad.domain = r.domain
    LEFT JOIN core.account_aliases AS al
           ON al.tenant_id = $tenant_id AND al.alias_id = ad.account_id
),
by_name AS (
    SELECT r.row_number, count(*) AS n, min(a.account_id) AS account_id
    FROM _co_rows AS r
    JOIN core.accounts AS a
      ON a.tenant_id = $tenant_id AND a.name_key = r.name_key
     AND (r.domain IS NULL OR a.domain IS NULL)
    WHERE r.name_key IS NOT NULL
    GROUP BY r.row_number
)
SELECT r.row_number,
       CASE WHEN d.account_id IS NOT NULL THEN d.account_id
            WHEN n.n = 1 THEN n.account_id
            WHEN r.domain IS NOT NULL
            THEN 'a_' || substr(md5($tenant_id || chr(31) || r.domain), 1, 16)
            WHEN r.name_key IS NOT NULL AND n.n IS NULL
            THEN 'a_' || substr(md5($tenant_id || chr(31) || 'name:' || r.name_key), 1, 16)
       END AS account_id,
       CASE WHEN d.account_id IS NOT NULL THEN 'domain'
            WHEN n.n = 1 THEN 'company_name'
            WHEN r.domain IS NOT NULL OR (r.name_key IS NOT NULL AND n.n IS NULL) THEN 'new'
       END AS match,
       CASE WHEN d.account_id IS NOT NULL OR n.n = 1 THEN NULL
            WHEN r.domain IS NULL AND r.name_key IS NULL
            THEN CASE WHEN r.domain_problem IS NOT NULL THEN 'bad_domain'
                      ELSE 'missing_identity' END
            WHEN r.domain IS NULL AND n.n > 1 THEN 'ambiguous_account'
       END AS reason
FROM _co_rows AS r
LEFT JOIN by_domain AS d USING (row_number)
LEFT JOIN by_name AS n USING (row_number)
