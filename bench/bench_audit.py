"""Benchmark: verifying a tenant's audit chain of N rows (the run's check and `crm audit verify`).

    .venv/bin/python bench/bench_audit.py [--rows N] [--new-rows K]

N contacts are created through the audited write path (one `create` row each) in a DuckDB file
in a temporary folder, then K more. Timed (wall / CPU of this process, DuckDB's threads
included): the whole chain verified in DuckDB (`verify_chain`, as `crm audit verify` does); the
same rows walked in Python with `content_line` and `chain_hash` (the definition, and what
verification did before); and the run's check after the K new rows, which starts from the head
verified before them. Not run by the tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from crm_pipeline.contacts.store import CONTACT_FIELDS, upsert_contacts  # noqa: E402
from crm_pipeline.trust.audit import (  # noqa: E402
    GENESIS,
    ChangeContext,
    chain_hash,
    chain_head,
    content_line,
    keyed_digest,
    verify_chain,
)
from crm_pipeline.warehouse import connect, create_tables, run  # noqa: E402

KEY = b"bench-key-" * 3
SCHEMA = {f: pl.Utf8 for f in CONTACT_FIELDS} | {
    "contact_id": pl.Utf8, "company_size": pl.Int64, "birthdate": pl.Date,
    "created_at": pl.Datetime("us"), "tags": pl.List(pl.Utf8),
}


def contacts(start: int, n: int) -> pl.DataFrame:
    ids = range(start, start + n)
    given = {
        "contact_id": [f"c_{i:09d}" for i in ids], "email": [f"user{i}@example.com" for i in ids],
        "first_name": [f"First{i % 5000}" for i in ids], "last_name": [f"Last{i % 20000}" for i in ids],
        "consent_status": ["unknown"] * n, "email_status": ["valid"] * n,
        "phone_status": ["missing"] * n,
    }
    return pl.DataFrame(given).with_columns(
        *(pl.lit(None, dtype=SCHEMA[f]).alias(f) for f in SCHEMA if f not in given)
    ).select(list(SCHEMA)).cast(SCHEMA)


def python_walk(con, tenant_id: str) -> bool:
    """The chain re-computed row by row in Python, as verification did before session 4."""
    columns = ["change_id", "tenant_id", "run_id", "actor", "actor_kind", "action", "entity",
               "entity_id", "at", "previous", "new", "previous_digest", "new_digest", "redacted",
               "prev_hash", "hash"]
    rows = run(con, "SELECT " + ", ".join(f'"{c}"' for c in columns)
               + " FROM audit.changes WHERE tenant_id = $t ORDER BY change_id", {"t": tenant_id})
    prev = GENESIS
    for values in rows:
        row = dict(zip(columns, values, strict=True))
        if row["prev_hash"] != prev or (not row["redacted"] and (
                keyed_digest(KEY, row["previous"]) != row["previous_digest"]
                or keyed_digest(KEY, row["new"]) != row["new_digest"])):
            return False
        prev = chain_hash(prev, content_line(row))
        if prev != row["hash"]:
            return False
    return True


def timed(label: str, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"  {label:<52} {time.perf_counter() - wall:6.2f} s / {time.process_time() - cpu:6.2f} "
          f"CPU s  -> {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--new-rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_audit_") as work:
        con = connect(Path(work) / "warehouse.duckdb")
        create_tables(con)
        ctx = ChangeContext("bench", "run-1", "pipeline", "system", KEY, datetime(2026, 11, 1))
        start = time.perf_counter()
        upsert_contacts(con, ctx, contacts(0, args.rows))
        run(con, "CHECKPOINT")
        print(f"setup: {args.rows:,} audit rows ({time.perf_counter() - start:.1f} s, not timed)")
        timed(f"whole chain in DuckDB ({args.rows:,} rows)",
              lambda: verify_chain(con, KEY, "bench") == [])
        timed(f"whole chain walked in Python ({args.rows:,} rows)",
              lambda: python_walk(con, "bench"))
        verified = {"bench": chain_head(con, "bench")[1]}
        later = ChangeContext("bench", "run-2", "pipeline", "system", KEY, datetime(2026, 11, 2))
        upsert_contacts(con, later, contacts(args.rows, args.new_rows))
        timed(f"run's check: {args.new_rows:,} new rows after the verified head",
              lambda: verify_chain(con, KEY, "bench", verified_heads=verified) == [])
        con.close()


if __name__ == "__main__":
    main()
