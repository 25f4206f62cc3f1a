-- What each website says (_web_domains: account_id, name_key, domain = the website's registrable
-- business domain): `add` when no account has that domain yet (it becomes the account's, linked
-- by website), `merge` when another account has it and both name keys are equal (and non-null)
-- and no `crm account unmerge` split the two, else `name_differs` or `unmerged` (left alone).
-- Domains the account already has say nothing. Parameters: $tenant_id.
WITH owners AS (
    SELECT w.account_id, w.name_key, w.domain,
           coalesce(al.account_id, ad.account_id) AS owner_id
    FROM _web_domains AS w
    LEFT JOIN core.account_domains AS ad ON ad.tenant_id = $tenant_id AND ad.domain = w.domain
    LEFT JOIN core.account_aliases AS al ON al.tenant_id = $tenant_id AND al.alias_id = ad.account_id
),
unmerges AS (  -- pairs a person split apart: the unmerged account and the one it left
    SELECT entity_id AS a, json_extract_string(previous, '$.merged_into') AS b
    FROM audit.changes
    WHERE tenant_id = $tenant_id AND entity = 'account' AND action = 'unmerge'
),
splits AS (  -- as the accounts are now (either side merged since into a third stays split)
    SELECT coalesce(al1.account_id, u.a) AS a, coalesce(al2.account_id, u.b) AS b
    FROM unmerges AS u
    LEFT JOIN core.account_aliases AS al1 ON al1.tenant_id = $tenant_id AND al1.alias_id = u.a
    LEFT JOIN core.account_aliases AS al2 ON al2.tenant_id = $tenant_id AND al2.alias_id = u.b
)
SELECT o.account_id, o.domain, o.owner_id, a.name_key AS owner_name_key,
       CASE WHEN o.owner_id IS NULL THEN 'add'
            WHEN EXISTS (SELECT 1 FROM splits AS s
                         WHERE (s.a = o.account_id AND s.b = o.owner_id)
                            OR (s.a = o.owner_id AND s.b = o.account_id)) THEN 'unmerged'
            WHEN o.name_key IS NOT NULL AND o.name_key = a.name_key THEN 'merge'
            ELSE 'name_differs'
       END AS decision
FROM owners AS o
LEFT JOIN core.accounts AS a ON a.tenant_id = $tenant_id AND a.account_id = o.owner_id
WHERE o.owner_id IS DISTINCT FROM o.account_id
ORDER BY o.account_id, o.domain
