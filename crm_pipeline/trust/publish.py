"""Publishing: each tenant's read-only snapshot (its extract), each agent's file of what it may
read, and the analysts' all-tenant snapshot.

Readers never open a working shard (DuckDB admits one writer, and a reader would block it). Each
file is written under a temporary name and renamed into place, so a reader sees the previous
snapshot or the new one, never half of a run. A tenant's snapshot is a copy of its shard, which
holds that tenant's rows only; the all-tenant snapshot is made from the tenants' snapshots.

An agent's file (`published/tenants/<T>/agents/<agent>.duckdb`) holds *copies* of the tables
its role reads, with only the columns it may see: no views (a view would name the tenant's
snapshot, and whoever opens the file could follow it), no other table, and no freed page of
anything else (a fresh file, written table by table). Agents with the same grant share one
file's bytes (hard links), so fran and penny cost one copy. An agent whose role says
`own_rows_only` gets, of the tables with a `step_owner` column (marts.work_queue,
marts.work_queue_steps), only the rows of steps it (by name or role) owns.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb

from crm_pipeline.home import Home
from crm_pipeline.progress import report
from crm_pipeline.sql import quote_ident, quote_literal
from crm_pipeline.trust.readonly import process_alive, remove_stale_reader_dirs
from crm_pipeline.trust.roles import Agent, Roles
from crm_pipeline.warehouse import run, transaction

# Tables are copied two at a time: DuckDB writes one table on about one core.
COPY_WORKERS = 2
SCHEMAS = ("raw", "staging", "quarantine", "core", "marts", "audit", "gdpr")
TEMP_PREFIX = ".publish-"  # then the publishing process's id, a random part and .duckdb
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[0-9a-f]+\.duckdb(?:\.wal)?")


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


def _swap(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _discard(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _source_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file of the connection's own database (the working shard)."""
    query = "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    return run(con, query)[0][0]


