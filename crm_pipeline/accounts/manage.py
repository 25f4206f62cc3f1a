"""Accounts changed by a person or an agent: merges, unmerges, and what `crm account show` reads.

A merge moves the merged account's domains and contact links to the surviving account, leaves
an alias, and deletes the merged row; its audit row keeps what is needed to undo it (the merged
account's fields and domains). The run never undoes a merge: it maps a domain through
core.account_domains, which now names the survivor. An unmerge restores the account with its
fields and domains as they were; its contacts follow their domains at the next run, which
links each by its domain again (links made by hand to the survivor stay). The run and the
companies import merge through the same `merge_many` when a website says two same-name accounts
are one company (`websites`), and never merge a pair an unmerge split.
"""

from __future__ import annotations

import json

import duckdb
import polars as pl

from crm_pipeline.errors import BadArgument
from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import frame, run

ACCOUNT_FIELDS = ("account_id", "name", "name_key", "domain", "website", "industry",
                  "employee_count", "employee_range", "annual_revenue", "country", "city", "tier",
                  "created_by", "first_seen_at", "updated_at")


def resolved_account(con: duckdb.DuckDBPyConnection, tenant_id: str, account_id: str) -> str:
    """The account an id names now (through a merge's alias); refused when the tenant has none."""
    rows = run(con, """
        SELECT coalesce(al.account_id, a.account_id)
        FROM (SELECT $id AS id) AS q
        LEFT JOIN core.account_aliases AS al ON al.tenant_id = $t AND al.alias_id = q.id
        LEFT JOIN core.accounts AS a ON a.tenant_id = $t AND a.account_id = q.id""",
        {"t": tenant_id, "id": account_id})
    if not rows or rows[0][0] is None:
        raise BadArgument(f"tenant {tenant_id} has no account {account_id!r} "
                          "(crm sql \"select account_id, name from core.accounts\" lists them)")
    return rows[0][0]


def merge_accounts(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, merged: str,
                   survivor: str) -> int:
    """Merge account `merged` into `survivor`; contacts moved. Inside the caller's transaction."""
    t = ctx.tenant_id
    merged, survivor = resolved_account(con, t, merged), resolved_account(con, t, survivor)
    if merged == survivor:
        raise BadArgument(f"{merged} and {survivor} are already one account")
    return merge_many(con, ctx, pl.DataFrame({"merged": [merged], "survivor": [survivor]}))


def merge_many(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, pairs: pl.DataFrame) -> int:
    """Merge each current account `merged` into its current account `survivor` (no survivor is
    itself merged, no account merged twice), set-based; contacts moved in all. Each merge's audit
    row keeps what an unmerge restores: the merged account's fields and domains."""
    t = ctx.tenant_id
    if pairs.height == 0:
        return 0
    con.register("_merge_pairs", pairs.select("merged", "survivor"))
    try:
        fields = frame(con, f"""
            SELECT {', '.join('a.' + f for f in ACCOUNT_FIELDS)},
                   (SELECT list(d.domain ORDER BY d.domain) FROM core.account_domains AS d
                    WHERE d.tenant_id = $t AND d.account_id = a.account_id) AS domains,
                   p.survivor,
                   (SELECT count(*) FROM core.contact_accounts AS l
                    WHERE l.tenant_id = $t AND l.account_id = a.account_id) AS moved
            FROM _merge_pairs AS p
            JOIN core.accounts AS a ON a.tenant_id = $t AND a.account_id = p.merged
            ORDER BY a.account_id""", {"t": t})
        changes = []
        for row in fields.to_dicts():
            survivor, moved, domains = row.pop("survivor"), row.pop("moved"), row.pop("domains")
            row = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            previous = json.dumps({**row, "annual_revenue": _number(row["annual_revenue"]),
                                   "domains": list(domains or [])}, default=str)
            changes.append(_change("merge", row["account_id"], previous, json.dumps(
                {"merged_into": survivor, "contacts_moved": int(moved)})))
        append_changes(con, ctx, pl.concat(changes))
        for table in ("core.account_domains", "core.contact_accounts", "core.account_aliases"):
            run(con, f"UPDATE {table} AS x SET account_id = p.survivor FROM _merge_pairs AS p "
                     "WHERE x.tenant_id = $t AND x.account_id = p.merged", {"t": t})
        run(con, "INSERT INTO core.account_aliases SELECT $t, merged, survivor, $at, $run "
                 "FROM _merge_pairs", {"t": t, "at": ctx.at, "run": ctx.run_id})
        run(con, "DELETE FROM core.accounts WHERE tenant_id = $t "
                 "AND account_id IN (SELECT merged FROM _merge_pairs)", {"t": t})
        run(con, "UPDATE core.accounts SET updated_at = $at WHERE tenant_id = $t "
                 "AND account_id IN (SELECT survivor FROM _merge_pairs)", {"t": t, "at": ctx.at})
    finally:
        con.unregister("_merge_pairs")
    return int(fields["moved"].sum())


def unmerge_account(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, alias_id: str) -> str:
    """Restore an account merged into another, with its fields and domains; the survivor's id."""
    t = ctx.tenant_id
    rows = run(con, "SELECT account_id FROM core.account_aliases WHERE tenant_id = $t "
                    "AND alias_id = $a", {"t": t, "a": alias_id})
    if not rows:
        raise BadArgument(f"account {alias_id!r} of tenant {t} was not merged into another")
    survivor = rows[0][0]
    last = run(con, "SELECT previous FROM audit.changes WHERE tenant_id = $t "
                    "AND entity = 'account' AND action = 'merge' AND entity_id = $a "
                    "ORDER BY change_id DESC LIMIT 1",
               {"t": t, "a": alias_id})
    if not last or last[0][0] is None:
        raise BadArgument(f"the audit trail holds no merge of account {alias_id!r} to undo")
    before = json.loads(last[0][0])
    domains = before.pop("domains")
    append_changes(con, ctx, _change("unmerge", alias_id, json.dumps({"merged_into": survivor}),
                                      json.dumps({"restored": alias_id})))
    params = {"t": t, "a": alias_id, "s": survivor}
    run(con, "DELETE FROM core.account_aliases WHERE tenant_id = $t AND alias_id = $a",
        {"t": t, "a": alias_id})
    columns = [c for c in ACCOUNT_FIELDS if c != "updated_at"]
    run(con, f"""
        INSERT INTO core.accounts (tenant_id, {', '.join(columns)}, updated_at)
        SELECT $t, {', '.join(f'${c}' for c in columns)}, $at""",
        {"t": t, "at": ctx.at, **{c: before.get(c) for c in columns}})
    if domains:
        run(con, "UPDATE core.account_domains SET account_id = $a WHERE tenant_id = $t "
                 "AND account_id = $s AND list_contains($domains, domain)",
            {**params, "domains": domains})
    return survivor


def _number(value):
    return None if value is None else float(value)


def _change(action: str, account_id: str, previous: str, new: str) -> pl.DataFrame:
    """One audit row about an account."""
    return pl.DataFrame({"action": [action], "entity": ["account"], "entity_id": [account_id],
                         "previous": [previous], "new": [new]})
