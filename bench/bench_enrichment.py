"""Benchmark: a 100k-row enrichment file (issue 16's target: at most 10 s).

Writes a ZoomInfo-style CSV of N companies (default 100,000: domain, name, industry, employees
as a count or a range, revenue with a currency symbol or range, country, city, NAICS) and
imports it in process into a fresh tenant shard twice: first with --create (every row creates
its account, ~11 observations per row), then a second file of the same companies with changed
values from another source, matched by domain to the accounts the first made. Times each
import (wall and CPU) and the peak memory.

Usage: python bench/bench_enrichment.py [--rows N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import datetime
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm_pipeline.accounts.companies_file import import_companies_file  # noqa: E402
from crm_pipeline.tenants import ensure_tenant  # noqa: E402
from crm_pipeline.trust.audit import ChangeContext  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, run  # noqa: E402

INDUSTRIES = ("Software", "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics")
RANGES = ("1-10", "11-50", "51-200", "201-500", "501-1,000", "1,001-5,000", "10,001+")
COUNTRIES = ("United States", "DE", "United Kingdom", "France", "AU")


def company_file(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    exact = rng.random(n) < 0.5
    employees = np.where(exact, rng.integers(1, 20000, n).astype(str),
                         np.array(RANGES)[rng.integers(0, len(RANGES), n)])
    revenue = np.where(rng.random(n) < 0.5,
                       np.char.add("$", (rng.integers(1, 500, n)).astype(str)) + "M",
                       np.char.add("€", (rng.integers(100_000, 9_000_000, n)).astype(str)))
    pl.DataFrame({
        "Company Name": [f"Company {k} Inc" for k in i],
        "Website": [f"https://www.company{k}.com/" for k in i],
        "Primary Industry": np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)],
        "Employees": employees,
        "Revenue": revenue,
        "Country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)],
        "City": [f"City {k % 977}" for k in i],
        "NAICS Code": rng.integers(10, 999999, n).astype(str),
    }).write_csv(path)
    return path


def timed(label: str, fn) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU; rows {result['rows_in']}, accepted "
          f"{result['accepted']}, merged {result['merged']}, created {result['accounts_created']},"
          f" updated {result['accounts_updated']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="bench-enrichment-"))
    try:
        first = company_file(work / "zoominfo.csv", args.rows, 1)
        second = company_file(work / "apollo.csv", args.rows, 2)
        con = connect(work / "warehouse.duckdb")
        create_tables(con)
        ensure_tenant(con, "t1", home_country="US", base_currency="USD")
        def ctx(run_id: str, day: int) -> ChangeContext:
            at = datetime.datetime(2026, 11, day, 6)
            return ChangeContext("t1", run_id, "import:bench", "user", b"k" * 32, at)

        errors = work / "errors"
        timed("import with --create (every row a new account)", lambda: import_companies_file(
            con, ctx("r1", 15), first, "zoominfo", True, lambda i: errors / f"{i}.csv"))
        timed("import of the same companies from another source", lambda: import_companies_file(
            con, ctx("r2", 16), second, "apollo", False, lambda i: errors / f"{i}.csv"))
        (observations,), = run(con, "SELECT count(*) FROM core.firmographics")
        print(f"observations kept: {observations}")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