def publish_tenant(con: duckdb.DuckDBPyConnection, home: Home, tenant_id: str) -> Path:
    """The tenant's snapshot (`published/tenants/<T>.duckdb`), copied from its shard, atomically.

    Normally a checkpoint leaves the shard whole with an empty WAL and its bytes are copied (the
    file system's fast path; the tenant's write lock is held, so nothing writes meanwhile).
    Freed pages travel with the bytes, which is harmless (the audit trail holds earlier values
    anyway) except after an erasure whose compaction has not finished: then the snapshot is a
    table-by-table copy, which carries no freed pages.
    """
    remove_stale_reader_dirs(home.root / "tmp")  # a killed reader's spill: no one else removes it
    final = home.extract(tenant_id)
    tmp = _fresh(final)
    try:
        if home.compaction_pending(tenant_id).exists():
            db = run(con, "SELECT current_database()")[0][0]
            run(con, "ATTACH $path AS _snapshot", {"path": str(tmp)})
            try:
                run(con, f"COPY FROM DATABASE {quote_ident(db)} TO _snapshot")
            finally:
                run(con, "DETACH _snapshot")
        else:
            run(con, "CHECKPOINT")
            shutil.copyfile(_source_path(con), tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        report("publish: snapshot written")  # the new file is whole; readers still see the old
        _swap(tmp, final)
    except BaseException:
        _discard(tmp)
        raise
    publish_agent_files(home, tenant_id)
    return final


def publish_agent_files(home: Home, tenant_id: str, roles: Roles | None = None) -> list[Path]:
    """Every agent's file for the tenant, from its snapshot: the tables its role reads, the
    columns it may see. Files of agents no longer in the registry are removed."""
    roles = roles or Roles.for_tenant(home, tenant_id)
    folder = home.agents_dir(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple, list[Agent]] = {}
    for agent in roles.agents.values():
        groups.setdefault((agent.reads, agent.reads_personal, agent.row_owners()), []).append(agent)
    written = []
    built = {key: _fresh(home.agent_file(tenant_id, members[0].name))
             for key, members in groups.items()}
    try:
        # Each file is a database of its own: two are written at a time, one per core.
        with ThreadPoolExecutor(COPY_WORKERS) as pool:
            list(pool.map(lambda key: _build_agent_file(home.extract(tenant_id), built[key],
                                                        groups[key][0]), list(groups)))
        for key, members in groups.items():
            for agent in members:
                final = home.agent_file(tenant_id, agent.name)
                tmp = _fresh(final)
                try:
                    os.link(built[key], tmp)
                except OSError:  # a file system without hard links
                    shutil.copyfile(built[key], tmp)
                _swap(tmp, final)
                written.append(final)
    finally:
        for path in built.values():
            _discard(path)
    keep = {p.name for p in written}
    for stale in folder.glob("*.duckdb"):
        if stale.name not in keep and not stale.name.startswith(TEMP_PREFIX):
            stale.unlink(missing_ok=True)
    report(f"publish: {len(written)} agent files")
    return written


def _build_agent_file(extract: Path, target: Path, agent: Agent) -> None:
    """Copy the granted tables (allowed columns only, with their comments) into a new file."""
    con = duckdb.connect(str(target), config={"threads": 1, "preserve_insertion_order": False})
    try:
        run(con, "ATTACH $path AS _src (READ_ONLY)", {"path": str(extract)})
        columns = run(con, """
            SELECT schema_name, table_name, list(column_name ORDER BY column_index)
            FROM duckdb_columns() WHERE database_name = '_src' GROUP BY ALL ORDER BY 1, 2""")
        comments = run(con, """
            SELECT schema_name, table_name, NULL, comment FROM duckdb_tables()
            WHERE database_name = '_src' AND comment IS NOT NULL
            UNION ALL SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()
            WHERE database_name = '_src' AND comment IS NOT NULL""")
        run(con, "BEGIN TRANSACTION")  # one commit: a commit per statement costs a sync each
        for schema, table, names in columns:
            if f"{schema}.{table}" not in agent.reads:
                continue
            visible = [c for c in names if agent.may_read_column(c)]
            ref = f"{quote_ident(schema)}.{quote_ident(table)}"
            run(con, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            cols = ", ".join(quote_ident(c) for c in visible)
            owners = agent.row_owners()
            if owners is not None and "step_owner" in names:  # its own steps only
                run(con, f"CREATE TABLE {ref} AS SELECT {cols} FROM _src.{ref} "
                         "WHERE lower(step_owner) IN (SELECT unnest($owners::VARCHAR[]))",
                    {"owners": list(owners)})
            else:
                run(con, f"CREATE TABLE {ref} AS SELECT {cols} FROM _src.{ref}")
            for s_name, t_name, column, comment in comments:
                if (s_name, t_name) != (schema, table) or (
                        column is not None and column not in visible):
                    continue
                what = f"TABLE {ref}" if column is None else f"COLUMN {ref}.{quote_ident(column)}"
                run(con, f"COMMENT ON {what} IS {quote_literal(comment)}")
        run(con, "COMMIT")
        run(con, "DETACH _src")
        run(con, "CHECKPOINT")
    finally:
        con.close()
    with open(target, "rb+") as f:
        os.fsync(f.fileno())


@contextmanager
def _all_tenants_lock(home: Home):
    """Runs of several tenants may finish together: one at a time writes the all-tenant file."""
    home.published_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(home.published_dir / ".all-tenants.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def published_tenants(home: Home) -> list[str]:
    return [t for t in home.tenant_ids() if home.extract(t).is_file()]


def publish_all_tenants(home: Home) -> Path:
    """The analysts' snapshot (`published/warehouse.duckdb`): every tenant's tables under the
    same names, made from the tenants' snapshots (never their working shards, which runs of other
    tenants may be writing). A home of one tenant links the tenant's snapshot (no copy)."""
    with _all_tenants_lock(home):
        tenants = published_tenants(home)
        tmp = _fresh(home.snapshot)
        try:
            if len(tenants) == 1:
                try:
                    os.link(home.extract(tenants[0]), tmp)
                except OSError:  # a file system without hard links
                    shutil.copyfile(home.extract(tenants[0]), tmp)
            else:
                _merge_snapshots(home, tenants, tmp)
            report("publish: all tenants")
            _swap(tmp, home.snapshot)
        except BaseException:
            _discard(tmp)
            raise
    return home.snapshot


def _merge_snapshots(home: Home, tenants: list[str], tmp: Path) -> None:
    con = duckdb.connect(str(tmp))
    try:
        aliases = {}
        for i, t in enumerate(tenants):
            aliases[t] = f"_t{i}"
            run(con, f"ATTACH $path AS _t{i} (READ_ONLY)", {"path": str(home.extract(t))})
        tables = run(con, """
            SELECT schema_name, table_name, list(database_name ORDER BY database_name)
            FROM duckdb_tables() WHERE database_name LIKE '\\_t%' ESCAPE '\\'
            GROUP BY ALL ORDER BY max(estimated_size) DESC, 1, 2""")
        for schema in sorted({s for s, _, _ in tables} | set(SCHEMAS)):
            run(con, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        queue = iter(tables)  # largest first: each worker takes the next when done

        def copy(_: int) -> None:
            cursor = con.cursor()
            try:
                for schema, name, databases in queue:
                    _merge_table(cursor, schema, name, databases)
            finally:
                cursor.close()

        with ThreadPoolExecutor(COPY_WORKERS) as pool:
            list(pool.map(copy, range(COPY_WORKERS)))
        first = {(schema, name): databases[0] for schema, name, databases in tables}
        with transaction(con):  # one commit for all (each its own: most of a small merge's time)
            for schema, name, column, comment in _comments(con, first):
                ref = f"{quote_ident(schema)}.{quote_ident(name)}"
                target = f"TABLE {ref}" if column is None else f"COLUMN {ref}.{quote_ident(column)}"
                run(con, f"COMMENT ON {target} IS {quote_literal(comment)}")
        for alias in aliases.values():
            run(con, f"DETACH {alias}")
        run(con, "CHECKPOINT")
    finally:
        con.close()


def _merge_table(con, schema: str, name: str, databases: list[str]) -> None:
    """One table of every tenant."""
    ref = f"{quote_ident(schema)}.{quote_ident(name)}"
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {d}.{ref}" for d in databases)
    run(con, f"CREATE TABLE {ref} AS {union}")


def _comments(con, first: dict[tuple[str, str], str]) -> list[tuple]:
    """(schema, table, column or None, comment) of every merged table, as the first tenant's
    snapshot holding the table has them."""
    rows = run(con, """
        SELECT database_name, schema_name, table_name, NULL, comment FROM duckdb_tables()
        WHERE database_name LIKE '\\_t%' ESCAPE '\\' AND comment IS NOT NULL
        UNION ALL
        SELECT database_name, schema_name, table_name, column_name, comment FROM duckdb_columns()
        WHERE database_name LIKE '\\_t%' ESCAPE '\\' AND comment IS NOT NULL""")
    return [(s, t, c, comment) for db, s, t, c, comment in rows if first.get((s, t)) == db]
