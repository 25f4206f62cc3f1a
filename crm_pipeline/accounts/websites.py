"""One company, several domains: accounts joined by the website they are known by.

Evidence that two domains are one company is a website: an account whose website (its own
column, or a website a company file or a person gave it, core.firmographics) is on another
registrable business domain than its own. What it does (docs/warehouse.md, "Accounts"):

- no account has the website's domain yet: the domain becomes the account's (core.account_domains,
  linked_by `website`), so contacts with addresses there link to it;
- another account has it and both accounts' name keys are equal: the two are one company, and the
  account with the evidence is merged into the one that owns the website's domain, through the
  same audited merge `crm account merge` uses (alias kept, contacts moved, ids stable);
- the names differ (a subsidiary, a reseller, a typo in a file) or a person split the two with
  `crm account unmerge` (found in the audit trail): nothing changes. A name alone never merges.

Runs at the end of the run's accounts step and of `crm import companies`; idempotent (a merged
pair's domain then belongs to the account itself, which says nothing).
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.accounts.company_fields import host_of
from crm_pipeline.accounts.domains import BUSINESS, classified_domains
from crm_pipeline.accounts.manage import merge_many
from crm_pipeline.marts.tenant_settings import tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import frame, run


def website_domains(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """account_id, name_key, domain: each account's websites as registrable business domains
    (a free-mail, excluded or malformed website says nothing)."""
    seen = frame(con, sql_text("models/accounts/website_evidence"), {"tenant_id": tenant_id})
    seen = seen.with_columns(host_of("website").alias("host"))
    excluded = tenant_settings(con, tenant_id)["accounts"]["excluded_domains"]
    kinds = classified_domains(seen["host"], excluded).filter(pl.col("kind") == BUSINESS)
    return (seen.join(kinds.select(pl.col("domain").alias("host"), "registrable"), on="host")
            .select("account_id", "name_key", pl.col("registrable").alias("domain"))
            .unique(maintain_order=True))


def website_decisions(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """account_id, domain, owner_id, owner_name_key, decision (add, merge, name_differs,
    unmerged) for every website on a domain the account does not have
    (sql/models/accounts/website_pairs.sql)."""
    con.register("_web_domains", website_domains(con, tenant_id))
    try:
        return frame(con, sql_text("models/accounts/website_pairs"), {"tenant_id": tenant_id})
    finally:
        con.unregister("_web_domains")


def link_websites(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> dict[str, int]:
    """Apply what the accounts' websites say (see the module); counts: website_domains_added,
    website_merges, website_name_differs, website_unmerged. Inside the caller's transaction."""
    added = _add_domains(con, ctx, website_decisions(con, ctx.tenant_id))
    decisions = website_decisions(con, ctx.tenant_id)  # after the adds: two claims of one domain
    pairs = _merge_pairs(decisions.filter(pl.col("decision") == "merge"))
    merge_many(con, ctx, pairs)
    merges = pairs.height
    counts = dict(decisions.group_by("decision").len().iter_rows())
    return {"website_domains_added": added, "website_merges": merges,
            "website_name_differs": int(counts.get("name_differs", 0)),
            "website_unmerged": int(counts.get("unmerged", 0))}


def _merge_pairs(merges: pl.DataFrame) -> pl.DataFrame:
    """merged, survivor: each account with evidence to the end of its chain of owners (Acme DE ->
    Acme FR -> Acme, all into Acme); a cycle (each owns the other's website) ends at its smallest
    id. A Python walk over the merge decisions only (a few per company at most)."""
    owner = dict(merges.select("account_id", "owner_id").sort("account_id", "owner_id")
                 .unique("account_id", keep="first").iter_rows())

    def root(account: str) -> str:
        seen = [account]
        while owner.get(seen[-1]) is not None and owner[seen[-1]] not in seen:
            seen.append(owner[seen[-1]])
        last = owner.get(seen[-1])
        return min(seen[seen.index(last):]) if last in seen else seen[-1]

    ends = {account: root(account) for account in owner}
    return pl.DataFrame({"merged": list(ends), "survivor": list(ends.values())},
                        schema={"merged": pl.String, "survivor": pl.String}).filter(
        pl.col("merged") != pl.col("survivor")).sort("merged")


def _add_domains(con, ctx: ChangeContext, decisions: pl.DataFrame) -> int:
    """The unowned website domains as their accounts' (the first account by id when two claim
    one), each an audited update of the account."""
    adds = (decisions.filter(pl.col("decision") == "add").sort("domain", "account_id")
            .unique("domain", keep="first", maintain_order=True).select("account_id", "domain"))
    if adds.height == 0:
        return 0
    con.register("_web_adds", adds)
    try:
        append_changes(con, ctx, """
            SELECT 'update' AS action, 'account' AS entity, account_id AS entity_id,
                   NULL AS previous,
                   json_object('domain_added', domain, 'linked_by', 'website') AS new,
                   account_id || chr(31) || domain AS _ord
            FROM _web_adds""")
        run(con, """
            INSERT INTO core.account_domains
            SELECT $t, domain, account_id, 'website', $at FROM _web_adds""",
            {"t": ctx.tenant_id, "at": ctx.at})
    finally:
        con.unregister("_web_adds")
    return adds.height
