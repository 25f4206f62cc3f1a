"""Publishing: the read-only snapshot for analysts and one extract per tenant for agents.

Readers never open the working file (DuckDB admits one writer, and a reader would block it). Each
file is written under a temporary name and renamed into place, so a reader sees the previous
snapshot or the new one, never half of a run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from .home import Home
from .progress import report
from .readonly import process_alive, remove_stale_reader_dirs
from .sql import quote_ident, quote_literal
from .warehouse import run

EXTRACT_SCHEMAS = ("core", "marts", "audit", "quarantine", "raw", "staging")
# The raw activity lines (every line as delivered, the largest table by far) are the pipeline's
# working copy: agents read core.activities. Left out, extracts take a fraction of the time.
# (An extract that is the snapshot of a home of one tenant has them; see publish_extract.)
EXTRACT_SKIP = ("raw.activity_events",)
# Tables are copied two at a time: DuckDB writes one table on about one core.
EXTRACT_WORKERS = 2
DUCKDB_HEADERS = 3 * 4096  # the main header and the two database headers (one per checkpoint)
TEMP_PREFIX = ".publish-"  # then the publishing process's id, a random part and .duckdb
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[0-9a-f]+\.duckdb(?:\.wal)?")

# What each snapshot was copied from: (working file, its state then, the snapshot's state).
_published: dict[Path, tuple[Path, tuple, tuple | None]] = {}


def _fresh(path: Path) -> Path:
    """A new temporary name beside `path` that no reader can collide with.

    DuckDB names a reader's spill folder `<file>.tmp` and a writer's log `<file>.wal`; a name
    derived from the published file's (`warehouse.duckdb.tmp`, as before) is the folder a
    reader of the snapshot creates when a query spills, after which every publish failed. The
    name here holds this process's id and a random part, starts with a dot (no reader opens it)
    and is not a DuckDB suffix of any file a reader opens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    return path.parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}.duckdb"


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete what an interrupted publish left in `folder`: temporaries of processes no longer
    running, and a regular file `<name>.tmp` (or its `.wal`) an older version left. A folder
    `<name>.tmp` is a reader's spill folder, possibly in use: left alone."""
    removed = []
    for entry in folder.iterdir() if folder.is_dir() else ():
        match = _TEMP_NAME.fullmatch(entry.name)
        stale = (match is not None and not _alive(int(match.group(1)))) or (
            entry.name.endswith((".duckdb.tmp", ".duckdb.tmp.wal")) and entry.is_file()
            and not entry.is_symlink())
        if stale and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    """This process counts as running: another thread's publish may be under way (this process
    discards its own temporary after a failure)."""
    return pid == os.getpid() or process_alive(pid)


