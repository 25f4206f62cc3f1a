"""GDPR: the right of access (export) and the right to erasure (erase, with suppression).

Erasure deletes the person's rows from every table that holds them (found by column, so tables
added later are covered), redacts their values in the audit trail (the chain hashes keyed digests,
so it still verifies), records keyed digests of their email and phone so a later import of them is
quarantined, rewrites error files, scrubs the other files the home keeps (refused landing files,
Dagster's run storage), then copies the warehouse to a fresh file (DuckDB does not zero freed
pages) and republishes the snapshot and the tenant's extract. Erasing an id already erased finishes
those last steps again, so an erasure interrupted by a crash can be completed.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import duckdb
import polars as pl

from .audit import ChangeContext, keyed_digest
from .contacts_store import delete_contacts
from .home import Home
from .pipeline import record_chain_heads, transaction, utc_now
from .profile import resolve_contact_id, tenant_extract, unknown
from .publish import publish_all_tenants, publish_tenant, quote_ident, quote_literal
from .quarantine import write_error_file
from .tenants import checked_tenant_id
from .warehouse import connect, create_tables, frame, run

PERSON_SCHEMAS = ("core", "marts", "staging", "raw")
ERASED = "[erased]"
_PHONE_LIKE = re.compile(r"^[\d\s()+./-]{7,}$")
_EMAIL_LIKE = re.compile(r"[^\s\"'<>,;:]+@[^\s\"'<>,;:]+")


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
    """Lower-case strings that identify the person in free text: emails and phones as written.

    Taken from every value of their source rows as imported (so a second email or a mobile number
    in an unmapped column counts too) and from the golden record.
    """
    rows = con.execute(
        """
        SELECT r.record::VARCHAR, to_json(r.mapped)::VARCHAR, NULL, NULL
        FROM core.contact_sources cs
        JOIN raw.contact_rows r USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[]))
        UNION ALL
        SELECT NULL, NULL, c.email, c.phone FROM core.contacts c
        WHERE c.tenant_id = $t AND c.contact_id IN (SELECT unnest($ids::VARCHAR[]))
        UNION ALL
        SELECT NULL, NULL, s.email, s.phone FROM core.contact_sources cs
        JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[]))
        """,
        {"t": tenant_id, "ids": ids},
    ).fetchall()
    found: set[str] = set()
    for record, mapped, email, phone in rows:
        values = [email, phone]
        for doc in (record, mapped):
            if doc:
                values.extend(v for v in json.loads(doc).values() if isinstance(v, str))
        for v in values:
            if not v:
                continue
            v = v.strip()
            found.update(m.lower() for m in _EMAIL_LIKE.findall(v))
            if _PHONE_LIKE.match(v) and sum(ch.isdigit() for ch in v) >= 7:
                found.add(v.lower())
    return sorted(v for v in found if len(v) >= 5)


def _full_names(con, tenant_id: str, ids: list[str]) -> list[str]:
    """The person's names as 'First Last' (how logs and messages would spell them)."""
    rows = con.execute(
        """
        SELECT DISTINCT trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) AS n
        FROM (SELECT first_name, last_name FROM core.contacts
              WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))
              UNION ALL
              SELECT s.first_name, s.last_name FROM core.contact_sources cs
              JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
              WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[])))
        """,
        {"t": tenant_id, "ids": ids},
    ).fetchall()
    return sorted(r[0] for r in rows if r[0] and " " in r[0] and len(r[0]) >= 5)


