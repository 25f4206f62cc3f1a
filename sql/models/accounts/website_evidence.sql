-- Every website the tenant's accounts are known by: the account's own column and each usable
-- website value observed for it (core.firmographics: company files, values set by hand), with
-- the account resolved through merges and its name key. One row per (account, website).
-- Parameters: $tenant_id.
WITH seen AS (
    SELECT account_id, website FROM core.accounts
    WHERE tenant_id = $tenant_id AND website IS NOT NULL
    UNION
    SELECT account_id, value AS website FROM core.firmographics
    WHERE tenant_id = $tenant_id AND field = 'website' AND problem IS NULL
)
SELECT DISTINCT a.account_id, a.name_key, s.website
FROM seen AS s
LEFT JOIN core.account_aliases AS al ON al.tenant_id = $tenant_id AND al.alias_id = s.account_id
JOIN core.accounts AS a
  ON a.tenant_id = $tenant_id AND a.account_id = coalesce(al.account_id, s.account_id)
ORDER BY a.account_id, s.website
