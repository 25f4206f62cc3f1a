"""One tenant, one shard, one partition: tenants' files apart, their runs side by side, one
tenant's failure its own, and a home from before shards split without losing a row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, working, write_csv, write_jsonl

from crm_pipeline.home import Home
from crm_pipeline.trust.migrate import migrate_home

AS_OF = "2026-11-15"
CRM = str(Path(sys.executable).with_name("crm"))
REPO = Path(__file__).resolve().parent.parent
ROWS = {
    "t1": ["101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
           "102,ANN,LEE,Ann.Lee@Example.com,,ACME,CEO,250,Boston,US,2024-05-01 10:00",
           "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00"],
    "t2": ["201,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
           "202,Cy,Twombly,cy@example.com,,Gamma,Painter,5,Lexington,US,2024-02-02 08:00"],
}


def _files(d: Path) -> dict[str, Path]:
    return {t: write_csv(d / f"{t}.csv", HUBSPOT_HEADER, rows) for t, rows in ROWS.items()}


def _tables(path: Path) -> dict[str, list]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {n: sorted(map(repr, con.execute(f"SELECT * FROM {n}").fetchall())) for n in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    home = d / "home"
    for t, f in _files(d).items():
        assert crm(home, "import", "contacts", f, "--tenant", t, "--no-run")[0] == 0
    acts = write_jsonl(d / "a.jsonl", [
        {"activity_id": "a1", "tenant_id": "t1", "type": "call",
         "occurred_at": "2026-11-10T10:00:00Z", "email": "ann.lee@example.com", "actor": "jane"}])
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    return home


def test_each_tenant_is_a_file_of_its_own_holding_only_its_rows(home):
    assert Home.resolve(home).tenant_ids() == ["t1", "t2"]
    for t in ("t1", "t2"):
        for table, rows in _tables(shard(home, t)).items():
            con = duckdb.connect(str(shard(home, t)), read_only=True)
            others = con.execute(f"SELECT count(*) FROM {table} WHERE tenant_id <> $t",
                                 {"t": t}).fetchone()[0]
            con.close()
            assert others == 0, table
    assert not (home / "warehouse.duckdb").exists()


def test_the_same_person_in_two_tenants_stays_two_contacts(home):
    con = working(home)
    rows = con.execute("SELECT tenant_id, count(*) FROM core.contacts "
                       "WHERE email = 'ann.lee@example.com' GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    assert rows == [("t1", 1), ("t2", 1)]


def test_the_analysts_snapshot_shows_every_tenant_under_the_same_names(home, capsys):
    code, out, err = crm(home, "sql", "select tenant_id, count(*) as n from core.contacts "
                         "group by 1 order by 1", "--format", "csv", capsys=capsys)
    assert code == 0, err
    assert out.split() == ["tenant_id,n", "t1,2", "t2,2"]
    published = _tables(home / "published" / "warehouse.duckdb")
    assert set(published) == set(_tables(shard(home, "t1")))


def test_each_tenants_run_is_a_partition_of_its_own_in_dagster(home):
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        assert sorted(instance.get_dynamic_partitions("tenants")) == ["t1", "t2"]
        tags = [r.tags.get("dagster/partition") for r in instance.get_runs()]
    assert sorted(tags) == ["t1", "t2"]


def _popen(home: Path, *args: str, **env) -> subprocess.Popen:
    return subprocess.Popen([CRM, "--home", str(home), *args], cwd=REPO,
                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_tenants_imports_at_once_both_succeed(home, tmp_path):
    files = {t: write_csv(tmp_path / f"{t}.csv", HUBSPOT_HEADER,
                          [f"9{t[-1]}1,New,Person{t},new.{t}@example.com,,,,,,US,2024-01-01 10:00"])
             for t in ("t1", "t2")}
    procs = {t: _popen(home, "import", "contacts", str(f), "--tenant", t, "--as-of", AS_OF)
             for t, f in files.items()}
    results = {t: (p.wait(timeout=600), p.stderr.read()) for t, p in procs.items()}
    assert all(code == 0 for code, _ in results.values()), results
    con = working(home)
    assert con.execute("SELECT tenant_id FROM core.contacts WHERE email LIKE 'new.%' "
                       "ORDER BY 1").fetchall() == [("t1",), ("t2",)]
    con.close()


def test_a_killed_tenants_run_leaves_the_others_run_complete(tmp_path):
    home = tmp_path / "home"
    for t, f in _files(tmp_path).items():
        assert crm(home, "import", "contacts", f, "--tenant", t, "--no-run")[0] == 0
    killed = _popen(home, "run", "--tenant", "t1", "--as-of", AS_OF, CRM_TEST_KILL_AT="resolve")
    other = _popen(home, "run", "--tenant", "t2", "--as-of", AS_OF)
    assert killed.wait(timeout=600) != 0
    assert other.wait(timeout=600) == 0, other.stderr.read()
    con = working(home)
    status = dict(con.execute("SELECT tenant_id, max(status) FROM audit.runs GROUP BY 1").fetchall())
    contacts = dict(con.execute("SELECT tenant_id, count(*) FROM core.contacts GROUP BY 1").fetchall())
    con.close()
    assert status["t2"] == "success" and contacts.get("t2") == 2
    assert contacts.get("t1") is None  # killed before its contacts were written
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0  # and it converges


def _legacy_home(home: Path, target: Path) -> None:
    """The home as a version before shards kept it: every tenant's rows in one file."""
    target.mkdir(parents=True)
    for name in ("secret.key", "audit_head.json", "audit_verified.json"):
        (target / name).write_bytes((home / name).read_bytes())
    con = duckdb.connect(str(target / "warehouse.duckdb"))
    shards = sorted(home.glob("tenants/*/warehouse.duckdb"))
    for i, path in enumerate(shards):
        con.execute(f"ATTACH '{path}' AS s{i} (READ_ONLY)")
    for schema, table in con.execute("SELECT DISTINCT schema_name, table_name FROM duckdb_tables() "
                                     "WHERE database_name = 's0'").fetchall():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM s{i}.{schema}.{table}"
                                           for i in range(len(shards)))
        con.execute(f"CREATE TABLE {schema}.{table} AS {union}")
    con.close()


def test_a_home_from_before_shards_is_split_keeping_every_row_and_chain(home, tmp_path, capsys):
    legacy = tmp_path / "legacy"
    _legacy_home(home, legacy)
    before = _tables(legacy / "warehouse.duckdb")
    code, out, err = crm(legacy, "audit", "verify", capsys=capsys)  # any command migrates first
    assert code == 0, err
    assert not (legacy / "warehouse.duckdb").exists()
    assert (legacy / "warehouse.duckdb.migrated").exists()
    for table, rows in before.items():
        split = sorted(r for t in ("t1", "t2") for r in _tables(shard(legacy, t)).get(table, []))
        assert split == rows, table
    assert migrate_home(Home.resolve(legacy)) == []  # done once
    assert crm(legacy, "run", "--as-of", AS_OF)[0] == 0
