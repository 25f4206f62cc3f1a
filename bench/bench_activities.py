"""Benchmark of the activity stage: stage_activity_file + process_activities on a generated log.

    .venv/bin/python bench/bench_activities.py --contacts 1000000 --lines 10000000

Contacts are inserted directly (golden records, one source row each, a few aliases); the log is
written by DuckDB (COPY ... FORMAT json), mostly good lines referring to contacts by id, with some
by source_id, email and phone, re-deliveries, conflicts and every kind of bad line. Prints the
time of each step and the peak memory of the process (max RSS, which includes DuckDB's buffers).
Not run by the tests. Target for 1M contacts and 10M lines: <= 60 s and <= 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_pipeline.activities.process import process_activities  # noqa: E402
from crm_pipeline.activities.read import stage_activity_file  # noqa: E402
from crm_pipeline.pipeline import marts_stage  # noqa: E402
from crm_pipeline.trust.audit import ChangeContext  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, run  # noqa: E402

TENANT = "bench"
AT = datetime(2025, 1, 15, 12)
AS_OF = date(2025, 1, 15)


def make_contacts(con, n: int) -> None:
    run(
        con,
        """
        INSERT INTO core.contacts (tenant_id, contact_id, source_id, email, phone, email_status,
                                   first_seen_at, updated_at)
        SELECT $t, 'c' || i, 'src-' || i, 'user' || i || '@example.com',
               '+1415' || lpad((i % 10000000)::VARCHAR, 7, '0'), 'valid', $at, $at
        FROM range($n) r(i)
        """,
        {"t": TENANT, "n": n, "at": AT},
    )
    run(
        con,
        """
        INSERT INTO core.contact_sources
        SELECT $t, 'imp_seed', i, 'src-' || i, 'imp_seed:' || i, 'c' || i, 1.0, 'new', $at, 'seed'
        FROM range($n) r(i)
        """,
        {"t": TENANT, "n": n, "at": AT},
    )
    run(
        con,
        "INSERT INTO core.contact_aliases SELECT $t, 'old' || i, 'c' || i, $at, 'seed' "
        "FROM range(0, $n, 100) r(i)",
        {"t": TENANT, "n": n, "at": AT},
    )


def write_log(con, path: Path, lines: int, contacts: int) -> None:
    """A JSON lines log: ~2% bad lines of every kind, 1% re-deliveries, a few conflicts."""
    run(
        con,
        f"""
        COPY (
            WITH g AS (
                SELECT i, (hash(i) >> 1)::BIGINT AS h, ((hash(i) >> 1) % $c)::BIGINT AS k,
                       ((hash(i) >> 1) % 1000)::BIGINT AS m
                FROM range($n) r(i)
            )
            SELECT
                CASE WHEN m < 10 AND i > 1000 THEN 'a' || (i - 1000) ELSE 'a' || i END
                    AS activity_id,
                CASE WHEN m = 990 THEN 'other' WHEN m = 991 THEN NULL ELSE $t END AS tenant_id,
                CASE WHEN m = 992 THEN 'telegram'
                     WHEN m = 999 THEN 'email_bounce'  -- each bounce is an audited update
                     ELSE ['email', 'call', 'meeting', 'support', 'purchase', 'webinar',
                           'download', 'form_submission', 'refund', 'subscription_start']
                          [1 + h % 10]
                END AS type,
                CASE WHEN m = 993 THEN '2024-06-01 10:00:00'
                     WHEN m = 994 THEN '2031-01-01T00:00:00Z'
                     ELSE strftime(TIMESTAMP '2024-01-01' + to_seconds((h % 31536000)::BIGINT),
                                   '%Y-%m-%dT%H:%M:%S') || '+01:00'
                END AS occurred_at,
                CASE WHEN m < 850 OR m >= 996 THEN 'c' || k
                     WHEN m BETWEEN 850 AND 859 THEN 'old' || (k - k % 100)
                     WHEN m = 995 THEN 'nobody' END AS contact_id,
                CASE WHEN m BETWEEN 860 AND 899 THEN 'src-' || k END AS source_id,
                CASE WHEN m BETWEEN 900 AND 949 THEN 'USER' || k || '@Example.com' END AS email,
                CASE WHEN m BETWEEN 950 AND 984 THEN '+1415' || lpad(k::VARCHAR, 7, '0')
                     WHEN m BETWEEN 985 AND 989 THEN '(415) ' || lpad(k::VARCHAR, 7, '0')
                END AS phone,
                CASE WHEN m = 996 THEN 'mercer'  -- sometimes outside mercer's grants
                     WHEN h % 10 = 3 THEN 'cheryl'
                     WHEN h % 10 IN (0, 1, 2) AND h % 3 = 0 THEN 'mercer'
                     ELSE 'user' || (h % 50) END AS actor,
                'Subject of activity ' || i AS subject,
                CASE WHEN h % 10 IN (4, 8) THEN round((h % 100000) / 100.0, 2) END AS amount,
                CASE WHEN h % 10 NOT IN (4, 8) THEN NULL WHEN m = 998 THEN 'XXX'
                     ELSE ['USD', 'EUR', 'GBP', NULL][1 + i % 4] END
                    AS currency
            FROM g, (SELECT unnest([1, 2]) AS copy)
            WHERE copy = 1 OR m = 42
        ) TO '{path}' (FORMAT json)
        """,
        {"n": lines, "c": contacts, "t": TENANT},
    )


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_activities_"))
    work.mkdir(parents=True, exist_ok=True)
    db, log = work / "warehouse.duckdb", work / "activities.jsonl"
    for p in (db, log):
        p.unlink(missing_ok=True)
    con = connect(db)
    run(con, "SET threads = 2")
    run(con, f"SET memory_limit = '{args.memory_limit}'")
    create_tables(con)

    t0 = time.perf_counter()
    make_contacts(con, args.contacts)
    write_log(con, log, args.lines, args.contacts)
    print(f"setup: {time.perf_counter() - t0:.1f} s, log {log.stat().st_size / 1e9:.2f} GB")
    rss_setup = peak_rss_gb()

    t0, c0 = time.perf_counter(), time.process_time()
    staged = stage_activity_file(con, tenant_id=TENANT, path=log, at=AT)
    t_stage, c_stage = time.perf_counter() - t0, time.process_time() - c0
    ctx = ChangeContext(TENANT, "bench-run", "pipeline", "system", b"bench-key", AT)
    t1, c1 = time.perf_counter(), time.process_time()
    run(con, "BEGIN TRANSACTION")
    result = process_activities(con, ctx, as_of=AS_OF, base_currency="USD", home_region="US")
    t_commit = time.perf_counter()
    run(con, "COMMIT")
    t_commit = time.perf_counter() - t_commit
    t_process, c_process = time.perf_counter() - t1, time.process_time() - c1
    print(f"stage_activity_file: {t_stage:6.1f} s wall {c_stage:6.1f} s cpu "
          f"({staged['rows_in']} lines)")
    print(f"process_activities:  {t_process:6.1f} s wall {c_process:6.1f} s cpu "
          f"(of which COMMIT {t_commit:.1f} s wall)")
    print(f"total:               {t_stage + t_process:6.1f} s wall "
          f"{c_stage + c_process:6.1f} s cpu")
    t2 = time.perf_counter()
    run(con, "INSERT INTO core.tenants VALUES ($t, NULL, 'US', 'USD', NULL, $at) "
        "ON CONFLICT DO NOTHING", {"t": TENANT, "at": AT})
    run(con, "BEGIN TRANSACTION")
    sizes = marts_stage(con, TENANT, AS_OF)
    run(con, "COMMIT")
    t_marts = time.perf_counter() - t2
    print(f"refresh_marts:       {t_marts:6.1f} s wall (target <= 30 s at 1M contacts, 10M lines)")
    print({k: v for k, v in sizes.items() if k.startswith("segment.")})
    print(f"load average at end: {os.getloadavg()[0]:.1f} (2 cores; above 2 means shared)")
    print(f"peak RSS: {peak_rss_gb():.2f} GB (after setup: {rss_setup:.2f} GB)")
    print(result)
    con.close()
    if args.dir is None:  # a temporary work directory holds about 5 GB: do not leave it behind
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