def export_subject(home: Home, tenant_id: str, contact_id: str) -> dict:
    """Everything held about one person, from the tenant's own extract, as one JSON-ready dict.

    Reading the tenant's extract (which holds no other tenant's rows) means another tenant's id is
    simply absent: it gets the same answer, by the same path, as an id that never existed.
    """
    tenant_id, con = tenant_extract(home, tenant_id, contact_id)
    try:
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            raise unknown(tenant_id, contact_id)
        aliases = [r["alias_id"] for r in _records(
            con, "SELECT alias_id FROM core.contact_aliases WHERE tenant_id = $t AND contact_id = $c "
            "ORDER BY alias_id", {"t": tenant_id, "c": cid})]
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
            "len(list_filter($idents::VARCHAR[], lambda v: contains(lower(q.raw), v))) > 0 "
            "ORDER BY import_id, row_number",
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
    """Erase a person from the warehouse, every file of the home, snapshot and extract; suppress
    re-imports. Returns counts of what was removed."""
    tenant_id = checked_tenant_id(tenant_id)
    if tenant_id not in home.tenant_ids():
        raise unknown(tenant_id, contact_id)
    con = connect(home.shard(tenant_id))
    try:
        create_tables(con)
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            if not _already_erased(con, tenant_id, contact_id):
                raise unknown(tenant_id, contact_id)
            cid = contact_id
            summary = {"rows_removed": 0, "audit_rows_redacted": 0, "files_scrubbed": 0}
        else:
            ctx = ChangeContext(tenant_id, f"erase-{utc_now():%Y%m%dT%H%M%S}", actor, "user",
                                home.key(), utc_now())
            home.compaction_pending(tenant_id).touch()  # snapshots are logical copies until compaction
            with transaction(con):
                summary = _erase_rows(con, ctx, cid)
            record_chain_heads(con, home, [tenant_id])
            for import_id in summary.pop("touched_imports"):
                path = home.error_file(tenant_id, import_id)
                if write_error_file(con, tenant_id, import_id, path) is None:
                    path.unlink(missing_ok=True)
            summary["files_scrubbed"] = scrub_files(home, summary.pop("needles"))
    finally:
        con.close()
    compact_warehouse(home, tenant_id)
    home.compaction_pending(tenant_id).unlink(missing_ok=True)
    con = connect(home.shard(tenant_id))
    try:
        publish_tenant(con, home, tenant_id)
    finally:
        con.close()
    publish_all_tenants(home)
    return summary | {"contact_id": cid}


def _already_erased(con, tenant_id: str, contact_id: str) -> bool:
    return bool(run(con, "SELECT 1 FROM gdpr.suppressions WHERE tenant_id = $t AND contact_id = $c "
                    "LIMIT 1", {"t": tenant_id, "c": contact_id}))


