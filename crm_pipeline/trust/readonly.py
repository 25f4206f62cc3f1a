"""Read-only queries on the published snapshot (never the working file, so readers never block a run).

Every reader the product opens has bounded memory and a spill folder of its own: DuckDB's
default spill folder for a file is `<file>.tmp` beside it, in the folder publishing writes to,
and by default a query may use most of the machine's memory and disk.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import duckdb

from crm_pipeline.errors import BadArgument, NotPermitted, ReadOnlyViolation
from crm_pipeline.home import Home
from crm_pipeline.tenants import checked_tenant_id
from crm_pipeline.trust.roles import PERSONAL_COLUMNS, Agent, Roles, table_columns, warehouse_tables

ALLOWED = {"SELECT", "EXPLAIN"}
LOCKED_DOWN = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
# Set after the reader's own limits and spill folder: with external access off, DuckDB refuses
# to change the spill folder, and with the configuration locked, anything.
LOCK = (
    "SET enable_external_access = false",  # no ATTACH of other files, COPY TO, reading files, INSTALL
    "SET lock_configuration = true",
)
MEMORY_ENV, TEMP_ENV = "CRM_READER_MEMORY_LIMIT", "CRM_READER_TEMP_LIMIT"
READER_MEMORY_LIMIT = "1GB"  # what a reader may hold in memory; beyond it, DuckDB spills
READER_TEMP_LIMIT = "4GB"  # what a reader may spill; beyond it, the query fails, alone
READER_PREFIX = "crm-reader-"  # then the reader's process id and a random part
_READER_DIR = re.compile(re.escape(READER_PREFIX) + r"(\d+)-[0-9a-f]+")
_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*", re.IGNORECASE)


def open_read_only(path: Path, home: Home | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that can only read the given published file, with a memory limit and a
    spill folder of its own (under the home's `tmp/`, or the system's temporary folder)."""
    if not path.exists():
        raise BadArgument(f"{path} does not exist yet: run crm demo or crm run first")
    memory, spill = _limit(MEMORY_ENV, READER_MEMORY_LIMIT), _limit(TEMP_ENV, READER_TEMP_LIMIT)
    con = duckdb.connect(str(path), read_only=True, config=dict(LOCKED_DOWN))
    try:
        con.execute("SET memory_limit = $v", {"v": memory}).fetchall()
        con.execute("SET temp_directory = $v", {"v": str(reader_temp_dir(home))}).fetchall()
        con.execute("SET max_temp_directory_size = $v", {"v": spill}).fetchall()
        # DuckDB draws a progress bar on stdout during a long query, into crm sql's csv or json
        con.execute("SET enable_progress_bar = false").fetchall()
        for statement in LOCK:
            con.execute(statement).fetchall()
    except BaseException:
        con.close()
        raise
    return con


def _limit(env: str, default: str) -> str:
    value = os.environ.get(env) or default
    if not _SIZE.fullmatch(value):
        raise BadArgument(f"{env}={value!r} is not a size: use e.g. 512MB or 2GB")
    return value.strip()


def reader_temp_dir(home: Home | None) -> Path:
    """A spill folder for this reader alone (DuckDB creates it when a query spills and removes
    it when the connection closes); folders of readers no longer running are removed first."""
    root = home.root / "tmp" if home is not None else None
    if root is None or not _writable(root):
        root = Path(tempfile.gettempdir())
    remove_stale_reader_dirs(root)
    return root / f"{READER_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"


def _writable(root: Path) -> bool:
    try:
        root.mkdir(exist_ok=True)
    except OSError:
        return False
    return root.is_dir() and os.access(root, os.W_OK | os.X_OK)


def remove_stale_reader_dirs(root: Path) -> list[Path]:
    """Spill folders left by readers that were killed (their process is gone)."""
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _READER_DIR.fullmatch(entry.name)
        if match and not process_alive(int(match.group(1))) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process of that id runs (a reused id only delays a clean-up)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


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
    return _query(open_read_only(home.snapshot, home), query)


def query_tenant(home: Home, tenant_id: str, query: str) -> tuple[list[str], list[tuple]]:
    """A read-only query on one tenant's snapshot, which holds that tenant's rows only."""
    return _query(open_read_only(_tenant_extract(home, tenant_id), home), query)


