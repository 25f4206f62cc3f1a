"""Benchmark: tenants in shards of their own, run side by side (issue 14's targets).

Scenarios (each through the `crm` command, as a user runs it, in fresh homes under --out):
- `small`: a 30-row contact import into the demo home (3 tenants), three times (median), then
  two such imports into two tenants started together (wall of both, against one alone).
- `files`: N contacts in 8 tenant files (bench/resolve_generator.py, HubSpot headers), imported
  file by file with `crm import contacts`; beside it, the same rows normalized and resolved in
  one process (bench_resolve's path, the floor); then the 8 files imported with --no-run and one
  `crm run`, whose CPU time / wall time shows both cores at work.
- `many`: T tenants (default 200) of C contacts (5,000) and A activity lines (50,000) each,
  staged in this process as `crm import --no-run` would (no process start per file), then one
  `crm run` of them all: CPU time / wall time shows whether both cores work, and its peak memory
  is set beside one tenant's run alone (in a home of that tenant only).
Peak memory is the largest child process's (RUSAGE_CHILDREN maxrss).

Usage: python bench/bench_shards.py [small|files|many] [--rows N] [--tenants T]
       [--contacts C] [--activities A] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CRM = [str(ROOT / ".venv" / "bin" / "crm")]
AS_OF = "2026-11-15"
TENANTS8 = tuple((f"t{i}_{c.lower()}", c) for i, c in enumerate(("US", "GB", "DE", "US") * 2))


def crm(home: Path, *args: str) -> tuple[float, float]:
    """Run one crm command; (wall seconds, CPU seconds of its whole process tree).

    The tree is sampled from /proc while it runs: the side-by-side workers are children of
    multiprocessing's fork server, whose own exit nobody waits for, so RUSAGE_CHILDREN would
    miss their time."""
    global TREE_PEAK_GB
    t0 = time.perf_counter()
    proc = subprocess.Popen([*CRM, "--home", str(home), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen: dict[int, float] = {}
    while proc.poll() is None:
        for pid, cpu, hwm in _tree(proc.pid):
            seen[pid] = max(seen.get(pid, 0.0), cpu)
            TREE_PEAK_GB = max(TREE_PEAK_GB, hwm)
        time.sleep(0.2)
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"crm {' '.join(args)} failed ({proc.returncode}): {err[-2000:]}")
    return wall, sum(seen.values())


TREE_PEAK_GB = 0.0
TICKS = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[tuple[int, float, float]]:
    """(pid, CPU seconds so far, peak RSS GB) of `root` and its descendants."""
    parents, stats = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            hwm = next((int(line.split()[1]) for line in (entry / "status").read_text()
                        .splitlines() if line.startswith("VmHWM:")), 0)
        except (OSError, StopIteration, IndexError):
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        stats[pid] = ((int(fields[11]) + int(fields[12])) / TICKS, hwm / 2**20)
    tree, frontier = {root}, [root]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier and p not in tree]
        tree.update(frontier)
    return [(p, *stats[p]) for p in tree if p in stats]


def peak_child_gb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20


def thirty_rows(path: Path, start: int) -> Path:
    lines = ["First Name,Last Name,Email,Phone Number,Company Name"]
    lines += [f"Ann{i},Lee{i},ann{i}@bench{i}.example,+1 415 555 {1000 + i % 9000},Co{i}"
              for i in range(start, start + 30)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small(out: Path) -> dict:
    home = out / "demo_home"
    crm(home, "demo")
    ones = [crm(home, "import", "contacts", str(thirty_rows(out / f"c{i}.csv", 100 * i)),
                "--tenant", "acme_us", "--as-of", AS_OF)[0] for i in range(3)]
    a, b = thirty_rows(out / "a.csv", 1000), thirty_rows(out / "b.csv", 2000)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda job: crm(home, "import", "contacts", str(job[0]), "--tenant",
                                             job[1], "--as-of", AS_OF)[0],
                             [(a, "acme_us"), (b, "brit_gb")]))
    together = time.perf_counter() - t0
    one = statistics.median(ones)
    return {"one_import_s": [round(x, 2) for x in ones], "median_s": round(one, 2),
            "two_at_once_s": round(together, 2), "each_of_two_s": [round(x, 2) for x in both],
            "ratio_two_vs_one": round(together / one, 2)}


def files(out: Path, rows: int) -> dict:
    from bench_resolve import REGION, generated, normalize_and_resolve, stage_csv, write_csvs

    from crm_pipeline.tenants import ensure_tenant
    from crm_pipeline.warehouse import connect, create_tables

    REGION.update(dict(TENANTS8))
    data = generated(rows, "normal", 7, TENANTS8)
    folder = out / "files"
    folder.mkdir(exist_ok=True)
    paths = write_csvs(data, folder)
    result: dict = {"rows": data.height, "tenants": len(paths)}

    # The floor: the same rows read, normalized and resolved in one process, one database.
    con = connect(out / "floor.duckdb")
    create_tables(con)
    for tenant, country in TENANTS8:
        ensure_tenant(con, tenant, home_country=country)
    t0 = time.perf_counter()
    imports = stage_csv(con, paths, datetime(2026, 11, 15))
    normalize_and_resolve(con, imports, datetime(2026, 11, 15))
    result["one_process_s"] = round(time.perf_counter() - t0, 2)
    con.close()

    home = out / "file_by_file"
    t0 = time.perf_counter()
    for tenant, path in paths.items():
        crm(home, "import", "contacts", str(path), "--tenant", tenant, "--region",
            REGION[tenant], "--as-of", AS_OF)
    result["file_by_file_s"] = round(time.perf_counter() - t0, 2)
    result["file_by_file_vs_one_process"] = round(result["file_by_file_s"]
                                                  / result["one_process_s"], 2)

    home = out / "no_run_then_run"
    for tenant, path in paths.items():
        crm(home, "import", "contacts", str(path), "--tenant", tenant, "--region",
            REGION[tenant], "--no-run")
    wall, cpu = crm(home, "run", "--as-of", AS_OF)
    result["one_run_s"] = round(wall, 2)
    result["one_run_cpu_over_wall"] = round(cpu / wall, 2)
    result["peak_child_gb"] = round(peak_child_gb(), 2)
    return result


def write_activities(path: Path, tenant: str, emails: list[str], lines: int, seed: int) -> None:
    """A tenant's activity log: emails, calls, meetings, purchases... of its contacts, by email."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE e AS SELECT row_number() OVER () - 1 AS k, email "
                "FROM (SELECT unnest($emails) AS email)", {"emails": emails})
    con.execute(
        """
        COPY (
            SELECT 'a' || i AS activity_id, $t AS tenant_id,
                   ['email', 'call', 'meeting', 'support', 'purchase', 'webinar', 'download',
                    'form_submission'][1 + (h % 8)::BIGINT] AS type,
                   strftime(TIMESTAMP '2024-06-01' + to_seconds((h % 46000000)::BIGINT),
                            '%Y-%m-%dT%H:%M:%SZ') AS occurred_at,
                   e.email,
                   CASE WHEN h % 8 = 4 THEN round((h % 50000) / 100.0, 2) END AS amount
            FROM (SELECT i, hash(i, $seed) AS h FROM range($n) r(i)) g
            JOIN e ON e.k = (g.h // 7) % (SELECT count(*) FROM e)
            ORDER BY i
        ) TO $path (FORMAT json)
        """,
        {"t": tenant, "n": lines, "seed": seed, "path": str(path)},
    )
    con.close()


