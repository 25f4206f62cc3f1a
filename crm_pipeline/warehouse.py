"""The DuckDB warehouse of a CRM home: opening it and creating its tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from .sql import table_files

WAREHOUSE_FILE = "warehouse.duckdb"


def warehouse_path(home: Path) -> Path:
    """The working warehouse file of a CRM home (readers use the published snapshot instead)."""
    return Path(home) / WAREHOUSE_FILE


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with the project's settings (UTC, two threads)."""
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    return con


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table that does not exist yet, with their comments."""
    for path in table_files():
        con.execute(path.read_text(encoding="utf-8"))


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`schema.table` of every base table, sorted."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def frame(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> pl.DataFrame:
    """Result of a query as a polars frame (DuckDB 2: polars output comes from relations)."""
    return con.sql(query, params=params or {}).pl()


def run(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> list[tuple]:
    """Execute a statement and drain its result (DuckDB 2 keeps an undrained result open, which
    blocks `register` and relations on the connection)."""
    return con.execute(query, params or {}).fetchall()
