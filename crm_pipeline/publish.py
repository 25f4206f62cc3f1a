"""Publishing: the read-only snapshot for analysts and one extract per tenant for agents.

Readers never open the working file (DuckDB admits one writer, and a reader would block it). Each
file is written under a temporary name and renamed into place, so a reader sees the previous
snapshot or the new one, never half of a run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from .home import Home
from .progress import report
from .warehouse import run

EXTRACT_SCHEMAS = ("core", "marts", "audit", "quarantine", "raw", "staging")
# The raw activity lines (every line as delivered, the largest table by far) are the pipeline's
# working copy: agents read core.activities. Left out, extracts take a fraction of the time.
EXTRACT_SKIP = ("raw.activity_events",)


def _fresh(path: Path) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    return tmp


def _swap(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def publish_snapshot(con: duckdb.DuckDBPyConnection, home: Home) -> Path:
    """Copy the whole working warehouse to the published snapshot, atomically.

    Normally a checkpoint leaves the working file whole with an empty WAL and its bytes are
    copied (the file system's fast path; the writer lock is held, so nothing writes meanwhile).
    Freed pages travel with the bytes, which is harmless (the audit trail holds earlier values
    anyway) except after an erasure whose compaction has not finished: then the snapshot is a
    table-by-table copy, which carries no freed pages.
    """
    tmp = _fresh(home.snapshot)
    db = run(con, "SELECT current_database()")[0][0]
    if home.compaction_pending.exists():
        run(con, f"ATTACH '{tmp}' AS _snapshot")
        try:
            run(con, f'COPY FROM DATABASE "{db}" TO _snapshot')
        finally:
            run(con, "DETACH _snapshot")
    else:
        run(con, "CHECKPOINT")
        source = run(
            con, "SELECT path FROM duckdb_databases() WHERE database_name = $db", {"db": db}
        )
        shutil.copyfile(source[0][0], tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    report("publish: snapshot written")  # the new file is whole; readers still see the old one
    _swap(tmp, home.snapshot)
    return home.snapshot


def publish_extract(con: duckdb.DuckDBPyConnection, home: Home, tenant_id: str) -> Path:
    """A file holding only one tenant's rows, so no SQL an agent writes reaches another tenant."""
    final = home.extract(tenant_id)
    tmp = _fresh(final)
    db = run(con, "SELECT current_database()")[0][0]
    run(con, f"ATTACH '{tmp}' AS _extract")
    try:
        run(con, f'COPY FROM DATABASE "{db}" TO _extract (SCHEMA)')
        tables = run(
            con,
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = $db AND schema_name IN $schemas ORDER BY 1, 2",
            {"db": db, "schemas": list(EXTRACT_SCHEMAS)},
        )
        for schema, table in tables:
            if f"{schema}.{table}" in EXTRACT_SKIP:
                run(con, f'DROP TABLE _extract."{schema}"."{table}"')
                continue
            run(
                con,
                f'INSERT INTO _extract."{schema}"."{table}" '
                f'SELECT * FROM "{db}"."{schema}"."{table}" WHERE tenant_id = $t',
                {"t": tenant_id},
            )
        run(con, "DROP SCHEMA IF EXISTS _extract.gdpr CASCADE")
    finally:
        run(con, "DETACH _extract")
    _swap(tmp, final)
    return final