def many(out: Path, tenants: int, contacts: int, activities: int) -> dict:
    from bench_resolve import REGION, generated, write_csvs

    from crm_pipeline.cli import commands
    from crm_pipeline.home import Home

    names = tuple((f"t{i:03d}", ("US", "GB", "DE")[i % 3]) for i in range(tenants))
    REGION.update(dict(names))
    data = generated(contacts * tenants, "normal", 11, names)
    folder = out / "many"
    folder.mkdir(exist_ok=True)
    paths = write_csvs(data, folder)
    home, alone = Home.resolve(out / "many_home"), Home.resolve(out / "one_home")
    t0 = time.perf_counter()
    for i, (tenant, path) in enumerate(paths.items()):
        log = folder / f"{tenant}.jsonl"
        emails = data.filter(pl.col("tenant_id") == tenant)["email"].drop_nulls().to_list()
        write_activities(log, tenant, emails, activities, i)
        for target in (home, alone) if i == 0 else (home,):
            commands.stage_contacts(target, path, tenant, None, REGION[tenant])
            commands.stage_activities(target, log, tenant)
    staged = time.perf_counter() - t0
    global TREE_PEAK_GB
    TREE_PEAK_GB = 0.0
    wall_one, cpu_one = crm(alone.root, "run", "--as-of", AS_OF)
    peak_one, TREE_PEAK_GB = TREE_PEAK_GB, 0.0
    wall, cpu = crm(home.root, "run", "--as-of", AS_OF)
    return {"tenants": tenants, "contacts_each": contacts, "activities_each": activities,
            "staging_s": round(staged, 1),
            "one_tenant_run_s": round(wall_one, 2), "one_tenant_cpu_s": round(cpu_one, 2),
            "one_tenant_peak_gb": round(peak_one, 2),
            "all_run_s": round(wall, 1), "all_run_cpu_s": round(cpu, 1),
            "all_run_cpu_over_wall": round(cpu / wall, 2),
            "all_run_peak_gb (largest process)": round(TREE_PEAK_GB, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", choices=("small", "files", "many"))
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--tenants", type=int, default=200)
    p.add_argument("--contacts", type=int, default=5_000)
    p.add_argument("--activities", type=int, default=50_000)
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="bench_shards_"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        if a.scenario == "small":
            result = small(out)
        elif a.scenario == "files":
            result = files(out, a.rows)
        else:
            result = many(out, a.tenants, a.contacts, a.activities)
    finally:
        if not a.out:
            shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"scenario": a.scenario, "cores": os.cpu_count(), **result}, indent=1))


if __name__ == "__main__":
    main()
