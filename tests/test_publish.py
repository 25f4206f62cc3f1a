"""Publishing: snapshots never carry an erasure's freed pages; an extract holds one tenant's
rows only, in every table, is replaced whole, and is the snapshot itself in a one-tenant home."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.home import Home
from crm_pipeline.publish import EXTRACT_SCHEMAS, EXTRACT_SKIP, publish_extract, publish_snapshot
from crm_pipeline.warehouse import connect, create_tables, run

NEEDLE = "ZXQJ-erased-subject@victim.example"  # unlike the other rows
TRACE = b"ZXQJ-erased"  # DuckDB compresses strings: this piece of the value is stored as written

# A value for each column type that may not be NULL (the warehouse declares no other constraint).
_VALUES = {"VARCHAR": "'v'", "BIGINT": "1", "INTEGER": "1", "DOUBLE": "1.5", "BOOLEAN": "true",
           "DATE": "DATE '2026-01-01'", "TIMESTAMP": "TIMESTAMP '2026-01-01 12:00'",
           "JSON": "'{}'", "VARCHAR[]": "['v']"}


def _home_with_a_deleted_value(tmp_path) -> tuple[Home, object]:
    """A working file whose freed pages still hold a deleted value (checked)."""
    home = Home.resolve(tmp_path / "home").ensure()
    con = connect(home.warehouse)
    run(con, "CREATE TABLE t (tenant_id VARCHAR, v VARCHAR)")
    run(con, "INSERT INTO t SELECT 't1', 'person' || range || '@example.org' FROM range(20000)")
    run(con, f"INSERT INTO t VALUES ('t1', '{NEEDLE}')")
    run(con, "CHECKPOINT")
    run(con, "DELETE FROM t WHERE v = $v", {"v": NEEDLE})
    run(con, "CHECKPOINT")
    assert TRACE in home.warehouse.read_bytes()  # DuckDB does not zero freed pages
    return home, con


def test_while_an_erasure_awaits_compaction_the_snapshot_is_a_logical_copy(tmp_path):
    home, con = _home_with_a_deleted_value(tmp_path)
    home.compaction_pending.touch()
    path = publish_snapshot(con, home)
    con.close()
    assert TRACE not in path.read_bytes()
    snap = connect(path, read_only=True)
    assert run(snap, "SELECT count(*) FROM t") == [(20000,)]
    snap.close()


def test_otherwise_the_snapshot_is_the_checkpointed_file_with_the_same_rows(tmp_path):
    home, con = _home_with_a_deleted_value(tmp_path)
    run(con, "INSERT INTO t VALUES ('t1', 'uncommitted to disk until checkpoint')")
    path = publish_snapshot(con, home)
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


def _warehouse_of(tmp_path, tenants: tuple[str, ...]) -> tuple[Home, duckdb.DuckDBPyConnection]:
    home = Home.resolve(tmp_path / "home").ensure()
    con = connect(home.warehouse)
    create_tables(con)
    run(con, "BEGIN")  # one commit, not one per row
    for t in tenants:
        _add_row_to_every_table(con, t)
    run(con, "COMMIT")
    return home, con


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


def test_each_extract_holds_only_its_tenants_rows_in_every_table(tmp_path):
    home, con = _warehouse_of(tmp_path, ("t1", "t2"))
    _add_row_to_every_table(con, "t2")  # t2 has two of everything (where keys allow)
    publish_snapshot(con, home)
    paths = {t: publish_extract(con, home, t) for t in ("t1", "t2")}
    expected = sorted(
        t for (t,) in run(con, "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                          "WHERE schema_name IN $s", {"s": list(EXTRACT_SCHEMAS)})
        if t not in EXTRACT_SKIP
    )
    counts = {t: run(con, f"SELECT count(*) FROM {t} WHERE tenant_id = 't2'")[0][0]
              for t in expected}
    con.close()
    for tenant, path in paths.items():
        tables = _tables(path)
        assert sorted(tables) == expected  # no raw activity lines, no suppression list
        for table, rows in tables.items():
            n = 1 if tenant == "t1" else counts[table]
            assert rows == [(tenant, n)], table
    assert paths["t1"].stat().st_ino != home.snapshot.stat().st_ino


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owners=st.lists(st.sampled_from(["a", "b", "c"]), max_size=40))
def test_whatever_the_mix_of_tenants_an_extract_counts_exactly_its_own_rows(tmp_path_factory,
                                                                            owners):
    home = Home.resolve(tmp_path_factory.mktemp("mix") / "home").ensure()
    con = connect(home.warehouse)
    run(con, "CREATE SCHEMA core")
    run(con, "CREATE TABLE core.activities (tenant_id VARCHAR, activity_id VARCHAR)")
    run(con, "INSERT INTO core.activities SELECT o, 'a' || i "
        "FROM unnest($o) WITH ORDINALITY u(o, i)", {"o": owners})
    publish_snapshot(con, home)
    for tenant in ("a", "b", "c"):
        path = publish_extract(con, home, tenant)
        activities = _tables(path)["core.activities"]
        assert activities == ([(tenant, owners.count(tenant))] if tenant in owners else [])
    con.close()


def test_an_extract_keeps_the_comments_that_document_the_marts(tmp_path):
    home, con = _warehouse_of(tmp_path, ("t1", "t2"))
    ours = ("SELECT comment FROM duckdb_columns() WHERE table_name = 'engagement' "
            "ORDER BY column_index")
    expected = run(con, ours)
    path = publish_extract(con, home, "t1")
    con.close()
    extract = connect(path, read_only=True)
    assert run(extract, ours) == expected
    assert any(c for (c,) in expected)
    extract.close()


def test_in_a_home_of_one_tenant_the_extract_is_the_snapshot_just_published(tmp_path):
    home, con = _warehouse_of(tmp_path, ("t1",))
    publish_snapshot(con, home)
    path = publish_extract(con, home, "t1")
    con.close()
    assert path.stat().st_ino == home.snapshot.stat().st_ino  # one file, two names
    assert all(rows == [("t1", 1)] for rows in _tables(path).values())


def test_a_home_of_one_tenant_gives_no_extract_of_another(tmp_path):
    home, con = _warehouse_of(tmp_path, ("t1",))
    publish_snapshot(con, home)
    path = publish_extract(con, home, "t2")
    con.close()
    assert path.stat().st_ino != home.snapshot.stat().st_ino
    assert all(rows == [] for rows in _tables(path).values())


def test_a_change_after_the_snapshot_is_in_the_extract_all_the_same(tmp_path):
    for how in ("in the log", "checkpointed"):
        home, con = _warehouse_of(tmp_path / how, ("t1",))
        publish_snapshot(con, home)
        run(con, "INSERT INTO core.contact_aliases VALUES ('t1', 'later', 'c', now(), NULL)")
        if how == "checkpointed":
            run(con, "CHECKPOINT")
        path = publish_extract(con, home, "t1")
        con.close()
        assert path.stat().st_ino != home.snapshot.stat().st_ino, how
        assert _tables(path)["core.contact_aliases"] == [("t1", 2)], how
        assert _tables(home.snapshot)["core.contact_aliases"] == [("t1", 1)], how


def test_a_reader_of_the_previous_extract_keeps_it_whole_while_it_is_replaced(tmp_path):
    home, con = _warehouse_of(tmp_path, ("t1", "t2"))
    path = publish_extract(con, home, "t1")
    reader = connect(path, read_only=True)
    _add_row_to_every_table(con, "t1")
    assert publish_extract(con, home, "t1") == path
    con.close()
    assert run(reader, "SELECT count(*) FROM core.activities") == [(1,)]
    reader.close()
    assert _tables(path)["core.activities"] == [("t1", 2)]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_an_extract_copied_table_by_table_carries_no_freed_page(tmp_path):
    home, con = _home_with_a_deleted_value(tmp_path)
    run(con, "CREATE SCHEMA core")
    run(con, "CREATE TABLE core.t AS SELECT * FROM t")
    run(con, "INSERT INTO core.t VALUES ('t2', 'another tenant')")
    publish_snapshot(con, home)
    path = publish_extract(con, home, "t1")
    con.close()
    assert path.stat().st_ino != home.snapshot.stat().st_ino
    assert TRACE not in path.read_bytes()
    assert _tables(path) == {"core.t": [("t1", 20000)]}


def test_while_an_erasure_awaits_compaction_the_extract_carries_no_freed_page_either(tmp_path):
    home, con = _home_with_a_deleted_value(tmp_path)
    home.compaction_pending.touch()
    publish_snapshot(con, home)
    path = publish_extract(con, home, "t1")
    con.close()
    assert path.stat().st_ino == home.snapshot.stat().st_ino  # one tenant: the logical snapshot
    assert TRACE not in path.read_bytes()
