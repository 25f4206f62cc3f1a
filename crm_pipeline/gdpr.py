"""GDPR: the right of access (export) and the right to erasure (erase, with suppression).

Erasure deletes the person's rows from every table that holds them (found by column, so tables
added later are covered), redacts their values in the audit trail (the chain hashes keyed digests,
so it still verifies), records keyed digests of their email and phone so a later import of them is
quarantined, rewrites error files, then copies the warehouse to a fresh file (DuckDB does not zero
freed pages) and republishes the snapshot and extracts.
"""

from __future__ import annotations

import os

import duckdb
import polars as pl

from .audit import ChangeContext, keyed_digest
from .contacts_store import delete_contacts
from .home import Home
from .pipeline import transaction, utc_now
from .profile import resolve_contact_id, unknown
from .publish import publish_extract, publish_snapshot
from .quarantine import write_error_file
from .readonly import open_read_only
from .tenants import all_tenants, checked_tenant_id
from .warehouse import connect, create_tables, frame, run

PERSON_SCHEMAS = ("core", "marts", "staging", "raw")


def _records(con, query: str, params: dict) -> list[dict]:
    cursor = con.execute(query, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def _contact_tables(con) -> list[str]:
    """Every table of the person-holding schemas with a contact_id column."""
    rows = con.execute(
        "SELECT DISTINCT schema_name || '.' || table_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND column_name = 'contact_id' "
        "AND schema_name IN ('core', 'marts', 'staging', 'raw') ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _identifiers(con, tenant_id: str, ids: list[str]) -> list[str]:
    """Lower-case strings that identify the person in free text: emails and phones as written."""
    rows = con.execute(
        """
        SELECT DISTINCT lower(v) FROM (
            SELECT unnest([s.email, s.phone, s.email_local_base || '@' || s.email_domain,
                           r.mapped->>'email', r.mapped->>'phone']) AS v
            FROM core.contact_sources cs
            JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
            JOIN raw.contact_rows r USING (tenant_id, import_id, row_number)
            WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[]))
            UNION ALL
            SELECT unnest([c.email, c.phone]) FROM core.contacts c
            WHERE c.tenant_id = $t AND c.contact_id IN (SELECT unnest($ids::VARCHAR[]))
        ) WHERE v IS NOT NULL AND length(trim(v)) >= 5
        """,
        {"t": tenant_id, "ids": ids},
    ).fetchall()
    return sorted(r[0].strip() for r in rows)


def export_subject(home: Home, tenant_id: str, contact_id: str) -> dict:
    """Everything held about one person, from the published snapshot, as one JSON-ready dict."""
    tenant_id = checked_tenant_id(tenant_id)
    if not home.snapshot.exists():
        raise unknown(tenant_id, contact_id)
    con = open_read_only(home.snapshot)
    try:
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            raise unknown(tenant_id, contact_id)
        aliases = [r["alias_id"] for r in _records(
            con, "SELECT alias_id FROM core.contact_aliases WHERE tenant_id = $t AND contact_id = $c",
            {"t": tenant_id, "c": cid})]
        ids = [cid, *aliases]
        p = {"t": tenant_id, "ids": ids}
        in_ids = "tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))"
        doc: dict = {"tenant_id": tenant_id, "contact_id": cid, "aliases": aliases,
                     "exported_at": utc_now().isoformat()}
        for table in _contact_tables(con):
            doc[table] = _records(con, f"SELECT * FROM {table} WHERE {in_ids}", p)
        doc["source_rows_as_imported"] = _records(
            con,
            """
            SELECT r.import_id, r.row_number, i.file_name, r.source_id, r.record, r.extra
            FROM core.contact_sources cs
            JOIN raw.contact_rows r USING (tenant_id, import_id, row_number)
            JOIN raw.imports i USING (tenant_id, import_id)
            WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[]))
            ORDER BY r.import_id, r.row_number
            """,
            p,
        )
        idents = _identifiers(con, tenant_id, ids)
        doc["quarantined_rows_with_their_email_or_phone"] = _records(
            con,
            "SELECT * FROM quarantine.rows q WHERE q.tenant_id = $t AND "
            "list_has_any(list_filter($idents::VARCHAR[], lambda v: contains(lower(q.raw), v)), "
            "$idents::VARCHAR[])",
            {"t": tenant_id, "idents": idents},
        ) if idents else []
        doc["audit.changes"] = _records(
            con,
            "SELECT change_id, run_id, actor, actor_kind, action, entity, entity_id, \"at\", previous, "
            "new, redacted FROM audit.changes WHERE tenant_id = $t "
            "AND entity_id IN (SELECT unnest($ids::VARCHAR[])) ORDER BY change_id",
            p,
        )
    finally:
        con.close()
    return doc


def erase_subject(home: Home, tenant_id: str, contact_id: str, actor: str) -> dict:
    """Erase a person from the warehouse, error files, snapshot and extracts; suppress re-imports."""
    con = connect(home.warehouse)
    try:
        create_tables(con)
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            raise unknown(tenant_id, contact_id)
        ctx = ChangeContext(tenant_id, f"erase-{utc_now():%Y%m%dT%H%M%S}", actor, "user",
                            home.key(), utc_now())
        with transaction(con):
            summary = _erase_rows(con, ctx, cid)
        for import_id in summary.pop("touched_imports"):
            path = home.error_file(tenant_id, import_id)
            if write_error_file(con, tenant_id, import_id, path) is None:
                path.unlink(missing_ok=True)
    finally:
        con.close()
    compact_warehouse(home)
    con = connect(home.warehouse)
    try:
        publish_snapshot(con, home)
        for t in all_tenants(con):
            publish_extract(con, home, t)
    finally:
        con.close()
    return summary | {"contact_id": cid}


def _erase_rows(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, cid: str) -> dict:
    t = ctx.tenant_id
    aliases = [r[0] for r in run(con, "SELECT alias_id FROM core.contact_aliases "
                                 "WHERE tenant_id = $t AND contact_id = $c", {"t": t, "c": cid})]
    ids = [cid, *aliases]
    p = {"t": t, "ids": ids}
    idents = _identifiers(con, t, ids)
    digests = frame(con, """
        SELECT DISTINCT 'email' AS kind, email AS v FROM staging.contact_rows s
        JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[])) AND s.email IS NOT NULL
        UNION
        SELECT DISTINCT 'phone', phone FROM staging.contact_rows s
        JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[])) AND s.phone IS NOT NULL
        """, p)
    sources = frame(con, "SELECT import_id, row_number FROM core.contact_sources "
                    "WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)
    lines = frame(con, "SELECT import_id, line_number FROM core.activities "
                  "WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)
    removed = 0
    delete_contacts(con, ctx, [cid], action="erase")
    removed += 1
    con.register("_erase_sources", sources)
    con.register("_erase_lines", lines)
    try:
        for table in ("raw.contact_rows", "staging.contact_rows", "staging.field_issues"):
            removed += run(con, f"DELETE FROM {table} x USING _erase_sources s WHERE x.tenant_id = $t "
                           "AND x.import_id = s.import_id AND x.row_number = s.row_number", {"t": t})[0][0]
        removed += run(con, "DELETE FROM raw.activity_events x USING _erase_lines s WHERE "
                       "x.tenant_id = $t AND x.import_id = s.import_id AND x.line_number = s.line_number",
                       {"t": t})[0][0]
    finally:
        con.unregister("_erase_sources")
        con.unregister("_erase_lines")
    for table in _contact_tables(con):
        removed += run(con, f"DELETE FROM {table} WHERE tenant_id = $t "
                       "AND contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)[0][0]
    removed += run(con, "DELETE FROM core.contact_aliases WHERE tenant_id = $t "
                   "AND alias_id IN (SELECT unnest($ids::VARCHAR[]))", p)[0][0]
    touched = []
    if idents:
        text_match = ("list_has_any(list_filter($idents::VARCHAR[], lambda v: contains(lower({col}), v)), "
                      "$idents::VARCHAR[])")
        touched = [r[0] for r in run(
            con, "SELECT DISTINCT import_id FROM quarantine.rows q WHERE tenant_id = $t AND "
            + text_match.format(col="q.raw"), {"t": t, "idents": idents})]
        removed += run(con, "DELETE FROM quarantine.rows q WHERE tenant_id = $t AND "
                       + text_match.format(col="q.raw"), {"t": t, "idents": idents})[0][0]
        removed += run(con, "DELETE FROM raw.activity_events e WHERE tenant_id = $t AND "
                       + text_match.format(col="e.line"), {"t": t, "idents": idents})[0][0]
    redacted = run(con, "UPDATE audit.changes SET previous = NULL, new = NULL, redacted = true "
                   "WHERE tenant_id = $t AND entity_id IN (SELECT unnest($ids::VARCHAR[])) "
                   "AND NOT redacted", p)[0][0]
    if digests.height:
        sup = digests.select(
            pl.lit(t).alias("tenant_id"),
            pl.col("v").map_elements(lambda v: keyed_digest(ctx.key, v), return_dtype=pl.Utf8)
            .alias("subject_digest"),
            "kind",
            pl.lit(cid).alias("contact_id"),
            pl.lit(ctx.at, pl.Datetime("us")).alias("erased_at"),
            pl.lit(ctx.actor).alias("actor"),
        )
        con.register("_sup", sup)
        run(con, "INSERT INTO gdpr.suppressions BY NAME SELECT * FROM _sup")
        con.unregister("_sup")
    return {"rows_removed": removed, "audit_rows_redacted": redacted, "touched_imports": touched}


def compact_warehouse(home: Home) -> None:
    """Rewrite the working file so freed pages holding erased values are gone, atomically."""
    tmp = home.warehouse.with_name("warehouse.compact.duckdb")
    tmp.unlink(missing_ok=True)
    con = connect(home.warehouse)
    try:
        run(con, "CHECKPOINT")
        db = run(con, "SELECT current_database()")[0][0]
        run(con, f"ATTACH '{tmp}' AS _compact")
        run(con, f'COPY FROM DATABASE "{db}" TO _compact')
        run(con, "DETACH _compact")
    finally:
        con.close()
    os.replace(tmp, home.warehouse)
    home.warehouse.with_name("warehouse.duckdb.wal").unlink(missing_ok=True)
