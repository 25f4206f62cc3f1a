"""Benchmark: publishing one tenant's extract after a run with 1M customers (issue 6).

    .venv/bin/python bench/bench_extract.py [--customers N] [--dir DIR] [--repeat K] [--before]

The home is the one `bench_ltv_run.py` builds (1M golden contacts, ~5.4M purchases), run once
through the whole pipeline so that the marts hold realistic tables. With --dir the home is kept
and reused by the next call (building it at 1M takes minutes). Then, K times each:

- `publish_snapshot` then `publish_extract`, as a run does: the home holds one tenant, so the
  extract is the snapshot itself;
- the table-by-table copy a home of several tenants gets (`write_extract`), whole and per table;
- with --before, the way extracts were written before (the warehouse's DDL, primary keys and
  their indexes included, then INSERT per table), per table.

Times are wall and CPU of this process, DuckDB's threads included (compare CPU: the machine is
shared). Not run by the tests. Target: <= 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ltv import AS_OF, clock  # noqa: E402
from bench_ltv_run import TENANT, build_home  # noqa: E402

from crm_pipeline.home import Home  # noqa: E402
from crm_pipeline.warehouse import connect, run  # noqa: E402

READY = "bench_extract.ready"


def prepared_home(work: Path, customers: int) -> Home:
    """The benchmark home after one whole run, built unless a finished one is there already."""
    marker = work / READY
    if marker.exists() and marker.read_text() == str(customers):
        return Home(work / "home")
    shutil.rmtree(work / "home", ignore_errors=True)
    start = clock()
    home, purchases = build_home(work / "home", customers)
    from dagster_defs.launch import run_pipeline

    outcome = run_pipeline(home, TENANT, AS_OF.isoformat())
    if not outcome.success:
        raise SystemExit(f"the set-up run failed: {outcome.failures}")
    marker.write_text(str(customers))
    print(f"setup: {customers:,} customers, {purchases:,} purchases, one whole run "
          f"({clock()[0] - start[0]:.0f} s, not timed)")
    return home


def table_sizes(home: Home) -> list[tuple[str, int]]:
    con = connect(home.warehouse, read_only=True)
    try:
        return [(f"{s}.{t}", n) for s, t, n in run(
            con, "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
            "ORDER BY estimated_size DESC")]
    finally:
        con.close()


def timed(fn) -> tuple[float, float]:
    start = clock()
    fn()
    end = clock()
    return end[0] - start[0], end[1] - start[1]


def fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return path


def per_table(con, target: Path, before: bool) -> dict[str, tuple[float, float]]:
    """Each extract table's copy on its own (one connection, no other table in flight)."""
    from crm_pipeline.trust import publish

    db = run(con, "SELECT current_database()")[0][0]
    run(con, f"ATTACH '{fresh(target)}' AS _extract")
    timings = {}
    try:
        if before:
            run(con, f'COPY FROM DATABASE "{db}" TO _extract (SCHEMA)')
        else:
            for schema in publish.EXTRACT_SCHEMAS:
                run(con, f"CREATE SCHEMA _extract.{schema}")
        for table in publish.extract_tables(con):
            if before:
                insert = (f'INSERT INTO _extract.{table} SELECT * FROM "{db}".{table} '
                          "WHERE tenant_id = $t")
                timings[table] = timed(lambda q=insert: run(con, q, {"t": TENANT}))
            else:
                timings[table] = timed(lambda t=table: publish.copy_table(con, db, t, TENANT))
    finally:
        run(con, "DETACH _extract")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="work directory, kept and reused")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", action="store_true", help="also time the former way")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_extract_"))
    work.mkdir(parents=True, exist_ok=True)
    home = prepared_home(work, args.customers)
    print("largest tables (rows):", ", ".join(f"{t} {n:,}" for t, n in table_sizes(home)[:8]))

    from crm_pipeline.trust import publish

    con = connect(home.warehouse)
    run(con, "SET enable_progress_bar = false")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    try:
        for _ in range(args.repeat):
            wall, cpu = timed(lambda: publish.publish_snapshot(con, home))
            print(f"publish_snapshot (for reference, not part of the extract) {wall:6.2f} s wall / "
                  f"{cpu:6.2f} s CPU")
            wall, cpu = timed(lambda: publish.publish_extract(con, home, TENANT))
            linked = home.extract(TENANT).stat().st_ino == home.snapshot.stat().st_ino
            print(f"publish_extract, one tenant {'(the snapshot)' if linked else '(copied)'}"
                  f"{wall:8.3f} s wall / {cpu:6.3f} s CPU")
        target = work / "copied.duckdb"
        for _ in range(args.repeat):
            wall, cpu = timed(lambda: publish.write_extract(con, fresh(target), TENANT))
            print(f"table-by-table copy (several tenants) {wall:6.2f} s wall / {cpu:6.2f} s CPU, "
                  f"{target.stat().st_size / 1e6:,.0f} MB")
        ways = {"after": per_table(con, target, before=False)}
        if args.before:
            ways["before"] = per_table(con, target, before=True)
        print("per table, one at a time (wall s / CPU s):")
        print(f"  {'table':<28}" + "".join(f"{w:>18}" for w in ways))
        for table in ways["after"]:
            cells = "".join(f"{ways[w][table][0]:8.2f} /{ways[w][table][1]:7.2f}" for w in ways)
            if any(ways[w][table][0] >= 0.01 for w in ways):
                print(f"  {table:<28}{cells}")
        totals = "".join(f"{sum(v[0] for v in ways[w].values()):8.2f} /"
                         f"{sum(v[1] for v in ways[w].values()):7.2f}" for w in ways)
        print(f"  {'sum':<28}{totals}")
    finally:
        con.close()
        fresh(work / "copied.duckdb")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores; above 2 means shared)")
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