def _erase_rows(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, cid: str) -> dict:
    t = ctx.tenant_id
    aliases = [r[0] for r in run(con, "SELECT alias_id FROM core.contact_aliases "
                                 "WHERE tenant_id = $t AND contact_id = $c", {"t": t, "c": cid})]
    ids = [cid, *aliases]
    p = {"t": t, "ids": ids}
    idents = _identifiers(con, t, ids)
    names = _full_names(con, t, ids)
    digests = frame(con, """
        SELECT DISTINCT 'email' AS kind, email AS v FROM staging.contact_rows s
        JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[])) AND s.email IS NOT NULL
        UNION
        SELECT DISTINCT 'phone', phone FROM staging.contact_rows s
        JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[])) AND s.phone IS NOT NULL
        UNION
        SELECT 'email', email FROM core.contacts
        WHERE tenant_id = $t AND contact_id = $c AND email IS NOT NULL
        UNION
        SELECT 'phone', phone FROM core.contacts
        WHERE tenant_id = $t AND contact_id = $c AND phone IS NOT NULL
        UNION
        SELECT 'contact', unnest($ids::VARCHAR[])
        """, p | {"c": cid})
    sources = frame(con, "SELECT import_id, row_number, source_key FROM core.contact_sources "
                    "WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)
    lines = frame(con, "SELECT import_id, line_number FROM core.activities "
                  "WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)
    removed = delete_contacts(con, ctx, [cid], action="erase")
    con.register("_erase_sources", sources)
    con.register("_erase_lines", lines)
    try:
        for table in ("raw.contact_rows", "staging.contact_rows", "staging.field_issues",
                      "marts.data_hygiene"):
            removed += run(con, f"DELETE FROM {table} x USING _erase_sources s WHERE x.tenant_id = $t "
                           "AND x.import_id = s.import_id AND x.row_number = s.row_number", {"t": t})[0][0]
        removed += run(con, "DELETE FROM raw.activity_events x USING _erase_lines s WHERE "
                       "x.tenant_id = $t AND x.import_id = s.import_id AND x.line_number = s.line_number",
                       {"t": t})[0][0]
        removed += run(con, "DELETE FROM core.match_blocks x USING _erase_sources s "
                       "WHERE x.tenant_id = $t AND x.source_key = s.source_key", {"t": t})[0][0]
        removed += run(con, "DELETE FROM core.match_evidence x USING _erase_sources s "
                       "WHERE x.tenant_id = $t AND (x.left_key = s.source_key "
                       "OR x.right_key = s.source_key)", {"t": t})[0][0]
    finally:
        con.unregister("_erase_sources")
        con.unregister("_erase_lines")
    for table in _contact_tables(con):
        if table == "core.contacts":  # only through the audited write path (done above)
            continue
        removed += run(con, f"DELETE FROM {table} WHERE tenant_id = $t "
                       "AND contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)[0][0]
    removed += run(con, "DELETE FROM core.contact_aliases WHERE tenant_id = $t "
                   "AND alias_id IN (SELECT unnest($ids::VARCHAR[]))", p)[0][0]
    removed += run(con, "DELETE FROM core.match_blocks WHERE tenant_id = $t "
                   "AND blocked_contact_id IN (SELECT unnest($ids::VARCHAR[]))", p)[0][0]
    touched = []
    if idents:
        text_match = "len(list_filter($idents::VARCHAR[], lambda v: contains(lower({col}), v))) > 0"
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
    try:
        run(con, "INSERT INTO gdpr.suppressions BY NAME SELECT * FROM _sup")
    finally:
        con.unregister("_sup")
    return {"rows_removed": removed, "audit_rows_redacted": redacted, "touched_imports": touched,
            "needles": idents + [n.lower() for n in names]}


def scrub_files(home: Home, needles: list[str]) -> int:
    """Remove the person's identifiers from the files the home keeps besides the warehouse.

    Refused landing files lose the lines that name the person; Dagster's SQLite run storage and
    its logs have the values replaced (SQLite is vacuumed with secure_delete, so no freed page
    keeps them). Returns the number of files changed.
    """
    needles = sorted({n.lower() for n in needles if n and len(n) >= 5})
    if not needles:
        return 0
    variants = sorted({v for n in needles for v in (n, json.dumps(n)[1:-1])})
    pattern = re.compile("|".join(re.escape(v) for v in variants), re.IGNORECASE)
    changed = 0
    for path in sorted(home.landing_dir.rglob("*")):
        if path.is_file() and _drop_matching_lines(path, pattern):
            changed += 1
    for path in sorted(home.dagster_home.rglob("*")):
        if not path.is_file() or path.suffix in (".db-wal", ".db-shm"):
            continue
        if path.suffix == ".db":
            changed += _scrub_sqlite(path, variants, pattern)
        elif _replace_in_text(path, pattern):
            changed += 1
    return changed


def _contains(path: Path, pattern: re.Pattern) -> bool:
    try:
        return bool(pattern.search(path.read_bytes().decode("utf-8", errors="replace")))
    except OSError:
        return False


def _drop_matching_lines(path: Path, pattern: re.Pattern) -> bool:
    if not _contains(path, pattern):
        return False
    data = path.read_bytes().decode("utf-8", errors="replace")
    kept = "".join(line for line in data.splitlines(keepends=True) if not pattern.search(line))
    _rewrite(path, kept.encode("utf-8"))
    return True


def _replace_in_text(path: Path, pattern: re.Pattern) -> bool:
    if not _contains(path, pattern):
        return False
    data = path.read_bytes().decode("utf-8", errors="replace")
    _rewrite(path, pattern.sub(ERASED, data).encode("utf-8"))
    return True


def _rewrite(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".scrub")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _scrub_sqlite(path: Path, variants: list[str], pattern: re.Pattern) -> int:
    """Replace the values in every text column of a SQLite file; vacuum so no page keeps them."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA secure_delete = ON")
        touched = 0
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                where = " OR ".join(f'instr(lower(CAST("{column}" AS TEXT)), ?) > 0' for _ in variants)
                rows = con.execute(
                    f'SELECT rowid, CAST("{column}" AS TEXT) FROM "{table}" WHERE {where}', variants
                ).fetchall()
                for rowid, value in rows:
                    con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?',
                                (pattern.sub(ERASED, value), rowid))
                touched += len(rows)
        con.commit()
        if touched:
            con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return 1 if touched else 0


def compact_warehouse(home: Home, tenant_id: str) -> None:
    """Rewrite the tenant's shard so freed pages holding erased values are gone, atomically."""
    shard = home.shard(tenant_id)
    tmp = shard.with_name("warehouse.compact.duckdb")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = connect(shard)
    try:
        run(con, "CHECKPOINT")
        db = run(con, "SELECT current_database()")[0][0]
        run(con, f"ATTACH {quote_literal(str(tmp))} AS _compact")
        run(con, f"COPY FROM DATABASE {quote_ident(db)} TO _compact")
        run(con, "DETACH _compact")
    finally:
        con.close()
    os.replace(tmp, shard)
    shard.with_name("warehouse.duckdb.wal").unlink(missing_ok=True)
