"""Read-only queries on the published snapshot (never the working file, so readers never block a run)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from .errors import BadArgument, ReadOnlyViolation
from .home import Home

ALLOWED = {"SELECT", "EXPLAIN"}
LOCKED_DOWN = {
    "enable_external_access": False,  # no ATTACH of other files, COPY TO, reading files, INSTALL
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that can only read the given published file."""
    if not path.exists():
        raise BadArgument(f"{path} does not exist yet: run crm demo or crm run first")
    con = duckdb.connect(str(path), read_only=True, config=dict(LOCKED_DOWN))
    return con


def checked_query(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """The query, refused unless every statement in it only reads."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise BadArgument(f"the query does not parse: {str(exc).splitlines()[0]}") from None
    if not statements:
        raise BadArgument("the query is empty")
    for st in statements:
        kind = st.type.name
        if kind not in ALLOWED:
            raise ReadOnlyViolation(
                f"crm sql is read-only: a {kind} statement is refused; use SELECT on the snapshot"
            )
    return query


def query_snapshot(home: Home, query: str) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a read-only query on the published snapshot."""
    con = open_read_only(home.snapshot)
    try:
        checked_query(con, query)
        try:
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            rows = cursor.fetchall()
        except duckdb.PermissionException as exc:
            raise ReadOnlyViolation(
                f"crm sql is read-only: {str(exc).splitlines()[0]}"
            ) from None
        except duckdb.Error as exc:
            raise BadArgument(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return columns, rows
