"""Benchmark: a 1M-row HubSpot-format contact export through import, normalization and validation.

Reports wall time and peak memory of the product's path (read, map, stage raw rows, normalize,
quarantine, stage normalized rows, pandera validation) beside the floor: polars alone reading the
same file as text. Usage: python bench/bench_import.py [--rows N] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import unicodedata
from datetime import datetime
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from crm_pipeline.contacts.importer import normalize_import, stage_contact_file  # noqa: E402
from crm_pipeline.contacts.validation import StagedContact, model_columns, validation_failures  # noqa: E402
from crm_pipeline.tenants import ensure_tenant  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, frame  # noqa: E402

HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Lifecycle Stage",
          "Lead Status", "Contact owner", "Create Date", "Company Name", "Job Title", "Industry",
          "Number of Employees", "City", "State/Region", "Postal Code", "Country/Region", "Notes"]
FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "Anna",
         "Jürgen", "Sophie", "Oliver", "Amélie", "Lucas", "Emma", "Noah", "Mia", "Liam"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Müller", "Schmidt", "Taylor", "Martin",
        "Dubois", "Rossi", "Garcia", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"]
COUNTRIES = [("United States", "+1 {a}{b}{c} 555 {d:04d}"), ("United Kingdom", "020 7946 {d:04d}"),
             ("Germany", "030 {d:07d}"), ("France", "01 42 68 {e:02d} {f:02d}"),
             ("US", "({a}{b}{c}) 555-{d:04d}")]


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A HubSpot-like file: several countries' phone formats, ~30% distinct phones repeated."""
    rng = random.Random(seed)
    distinct_phones = int(rows * 0.3)
    ids = pl.int_range(0, rows, eager=True)
    first = [FIRST[rng.randrange(len(FIRST))] for _ in range(rows)]
    last = [LAST[rng.randrange(len(LAST))] for _ in range(rows)]
    phones, countries = [], []
    for _ in range(rows):
        k = rng.randrange(distinct_phones)
        country, fmt = COUNTRIES[k % len(COUNTRIES)]
        phones.append(fmt.format(a=2 + k % 7, b=k % 10, c=1 + k % 9, d=k % 10000 if "555" in fmt
                                 else 1000000 + k % 8999999, e=10 + k % 89, f=10 + k // 89 % 89))
        countries.append(country)
    df = pl.DataFrame({
        "Record ID": (ids + 10_000_000).cast(pl.Utf8),
        "First Name": first, "Last Name": last,
        # Real exports' addresses are ASCII even when names are not (müller -> muller).
        "Email": [f"{_ascii(f)}.{_ascii(lname)}{i}@example{i % 97}.com"
                  for i, (f, lname) in enumerate(zip(first, last, strict=True))],
        "Phone Number": phones,
        "Lifecycle Stage": ["lead"] * rows, "Lead Status": ["New"] * rows,
        "Contact owner": ["Jane Rep"] * rows,
        "Create Date": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 09:{i % 60:02d}" for i in range(rows)],
        "Company Name": [f"Company {i % 5000} Inc." for i in range(rows)],
        "Job Title": ["Engineer"] * rows, "Industry": ["Software"] * rows,
        "Number of Employees": [str(10 + i % 900) for i in range(rows)],
        "City": ["Springfield"] * rows, "State/Region": ["IL"] * rows,
        "Postal Code": [f"{i % 99999:05d}" for i in range(rows)],
        "Country/Region": countries, "Notes": [""] * rows,
    })
    df.write_csv(path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 1GB")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"hubspot_{args.rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    floor = pl.read_csv(path, infer_schema=False)
    floor_s = time.perf_counter() - t
    del floor

    db = args.out / "bench_import.duckdb"
    db.unlink(missing_ok=True)
    con = connect(db)
    if args.memory_limit:
        con.execute(f"SET memory_limit = '{args.memory_limit}'").fetchall()
    create_tables(con)
    ensure_tenant(con, "bench", home_country="US")
    at = datetime(2026, 11, 15)
    t0 = time.perf_counter()
    staged = stage_contact_file(con, tenant_id="bench", path=path, at=at)
    t1 = time.perf_counter()
    rss_stage = peak_rss_mb()
    quarantined = normalize_import(con, tenant_id="bench", import_id=staged["import_id"],
                                   home_region="US", key=b"k", run_id="bench", at=at)
    t2 = time.perf_counter()
    columns = ", ".join(f'"{c}"' for c in model_columns(StagedContact))
    rows = frame(con, f"SELECT {columns} FROM staging.contact_rows WHERE tenant_id = 'bench'")
    failures = validation_failures(StagedContact, rows)
    t3 = time.perf_counter()
    total = t3 - t0
    print(f"rows: {staged['rows_in']}, staged normalized: {rows.height}, quarantined: {quarantined}, "
          f"validation failures: {failures.height}")
    print(f"peak RSS after staging raw rows: {rss_stage:.0f} MB")
    print(f"read+map+stage raw: {t1 - t0:.1f}s  normalize+quarantine+stage: {t2 - t1:.1f}s  "
          f"pandera: {t3 - t2:.1f}s")
    print(f"TOTAL {total:.1f}s wall, peak RSS {peak_rss_mb():.0f} MB; polars read_csv floor "
          f"{floor_s:.1f}s; ratio {total / floor_s:.1f}x")
    con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
