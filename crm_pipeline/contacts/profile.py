"""One contact's profile and timeline, read from the tenant's own extract.

Reading the per-tenant extract (not the shared snapshot) means an id of another tenant is simply
absent: it gets the same answer, by the same path, as an id that never existed.
"""

from __future__ import annotations

import duckdb

from crm_pipeline.errors import UnknownContact
from crm_pipeline.home import Home
from crm_pipeline.tenants import checked_tenant_id
from crm_pipeline.trust.readonly import open_read_only


def records(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    """Rows as dicts by column name."""
    cursor = con.execute(query, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def resolve_contact_id(con: duckdb.DuckDBPyConnection, tenant_id: str, contact_id: str) -> str | None:
    """The surviving contact id for an id or an alias, within one tenant; None if unknown."""
    rows = con.execute(
        """
        SELECT contact_id FROM core.contacts WHERE tenant_id = $t AND contact_id = $c
        UNION ALL
        SELECT a.contact_id FROM core.contact_aliases a WHERE a.tenant_id = $t AND a.alias_id = $c
        LIMIT 1
        """,
        {"t": tenant_id, "c": contact_id},
    ).fetchall()
    return rows[0][0] if rows else None


def unknown(tenant_id: str, contact_id: str) -> UnknownContact:
    return UnknownContact(f"no contact {contact_id!r} in tenant {tenant_id!r}: check the id "
                          "(crm sql \"select contact_id from core.contacts ...\")")


def tenant_extract(
    home: Home, tenant_id: str, contact_id: str
) -> tuple[str, duckdb.DuckDBPyConnection]:
    """(checked tenant id, read-only connection to its own extract): another tenant's id is
    simply absent there, so it is answered like an id that never existed."""
    tenant_id = checked_tenant_id(tenant_id)
    path = home.extract(tenant_id)
    if not path.exists():
        raise unknown(tenant_id, contact_id)
    return tenant_id, open_read_only(path, home)


def contact_profile(home: Home, tenant_id: str, contact_id: str) -> dict:
    """Profile, sources, secondary emails and phones, segments, lead score and the full
    timeline (newest first). `resolve.provenance.profile_with_origins` adds where each value
    comes from."""
    tenant_id, con = tenant_extract(home, tenant_id, contact_id)
    try:
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            raise unknown(tenant_id, contact_id)
        p = {"t": tenant_id, "c": cid}
        contact = records(con, "SELECT * EXCLUDE (company_key) FROM core.contacts "
                           "WHERE tenant_id = $t AND contact_id = $c", p)[0]
        profile = {
            "contact": contact,
            "resolved_from_alias": contact_id if cid != contact_id else None,
            "sources": records(con, "SELECT source_key, source_id, match_rule, match_score, linked_at "
                                "FROM core.contact_sources WHERE tenant_id = $t AND contact_id = $c "
                                "ORDER BY linked_at, source_key", p),
            "segments": [r["segment"] for r in records(
                con, "SELECT segment FROM marts.contact_segments WHERE tenant_id = $t "
                "AND contact_id = $c ORDER BY segment", p)],
            "lead_score": next(iter(r["lead_score"] for r in records(
                con, "SELECT lead_score FROM marts.lead_scores WHERE tenant_id = $t AND contact_id = $c", p)),
                None),
            "account": next(iter(records(
                con, "SELECT a.account_id, a.name, a.domain, l.linked_by FROM core.contact_accounts l "
                "JOIN core.accounts a USING (tenant_id, account_id) "
                "WHERE l.tenant_id = $t AND l.contact_id = $c", p)), None),
            "activities": records(con, "SELECT activity_id, type, occurred_at, actor, actor_kind, "
                                   "direction, subject, notes, amount, currency, ticket_id, status "
                                   "FROM core.activities WHERE tenant_id = $t AND contact_id = $c "
                                   "ORDER BY occurred_at DESC, activity_id", p),
            "notes": records(con, "SELECT noted_at, author, author_kind, body "
                              "FROM core.contact_notes WHERE tenant_id = $t AND contact_id = $c "
                              "ORDER BY noted_at DESC, note_id", p),
            "set_by_hand": records(con, "SELECT field, actor, actor_kind, set_at "
                                    "FROM core.manual_fields WHERE tenant_id = $t "
                                    "AND contact_id = $c ORDER BY field", p),
            "other_emails": [r["email"] for r in records(
                con, "SELECT email FROM core.contact_other_emails WHERE tenant_id = $t "
                "AND contact_id = $c ORDER BY source_rows DESC, last_seen_at DESC, email", p)],
            "other_phones": [r["phone"] for r in records(
                con, "SELECT phone FROM core.contact_other_phones WHERE tenant_id = $t "
                "AND contact_id = $c ORDER BY source_rows DESC, last_seen_at DESC, phone", p)],
        }
    finally:
        con.close()
    return profile
