"""Benchmark of the work-queue refresh (`pipeline.work_queue_stage`) on a synthetic tenant.

    .venv/bin/python bench/bench_workflows.py [--contacts N] [--per-contact K] [--dir DIR]

The warehouse is built straight in SQL (not timed; kept in DIR when given, and copied afresh
for each run): N contacts, about K activities each over
the two years before the as-of date (outbound emails and calls by mercer, cheryl, claire and
people, inbound forms and downloads, meetings, purchases and subscription starts, a few
bounces), then the marts are refreshed once for the as-of date (not timed). Timed: the queue
refresh for the first run (every contact new to the workflows), the same as-of date again
(idempotent re-run), and the marts plus queues of the next day (only the queue part is the
added cost). Not run by the tests. Target (issue 17): at most 10 s added at 1M contacts and
10M activities.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import crm_pipeline.workflows.refresh as wf_refresh  # noqa: E402
from crm_pipeline import pipeline  # noqa: E402
from crm_pipeline.home import Home  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, run  # noqa: E402

TENANT = "bench"
AS_OF = date(2026, 11, 15)
TYPES = ["email", "email", "email", "call", "meeting", "download", "form_submission",
         "purchase", "webinar", "support", "subscription_start"]
ACTORS = ["mercer", "cheryl", "claire", "jane.rep", "pipeline", "fran"]


def build(path: Path, contacts: int, per_contact: int) -> None:
    con = connect(path)
    try:
        create_tables(con)
        run(con, "INSERT INTO core.tenants VALUES ($t, 'Bench', 'US', 'USD', NULL, $at)",
            {"t": TENANT, "at": AS_OF})
        run(con, """
            INSERT INTO core.contacts (tenant_id, contact_id, company_size, job_title, industry,
                                       email, email_status, consent_status, first_seen_at,
                                       updated_at)
            SELECT $t, 'c_' || i, (i * 7919) % 500, CASE i % 4 WHEN 0 THEN 'CEO'
                   WHEN 1 THEN 'Director' ELSE 'Analyst' END,
                   CASE i % 3 WHEN 0 THEN 'software' ELSE 'retail' END,
                   'u' || i || '@example.com',
                   CASE WHEN i % 97 = 0 THEN 'bounced' ELSE 'valid' END,
                   CASE WHEN i % 53 = 0 THEN 'denied' ELSE 'unknown' END,
                   TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01'
            FROM range($n) r(i)""", {"t": TENANT, "n": contacts})
        run(con, """
            INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at,
                                         actor, direction, amount, currency, amount_base,
                                         content_hash, import_id, line_number)
            SELECT $t, 'a_' || j, 'c_' || (hash(j) % $n),
                   CASE WHEN (hash(j) % $n) % 5 = 0 OR hash(j * 3) % 11 NOT IN (7, 10)
                        THEN $types[CAST(1 + hash(j * 3) % 11 AS BIGINT)] ELSE 'email' END,
                   $as_of::TIMESTAMP - to_minutes(CAST(hash(j * 5) % (730 * 1440) AS BIGINT)),
                   $actors[CAST(1 + hash(j * 7) % 6 AS BIGINT)],
                   CASE WHEN hash(j * 11) % 3 = 0 THEN 'inbound' ELSE 'outbound' END,
                   50.0, 'USD', 50.0, 'h', 'imp', j
            FROM range($m) r(j)""",
            {"t": TENANT, "n": contacts, "m": contacts * per_contact, "types": TYPES,
             "actors": ACTORS, "as_of": AS_OF})
        run(con, "CHECKPOINT")
    finally:
        con.close()


STATEMENTS: list[tuple[str, float, float]] = []


def _timed_run(con, query, params=None):
    start, cpu = time.perf_counter(), time.process_time()
    try:
        return run(con, query, params)
    finally:
        words = " ".join(line.strip() for line in query.splitlines()
                         if line.strip() and not line.strip().startswith("--"))[:60]
        STATEMENTS.append((words, time.perf_counter() - start, time.process_time() - cpu))


def timed(label: str, fn) -> dict:
    start = time.perf_counter()
    cpu = time.process_time()
    STATEMENTS.clear()
    wf_refresh.run = _timed_run
    try:
        result = fn()
    finally:
        wf_refresh.run = run
    print(f"{label}: {time.perf_counter() - start:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU of this process")
    for words, seconds, cpu_seconds in sorted(STATEMENTS, key=lambda s: -s[2])[:8]:
        print(f"    {seconds:6.2f} s wall {cpu_seconds:6.2f} s CPU  {words}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--per-contact", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--skip-next-day", action="store_true",
                        help="stop after the same-date re-run (saves a marts refresh)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_workflows_"))
    home = Home(work / "home")
    home.ensure()
    home.shard_dir(TENANT).mkdir(parents=True, exist_ok=True)
    path = home.shard(TENANT)
    source = work / f"source_{args.contacts}_{args.per_contact}.duckdb"
    try:
        if not source.exists():
            t0 = time.perf_counter()
            build(source, args.contacts, args.per_contact)
            print(f"setup: {args.contacts:,} contacts, {args.contacts * args.per_contact:,} "
                  f"activities ({time.perf_counter() - t0:.1f} s, not timed)")
        shutil.copy(source, path)  # every run starts from the same warehouse, before any queue
        con = connect(path)
        try:
            timed("marts for the as-of date (not part of the target)",
                  lambda: pipeline.marts_stage(con, TENANT, AS_OF))
            first = timed("work queues, first run",
                          lambda: pipeline.work_queue_stage(con, home, TENANT, AS_OF))
            again = timed("work queues, same as-of date again",
                          lambda: pipeline.work_queue_stage(con, home, TENANT, AS_OF))
            assert first == again, (first, again)
            if args.skip_next_day:
                print("rows: " + ", ".join(f"{k} {v:,}" for k, v in first.items()))
                return
            nxt = AS_OF + timedelta(days=1)
            timed("marts, next day (not part of the target)",
                  lambda: pipeline.marts_stage(con, TENANT, nxt))
            counts = timed("work queues, next day",
                           lambda: pipeline.work_queue_stage(con, home, TENANT, nxt))
            print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        finally:
            con.close()
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
