"""Publishing: a tenant's snapshot is a copy of its shard and never carries an erasure's freed
pages; the analysts' snapshot holds every tenant's rows under the same names, with the comments,
and is replaced whole."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.home import Home
from crm_pipeline.trust.publish import publish_all_tenants, publish_tenant
from crm_pipeline.warehouse import connect, create_tables, run

NEEDLE = "ZXQJ-erased-subject@victim.example"  # unlike the other rows
TRACE = b"ZXQJ-erased"  # DuckDB compresses strings: this piece of the value is stored as written

# A value for each column type that may not be NULL (the warehouse declares no other constraint).
_VALUES = {"VARCHAR": "'v'", "BIGINT": "1", "INTEGER": "1", "DOUBLE": "1.5", "BOOLEAN": "true",
           "DATE": "DATE '2026-01-01'", "TIMESTAMP": "TIMESTAMP '2026-01-01 12:00'",
           "JSON": "'{}'", "VARCHAR[]": "['v']", "DECIMAL(18,2)": "1.25"}


def _shard(home: Home, tenant: str) -> duckdb.DuckDBPyConnection:
    home.shard_dir(tenant).mkdir(parents=True, exist_ok=True)
    return connect(home.shard(tenant))


def _home_with_a_deleted_value(tmp_path) -> tuple[Home, object]:
    """A shard whose freed pages still hold a deleted value (checked)."""
    home = Home.resolve(tmp_path / "home").ensure()
    con = _shard(home, "t1")
    run(con, "CREATE TABLE t (tenant_id VARCHAR, v VARCHAR)")
    run(con, "INSERT INTO t SELECT 't1', 'person' || range || '@example.org' FROM range(20000)")
    run(con, f"INSERT INTO t VALUES ('t1', '{NEEDLE}')")
    run(con, "CHECKPOINT")
    run(con, "DELETE FROM t WHERE v = $v", {"v": NEEDLE})
    run(con, "CHECKPOINT")
    assert TRACE in home.shard("t1").read_bytes()  # DuckDB does not zero freed pages
    return home, con


def test_while_an_erasure_awaits_compaction_the_snapshot_is_a_logical_copy(tmp_path):
    home, con = _home_with_a_deleted_value(tmp_path)
    home.compaction_pending("t1").touch()
    path = publish_tenant(con, home, "t1")
    con.close()
    assert TRACE not in path.read_bytes()
    snap = connect(path, read_only=True)
    assert run(snap, "SELECT count(*) FROM t") == [(20000,)]
    snap.close()
    all_tenants = publish_all_tenants(home)  # one tenant: its snapshot, linked
    assert TRACE not in all_tenants.read_bytes()


def test_otherwise_the_snapshot_is_the_checkpointed_shard_with_the_same_rows(tmp_path):
    home, con = _home_with_a_deleted_value(tmp_path)
    run(con, "INSERT INTO t VALUES ('t1', 'uncommitted to disk until checkpoint')")
    path = publish_tenant(con, home, "t1")
    con.close()
    snap = connect(path, read_only=True)
    assert run(snap, "SELECT count(*) FROM t WHERE v LIKE 'uncommitted%'") == [(1,)]
    assert run(snap, "SELECT count(*) FROM t") == [(20001,)]
    snap.close()
    assert not path.with_name(path.name + ".wal").exists()


def _add_row_to_every_table(con, tenant_id: str) -> None:
    """One row of the tenant in every table of the warehouse, whatever its columns (none where
    a primary key already holds that row)."""
    columns: dict[str, list[str]] = {}
    for table, column, dtype, nullable in run(
        con, "SELECT schema_name || '.' || table_name, column_name, data_type, is_nullable "
        "FROM duckdb_columns() WHERE database_name = current_database() ORDER BY column_index"
    ):
        value = "$t" if column == "tenant_id" else "NULL" if nullable else _VALUES[dtype]
        columns.setdefault(table, []).append(f'{value} AS "{column}"')
    for table, values in columns.items():
        try:
            run(con, f"INSERT INTO {table} BY NAME SELECT {', '.join(values)}", {"t": tenant_id})
        except duckdb.ConstraintException:
            pass


def _published_home(tmp_path, rows: dict[str, int]) -> Home:
    """A home whose tenants have `rows[t]` rows in every table, each tenant published."""
    home = Home.resolve(tmp_path / "home").ensure()
    for tenant, n in rows.items():
        con = _shard(home, tenant)
        create_tables(con)
        run(con, "BEGIN")  # one commit, not one per row
        _add_row_to_every_table(con, tenant)
        run(con, "COMMIT")
        for _ in range(n - 1):  # more of everything, where keys allow (outside a transaction)
            _add_row_to_every_table(con, tenant)
        publish_tenant(con, home, tenant)
        con.close()
    return home


def _tables(path) -> dict[str, list[tuple]]:
    """Each table of a published file: its tenant ids with their row counts."""
    con = connect(path, read_only=True)
    try:
        names = "SELECT schema_name || '.' || table_name FROM duckdb_tables()"
        tables = [r[0] for r in run(con, names)]
        return {t: run(con, f"SELECT tenant_id, count(*) FROM {t} GROUP BY 1 ORDER BY 1")
                for t in tables}
    finally:
        con.close()


def test_each_tenants_snapshot_holds_its_rows_and_the_analysts_snapshot_all_of_them(tmp_path):
    home = _published_home(tmp_path, {"t1": 1, "t2": 2})
    mine = {t: _tables(home.extract(t)) for t in ("t1", "t2")}
    assert all(rows in ([("t1", 1)],) for rows in mine["t1"].values())
    assert all(rows[0][0] == "t2" for rows in mine["t2"].values())
    merged = _tables(publish_all_tenants(home))
    assert sorted(merged) == sorted(mine["t1"]) == sorted(mine["t2"])  # every table, same names
    for table, rows in merged.items():
        assert rows == sorted(mine["t1"][table] + mine["t2"][table]), table


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owners=st.lists(st.sampled_from(["a", "b", "c"]), max_size=40))
def test_whatever_the_mix_the_analysts_snapshot_counts_each_tenants_rows(tmp_path_factory, owners):
    home = Home.resolve(tmp_path_factory.mktemp("mix") / "home").ensure()
    for tenant in sorted(set(owners)):
        con = _shard(home, tenant)
        run(con, "CREATE SCHEMA core")
        run(con, "CREATE TABLE core.activities (tenant_id VARCHAR, activity_id VARCHAR)")
        run(con, "INSERT INTO core.activities SELECT $t, 'a' || range FROM range($n)",
            {"t": tenant, "n": owners.count(tenant)})
        publish_tenant(con, home, tenant)
        con.close()
    if not owners:
        return
    activities = _tables(publish_all_tenants(home))["core.activities"]
    assert activities == sorted((t, owners.count(t)) for t in set(owners))


def test_the_analysts_snapshot_keeps_the_comments_that_document_the_marts(tmp_path):
    home = _published_home(tmp_path, {"t1": 1, "t2": 1})
    ours = ("SELECT comment FROM duckdb_columns() WHERE table_name = 'engagement' "
            "ORDER BY column_index")
    reference = connect(":memory:")
    create_tables(reference)
    expected = run(reference, ours)
    reference.close()
    merged = connect(publish_all_tenants(home), read_only=True)
    assert run(merged, ours) == expected
    assert any(c for (c,) in expected)
    merged.close()


def test_in_a_home_of_one_tenant_the_analysts_snapshot_is_the_tenants_snapshot(tmp_path):
    home = _published_home(tmp_path, {"t1": 1})
    path = publish_all_tenants(home)
    assert path.stat().st_ino == home.extract("t1").stat().st_ino  # one file, two names
    assert all(rows == [("t1", 1)] for rows in _tables(path).values())


def test_a_reader_of_the_previous_snapshot_keeps_it_whole_while_it_is_replaced(tmp_path):
    home = _published_home(tmp_path, {"t1": 1, "t2": 1})
    path = publish_all_tenants(home)
    reader = connect(path, read_only=True)
    con = connect(home.shard("t1"))
    _add_row_to_every_table(con, "t1")
    publish_tenant(con, home, "t1")
    con.close()
    assert publish_all_tenants(home) == path
    assert run(reader, "SELECT count(*) FROM core.activities") == [(2,)]
    reader.close()
    assert _tables(path)["core.activities"] == [("t1", 2), ("t2", 1)]
    assert not [p for p in path.parent.iterdir() if ".publish-" in p.name]  # no temporary left