def query_as_agent(home: Home, tenant_id: str, agent_name: str,
                   query: str) -> tuple[list[str], list[tuple]]:
    """A read-only query on the agent's own file for the tenant: the tables its role reads
    (personal columns only with `reads_personal`). A table or column outside the grant is
    refused as not_permitted, naming it and the agent."""
    extract = _tenant_extract(home, tenant_id)
    tenant_id = checked_tenant_id(tenant_id)
    roles = Roles.for_tenant(home, tenant_id)
    agent = roles.agent(agent_name)
    if agent is None:
        raise BadArgument(f"--as {agent_name!r} is not an agent of tenant {tenant_id}: see crm "
                          f"role list --tenant {tenant_id}")
    path = home.agent_file(tenant_id, agent.name)
    if not path.is_file():
        raise BadArgument(f"{path} does not exist yet: it is written by the next run "
                          f"(crm run --tenant {tenant_id}); {extract.name} predates agent files")
    con = open_read_only(path, home)
    _refuse_outside_grant(con, query, agent)
    return _query(con, query, agent)


def _tenant_extract(home: Home, tenant_id: str) -> Path:
    tenant_id = checked_tenant_id(tenant_id)
    path = home.extract(tenant_id)
    if tenant_id not in home.tenant_ids():
        raise BadArgument(f"unknown tenant {tenant_id!r}: {home.root} holds no data for it")
    if not path.is_file():
        raise BadArgument(f"tenant {tenant_id} has no published snapshot yet: run crm run "
                          f"--tenant {tenant_id} first")
    return path


def _not_permitted(agent: Agent, what: str) -> NotPermitted:
    return NotPermitted(f"not_permitted: agent {agent.name} may not read {what} (role "
                        f"{agent.role}); see crm role list")


def _refuse_outside_grant(con: duckdb.DuckDBPyConnection, query: str, agent: Agent) -> None:
    """Name the first warehouse table the query mentions that the agent may not read (the file
    holds none of them anyway: this only makes the refusal say which and why)."""
    try:
        checked_query(con, query)
        names = duckdb.get_table_names(query)
    except duckdb.Error:
        return  # the query itself will fail, and say why
    except BaseException:
        con.close()
        raise
    by_name: dict[str, list[str]] = {}
    for qualified in warehouse_tables():
        by_name.setdefault(qualified.split(".", 1)[1], []).append(qualified)
    granted = {q.split(".", 1)[1] for q in agent.reads}
    for name in sorted(names):
        tables = by_name.get(name.lower())
        if tables and name.lower() not in granted:
            con.close()
            raise _not_permitted(agent, f"table {tables[0]}")


def _column_refusal(exc: duckdb.Error, agent: Agent) -> NotPermitted | None:
    """A column the query named that the file leaves out because it is personal data."""
    match = re.search(r'column (?:with name |named )?"?([A-Za-z_][A-Za-z0-9_]*)"?'
                      r'(?: not found| does not exist|$)', str(exc).splitlines()[0],
                      flags=re.IGNORECASE)
    if not match or match.group(1).lower() not in PERSONAL_COLUMNS or agent.reads_personal:
        return None
    column = match.group(1).lower()
    table = next((t for t in sorted(agent.reads) if column in table_columns(t)), None)
    where = f"column {table}.{column}" if table else f"column {column}"
    return _not_permitted(agent, f"{where} (personal data: reads_personal is false)")


def _query(con: duckdb.DuckDBPyConnection, query: str,
           agent: Agent | None = None) -> tuple[list[str], list[tuple]]:
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
        except duckdb.CatalogException as exc:
            table = re.search(r'Table with name "?([A-Za-z_][A-Za-z0-9_]*)"? does not exist',
                              str(exc))
            if agent is not None and table:
                raise _not_permitted(agent, f"table {table.group(1)}") from None
            raise BadArgument(f"query failed: {str(exc).splitlines()[0]}") from None
        except duckdb.BinderException as exc:
            refusal = _column_refusal(exc, agent) if agent is not None else None
            if refusal is not None:
                raise refusal from None
            raise BadArgument(f"query failed: {str(exc).splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise BadArgument(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return columns, rows