def _discard(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)


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
    remove_stale_reader_dirs(home.root / "tmp")  # a killed reader's spill: no one else removes it
    tmp = _fresh(home.snapshot)
    try:
        source = Path(_source_path(con))
        if home.compaction_pending.exists():
            db = run(con, "SELECT current_database()")[0][0]
            run(con, "ATTACH $path AS _snapshot", {"path": str(tmp)})
            try:
                run(con, f"COPY FROM DATABASE {quote_ident(db)} TO _snapshot")
            finally:
                run(con, "DETACH _snapshot")
        else:
            run(con, "CHECKPOINT")
            shutil.copyfile(source, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        state = _file_state(source)
        report("publish: snapshot written")  # the new file is whole; readers still see the old one
        _swap(tmp, home.snapshot)
    except BaseException:
        _discard(tmp)
        raise
    _published[home.snapshot] = (source, state, _stat(home.snapshot))
    return home.snapshot


def _source_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file of the connection's own database (the working warehouse)."""
    query = "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    return run(con, query)[0][0]


def _stat(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _file_state(path: Path) -> tuple:
    """Enough to tell that a DuckDB file changed: its and its WAL's inode, size and time, and its
    headers (every checkpoint writes a new one)."""
    with open(path, "rb") as f:
        headers = f.read(DUCKDB_HEADERS)
    return (_stat(path), _stat(path.with_name(path.name + ".wal")), headers)


def _snapshot_is_current(con: duckdb.DuckDBPyConnection, home: Home) -> bool:
    """Whether the published snapshot holds exactly what the working file holds now: it was
    copied from this file and neither has changed since."""
    published = _published.get(home.snapshot)
    if published is None:
        return False
    source, state, snapshot = published
    path = Path(_source_path(con))
    return path == source and _file_state(path) == state and _stat(home.snapshot) == snapshot


def _holds_only(con: duckdb.DuckDBPyConnection, tenant_id: str) -> bool:
    """Whether every table of the working warehouse holds this tenant's rows only (and the file
    defines nothing else a query could read). Cheap: row-group statistics answer it unscanned."""
    tables = run(
        con,
        "SELECT schema_name, table_name, list_contains(list(column_name), 'tenant_id') "
        "FROM duckdb_columns() WHERE database_name = current_database() GROUP BY ALL",
    )
    views = run(con, "SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
                "AND NOT internal")[0][0]
    if views or not all(keyed for _, _, keyed in tables):
        return False
    others = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT 1 FROM {quote_ident(s)}.{quote_ident(t)} "
        "WHERE tenant_id IS DISTINCT FROM $t LIMIT 1)"
        for s, t, _ in tables
    )
    return not tables or not run(con, f"SELECT 1 FROM ({others}) LIMIT 1", {"t": tenant_id})


def extract_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables an extract holds (`schema.table`), largest first."""
    rows = run(
        con,
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name IN $schemas "
        "ORDER BY estimated_size DESC, 1",
        {"schemas": list(EXTRACT_SCHEMAS)},
    )
    return [r[0] for r in rows if r[0] not in EXTRACT_SKIP]


def copy_table(con: duckdb.DuckDBPyConnection, db: str, table: str, tenant_id: str) -> None:
    """One table's rows of the tenant into the attached extract, with the table's comments.

    CREATE TABLE AS, not the warehouse's DDL: the extract is read-only, so it needs neither
    primary keys nor their indexes, whose building was most of the cost of an extract.
    """
    schema, name = table.split(".")
    ref = f"{quote_ident(schema)}.{quote_ident(name)}"
    run(con, f"CREATE TABLE _extract.{ref} AS SELECT * FROM {quote_ident(db)}.{ref} "
        "WHERE tenant_id = $t", {"t": tenant_id})
    comments = run(
        con,
        "SELECT NULL, comment FROM duckdb_tables() WHERE database_name = $db "
        "AND schema_name = $s AND table_name = $n AND comment IS NOT NULL "
        "UNION ALL SELECT column_name, comment FROM duckdb_columns() WHERE database_name = $db "
        "AND schema_name = $s AND table_name = $n AND comment IS NOT NULL",
        {"db": db, "s": schema, "n": name},
    )
    for column, comment in comments:
        target = (f"TABLE _extract.{ref}" if column is None
                  else f"COLUMN _extract.{ref}.{quote_ident(column)}")
        run(con, f"COMMENT ON {target} IS {quote_literal(comment)}")  # takes no parameter


def write_extract(con: duckdb.DuckDBPyConnection, tmp: Path, tenant_id: str) -> None:
    """Write a new file with the tenant's rows of every extract table, copied table by table."""
    db = run(con, "SELECT current_database()")[0][0]
    tables = extract_tables(con)
    run(con, "ATTACH $path AS _extract", {"path": str(tmp)})
    try:
        for schema in sorted({t.split(".")[0] for t in tables}):
            run(con, f"CREATE SCHEMA _extract.{quote_ident(schema)}")
        queue = iter(tables)  # largest first: each worker takes the next when done

        def copy(_: int) -> None:
            cursor = con.cursor()  # a connection per thread, each with one transaction
            try:
                run(cursor, "BEGIN")
                for table in queue:
                    copy_table(cursor, db, table, tenant_id)
                run(cursor, "COMMIT")
            finally:
                cursor.close()

        with ThreadPoolExecutor(EXTRACT_WORKERS) as pool:
            list(pool.map(copy, range(EXTRACT_WORKERS)))
    finally:
        run(con, "DETACH _extract")


def publish_extract(con: duckdb.DuckDBPyConnection, home: Home, tenant_id: str) -> Path:
    """A file holding only one tenant's rows, so no SQL an agent writes reaches another tenant.

    When the warehouse holds this tenant's rows only and the snapshot was just copied from it,
    the snapshot already is such a file: the extract is a second name for it (a hard link, no
    copy), with the raw activity lines and suppression digests the snapshot has too (the
    tenant's own), and the freed pages a snapshot carries (never an erasure's: until compaction,
    snapshots are copied table by table). Otherwise the tenant's rows of the extract tables are
    copied into a fresh file, which carries no freed page.
    """
    final = home.extract(tenant_id)
    tmp = _fresh(final)
    try:
        linked = False
        if _snapshot_is_current(con, home) and _holds_only(con, tenant_id):
            try:
                os.link(home.snapshot, tmp)
                linked = True
            except OSError:  # a file system without hard links: copy the rows instead
                pass
        if not linked:
            write_extract(con, tmp, tenant_id)
        _swap(tmp, final)
    except BaseException:
        _discard(tmp)
        raise
    return final
