"""Splitting a home written before shards (one `warehouse.duckdb` holding every tenant) into one
shard per tenant, keeping every row, id and audit chain.

Each shard is written under a temporary name and renamed into place; the old file is renamed
`warehouse.duckdb.migrated` only when every shard is in place, so an interrupted migration is
simply done again by the next command (shards already in place are rewritten from the old file,
which nothing has changed meanwhile: every writer needs the migration first).
"""

from __future__ import annotations

import os

import duckdb

from crm_pipeline.home import Home
from crm_pipeline.progress import report
from crm_pipeline.trust.locking import write_lock
from crm_pipeline.trust.publish import quote_ident, quote_literal
from crm_pipeline.warehouse import connect, create_tables, run


def migrate_home(home: Home) -> list[str]:
    """Split the home's single warehouse into shards, if it has one; the tenants moved."""
    if not home.legacy_warehouse.exists():
        return []
    with write_lock(home):  # the whole home: no tenant's writer runs meanwhile
        if not home.legacy_warehouse.exists():  # another process migrated it while we waited
            return []
        return _split(home)


def _split(home: Home) -> list[str]:
    legacy = home.legacy_warehouse
    con = connect(legacy)
    try:
        create_tables(con)  # the old file brought to this version's tables first
        run(con, "CHECKPOINT")
        tables = run(con, """
            SELECT schema_name, table_name FROM duckdb_tables()
            WHERE database_name = current_database() ORDER BY 1, 2""")
        tenants = sorted({r[0] for r in run(con, " UNION ".join(
            f"SELECT DISTINCT tenant_id FROM {quote_ident(s)}.{quote_ident(t)}"
            for s, t in tables)) if r[0] is not None})
        counts = {(s, t): dict(run(con, f"SELECT tenant_id, count(*) FROM "
                                        f"{quote_ident(s)}.{quote_ident(t)} GROUP BY 1"))
                  for s, t in tables}
    finally:
        con.close()
    for tenant in tenants:
        report(f"migrate: tenant {tenant}")
        _write_shard(home, tenant, tables, counts)
    os.replace(legacy, legacy.with_name(legacy.name + ".migrated"))
    legacy.with_name(legacy.name + ".wal").unlink(missing_ok=True)
    if home.root.joinpath("compaction.pending").exists():  # an erasure's compaction was pending:
        for tenant in tenants:  # the shards are fresh files, but re-publish table by table
            home.compaction_pending(tenant).touch()
        home.root.joinpath("compaction.pending").unlink()
    return tenants


def _write_shard(home: Home, tenant: str, tables: list[tuple[str, str]], counts: dict) -> None:
    final = home.shard(tenant)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + ".migrating")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = connect(tmp)
    try:
        create_tables(con)
        run(con, f"ATTACH {quote_literal(str(home.legacy_warehouse))} AS _legacy (READ_ONLY)")
        run(con, "BEGIN TRANSACTION")
        for schema, table in tables:
            ref = f"{quote_ident(schema)}.{quote_ident(table)}"
            run(con, f"INSERT INTO {ref} BY NAME SELECT * FROM _legacy.{ref} WHERE tenant_id = $t",
                {"t": tenant})
            copied = run(con, f"SELECT count(*) FROM {ref} WHERE tenant_id = $t", {"t": tenant})[0][0]
            if copied != counts[(schema, table)].get(tenant, 0):
                raise duckdb.Error(f"migration of {schema}.{table} for tenant {tenant} copied "
                                   f"{copied} rows of {counts[(schema, table)].get(tenant, 0)}")
        run(con, "COMMIT")
        run(con, "DETACH _legacy")
        run(con, "CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, final)
