-- Each of the tenant's golden contacts with its e-mail's registrable domain and that domain's
-- kind (business, free, disposable, excluded, invalid; NULL without an e-mail), read from
-- _acc_domains (one row per distinct e-mail domain, classified in Python: crm_pipeline.accounts.domains).
-- Parameters: $tenant_id. Produces the temp table _acc_contacts.
CREATE OR REPLACE TEMP TABLE _acc_contacts AS
SELECT c.contact_id,
       nullif(trim(c.company), '') AS company,
       nullif(c.company_key, '') AS company_key,
       d.registrable,
       d.kind
FROM core.contacts AS c
LEFT JOIN _acc_domains AS d ON d.domain = split_part(c.email, '@', 2)
WHERE c.tenant_id = $tenant_id
