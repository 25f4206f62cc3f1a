-- The report's headline numbers for one tenant: contacts, customers, accounts, activities.
SELECT
    (SELECT count(*) FROM core.contacts WHERE tenant_id = $t) AS contacts,
    (SELECT count(*) FROM marts.customer_ltv WHERE tenant_id = $t) AS customers,
    (SELECT count(*) FROM core.accounts WHERE tenant_id = $t) AS accounts,
    (SELECT count(*) FROM core.activities WHERE tenant_id = $t) AS activities,
    (SELECT count(*) FROM quarantine.rows WHERE tenant_id = $t) AS quarantined
