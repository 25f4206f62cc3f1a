"""Benchmark: accuracy of contact-to-account links on company data with traps (issue 16).

Generates a labelled tenant (bench/company_generator.py: multi-country domains of one company,
subsidiaries, rebrands, same-name different companies, legal-suffix variants, shared free-mail),
then does what a tenant does: a run (accounts from e-mail domains), `crm import companies` of the
enrichment file (its websites join one company's domains), and another run. Reports, overall and
by trap kind, on business addresses and on free-mail contacts that give a company:
precision  linked contacts whose account holds mostly their own company's contacts (a wrong
           merge of two companies costs precision);
recall     contacts linked to the account holding most of their company's contacts (one company
           left as several accounts costs recall).

Usage: python bench/bench_company_traps.py [--contacts N] [--companies N] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from company_generator import AT, companies_file, company_domains, contacts  # noqa: E402

from crm_pipeline.accounts.companies_file import import_companies_file  # noqa: E402
from crm_pipeline.accounts.link import link_accounts  # noqa: E402
from crm_pipeline.contacts.normalize.companies import match_key  # noqa: E402
from crm_pipeline.tenants import ensure_tenant  # noqa: E402
from crm_pipeline.trust.audit import ChangeContext  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, insert_frame, run  # noqa: E402


def step(con, label: str, at: datetime.datetime, work, own_transaction: bool = False) -> dict:
    ctx = ChangeContext("t1", label, "pipeline", "system", b"bench", at)
    start = time.perf_counter()
    if not own_transaction:
        run(con, "BEGIN")
    counts = work(ctx)
    if not own_transaction:
        run(con, "COMMIT")
    keep = {k: v for k, v in counts.items() if k.startswith(("website", "accounts", "links"))
            or k in ("accepted", "rows_in")}
    print(f"{label}: {time.perf_counter() - start:.1f} s; {keep}")
    return counts


def scores(con, truth: pl.DataFrame) -> pl.DataFrame:
    """precision and recall per part (business, free-mail with a company) and trap kind."""
    links = con.sql("SELECT contact_id, account_id FROM core.contact_accounts").pl()
    joined = truth.join(links, on="contact_id", how="left")
    linked = joined.filter(pl.col("account_id").is_not_null() & ~pl.col("free"))
    owner = (linked.group_by("company_no", "account_id").len()
             .sort(["len", "account_id"], descending=[True, False])
             .unique("company_no", keep="first").select("company_no", owner="account_id"))
    major = (linked.group_by("account_id", "company_no").len()
             .sort(["len", "company_no"], descending=[True, False])
             .unique("account_id", keep="first").select("account_id", major="company_no"))
    joined = (joined.join(owner, on="company_no", how="left").join(major, on="account_id",
                                                                   how="left")
              .with_columns(part=pl.when(pl.col("free")).then(pl.lit("free-mail with company"))
                            .otherwise(pl.lit("business")))
              .filter(~pl.col("free") | pl.col("company").is_not_null()))
    rows = []
    for (part, kind), g in sorted(joined.group_by("part", "kind"), key=lambda x: x[0]):
        rows.append(_score(part, kind, g))
    for (part,), g in sorted(joined.group_by("part"), key=lambda x: x[0]):
        rows.append(_score(part, "all", g))
    return pl.DataFrame(rows, orient="row",
                        schema=["part", "kind", "contacts", "linked", "precision", "recall"])


def _score(part: str, kind: str, g: pl.DataFrame) -> tuple:
    linked = g.filter(pl.col("account_id").is_not_null())
    precise = linked.filter(pl.col("major") == pl.col("company_no")).height
    right = linked.filter(pl.col("account_id") == pl.col("owner")).height
    return (part, kind, g.height, linked.height,
            round(precise / linked.height, 4) if linked.height else None,
            round(right / max(g.height, 1), 4))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--companies", type=int)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    domains = company_domains(args.companies or max(args.contacts // 20, 20), rng)
    people = contacts(args.contacts, domains, rng)
    work = Path(tempfile.mkdtemp(prefix="bench_traps_"))
    con = connect(work / "traps.duckdb")
    create_tables(con)
    ensure_tenant(con, "t1")
    insert_frame(con, "core.contacts", people.drop("company_no", "kind", "free")
                 .with_columns(company_key=match_key(people["company"])))
    print(f"# {args.contacts} contacts, {domains['company_no'].n_unique()} companies, "
          f"{domains.height} domains; seed {args.seed}; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.1f}; {datetime.date.today()}")
    print(domains.group_by("kind").agg(companies=pl.col("company_no").n_unique(),
                                       domains=pl.len()).sort("kind"))
    step(con, "first run", AT, lambda ctx: link_accounts(con, ctx))
    before = scores(con, people)
    path = work / "companies.csv"
    companies_file(domains).write_csv(path)
    step(con, "crm import companies", AT + datetime.timedelta(hours=1),
         lambda ctx: import_companies_file(con, ctx, path, "enrich", False,
                                           lambda i: work / f"{i}.errors.csv"),
         own_transaction=True)
    step(con, "second run", AT + datetime.timedelta(days=1), lambda ctx: link_accounts(con, ctx))
    after = scores(con, people)
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, tbl_formatting="MARKDOWN"):
        print("## before the companies file (e-mail domains only)")
        print(before)
        print("## after the companies file and a run")
        print(after)
    con.close()


if __name__ == "__main__":
    main()
