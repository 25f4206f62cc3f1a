"""Benchmark: does looking up another tenant's contact id take as long as a never-existing id?

Issue 7 asks that a reference to another tenant's id reveal nothing, not even through timing. This
builds a warehouse of ~100k contacts across two tenants (through the audited write path, with some
merged into others so aliases exist), then times `resolve_contact_id` for tenant t1 — the one
look-up `crm contact show/explain`, `crm gdpr export/erase` and `crm unmerge` all make — on ids of
tenant t2 (contacts and aliases) and on never-existing ids of the same shape, interleaved, in the
working warehouse (as erase and unmerge read it) and in t1's published extract (as show, explain
and export read it). Prints the median of each kind and their ratio (expected ~1.0).

Usage: python bench/bench_lookup_timing.py [--contacts 100000] [--lookups 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from crm_pipeline.contacts.profile import resolve_contact_id  # noqa: E402
from crm_pipeline.contacts.store import CONTACT_FIELDS, merge_contacts, upsert_contacts  # noqa: E402
from crm_pipeline.home import Home  # noqa: E402
from crm_pipeline.trust.audit import ChangeContext  # noqa: E402
from crm_pipeline.trust.publish import publish_tenant  # noqa: E402
from crm_pipeline.trust.readonly import open_read_only  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables  # noqa: E402

TENANTS = ("t1", "t2")
ALIAS_SHARE = 0.1  # of each tenant's contacts, merged into another (their ids become aliases)


def contact_id(tenant: str, n: int) -> str:
    """An id of the product's shape: `c_` and 16 hex digits."""
    return "c_" + hashlib.sha256(f"{tenant}|{n}".encode()).hexdigest()[:16]


# Types of the golden-record fields that are not text.
_TYPES = {"company_size": pl.Int64, "birthdate": pl.Date, "tags": pl.List(pl.String),
          "created_at": pl.Datetime("us")}


def contacts_frame(tenant: str, count: int) -> pl.DataFrame:
    """`count` golden contacts of a tenant, with a name and an email."""
    frame = pl.DataFrame({"contact_id": [contact_id(tenant, n) for n in range(count)],
                          "n": pl.int_range(0, count, eager=True)})
    return frame.select(
        "contact_id",
        *[pl.lit(None, _TYPES.get(f, pl.String)).alias(f) for f in CONTACT_FIELDS],
    ).with_columns(
        pl.format("First{}", frame["n"]).alias("first_name"),
        pl.format("person{}@{}.example", frame["n"], pl.lit(tenant)).alias("email"),
    )


def build(path: Path, per_tenant: int) -> dict[str, list[str]]:
    """The warehouse; returns each tenant's ids (surviving contacts and aliases)."""
    con = connect(path)
    create_tables(con)
    ids: dict[str, list[str]] = {}
    for tenant in TENANTS:
        ctx = ChangeContext(tenant, "bench", "bench", "system", b"bench-key", datetime(2026, 1, 1))
        contacts = contacts_frame(tenant, per_tenant)
        upsert_contacts(con, ctx, contacts)
        merged = int(per_tenant * ALIAS_SHARE)
        merges = pl.DataFrame({
            "alias_id": contacts["contact_id"][:merged],
            "contact_id": contacts["contact_id"][merged:2 * merged],
        })
        merge_contacts(con, ctx, merges)
        ids[tenant] = contacts["contact_id"].to_list()
    home = Home(path.parent)
    publish_tenant(con, home, "t1")
    con.close()
    return ids


def timed(con, ids: list[str], tenant: str) -> list[float]:
    out = []
    for cid in ids:
        start = time.perf_counter_ns()
        resolve_contact_id(con, tenant, cid)
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def measure(con, other: list[str], absent: list[str]) -> dict[str, list[float]]:
    """Each kind's times in microseconds, interleaved in alternating batches (no drift)."""
    for cid in other[:100] + absent[:100]:  # warm-up
        resolve_contact_id(con, "t1", cid)
    times: dict[str, list[float]] = {"other": [], "absent": []}
    for batch, i in enumerate(range(0, len(other), 50)):
        kinds = [("other", other), ("absent", absent)]
        for kind, ids in kinds[::-1] if batch % 2 else kinds:
            times[kind] += timed(con, ids[i:i + 50], "t1")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="across both tenants")
    parser.add_argument("--lookups", type=int, default=2_000, help="of each kind")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        start = time.perf_counter()
        ids = build(path, args.contacts // len(TENANTS))
        took = time.perf_counter() - start
        print(f"built {args.contacts:,} contacts in 2 tenants "
              f"({ALIAS_SHARE:.0%} of each merged into aliases) in {took:.1f} s")
        other = rng.sample(ids["t2"], args.lookups)  # t2's contacts and aliases, asked of t1
        existing = set(ids["t1"]) | set(ids["t2"])
        absent = []
        while len(absent) < args.lookups:
            cid = "c_" + "".join(rng.choice("0123456789abcdef") for _ in range(16))
            if cid not in existing:
                absent.append(cid)
        print(f"{args.lookups:,} look-ups of each kind by tenant t1 (median, microseconds)")
        print(f"{'where':<22}{'other tenant id':>17}{'absent id':>12}{'ratio':>8}")
        con = connect(path, read_only=True)
        extract = open_read_only(Home(path.parent).extract("t1"))
        for where, c in (("working warehouse", con), ("t1 extract", extract)):
            medians = {k: statistics.median(v) for k, v in measure(c, other, absent).items()}
            m_other, m_absent = medians["other"], medians["absent"]
            print(f"{where:<22}{m_other:>17.1f}{m_absent:>12.1f}{m_other / m_absent:>8.3f}")
            c.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
