"""Publishing: a snapshot never carries the freed pages of an erasure that has not been compacted."""

from __future__ import annotations

from crm_pipeline.home import Home
from crm_pipeline.publish import publish_snapshot
from crm_pipeline.warehouse import connect, run

NEEDLE = "ZXQJ-erased-subject@victim.example"  # unlike the other rows
TRACE = b"ZXQJ-erased"  # DuckDB compresses strings: this piece of the value is stored as written


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
