"""Benchmark of the marts refresh stage (`pipeline.marts_stage`) on the bench home of issue 6.

    .venv/bin/python bench/bench_marts.py [--customers N] [--dir DIR]

The home is built as `bench_ltv_run.py` builds it (N contacts, each a customer, about 5.4
purchases each; not timed) and kept in DIR when given, so later runs reuse it. Each run works on
a fresh copy of its warehouse and refreshes the tenant's marts three times: the first run (no
marts rows yet), the same as-of date again, and the day after (history moves forward). Every
statement is timed (wall and CPU of this process, DuckDB's threads included) and the slowest are
printed with the model or mart they belong to. Not run by the tests. Target for 1M customers:
<= 3 s for the first run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ltv import AS_OF, clock  # noqa: E402
from bench_ltv_run import TENANT, build_home  # noqa: E402

import crm_pipeline.marts.refresh as marts  # noqa: E402
import crm_pipeline.marts.segments as segments  # noqa: E402
import crm_pipeline.pipeline as pipeline  # noqa: E402
from crm_pipeline.warehouse import connect  # noqa: E402
from crm_pipeline.warehouse import run as plain_run  # noqa: E402

TARGET = re.compile(
    r"(?:TEMP TABLE|INSERT INTO|DELETE FROM|UPDATE|FROM)\s+((?:marts\.)?\w+)", re.IGNORECASE
)
VERB = re.compile(r"^\s*(\w+)")
COMMENT = re.compile(r"--[^\n]*")


def label(query: str, params: dict | None) -> str:
    """What a statement does, in a few words: its verb, its table, and the segment it fills."""
    query = COMMENT.sub("", query)
    verb = VERB.match(query)
    target = TARGET.search(query)
    text = f"{verb.group(1).upper() if verb else '?'} {target.group(1) if target else ''}"
    if params and "segment" in params:
        text += f" [{params['segment']}]"
    return text


def timed_runs(timings: list) -> callable:
    """`warehouse.run` that records (label, wall, CPU) of every statement into `timings`."""

    def run(con, query, params=None):
        start = clock()
        try:
            return plain_run(con, query, params)
        finally:
            end = clock()
            timings.append((label(query, params), end[0] - start[0], end[1] - start[1]))

    return run


def refresh(con, as_of) -> tuple[list, float, float, dict]:
    timings: list = []
    run = timed_runs(timings)
    for module in (marts, segments, pipeline):
        module.run = run
    try:
        start = clock()
        counts = pipeline.marts_stage(con, TENANT, as_of)
        end = clock()
    finally:
        for module in (marts, segments, pipeline):
            module.run = plain_run
    return timings, end[0] - start[0], end[1] - start[1], counts


def report(name: str, timings: list, wall: float, cpu: float, top: int) -> None:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for what, w, c in timings:
        totals[what][0] += w
        totals[what][1] += c
        totals[what][2] += 1
    print(f"{name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {len(timings)} statements")
    ranked = sorted(totals.items(), key=lambda kv: -kv[1][1])
    for what, (w, c, n) in ranked[:top]:
        print(f"  {what:<52} {w:7.2f} / {c:7.2f}{f'  (x{n})' if n > 1 else ''}")
    rest = ranked[top:]
    if rest:
        print(f"  {f'{len(rest)} others':<52} {sum(v[0] for _, v in rest):7.2f} / "
              f"{sum(v[1] for _, v in rest):7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None,
                        help="keep the built home here and reuse it (default: a temp folder)")
    parser.add_argument("--top", type=int, default=25, help="statements listed per run")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_marts_"))
    source = work / f"home_{args.customers}"
    if not (source / "warehouse.duckdb").exists():
        t0 = time.perf_counter()
        home, purchases = build_home(source, args.customers)
        print(f"setup: {args.customers:,} contacts, {purchases:,} purchases "
              f"({time.perf_counter() - t0:.1f} s, not timed)")
    copy = work / "marts_run.duckdb"
    shutil.copy(source / "warehouse.duckdb", copy)
    con = connect(copy)
    try:
        for name, as_of in [("first run", AS_OF), ("same as-of date again", AS_OF),
                            ("next day", AS_OF + timedelta(days=1))]:
            timings, wall, cpu, counts = refresh(con, as_of)
            report(name, timings, wall, cpu, args.top)
        marts_rows = (f"{k} {v:,}" for k, v in counts.items() if k.startswith("marts."))
        print("rows: " + ", ".join(marts_rows))
    finally:
        con.close()
        copy.unlink(missing_ok=True)
        if args.dir is None:  # the temporary home holds hundreds of megabytes
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
