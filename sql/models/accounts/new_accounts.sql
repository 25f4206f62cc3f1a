-- Accounts the run creates: one per new business domain whose account does not exist yet (two
-- new domains never share a new id). Named by the company most of its contacts give, else
-- by the domain (then without a name key: a domain is no company name to match).
-- Parameters: $tenant_id. Produces the temp table _acc_new.
CREATE OR REPLACE TEMP TABLE _acc_new AS
SELECT d.account_id, coalesce(d.company, d.domain) AS name, d.company_key AS name_key, d.domain
FROM _acc_domain_accounts AS d
ANTI JOIN (SELECT account_id FROM core.accounts WHERE tenant_id = $tenant_id) AS a USING (account_id)
