"""Accounts valued and tiered (marts.account_value, core.accounts.tier) after lifetime value,
and the contacts whose company is in the news (marts.contact_signals).

Support escalation reads a contact's customer tier, finance reads what each account is worth:
both come from this run's marts.customer_ltv (so they follow the same models and as-of date)
and the account's size from its firmographics. The tier is also kept on the account itself,
changed only when it changes and audited like every other change to an account.
"""

from __future__ import annotations

import datetime

import duckdb

from crm_pipeline.marts.refresh import latest_history_date, replace_rows
from crm_pipeline.marts.tenant_settings import query_params, tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import run, unordered_inserts


def value_accounts(con: duckdb.DuckDBPyConnection, ctx: ChangeContext,
                   as_of: datetime.date) -> dict[str, int]:
    """marts.account_value for the tenant on `as_of`, and the accounts' tiers brought up to
    date (audited; not by a run for a date before the tenant's latest); rows written and tiers
    changed. Inside the caller's transaction."""
    accounts = tenant_settings(con, ctx.tenant_id)["accounts"]
    params = {"tenant_id": ctx.tenant_id, "as_of": as_of, **accounts["tiers"]}
    text = sql_text("models/accounts/account_value")
    run(con, "CREATE OR REPLACE TEMP TABLE _account_value AS\n" + text,
        query_params(text, params, "sql/models/accounts/account_value.sql"))
    try:
        with unordered_inserts(con):
            rows = replace_rows(con, "account_value", "_account_value", ctx.tenant_id)
        latest = latest_history_date(con, ctx.tenant_id)
        # a run for an earlier date (a backfill) shows that date's tiers in the mart but leaves
        # the accounts' current tier alone, as it leaves the histories
        changed = _write_tiers(con, ctx) if latest is None or as_of >= latest else 0
        signals = _contact_signals(con, ctx.tenant_id, as_of, accounts["signal_days"])
    finally:
        run(con, "DROP TABLE IF EXISTS _account_value")
    return {"marts.account_value": rows, "tiers_changed": changed,
            "marts.contact_signals": signals}


def _contact_signals(con, tenant_id: str, as_of: datetime.date, days: int) -> int:
    """marts.contact_signals for the tenant on `as_of` (after the tiers it shows)."""
    text = sql_text("models/accounts/contact_signals")
    params = {"tenant_id": tenant_id, "as_of": as_of, "signal_days": days}
    run(con, "DELETE FROM marts.contact_signals WHERE tenant_id = $tenant_id",
        {"tenant_id": tenant_id})
    with unordered_inserts(con):
        rows = run(con, "INSERT INTO marts.contact_signals BY NAME\n" + text,
                   query_params(text, params, "sql/models/accounts/contact_signals.sql"))
    return int(rows[0][0]) if rows else 0


def _write_tiers(con, ctx: ChangeContext) -> int:
    run(con, """
        CREATE OR REPLACE TEMP TABLE _tier_changes AS
        SELECT v.account_id, a.tier AS old_tier, v.tier
        FROM _account_value AS v
        JOIN core.accounts AS a ON a.tenant_id = $t AND a.account_id = v.account_id
        WHERE a.tier IS DISTINCT FROM v.tier""", {"t": ctx.tenant_id})
    try:
        changed = append_changes(con, ctx, """
            SELECT 'update' AS action, 'account' AS entity, account_id AS entity_id,
                   json_object('tier', old_tier) AS previous, json_object('tier', tier) AS new,
                   account_id AS _ord
            FROM _tier_changes""")
        run(con, """
            UPDATE core.accounts AS a SET tier = c.tier, updated_at = $at
            FROM _tier_changes AS c WHERE a.tenant_id = $t AND a.account_id = c.account_id""",
            {"t": ctx.tenant_id, "at": ctx.at})
    finally:
        run(con, "DROP TABLE IF EXISTS _tier_changes")
    return changed
