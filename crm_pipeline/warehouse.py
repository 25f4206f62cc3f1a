"""The DuckDB warehouse of a CRM home: opening it and creating its tables."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.sql import quote_ident, table_files

WAREHOUSE_FILE = "warehouse.duckdb"


def warehouse_path(home: Path) -> Path:
    """The working warehouse file of a CRM home (readers use the published snapshot instead)."""
    return Path(home) / WAREHOUSE_FILE


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with the project's settings: UTC, and DuckDB's memory limit from
    `CRM_DUCKDB_MEMORY_LIMIT` when set (e.g. `1GB`; DuckDB's default is 80% of the machine,
    which it may keep as cache)."""
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    limit = os.environ.get("CRM_DUCKDB_MEMORY_LIMIT")
    if limit:
        con.execute("SET memory_limit = $limit", {"limit": limit}).fetchall()
    return con


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table that does not exist yet, with their comments; add the
    columns a newer version defines to tables an older version created, and rebuild without it
    a table whose primary key a newer version dropped. One transaction: all of it or none.

    An empty database (a new tenant's shard, a test's warehouse) is copied from this process's
    reference catalog instead: one statement where the DDL takes some 700 (its column comments
    most of the time)."""
    if _schema_is_current(con):
        return
    if not _our_tables(con):
        _copy_reference(con)
        return
    retired = sorted(_keyed_tables(con) - _reference().keys)
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        for schema, table in retired:
            con.execute(f"ALTER TABLE {quote_ident(schema)}.{quote_ident(table)} "
                        f"RENAME TO {quote_ident(table + _KEYED_SUFFIX)}").fetchall()
        comments = []
        for path in table_files():
            for statement in _statements(path.read_text(encoding="utf-8")):
                if statement.upper().startswith("COMMENT ON"):
                    comments.append(statement)
                else:
                    con.execute(statement).fetchall()
        _add_missing_columns(con)
        for schema, table in retired:
            old = f"{quote_ident(schema)}.{quote_ident(table + _KEYED_SUFFIX)}"
            new = f"{quote_ident(schema)}.{quote_ident(table)}"
            con.execute(f"INSERT INTO {new} BY NAME SELECT * FROM {old}").fetchall()
            con.execute(f"DROP TABLE {old}").fetchall()
        for statement in comments:
            con.execute(statement).fetchall()
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise
    con.execute("COMMIT").fetchall()


# An index makes DuckDB's bulk deletes and inserts slow (the marts refresh commit took 50 s per
# million rows with one); tables whose key a newer version dropped are rebuilt without it.
_KEYED_SUFFIX = "__keyed"
_OWN_SCHEMAS = "schema_name NOT IN ('main', 'information_schema', 'pg_catalog')"
_KEYS_QUERY = (
    "SELECT DISTINCT schema_name, table_name FROM duckdb_constraints() "
    f"WHERE constraint_type = 'PRIMARY KEY' AND {_OWN_SCHEMAS}"
)


def _keyed_tables(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return set(con.execute(_KEYS_QUERY + " AND database_name = current_database()").fetchall())


def _our_tables(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                       f"current_database() AND {_OWN_SCHEMAS}").fetchall()[0][0]


def _statements(text: str) -> list[str]:
    """The statements of a DDL file (they end with `;` at the end of a line)."""
    return [s.strip() for s in text.split(";\n") if s.strip() and not s.strip().startswith("--")]


def _schema_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every table, column and comment of the DDL is already there (one query), so
    the many stages that open the warehouse do not re-run the DDL."""
    reference = _reference()
    found = set(con.execute(_CATALOG_QUERY + " AND database_name = current_database()").fetchall())
    return reference.catalog <= found and _keyed_tables(con) <= reference.keys


_CATALOG_QUERY = (
    "SELECT schema_name, table_name, column_name, data_type, coalesce(comment, '') "
    f"FROM duckdb_columns() WHERE {_OWN_SCHEMAS}"
)


