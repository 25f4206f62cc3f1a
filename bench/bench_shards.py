"""Benchmark: tenants in shards of their own, run side by side (issue 14's targets).

Scenarios (each through the `crm` command, as a user runs it, in fresh homes under --out):
- `small`: a 30-row contact import into the demo home (3 tenants), three times (median), then
  two such imports into two tenants started together (wall of both, against one alone).
- `files`: N contacts in 8 tenant files (bench/resolve_generator.py, HubSpot headers), imported
  file by file with `crm import contacts`; beside it, the same rows normalized and resolved in
  one process (bench_resolve's path, the floor); then the 8 files imported with --no-run and one
  `crm run`, whose CPU time / wall time shows both cores at work.
Peak memory is the largest child process's (RUSAGE_CHILDREN maxrss).

Usage: python bench/bench_shards.py [small|files] [--rows N] [--out DIR]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CRM = [str(ROOT / ".venv" / "bin" / "crm")]
AS_OF = "2026-11-15"
TENANTS8 = tuple((f"t{i}_{c.lower()}", c) for i, c in enumerate(("US", "GB", "DE", "US") * 2))


def crm(home: Path, *args: str) -> tuple[float, float]:
    """Run one crm command; (wall seconds, child CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([*CRM, "--home", str(home), *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"crm {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", choices=("small", "files"))
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="bench_shards_"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = small(out) if a.scenario == "small" else files(out, a.rows)
    finally:
        if not a.out:
            shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"scenario": a.scenario, "cores": os.cpu_count(), **result}, indent=1))


if __name__ == "__main__":
    main()
