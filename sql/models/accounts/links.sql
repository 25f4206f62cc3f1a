-- The link each contact should have, as the pipeline sees it now: its business e-mail domain's
-- account; otherwise (free-mail, disposable, excluded or no e-mail) the one account of the
-- tenant whose name key equals the contact's company key, when exactly one has it (else none:
-- unlinked rather than guessed). Contacts linked by hand or by an import are left out: a run
-- never changes their link.
-- Parameters: $tenant_id. Produces the temp table _acc_links.
CREATE OR REPLACE TEMP TABLE _acc_links AS
WITH keys AS (
    SELECT name_key, min(account_id) AS account_id, count(*) AS accounts
    FROM core.accounts
    WHERE tenant_id = $tenant_id AND name_key IS NOT NULL
    GROUP BY name_key
),
candidates AS (
    SELECT c.contact_id, d.account_id, 'email_domain' AS linked_by, 0.95 AS confidence
    FROM _acc_contacts AS c
    JOIN _acc_domain_accounts AS d ON d.domain = c.registrable
    WHERE c.kind = 'business'
    UNION ALL
    SELECT c.contact_id, k.account_id, 'company_name', 0.8
    FROM _acc_contacts AS c
    JOIN keys AS k ON k.name_key = c.company_key AND k.accounts = 1
    WHERE c.kind IS DISTINCT FROM 'business'
)
SELECT c.*
FROM candidates AS c
ANTI JOIN (SELECT contact_id FROM core.contact_accounts
           WHERE tenant_id = $tenant_id AND linked_by IN ('manual', 'import')) AS kept
     USING (contact_id)
