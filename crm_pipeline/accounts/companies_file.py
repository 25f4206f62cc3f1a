"""Company files (`crm import companies`): enrichment and company exports matched to accounts.

A row is matched to an account by its registrable domain (the domain column, else the website),
then by its company name when the name identifies one account of the tenant and the row gives
no other domain than that account's (two companies of one name with different domains stay
two). Rows matching no account create one only with `--create`; otherwise they are quarantined
(`unknown_account`), as are rows without a domain or a name (`missing_identity`), rows whose only
identity is a domain that is not one (`bad_domain`) and rows whose name fits several accounts
(`ambiguous_account`). Of the rows for one account, the first is accepted and the others merged:
rows in = accepted + merged + quarantined. Every value is kept in core.firmographics (a value
that cannot be read with a problem code, never used) and the accounts' columns are chosen from
them (`firmographics`). The whole file applies in one transaction; the same file imported again
under the same source changes nothing. A row whose website is on another domain than its
domain column is evidence that both are one company: `websites` joins the accounts when their
names agree, here and at every run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.accounts.company_fields import (
    company_rows,
    host_of,
)
from crm_pipeline.accounts.domains import BUSINESS, classified_domains
from crm_pipeline.accounts.firmographics import (
    apply_values,
    long_values,
    parsed_values,
    record_values,
)
from crm_pipeline.accounts.link import create_accounts
from crm_pipeline.accounts.websites import link_websites
from crm_pipeline.contacts.imports import (
    close_import,
    existing_import,
    import_id_for,
    register_import,
)
from crm_pipeline.contacts.ingest.workbooks import read_contact_file
from crm_pipeline.contacts.normalize.companies import match_key
from crm_pipeline.contacts.quarantine import quarantine_counts, quarantine_rows, write_error_file
from crm_pipeline.errors import BadArgument, RefusedFile
from crm_pipeline.marts.tenant_settings import tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.tenants import get_tenant
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import frame, run, transaction

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RESERVED_SOURCES = ("manual",)


def checked_source(source: str | None) -> str:
    """A source name as given to --source: letters, digits, `_.-`, at most 64; not `manual`."""
    source = (source or "").strip()
    if not SOURCE_NAME.match(source):
        raise BadArgument("give --source NAME (letters, digits, _ . -; e.g. zoominfo, "
                          "salesforce_accounts): the values are kept with where they came from")
    if source.lower() in RESERVED_SOURCES:
        raise BadArgument(f"--source {source} is reserved for values set by hand")
    return source


def company_identities(rows: pl.DataFrame, excluded: list[str]) -> pl.DataFrame:
    """rows plus `host` (as written), `domain_reg` (the registrable domain when it is a
    company's: not free-mail, disposable or excluded by the tenant), `name_key`, and the
    domain's problem; `domain` becomes the registrable domain where there is one."""
    hosts = rows.select(pl.coalesce(host_of("domain"), host_of("website")).alias("host"))["host"]
    hosts = hosts.replace("", None)
    kinds = classified_domains(hosts, excluded)
    registrable = dict(kinds.select("domain", "registrable").iter_rows())
    company = dict(kinds.filter(pl.col("kind") == BUSINESS)
                   .select("domain", "registrable").iter_rows())
    return rows.with_columns(
        hosts.alias("host"),
        hosts.replace_strict(registrable, default=None, return_dtype=pl.String)
        .alias("registrable"),
        hosts.replace_strict(company, default=None, return_dtype=pl.String).alias("domain_reg"),
        match_key(rows["name"]).alias("name_key"),
    ).with_columns(
        pl.when(pl.col("host").is_not_null() & pl.col("domain_reg").is_null())
        .then(pl.lit("bad_domain")).alias("domain_problem"),
        pl.coalesce("registrable", "host").alias("domain"),
    ).drop("registrable")


def account_matches(con: duckdb.DuckDBPyConnection, tenant_id: str,
                    rows: pl.DataFrame) -> pl.DataFrame:
    """row_number, account_id, match (domain, company_name, new or null), reason (a quarantine
    code or null) per row (sql/models/accounts/company_matches.sql)."""
    con.register("_co_rows", rows.select("row_number", pl.col("domain_reg").alias("domain"),
                                         "name_key", "domain_problem"))
    try:
        return frame(con, sql_text("models/accounts/company_matches"), {"tenant_id": tenant_id})
    finally:
        con.unregister("_co_rows")


def import_companies_file(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, path: Path,
                          source: str, create: bool,
                          error_path: Callable[[str], Path], sheet: str | None = None) -> dict:
    """Import a company file (CSV, or a workbook's first or named sheet) into the tenant
    (whose lock the caller holds); the import's accounting: import_id, rows_in, accepted,
    merged, quarantined (by reason), problems (field values not used, by code),
    accounts_created, accounts_updated, conflicts, already."""
    tenant_id = ctx.tenant_id
    source = checked_source(source)
    table = read_contact_file(Path(path), sheet)
    rows, columns = company_rows(table)
    if not {"name", "domain", "website"} & set(columns):
        raise RefusedFile(path, "no column gives a company's domain, website or name (looked for "
                                "e.g. Company Domain Name, Website, Company name, Account Name)")
    import_id = import_id_for(tenant_id, f"company\x1f{source}", table.sha256)
    known = existing_import(con, tenant_id, import_id)
    if known and known["processed_run_id"] is not None:
        return {"import_id": import_id, "already": True, "rows_in": known["rows_in"],
                "accepted": known["rows_accepted"], "merged": known["rows_merged"],
                "quarantined": quarantine_counts(con, tenant_id, import_id),
                "error_file": known["error_file"], "problems": {}, "accounts_created": 0,
                "accounts_updated": 0, "conflicts": {}}
    tenant = get_tenant(con, tenant_id)
    excluded = tenant_settings(con, tenant_id)["accounts"]["excluded_domains"]
    rows = parsed_values(company_identities(rows, excluded), tenant.base_currency)
    with transaction(con):
        if known is None:
            register_import(con, tenant_id=tenant_id, import_id=import_id, kind="company",
                            file_name=Path(path).name, file_sha256=table.sha256,
                            rows_in=rows.height + table.unparseable.height, at=ctx.at,
                            encoding=table.encoding, delimiter=table.delimiter, vendor=source)
        matched = rows.join(account_matches(con, tenant_id, rows), on="row_number", how="left")
        created = _create_accounts(con, ctx, matched) if create else 0
        if not create:
            matched = matched.with_columns(
                pl.when(pl.col("match") == "new").then(pl.lit("unknown_account"))
                .otherwise(pl.col("reason")).alias("reason"))
        _quarantine(con, ctx, import_id, matched, table.unparseable)
        good = matched.filter(pl.col("reason").is_null())
        _add_domains(con, ctx, good)
        values = long_values(good)
        record_values(con, ctx, values, source, import_id)
        touched = good["account_id"].unique().to_list()
        updated = apply_values(con, ctx, touched)
        websites = link_websites(con, ctx)
        accepted = good["account_id"].n_unique()
        merged = good.height - accepted
        quarantined = rows.height + table.unparseable.height - good.height
        written = write_error_file(con, tenant_id, import_id, error_path(import_id))
        close_import(con, tenant_id=tenant_id, import_id=import_id, run_id=ctx.run_id,
                     accepted=accepted, merged=merged, quarantined=quarantined,
                     error_file=str(written) if written else None)
    problems = dict(values.filter(pl.col("problem").is_not_null())
                    .group_by("problem").len().iter_rows())
    return {"import_id": import_id, "already": False,
            "rows_in": rows.height + table.unparseable.height, "accepted": accepted,
            "merged": merged, "quarantined": quarantine_counts(con, tenant_id, import_id),
            "error_file": str(written) if written else None, "problems": problems,
            "accounts_created": created, "accounts_updated": updated,
            "conflicts": _conflicts(values), "website_merges": websites["website_merges"],
            "website_domains_added": websites["website_domains_added"]}


def _create_accounts(con, ctx: ChangeContext, matched: pl.DataFrame) -> int:
    """Accounts for the unmatched rows (one per domain, else per name key), audited; the rows
    get their ids in core via the same digest the pipeline uses for a domain."""
    new = (matched.filter(pl.col("match") == "new")
           .sort("row_number")
           .group_by("account_id", maintain_order=True)
           .agg(pl.col("name").drop_nulls().first(), pl.col("name_key").drop_nulls().first(),
                pl.col("domain_reg").drop_nulls().first().alias("domain")))
    if new.height == 0:
        return 0
    new = new.with_columns(pl.coalesce("name", "domain").alias("name"))
    con.register("_co_new", new)
    try:
        return create_accounts(con, ctx, "_co_new", "import")
    finally:
        con.unregister("_co_new")


def _add_domains(con, ctx: ChangeContext, good: pl.DataFrame) -> None:
    """The rows' registrable domains not yet known, as their accounts' (linked_by import):
    contacts with those addresses then link to the account at the next run."""
    domains = (good.filter(pl.col("domain_reg").is_not_null())
               .sort("row_number").unique("domain_reg", keep="first", maintain_order=True)
               .select(pl.col("domain_reg").alias("domain"), "account_id"))
    if domains.height == 0:
        return
    con.register("_co_domains", domains)
    try:
        run(con, """
            INSERT INTO core.account_domains
            SELECT $t, d.domain, d.account_id, 'import', $at FROM _co_domains AS d
            ANTI JOIN (SELECT domain FROM core.account_domains WHERE tenant_id = $t)
                 USING (domain)""",
            {"t": ctx.tenant_id, "at": ctx.at})
    finally:
        con.unregister("_co_domains")


def _quarantine(con, ctx: ChangeContext, import_id: str, matched: pl.DataFrame,
                unparseable: pl.DataFrame) -> None:
    details = {
        "missing_identity": "no domain, website or company name",
        "bad_domain": "the domain or website is not a domain name, and no company name is given",
        "unknown_account": "matches no account of the tenant (import with --create to add it)",
        "ambiguous_account": "the company name fits several accounts and no domain tells them "
                             "apart",
    }
    bad = matched.filter(pl.col("reason").is_not_null()).select(
        "row_number", pl.col("reason").alias("reason_code"),
        pl.col("reason").replace_strict(details, default="").alias("reason_detail"), "raw")
    rows = pl.concat([bad, unparseable.select(
        pl.col("row_number").cast(pl.Int64), pl.lit("unparseable_row").alias("reason_code"),
        pl.col("detail").alias("reason_detail"), "raw")], how="vertical_relaxed")
    quarantine_rows(con, tenant_id=ctx.tenant_id, import_id=import_id, kind="company", rows=rows,
                    run_id=ctx.run_id, at=ctx.at)


def _conflicts(values: pl.DataFrame) -> dict[str, int]:
    """Per field, the accounts to which this file gives several different usable values."""
    usable = values.filter(pl.col("problem").is_null())
    several = (usable.group_by("account_id", "field").agg(pl.col("value").n_unique().alias("n"))
               .filter(pl.col("n") > 1))
    return dict(several.group_by("field").len().sort("field").iter_rows())
