"""Readers never block the pipeline: `crm sql` is read-only, a reader holding the snapshot open
never stops a run nor sees half of it, and a second writer waits or is refused naming the lock."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv

AS_OF = "2026-11-15"
REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CRM = str(REPO / ".venv" / "bin" / "crm")

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
def counts():
    return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("core.contacts", "core.contact_sources", "audit.changes", "audit.runs")]
print(counts(), flush=True)
sys.stdin.readline()
print(counts(), flush=True)
"""

LOCK_HOLDER = """
import sys, time
from crm_pipeline.home import Home
from crm_pipeline.trust.locking import write_lock
with write_lock(Home.resolve(sys.argv[1]), wait_seconds=0):
    print("held", flush=True)
    if sys.argv[2] == "stdin":
        sys.stdin.readline()
    else:
        time.sleep(float(sys.argv[2]))
"""


def q(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(start: int, n: int) -> list[str]:
    return [f"{i},First{i},Last{i},person{i}@example.com,,Co {i},Role,10,Boston,US,2024-01-02 08:00"
            for i in range(start, start + n)]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("readers")
    home = d / "home"
    f = write_csv(d / "a.csv", HUBSPOT_HEADER, rows(1, 4))
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


ALLOWED = ["select count(*) AS n from core.contacts", "explain select 1",
           "with x as (select 1 AS a) select a from x"]
REFUSED = [
    "delete from core.contacts",
    "update core.contacts set email = null",
    "insert into core.tenants values ('x', null, 'US', 'USD', null, now())",
    "create table x(a int)",
    "drop table core.contacts",
    "attach '{tmp}/other.duckdb' as o",
    "copy core.contacts to '{tmp}/x.csv'",
    "copy (select 1) to '{tmp}/y.csv'",
    "export database '{tmp}/exported'",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "pragma enable_profiling",
    "checkpoint",
    "select * from read_csv('{tmp}/../../../../etc/passwd')",
    "select 1; delete from core.contacts",
    "explain analyze copy (select 1) to '{tmp}/z.csv'",
]


@pytest.mark.parametrize("query", ALLOWED)
def test_crm_sql_reads(home, capsys, query):
    code, out, _ = crm(home, "sql", query, "--format", "csv", capsys=capsys)
    assert code == 0 and out.strip()


@pytest.mark.parametrize("query", REFUSED)
def test_crm_sql_refuses_every_write_with_one_line_and_changes_nothing(home, tmp_path, capsys, query):
    snapshot = home / "published" / "warehouse.duckdb"
    before = sha(snapshot)
    code, out, err = crm(home, "sql", query.format(tmp=tmp_path), capsys=capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("crm: ")
    assert sha(snapshot) == before
    assert list(tmp_path.iterdir()) == []
    assert q(shard(home), "SELECT count(*) FROM core.contacts") == [(4,)]


def _start(args: list[str], **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=REPO, **kw)


@pytest.mark.parametrize(
    "modes, added, total",
    [(("ro", "ro"), 3, 7),  # two analysts with read-only connections (crm sql, a notebook)
     (("rw",), 2, 9)],  # a DuckDB prompt, which opens files read-write by default
)
def test_readers_holding_the_snapshot_never_stop_a_run_nor_see_half_of_it(home, tmp_path, capsys,
                                                                          modes, added, total):
    snapshot = str(home / "published" / "warehouse.duckdb")
    readers = [_start([PYTHON, "-c", READER, snapshot, mode]) for mode in modes]
    try:
        first = [r.stdout.readline().strip() for r in readers]
        assert len(set(first)) == 1 and first[0].startswith(f"[{total - added}, ")
        f = write_csv(tmp_path / "b.csv", HUBSPOT_HEADER, rows(10 * total, added))
        code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", "--as-of", AS_OF,
                           capsys=capsys)
        assert code == 0, err
        later = [r.communicate("\n", timeout=60)[0].strip() for r in readers]
    finally:
        for r in readers:
            r.kill()
    assert later == first  # each reader keeps the whole old snapshot, never a part of the run
    code, out, _ = crm(home, "sql", "select count(*) AS n from core.contacts", "--format", "csv",
                       capsys=capsys)
    assert out.splitlines() == ["n", str(total)]


def test_a_second_writer_is_refused_naming_the_lock_and_changes_nothing(home, tmp_path, capsys,
                                                                      monkeypatch):
    holder = _start([PYTHON, "-c", LOCK_HOLDER, str(home), "stdin"])
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("CRM_LOCK_WAIT_SECONDS", "0.3")
        runs = q(shard(home), "SELECT count(*) FROM audit.runs")
        f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, rows(20, 2))
        for args in (["run", "--as-of", AS_OF], ["run", "--tenant", "t1"],
                     ["import", "contacts", str(f), "--tenant", "t1"],
                     ["gdpr", "erase", "--tenant", "t1", "--contact", "c_x", "--actor", "dpo"]):
            code, _, err = crm(home, *args, capsys=capsys)
            assert code == 2, args
            assert "write.lock" in err and f"pid {holder.pid}" in err and len(err.strip().splitlines()) == 1
        assert q(shard(home), "SELECT count(*) FROM audit.runs") == runs
        assert q(shard(home), "SELECT count(*) FROM raw.imports WHERE file_name = 'c.csv'") == [(0,)]
    finally:
        holder.communicate("\n", timeout=30)


def test_a_second_writer_waits_for_the_first_to_finish(home, capsys, monkeypatch):
    holder = _start([PYTHON, "-c", LOCK_HOLDER, str(home), "1.0"])
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("CRM_LOCK_WAIT_SECONDS", "600")
        code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
        assert code == 0, err
    finally:
        holder.wait(timeout=60)
    assert holder.returncode == 0


def test_two_crm_runs_at_once_never_corrupt_the_home(home, capsys):
    other = subprocess.Popen([CRM, "--home", str(home), "run", "--as-of", AS_OF], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
        _, other_err = other.communicate(timeout=600)
    finally:
        other.kill()
    for status, message in ((code, err), (other.returncode, other_err)):
        assert status == 0 or (status == 2 and "write.lock" in message), message
    assert crm(home, "audit", "verify", capsys=capsys)[0] == 0
    assert q(shard(home), "SELECT count(*), count(DISTINCT contact_id) FROM core.contacts") == [
        (9, 9)]
    assert q(home / "published" / "warehouse.duckdb", "SELECT count(*) FROM core.contacts") == [(9,)]
    assert q(shard(home), "SELECT count(*) FROM audit.runs WHERE status <> 'success'") == [(0,)]
