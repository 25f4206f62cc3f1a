"""Erasure beyond the warehouse's rows: the files a home keeps, and the warehouse file itself.

`scrub_files` removes a person's identifiers (a pattern from `redaction`) from refused landing
files, error files and Dagster's run storage; `rewrite_error_files` writes a tenant's error files
again from the warehouse; `compact_warehouse` copies the working file to a fresh one, since DuckDB
does not zero the pages it frees. Paths never enter SQL as text: they are bound parameters.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import duckdb

from crm_pipeline.contacts.quarantine import write_error_file
from crm_pipeline.contacts.redaction import ERASED, quote_ident
from crm_pipeline.home import Home
from crm_pipeline.warehouse import connect, run


def scrub_files(home: Home, pattern: str | None) -> int:
    """Remove the person's identifiers from the files the home keeps besides the warehouse.

    Refused landing files lose the lines that name the person; error files, the `crm` command's
    log files (`<home>/logs/`, which hold internal errors' details) and Dagster's logs have the
    identifiers replaced, and its SQLite run storage too (vacuumed with secure_delete,
    so no freed page keeps them). Returns the number of files changed.
    """
    if not pattern:
        return 0
    regex = re.compile(pattern)
    changed = 0
    for path in sorted(home.landing_dir.rglob("*")):
        if path.is_file() and _drop_matching_lines(path, regex):
            changed += 1
    for folder in (home.errors_dir, home.root / "logs"):  # error files; crm's own logs
        for path in sorted(folder.rglob("*")):
            if path.is_file() and _replace_in_text(path, regex):
                changed += 1
    for path in sorted(home.dagster_home.rglob("*")):
        if not path.is_file() or path.suffix in (".db-wal", ".db-shm"):
            continue
        if path.suffix == ".db":
            changed += _scrub_sqlite(path, regex)
        elif _replace_in_text(path, regex):
            changed += 1
    return changed


def rewrite_error_files(con: duckdb.DuckDBPyConnection, home: Home, tenant_id: str) -> int:
    """Write the tenant's existing error files again from quarantine.rows (a file whose rows are
    all gone is removed). Needs no values, so a retried erasure can always redo it."""
    imports = [r[0] for r in run(con, "SELECT import_id FROM raw.imports WHERE tenant_id = $t "
                                 "ORDER BY 1", {"t": tenant_id})]
    written = 0
    for import_id in imports:
        path = home.error_file(tenant_id, import_id)
        if not path.exists():
            continue
        if write_error_file(con, tenant_id, import_id, path) is None:
            path.unlink(missing_ok=True)
        written += 1
    return written


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
        run(con, "ATTACH $path AS _compact", {"path": str(tmp)})
        run(con, f"COPY FROM DATABASE {quote_ident(db)} TO _compact")
        run(con, "DETACH _compact")
    finally:
        con.close()
    os.replace(tmp, shard)
    shard.with_name("warehouse.duckdb.wal").unlink(missing_ok=True)


def _text(path: Path) -> str | None:
    """The file as text; bytes that are not UTF-8 survive a rewrite unchanged."""
    try:
        return path.read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError:
        return None


def _drop_matching_lines(path: Path, regex: re.Pattern) -> bool:
    data = _text(path)
    if data is None or not regex.search(data):
        return False
    kept = "".join(line for line in data.splitlines(keepends=True) if not regex.search(line))
    _rewrite(path, kept)
    return True


def _replace_in_text(path: Path, regex: re.Pattern) -> bool:
    data = _text(path)
    if data is None or not regex.search(data):
        return False
    _rewrite(path, regex.sub(ERASED, data))
    return True


def _rewrite(path: Path, text: str) -> None:
    """Replace the file whole, keeping its permissions (an owner-only log stays so)."""
    tmp = path.with_name(path.name + ".scrub")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, path.stat().st_mode & 0o777)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8", errors="surrogateescape"))
    os.chmod(tmp, path.stat().st_mode & 0o777)  # the umask may have narrowed what open set
    os.replace(tmp, path)


def _scrub_sqlite(path: Path, regex: re.Pattern) -> int:
    """Replace the values in every text (or blob) column of a SQLite file, keeping each value's
    type; vacuum so no page keeps them."""

    def as_text(value) -> str | None:
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="surrogateescape")
        return value if isinstance(value, str) else None

    def redacted(value):
        text = regex.sub(ERASED, as_text(value))
        return text.encode("utf-8", errors="surrogateescape") if isinstance(value, bytes) else text

    con = sqlite3.connect(path)
    con.text_factory = bytes  # text that is not UTF-8 reaches Python too (as_text reads it)
    try:
        con.create_function("crm_holds", 1,
                            lambda v: (t := as_text(v)) is not None and bool(regex.search(t)),
                            deterministic=True)
        con.execute("PRAGMA secure_delete = ON")
        touched = 0
        tables = [r[0].decode() for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            columns = [r[1].decode() for r in
                       con.execute(f"PRAGMA table_info({quote_ident(table)})")]
            for column in columns:
                col = quote_ident(column)
                rows = con.execute(f"SELECT rowid, {col}, typeof({col}) FROM {quote_ident(table)} "
                                   f"WHERE crm_holds({col})").fetchall()
                for rowid, value, kind in rows:
                    if kind == b"text" and isinstance(value, bytes):
                        value = value.decode("utf-8", errors="surrogateescape")
                    con.execute(f"UPDATE {quote_ident(table)} SET {col} = ? WHERE rowid = ?",
                                (redacted(value), rowid))
                touched += len(rows)
        con.commit()
        if touched:
            con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return 1 if touched else 0
