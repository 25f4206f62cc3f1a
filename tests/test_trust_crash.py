"""Crash safety with real kills: `crm run` killed with SIGKILL at several points (CRM_TEST_KILL_AT)
leaves the previous snapshot readable and whole, and the next run converges to the result of an
uninterrupted run, ids included."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv, write_jsonl

AS_OF = "2026-11-15"
REPO = Path(__file__).resolve().parent.parent
CRM = str(REPO / ".venv" / "bin" / "crm")
KILL_POINTS = ("resolve", "marts", "publish: snapshot written")
COMPARED = ("core.contacts", "core.contact_sources", "core.contact_aliases", "core.activities",
            "core.consent_history", "staging.contact_rows", "quarantine.rows", "raw.imports")
# Columns that record when or in which run something happened, not what.
BOOKKEEPING = {"run_id", "processed_run_id", "linked_at", "merged_at", "first_seen_at", "updated_at",
               "quarantined_at", "changed_at", "at", "computed_at", "fitted_at", "error_file",
               "flagged_at", "decided_at"}


def snapshot_of(path: Path) -> dict[str, list]:
    """Every table's rows, sorted: equal fingerprints mean equal contents."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                             "WHERE database_name = current_database() ORDER BY 1").fetchall()
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for (t,) in tables}
    finally:
        con.close()


def contents(path: Path) -> dict[str, list]:
    """What a run computes, without its bookkeeping: the tables compared across homes."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        marts = [r[0] for r in con.execute(
            "SELECT 'marts.' || table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
            "AND table_name NOT IN ('ltv_model', 'lead_score_model', 'retention_model') "
            "ORDER BY 1").fetchall()]  # one row per run: a killed run that committed keeps its row
        out = {}
        for table in (*COMPARED, *marts):
            schema, name = table.split(".")
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t "
                "ORDER BY column_index", {"s": schema, "t": name}).fetchall() if c not in BOOKKEEPING]
            select = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(map(repr, con.execute(f"SELECT {select} FROM {table}").fetchall()))
        out["audit.changes"] = sorted(map(repr, con.execute(
            "SELECT tenant_id, change_id, action, entity, entity_id, previous, new FROM audit.changes"
        ).fetchall()))
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """A home after one successful run, with a second contact file and an activity log staged."""
    d = tmp_path_factory.mktemp("crash")
    home = d / "base"
    f1 = write_csv(d / "f1.csv", HUBSPOT_HEADER, [
        "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
        "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
        "104,Eve,Moss,eve@example.com,,Eta LLC,Analyst,12,Austin,US,2024-01-02 08:00",
        "105,Ivy,Lark,ivy@example.org,+1 212 555 0142,Zeta Co,Buyer,3,Reno,US,2024-01-02 08:00",
    ])
    f2 = write_csv(d / "f2.csv", HUBSPOT_HEADER, [
        "102,ANN,LEE,Ann.Lee@Example.com,,ACME,CEO,250,Boston,US,2024-05-01 10:00",
        "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,CTO,40,Dallas,US,2024-01-02 08:00",
        "104,Eve,Moss,ivy@example.org,,Eta LLC,Analyst,12,Austin,US,2024-01-02 08:00",
        "106,Dan,Roe,dan@example.com,,,,,,US,2024-02-02 08:00",
        "107,,,,,No Name Corp,,,,,",
    ])
    acts = write_jsonl(d / "a.jsonl", [
        {"activity_id": "a1", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-10T10:00:00Z",
         "email": "ann.lee@example.com", "actor": "jane"},
        {"activity_id": "a2", "tenant_id": "t1", "type": "purchase", "occurred_at": "2026-10-01T10:00:00Z",
         "email": "bob@example.com", "actor": "pipeline", "actor_kind": "system", "amount": 120.5,
         "currency": "USD"},
        {"activity_id": "a3", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-01T10:00:00Z",
         "email": "nobody@example.com", "actor": "jane"},
    ])
    assert crm(home, "import", "contacts", f1, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    before = snapshot_of(home / "published" / "warehouse.duckdb")
    assert crm(home, "import", "contacts", f2, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--no-run")[0] == 0
    return {"dir": d, "home": home, "snapshot": before}


@pytest.fixture(scope="module")
def uninterrupted(staged):
    home = staged["dir"] / "reference"
    shutil.copytree(staged["home"], home)
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    return contents(shard(home))


@pytest.fixture(scope="module")
def killed(staged):
    """One copy of the staged home per kill point, each run killed there (all at once)."""
    homes, procs = {}, {}
    for point in KILL_POINTS:
        home = staged["dir"] / ("killed_" + point.replace(":", "").replace(" ", "_"))
        shutil.copytree(staged["home"], home)
        env = dict(os.environ, CRM_TEST_KILL_AT=point)
        procs[point] = subprocess.Popen([CRM, "--home", str(home), "run", "--as-of", AS_OF],
                                        cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        homes[point] = home
    codes = {point: p.wait(timeout=900) for point, p in procs.items()}
    return homes, codes


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_run_was_really_killed_at_that_point(killed, point):
    _, codes = killed
    assert codes[point] == -signal.SIGKILL


@pytest.mark.parametrize("point", KILL_POINTS)
def test_after_a_kill_the_previous_snapshot_is_readable_and_whole(staged, killed, point):
    homes, _ = killed
    assert snapshot_of(homes[point] / "published" / "warehouse.duckdb") == staged["snapshot"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_the_next_run_converges_to_the_uninterrupted_result(killed, uninterrupted, point, capsys):
    home = killed[0][point]
    code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
    assert code == 0, err
    assert contents(shard(home)) == uninterrupted
    assert crm(home, "audit", "verify", capsys=capsys)[0] == 0
    published = snapshot_of(home / "published" / "warehouse.duckdb")
    assert published == snapshot_of(shard(home))
