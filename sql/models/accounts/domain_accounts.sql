-- One row per business domain of the tenant's contacts: the account it belongs to (the one it
-- already maps to in core.account_domains, through any merge; else a new account whose id is a
-- digest of the tenant and the domain, so the same domain always gives the same id) and the
-- company name most of its contacts give (ties: the first in order), if any.
-- Parameters: $tenant_id. Produces the temp table _acc_domain_accounts.
CREATE OR REPLACE TEMP TABLE _acc_domain_accounts AS
WITH names AS (
    SELECT registrable AS domain, company_key, company, count(*) AS n
    FROM _acc_contacts
    WHERE kind = 'business' AND company_key IS NOT NULL
    GROUP BY ALL
),
best AS (
    SELECT domain,
           arg_min(company, {'n': -n, 'company': company}) AS company,
           arg_min(company_key, {'n': -n, 'company': company}) AS company_key
    FROM names
    GROUP BY domain
),
domains AS (
    SELECT registrable AS domain, count(*) AS contacts
    FROM _acc_contacts
    WHERE kind = 'business'
    GROUP BY ALL
)
SELECT d.domain,
       d.contacts,
       coalesce(al.account_id, ad.account_id,
                'a_' || substr(md5($tenant_id || chr(31) || d.domain), 1, 16)) AS account_id,
       ad.account_id IS NULL AS new_domain,
       b.company,
       b.company_key
FROM domains AS d
LEFT JOIN best AS b USING (domain)
LEFT JOIN core.account_domains AS ad ON ad.tenant_id = $tenant_id AND ad.domain = d.domain
LEFT JOIN core.account_aliases AS al ON al.tenant_id = $tenant_id AND al.alias_id = ad.account_id
