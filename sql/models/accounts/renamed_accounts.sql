-- Accounts found by the pipeline and still named by their domain, whose contacts now give a
-- company name: they take it (a name set by a person, an import or an earlier company name is
-- kept). One row per account (its domains' most common company, ties by name).
-- Parameters: $tenant_id. Produces the temp table _acc_renamed.
CREATE OR REPLACE TEMP TABLE _acc_renamed AS
SELECT a.account_id, a.name AS old_name,
       arg_min(d.company, {'n': -d.contacts, 'company': d.company}) AS name,
       arg_min(d.company_key, {'n': -d.contacts, 'company': d.company}) AS name_key
FROM core.accounts AS a
JOIN _acc_domain_accounts AS d USING (account_id)
WHERE a.tenant_id = $tenant_id AND a.name_key IS NULL AND a.created_by = 'email_domain'
  AND d.company_key IS NOT NULL
GROUP BY a.account_id, a.name
