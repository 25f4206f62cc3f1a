"""The run's accounts step: accounts found or created from the tenant's contacts, and every
contact linked to its account (or left unlinked), each change audited.

Set-based and incremental at once: every run works out the link each contact should have (one
pass of SQL over the tenant's contacts, `sql/models/accounts/`), then writes only what differs
from the stored links, so a new import links its contacts without anything else changing. Only
the distinct e-mail domains pass through Python (the public-suffix and free-mail look-ups).

Rules (docs/warehouse.md, "Accounts"): a contact with a business e-mail belongs to the account of
its registrable domain (one account per domain, created the first time a contact has it, with
an id derived from the tenant and the domain, so stable across runs); a contact with a free-mail,
disposable or tenant-excluded address, or none, belongs to the account whose name key equals its
company key when exactly one account of the tenant has it, and otherwise stays unlinked. A link
made by hand or by an import is never changed by a run. Last, accounts known by a website on
another account's domain are joined when their names agree (`websites`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.accounts.domains import classified_domains
from crm_pipeline.accounts.websites import link_websites
from crm_pipeline.marts.tenant_settings import query_params, tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import run

STEPS = ("contacts", "domain_accounts", "new_accounts", "renamed_accounts")
TEMP_TABLES = ("_acc_contacts", "_acc_domain_accounts", "_acc_new", "_acc_renamed",
               "_acc_links", "_acc_link_changes")


def _step(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    text = sql_text(f"models/accounts/{name}")
    run(con, text, query_params(text, params, f"sql/models/accounts/{name}.sql"))


def link_accounts(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> dict[str, int]:
    """Create the accounts the tenant's contacts reveal and bring every contact's link up to
    date; rows changed per kind. Runs inside the caller's transaction."""
    tenant = ctx.tenant_id
    params = {"tenant_id": tenant}
    excluded = tenant_settings(con, tenant)["accounts"]["excluded_domains"]
    emails = run(con, "SELECT DISTINCT split_part(email, '@', 2) FROM core.contacts "
                      "WHERE tenant_id = $t AND email IS NOT NULL", {"t": tenant})
    domains = classified_domains(pl.Series([d for (d,) in emails], dtype=pl.String), excluded)
    con.register("_acc_domains", domains)
    try:
        for name in STEPS:
            _step(con, name, params)
        counts = {"accounts_created": _create_accounts(con, ctx),
                  "accounts_renamed": _rename_accounts(con, ctx)}
        run(con, """
            INSERT INTO core.account_domains
            SELECT $t, domain, account_id, 'email_domain', $at FROM _acc_domain_accounts
            WHERE new_domain""", {"t": tenant, "at": ctx.at})
        counts.update(link_websites(con, ctx))
        if counts["website_merges"]:  # the domains' accounts again, through the new aliases
            _step(con, "domain_accounts", params)
        _step(con, "links", params)
        _step(con, "link_changes", params)
        counts.update(_write_links(con, ctx))
    finally:
        con.unregister("_acc_domains")
        for table in TEMP_TABLES:
            run(con, f"DROP TABLE IF EXISTS {table}")
    counts["accounts"] = run(con, "SELECT count(*) FROM core.accounts WHERE tenant_id = $t",
                             {"t": tenant})[0][0]
    counts["linked_contacts"] = run(
        con, "SELECT count(*) FROM core.contact_accounts WHERE tenant_id = $t", {"t": tenant})[0][0]
    return counts


def _create_accounts(con, ctx: ChangeContext) -> int:
    return create_accounts(con, ctx, "_acc_new", "email_domain")


def create_accounts(con, ctx: ChangeContext, table: str, created_by: str) -> int:
    """The accounts of temp table `table` (account_id, name, name_key, domain) created and
    audited; rows written. `created_by`: email_domain (a run) or import (a company file)."""
    run(con, f"CREATE OR REPLACE TEMP TABLE _acc_create AS SELECT account_id, name, name_key, "
             f"domain, $by AS created_by FROM {table}", {"by": created_by})
    try:
        written = append_changes(con, ctx, """
            SELECT 'create' AS action, 'account' AS entity, account_id AS entity_id,
                   NULL AS previous,
                   json_object('name', name, 'domain', domain, 'created_by', created_by) AS new,
                   account_id AS _ord
            FROM _acc_create""")
        run(con, """
            INSERT INTO core.accounts (tenant_id, account_id, name, name_key, domain, created_by,
                                       first_seen_at, updated_at)
            SELECT $t, account_id, name, name_key, domain, created_by, $at, $at
            FROM _acc_create""", {"t": ctx.tenant_id, "at": ctx.at})
    finally:
        run(con, "DROP TABLE IF EXISTS _acc_create")
    return written


def _rename_accounts(con, ctx: ChangeContext) -> int:
    written = append_changes(con, ctx, """
        SELECT 'update' AS action, 'account' AS entity, account_id AS entity_id,
               json_object('name', old_name) AS previous, json_object('name', name) AS new,
               account_id AS _ord
        FROM _acc_renamed""")
    run(con, """
        UPDATE core.accounts AS a SET name = r.name, name_key = r.name_key, updated_at = $at
        FROM _acc_renamed AS r
        WHERE a.tenant_id = $t AND a.account_id = r.account_id""",
        {"t": ctx.tenant_id, "at": ctx.at})
    return written


def _write_links(con, ctx: ChangeContext) -> dict[str, int]:
    """The link changes, audited (entity contact_account, the contact's id), then applied."""
    append_changes(con, ctx, """
        SELECT action, 'contact_account' AS entity, contact_id AS entity_id, previous, new,
               contact_id AS _ord
        FROM _acc_link_changes""")
    params = {"t": ctx.tenant_id, "at": ctx.at}
    run(con, """
        DELETE FROM core.contact_accounts
        WHERE tenant_id = $t AND contact_id IN (
            SELECT contact_id FROM _acc_link_changes WHERE action IN ('delete', 'update'))""",
        {"t": ctx.tenant_id})
    run(con, """
        INSERT INTO core.contact_accounts
        SELECT $t, contact_id, account_id, linked_by, confidence, $at
        FROM _acc_link_changes WHERE action IN ('create', 'update')""", params)
    counts = dict(run(con, "SELECT action, count(*) FROM _acc_link_changes GROUP BY ALL"))
    return {f"links_{action}d": int(counts.get(action, 0))
            for action in ("create", "update", "delete")}
