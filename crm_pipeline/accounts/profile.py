"""One account as `crm account show` prints it, read from the tenant's own extract."""

from __future__ import annotations

from crm_pipeline.contacts.profile import records, tenant_extract
from crm_pipeline.errors import BadArgument
from crm_pipeline.home import Home

CONTACTS_SHOWN = 200
VALUES_SHOWN = 200  # firmographic observations


def account_profile(home: Home, tenant_id: str, account_id: str) -> dict:
    """Fields, domains, merged-in ids, engagement and contacts of an account (or of the account
    an id was merged into)."""
    tenant_id, con = tenant_extract(home, tenant_id, account_id)
    try:
        p = {"t": tenant_id, "a": account_id}
        found = con.execute("""
            SELECT coalesce(al.account_id, a.account_id) FROM (SELECT $a AS id) q
            LEFT JOIN core.account_aliases al ON al.tenant_id = $t AND al.alias_id = q.id
            LEFT JOIN core.accounts a ON a.tenant_id = $t AND a.account_id = q.id""", p).fetchall()
        if not found or found[0][0] is None:
            raise BadArgument(f"no account {account_id!r} in tenant {tenant_id!r}: check the id "
                              "(crm sql \"select account_id, name from core.accounts\")")
        p["a"] = found[0][0]
        account = records(con, "SELECT * EXCLUDE (name_key) FROM core.accounts "
                               "WHERE tenant_id = $t AND account_id = $a", p)[0]
        engagement = records(con, "SELECT * EXCLUDE (tenant_id, account_id) "
                                  "FROM marts.account_engagement "
                                  "WHERE tenant_id = $t AND account_id = $a", p)
        value = records(con, "SELECT * EXCLUDE (tenant_id, account_id) FROM marts.account_value "
                             "WHERE tenant_id = $t AND account_id = $a", p)
        contacts = records(con, f"""
            SELECT l.contact_id, concat_ws(' ', c.first_name, c.last_name) AS name, c.email,
                   c.job_title, lc.stage, l.linked_by
            FROM core.contact_accounts l
            JOIN core.contacts c USING (tenant_id, contact_id)
            LEFT JOIN marts.lifecycle lc USING (tenant_id, contact_id)
            WHERE l.tenant_id = $t AND l.account_id = $a
            ORDER BY c.last_name NULLS LAST, c.first_name NULLS LAST, l.contact_id
            LIMIT {CONTACTS_SHOWN + 1}""", p)
        return {
            "account": account,
            "resolved_from_alias": account_id if p["a"] != account_id else None,
            "domains": records(con, "SELECT domain, linked_by, first_seen_at FROM "
                                    "core.account_domains WHERE tenant_id = $t AND account_id = $a "
                                    "ORDER BY first_seen_at, domain", p),
            "merged_ids": [r["alias_id"] for r in records(
                con, "SELECT alias_id FROM core.account_aliases WHERE tenant_id = $t "
                     "AND account_id = $a ORDER BY merged_at, alias_id", p)],
            "engagement": engagement[0] if engagement else None,
            "value": value[0] if value else None,
            "firmographics": records(con, f"""
                SELECT field, value, source, observed_at::DATE AS observed_on, problem
                FROM core.firmographics
                WHERE tenant_id = $t AND account_id = $a
                ORDER BY field, observed_at DESC, row_number DESC LIMIT {VALUES_SHOWN}""", p),
            "contacts": contacts[:CONTACTS_SHOWN],
            "more_contacts": len(contacts) > CONTACTS_SHOWN,
        }
    finally:
        con.close()
