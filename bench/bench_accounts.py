"""Benchmark: linking contacts to accounts (issue 16's speed targets).

A tenant of N contacts (default 1,000,000) working for N/20 companies, 30% of them writing from
free-mail addresses (a third of those give no company), some companies with subdomains and
country domains, some names shared by two companies. Times, in process on one warehouse file:
the first run's linking (every account created), a run with nothing new, and a run after a
10,000-contact import. Also reports precision and recall of the contact-to-account links on
business addresses against the generator's truth.

Usage: python bench/bench_accounts.py [--contacts N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
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

from crm_pipeline.accounts.link import link_accounts  # noqa: E402
from crm_pipeline.contacts.normalize.companies import match_key  # noqa: E402
from crm_pipeline.tenants import ensure_tenant  # noqa: E402
from crm_pipeline.trust.audit import ChangeContext  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, insert_frame, run  # noqa: E402

AT = datetime.datetime(2026, 11, 15, 6)
FREE = ("gmail.com", "yahoo.com", "outlook.com", "gmx.de", "hotmail.co.uk", "icloud.com")
SUFFIXES = (" Inc", " Inc.", " LLC", " GmbH", " Ltd", "", " Corp.", " Co")
TLDS = ("com", "co.uk", "de", "com.au", "fr", "io")


def companies(n: int, rng: np.random.Generator) -> pl.DataFrame:
    """Company i: a name (1 in 50 shares its base name with the next company), a domain."""
    base = [f"Company{i // 2 if i % 50 == 1 else i}" for i in range(n)]
    return pl.DataFrame({
        "company_no": np.arange(n),
        "base": base,
        "domain": [f"company{i}.{TLDS[i % len(TLDS)]}" for i in range(n)],
    })


def contacts(n: int, firms: pl.DataFrame, rng: np.random.Generator, start: int = 0) -> pl.DataFrame:
    firm = rng.integers(0, firms.height, n)
    free = rng.random(n) < 0.30
    gives_company = ~free | (rng.random(n) < 2 / 3)
    subdomain = rng.random(n) < 0.1
    suffix = rng.integers(0, len(SUFFIXES), n)
    caps = rng.random(n) < 0.1
    base = firms["base"].to_numpy()[firm]
    domain = firms["domain"].to_numpy()[firm]
    ids = np.arange(start, start + n)
    email = [f"p{i}@{FREE[i % len(FREE)]}" if f else (f"p{i}@mail.{d}" if s else f"p{i}@{d}")
             for i, f, s, d in zip(ids, free, subdomain, domain, strict=True)]
    company = [(b.upper() if c else b) + SUFFIXES[x] if g else None
               for b, c, x, g in zip(base, caps, suffix, gives_company, strict=True)]
    frame = pl.DataFrame({
        "tenant_id": "t1",
        "contact_id": [f"c{i}" for i in ids],
        "email": email,
        "company": pl.Series(company, dtype=pl.String),
        "first_seen_at": AT,
        "updated_at": AT,
        "company_no": firm,
        "free": free,
    })
    return frame.with_columns(company_key=match_key(frame["company"]))


def load(con, frame: pl.DataFrame) -> None:
    insert_frame(con, "core.contacts", frame.drop("company_no", "free"))


def timed(con, label: str, at: datetime.datetime) -> dict:
    ctx = ChangeContext("t1", label, "pipeline", "system", b"bench", at)
    start, cpu = time.perf_counter(), time.process_time()
    run(con, "BEGIN")
    counts = link_accounts(con, ctx)
    run(con, "COMMIT")
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall, {used:.2f} s CPU; {counts}")
    return counts


def accuracy(con, truth: pl.DataFrame) -> None:
    """Precision and recall of links on business addresses: a link is right when it puts the
    contact with the other contacts of its company (the account holding most of them)."""
    links = pl.from_arrow(con.sql("SELECT contact_id, account_id FROM core.contact_accounts")
                          .to_arrow_table())
    joined = truth.join(links, on="contact_id", how="left")
    owner = (joined.filter(~pl.col("free") & pl.col("account_id").is_not_null())
             .group_by("company_no", "account_id").len()
             .sort("len", descending=True).unique("company_no", keep="first")
             .select("company_no", owner="account_id"))
    joined = joined.join(owner, on="company_no", how="left")
    for label, part in (("business addresses", joined.filter(~pl.col("free"))),
                        ("free-mail with a company",
                         joined.filter(pl.col("free") & pl.col("company").is_not_null()))):
        linked = part.filter(pl.col("account_id").is_not_null())
        right = linked.filter(pl.col("account_id") == pl.col("owner")).height
        print(f"{label}: {part.height} contacts, {linked.height} linked, precision "
              f"{right / max(linked.height, 1):.4f}, recall {right / max(part.height, 1):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_accounts_"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / "accounts.duckdb"
    path.unlink(missing_ok=True)
    firms = companies(max(args.contacts // 20, 10), rng)
    people = contacts(args.contacts, firms, rng)
    con = connect(path)
    create_tables(con)
    ensure_tenant(con, "t1")
    load(con, people)
    run(con, "CHECKPOINT")
    print(f"# {args.contacts} contacts, {firms.height} companies; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.1f}; {datetime.date.today()}")
    timed(con, "first run", AT)
    timed(con, "nothing new", AT + datetime.timedelta(days=1))
    more = contacts(10_000, firms, rng, start=args.contacts)
    load(con, more)
    timed(con, "after a 10,000-contact import", AT + datetime.timedelta(days=2))
    accuracy(con, pl.concat([people, more]).select("contact_id", "company_no", "free", "company"))
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    con.close()
    if args.dir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