class _Reference:
    """The DDL files applied once per process to a database in memory: what a current warehouse
    holds (catalog, keys, columns, comments), and a private file of it to copy new databases
    from (`COPY FROM DATABASE` takes an attached file: two in-memory databases cannot meet)."""

    def __init__(self) -> None:
        ref = duckdb.connect(":memory:")
        for path in table_files():
            ref.execute(path.read_text(encoding="utf-8"))
        self.catalog = set(ref.execute(_CATALOG_QUERY).fetchall())
        self.keys = set(ref.execute(_KEYS_QUERY).fetchall())
        self.columns: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for schema, table, column, dtype, comment in ref.execute(
            "SELECT schema_name, table_name, column_name, data_type, coalesce(comment, '') "
            f"FROM duckdb_columns() WHERE {_OWN_SCHEMAS} "
            "ORDER BY schema_name, table_name, column_index"
        ).fetchall():
            self.columns.setdefault((schema, table), []).append((column, dtype, comment))
        self.comments = {(s, t): c or "" for s, t, c in ref.execute(
            f"SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE {_OWN_SCHEMAS}"
        ).fetchall()}
        self._ref = ref
        self._file: Path | None = None

    def file(self) -> Path:
        """The reference written to a file in a folder of this process's own (mode 0700, removed
        at exit): nothing another user could plant or alter."""
        if self._file is None:
            folder = Path(tempfile.mkdtemp(prefix="crm-schema-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "reference.duckdb"
            self._ref.execute("ATTACH $path AS _file", {"path": str(path)}).fetchall()
            self._ref.execute("COPY FROM DATABASE memory TO _file").fetchall()
            self._ref.execute("DETACH _file").fetchall()
            self._file = path
        return self._file


_REFERENCE: _Reference | None = None
_REFERENCE_LOCK = threading.Lock()


def _reference() -> _Reference:
    global _REFERENCE
    with _REFERENCE_LOCK:
        if _REFERENCE is None:
            _REFERENCE = _Reference()
        return _REFERENCE


def _copy_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Every schema, table, key and comment of the reference, into the connection's empty
    database, in one transaction."""
    reference = _reference()
    with _REFERENCE_LOCK:
        path = reference.file()
    alias = "_crm_reference"
    con.execute(f"ATTACH $path AS {alias} (READ_ONLY)", {"path": str(path)}).fetchall()
    try:
        target = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute("BEGIN TRANSACTION").fetchall()
        try:
            con.execute(f"COPY FROM DATABASE {alias} TO {quote_ident(target)}").fetchall()
        except BaseException:
            con.execute("ROLLBACK").fetchall()
            raise
        con.execute("COMMIT").fetchall()
    finally:
        con.execute(f"DETACH {alias}").fetchall()


def _reference_columns() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type)] as the DDL files define them."""
    return {key: [(c, t) for c, t, _ in columns]
            for key, columns in _reference().columns.items()}


def table_docs() -> dict[tuple[str, str], tuple[str, list[tuple[str, str, str]]]]:
    """(schema, table) -> (its COMMENT, [(column, type, COMMENT)]) as the DDL files define them:
    one source for docs/warehouse.md and the Dagster UI's descriptions and column schemas."""
    reference = _reference()
    return {key: (comment, list(reference.columns.get(key, [])))
            for key, comment in reference.comments.items()}


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> None:
    """The forward migration of a warehouse: new nullable columns are added in place."""
    present: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database()"
    ).fetchall():
        present.setdefault((schema, table), set()).add(column)
    for key, columns in _reference_columns().items():
        for column, dtype in columns:
            if column not in present.get(key, {column}):
                con.execute(f"ALTER TABLE {quote_ident(key[0])}.{quote_ident(key[1])} "
                            f"ADD COLUMN {quote_ident(column)} {dtype}").fetchall()  # our DDL's type


def frame(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> pl.DataFrame:
    """Result of a query as a polars frame (DuckDB 2: polars output comes from relations)."""
    return con.sql(query, params=params or {}).pl()


def run(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> list[tuple]:
    """Execute a statement and drain its result (DuckDB 2 keeps an undrained result open, which
    blocks `register` and relations on the connection)."""
    return con.execute(query, params or {}).fetchall()


@contextmanager
def memory_capped(con: duckdb.DuckDBPyConnection, limit: str = "1GB") -> Iterator[None]:
    """DuckDB's memory limit lowered for a bulk append (never raised), then set back.

    By default DuckDB may keep most of the machine's memory as cache; appending a million wide
    rows then holds them all in memory. Appends spill freely, so a cap costs them nothing.
    """
    configured = os.environ.get("CRM_DUCKDB_MEMORY_LIMIT")
    if configured and _size_in_bytes(configured) <= _size_in_bytes(limit):
        yield  # already capped at least as low
        return
    run(con, "SET memory_limit = $limit", {"limit": limit})
    try:
        yield
    finally:
        # Set back from the source, not from the rounded text DuckDB shows for the setting.
        if configured:
            run(con, "SET memory_limit = $limit", {"limit": configured})
        else:
            run(con, "RESET memory_limit")


@contextmanager
def unordered_inserts(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inserts free to store rows in any order while the block runs, then the setting set back.

    For tables that are sets (readers sort what they read): DuckDB's threads then each write
    whole compressed row groups, where keeping the order leaves part-filled ones for the next
    checkpoint to compress (0.4 s after refreshing the marts of a million contacts). The setting
    is global: other cursors' queries without ORDER BY may see rows in any order meanwhile (none
    of ours depends on it), and it is changed from one thread at a time."""
    previous = run(con, "SELECT current_setting('preserve_insertion_order')")[0][0]
    run(con, "SET preserve_insertion_order = false")
    try:
        yield
    finally:
        run(con, f"SET preserve_insertion_order = {'true' if previous else 'false'}")


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _size_in_bytes(text: str) -> float:
    """A DuckDB memory size ("512MB", "1.5 GiB") in bytes; unreadable text counts as no limit."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS | {"": 1}:
        return float("inf")
    return float(match.group(1)) * _UNITS.get(match.group(2).lower(), 1)


def utc_now() -> datetime:
    """Now in UTC, naive (the warehouse stores UTC without a zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """BEGIN ... COMMIT, rolled back on any error."""
    run(con, "BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        run(con, "ROLLBACK")
        raise
    run(con, "COMMIT")


def insert_frame(con, table: str, rows) -> None:
    """Append a frame's rows to `table`, columns matched by name."""
    if rows.height == 0:
        return
    con.register("_insert_rows", rows)
    try:
        run(con, f"INSERT INTO {table} BY NAME SELECT * FROM _insert_rows")
    finally:
        con.unregister("_insert_rows")
