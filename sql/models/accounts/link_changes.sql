-- What the run changes in core.contact_accounts: links to create, to move to another account
-- and to remove (the contact no longer has one, or is no longer a contact: merged, deleted or
-- erased; a hand-made link goes only with its contact). `previous` and `new` are the audit
-- trail's JSON.
-- Parameters: $tenant_id. Produces the temp table _acc_link_changes.
CREATE OR REPLACE TEMP TABLE _acc_link_changes AS
WITH current AS (
    SELECT contact_id, account_id, linked_by
    FROM core.contact_accounts
    WHERE tenant_id = $tenant_id
),
gone AS (
    SELECT cur.contact_id
    FROM current AS cur
    ANTI JOIN (SELECT contact_id FROM core.contacts WHERE tenant_id = $tenant_id) AS c
         USING (contact_id)
)
SELECT CASE WHEN cur.contact_id IS NULL THEN 'create'
            WHEN l.contact_id IS NULL THEN 'delete'
            ELSE 'update' END AS action,
       coalesce(l.contact_id, cur.contact_id) AS contact_id,
       l.account_id,
       l.linked_by,
       l.confidence,
       -- an update records the fields it changes, as contacts' updates do
       list_filter([{'k': 'account_id', 'o': cur.account_id, 'n': l.account_id},
                    {'k': 'linked_by', 'o': cur.linked_by, 'n': l.linked_by}],
                   lambda d: cur.contact_id IS NULL OR l.contact_id IS NULL OR d.o <> d.n) AS fields,
       CASE WHEN cur.contact_id IS NOT NULL
            THEN to_json(map_from_entries(list_transform(fields, lambda d: {'key': d.k, 'value': d.o})))
       END AS previous,
       CASE WHEN l.contact_id IS NOT NULL
            THEN to_json(map_from_entries(list_transform(fields, lambda d: {'key': d.k, 'value': d.n})))
       END AS new
FROM _acc_links AS l
FULL JOIN (SELECT * FROM current
           WHERE linked_by NOT IN ('manual', 'import')
              OR contact_id IN (SELECT contact_id FROM gone)) AS cur
     ON cur.contact_id = l.contact_id
WHERE cur.contact_id IS NULL
   OR l.contact_id IS NULL
   OR l.account_id <> cur.account_id
   OR l.linked_by <> cur.linked_by
