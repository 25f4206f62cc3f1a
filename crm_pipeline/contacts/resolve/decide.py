"""Where a tenant's pending staged rows go (`decide`), decided without writing: exact rules,
candidate pairs, scores, clusters, survivors and the evidence of each link."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.contacts.normalize.emails import confusable
from crm_pipeline.contacts.resolve import train
from crm_pipeline.contacts.resolve.blocking import candidate_pairs, related_rows
from crm_pipeline.contacts.resolve.cluster import (
    EXACT,
    LINK,
    cluster_rows,
    star_edges,
    unambiguous_links,
)
from crm_pipeline.contacts.resolve.compare import match_rows, name_columns
from crm_pipeline.contacts.resolve.model import stored_model, trained_model
from crm_pipeline.contacts.resolve.score import PROBABILISTIC, RULE_KEYS, Scorer
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import frame

INCREMENTAL_BELOW = 4  # pending rows under a quarter of the tenant: work on related rows only


def _keyed_rows(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """Every staged row of the tenant with its match fields, exact keys and current contact."""
    return (
        frame(
            con,
            """
        SELECT s.import_id, s.row_number, s.status, cs.contact_id, c.first_seen_at,
               s.import_id || ':' || s.row_number AS source_key,
               s.first_name_key, s.last_name_key, s.email, s.email_local_base, s.email_domain,
               s.phone, s.company_key, s.job_title, s.city, s.street, s.postcode, s.state,
               s.birthdate, s.birth_year,
               CASE WHEN s.source_id IS NOT NULL
                    THEN coalesce(s.source_system, '') || '|' || s.source_id END AS k_source,
               s.email AS k_email,
               CASE WHEN s.phone IS NOT NULL
                    THEN s.phone || '|' || coalesce(s.last_name_key, '') || '|'
                         || coalesce(left(s.first_name_key, 1), '') END AS k_phone_name
        FROM staging.contact_rows s
        JOIN raw.imports i USING (tenant_id, import_id)
        LEFT JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        LEFT JOIN core.contacts c ON c.tenant_id = cs.tenant_id AND c.contact_id = cs.contact_id
        WHERE s.tenant_id = $t
        ORDER BY i.imported_at, s.import_id, s.row_number
        """,
            {"t": tenant_id},
        )
        .with_row_index("idx")
        .with_columns(pl.col("idx").cast(pl.Int64))
        .pipe(_without_confusable_emails)
    )


def _without_confusable_emails(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows whose email can pass for another (`jаne@acme.com`, Cyrillic `а`) keep it out of every
    email rule, block and comparison: a look-alike address never links two rows. Judged here,
    not read from staging, so rows staged before the check existed are covered too."""
    flags = confusable(rows["email"])
    if not flags.any():
        return rows
    return rows.with_columns(
        pl.when(flags).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("email", "k_email", "email_local_base", "email_domain")
    )


def new_contact_id(tenant_id: str, import_id: str, row_number: int) -> str:
    """Deterministic id of a contact created by a source row, so rebuilds give the same ids."""
    digest = hashlib.sha256(f"{tenant_id}|{import_id}|{row_number}".encode()).hexdigest()
    return f"c_{digest[:16]}"


def new_contact_ids(tenant_id: str, creators: pl.DataFrame) -> pl.Series:
    """`new_contact_id` for many creator rows (import_id, row_number) at once, in DuckDB."""
    con = duckdb.connect()
    try:
        con.register("_creators", creators.select("import_id", "row_number"))
        return con.sql(
            "SELECT 'c_' || left(sha256($t || '|' || import_id || '|' || row_number::VARCHAR), 16) "
            "AS survivor FROM _creators",
            params={"t": tenant_id},
        ).pl()["survivor"]
    finally:
        con.close()


@dataclass(frozen=True)
class Decision:
    """Where a tenant's pending rows go, decided without writing: the writes come after."""

    placement: pl.DataFrame
    merges: pl.DataFrame
    evidence: pl.DataFrame
    placed: pl.DataFrame
    trained: dict | None  # the parameters of core.match_models' new row, when retrained


def decide(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> Decision | None:
    """Where the tenant's pending rows go (None when none is pending). It only reads, so it can
    run on another cursor while an earlier tenant's writes run on this one."""
    keyed = _keyed_rows(con, ctx.tenant_id)
    pending = keyed.filter(pl.col("status") == "pending")["idx"].to_numpy()
    if len(pending) == 0:
        return None
    model = stored_model(con, ctx.tenant_id, keyed.height)
    population, oversized = None, None
    if model is not None and len(pending) * INCREMENTAL_BELOW < keyed.height:
        # A few new rows into a large tenant: work on the rows they can touch only, with the
        # whole tenant's size, name frequencies and block sizes, so the result is what a full
        # run gives.
        population = name_columns(keyed)
        related, oversized = related_rows(population, pending, list(RULE_KEYS.values()))
        keyed = _reindexed(keyed.gather(related))
        pending = keyed.filter(pl.col("status") == "pending")["idx"].to_numpy()
    rows = match_rows(keyed)
    del keyed
    cand = candidate_pairs(rows, pending, oversized)
    scorer, trained = None, None
    if model is None:
        model, scorer, trained = trained_model(
            ctx, rows, cand if len(pending) == rows.height else None
        )
    scorer = scorer or Scorer(rows, model, population)
    del population

    # Links: exact keys a pending row holds (star edges over all rows with that value) and
    # candidate pairs scoring at least LINK.
    ea, eb = _exact_edges(rows, pending)
    ca, cb = cand["a"].to_numpy(), cand["b"].to_numpy()
    del cand
    cs = scorer.score(ca, cb)
    strong = cs >= LINK
    link_a = np.concatenate([ea, ca[strong]])
    link_b = np.concatenate([eb, cb[strong]])

    group, _ = _start_groups(rows)
    link_s = np.concatenate([np.full(len(ea), EXACT), cs[strong]])
    keep = unambiguous_links(group, link_a, link_b, link_s, scorer.score)
    link_a, link_b = link_a[keep], link_b[keep]
    blocked = _blocked_groups(con, ctx.tenant_id, rows, group)
    final = cluster_rows(group, link_a, link_b, scorer.score, blocked)
    rows = rows.with_columns(pl.Series("cluster", final))

    placement, merges = _placement(ctx.tenant_id, rows, pending)
    rows = rows.join(placement, on="cluster", how="left", maintain_order="left")
    evidence = _evidence(ctx, rows, scorer, np.concatenate([ea, ca]), np.concatenate([eb, cb]))
    placed = _placed_rows(rows, pending, evidence)
    return Decision(placement, merges, evidence, placed, trained)


def _exact_edges(rows: pl.DataFrame, pending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Star edges over every key value that some pending row holds."""
    is_pending = pl.Series(np.isin(np.arange(rows.height), pending))
    parts_a, parts_b = [], []
    for key in RULE_KEYS.values():
        wanted = rows.filter(is_pending)[key].drop_nulls().unique()
        sub = rows.select("idx", key).filter(pl.col(key).is_in(wanted.implode()))
        a, b = star_edges(sub, key)
        parts_a.append(a)
        parts_b.append(b)
    return np.concatenate(parts_a).astype(np.int64), np.concatenate(parts_b).astype(np.int64)


def _start_groups(rows: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame]:
    """Dense group per row: the sources of one existing contact together, pending rows alone."""
    g = rows.select(
        pl.when(pl.col("contact_id").is_not_null())
        .then(pl.col("contact_id"))
        .otherwise(pl.lit("\x00row") + pl.col("idx").cast(pl.Utf8).str.zfill(12))
        .alias("g")
    ).with_columns(pl.col("g").rank("dense").cast(pl.Int64).alias("gid") - 1)
    group = g["gid"].to_numpy()
    group_contact = rows.select("contact_id", pl.Series("gid", group)).unique("gid")
    return group, group_contact


def _blocked_groups(con, tenant_id: str, rows: pl.DataFrame, group: np.ndarray) -> set:
    """Group pairs an unmerge split apart (source row's contact, the contact it left)."""
    blocks = frame(
        con,
        """
        SELECT b.source_key, coalesce(a.contact_id, b.blocked_contact_id) AS blocked
        FROM core.match_blocks b
        LEFT JOIN core.contact_aliases a
          ON a.tenant_id = b.tenant_id AND a.alias_id = b.blocked_contact_id
        WHERE b.tenant_id = $t
        """,
        {"t": tenant_id},
    )
    if blocks.height == 0:
        return set()
    gframe = rows.select("source_key", "contact_id", pl.Series("g", group))
    by_source = blocks.join(gframe.select("source_key", "g"), on="source_key")
    by_contact = (
        gframe.drop_nulls("contact_id")
        .unique("contact_id")
        .select(pl.col("contact_id").alias("blocked"), pl.col("g").alias("gb"))
    )
    pairs = by_source.join(by_contact, on="blocked")
    return {(min(x, y), max(x, y)) for x, y in pairs.select("g", "gb").iter_rows() if x != y}


def _placement(
    tenant_id: str, rows: pl.DataFrame, pending: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Survivor id of every cluster holding a pending row, and the merges of existing contacts."""
    touched_clusters = rows.filter(pl.col("idx").is_in(pl.Series(pending).implode()))["cluster"]
    touched = rows.filter(pl.col("cluster").is_in(touched_clusters.unique().implode()))
    existing = (
        touched.filter(pl.col("contact_id").is_not_null())
        .group_by("cluster", "contact_id")
        .agg(pl.col("first_seen_at").min(), pl.col("idx").min().alias("first_idx"))
        .sort("cluster", "first_seen_at", "first_idx", "contact_id")
    )
    survivors = (
        existing.group_by("cluster", maintain_order=True)
        .first()
        .select("cluster", pl.col("contact_id").alias("survivor"))
    )
    merges = (
        existing.join(survivors, on="cluster")
        .filter(pl.col("contact_id") != pl.col("survivor"))
        .select(pl.col("contact_id").alias("alias_id"), pl.col("survivor").alias("contact_id"))
    )
    first_rows = (
        touched.group_by("cluster")
        .agg(
            pl.col("idx").min().alias("creator_idx"),
            pl.col("import_id").sort_by("idx").first(),
            pl.col("row_number").sort_by("idx").first(),
        )
        .join(survivors, on="cluster", how="anti")
    )
    new_ids = first_rows.select(
        "cluster",
        new_contact_ids(tenant_id, first_rows).alias("survivor"),
        "creator_idx",
    )
    placement = pl.concat(
        [survivors.with_columns(pl.lit(None, pl.Int64).alias("creator_idx")), new_ids]
    )
    return placement, merges


def _evidence(
    ctx: ChangeContext, rows: pl.DataFrame, scorer: Scorer, a: np.ndarray, b: np.ndarray
) -> pl.DataFrame:
    """Every link inside a final contact that involves a pending row: pair, rule, score, fields."""
    cluster = rows["cluster"].to_numpy()
    pend = (rows["status"] == "pending").to_numpy()
    keep = (cluster[a] == cluster[b]) & (pend[a] | pend[b])
    a, b = a[keep], b[keep]
    pairs = pl.DataFrame({"a": a, "b": b}).unique().sort("a", "b")
    # A pending row in a contact without one of these links still gets its best pair there.
    covered = np.zeros(rows.height, dtype=bool)
    covered[pairs["a"].to_numpy()] = True
    covered[pairs["b"].to_numpy()] = True
    creator = (rows["creator_idx"] == rows["idx"]).fill_null(False).to_numpy()
    lonely = rows.filter(pl.Series(pend & ~covered & ~creator))
    if lonely.height:
        mates = (
            rows.select("idx", "cluster")
            .join(lonely.select("idx", "cluster"), on="cluster", suffix="_p")
            .filter(pl.col("idx") != pl.col("idx_p"))
        )
        extra = mates.select(
            pl.min_horizontal("idx", "idx_p").alias("a"),
            pl.max_horizontal("idx", "idx_p").alias("b"),
        )
        pairs = pl.concat([pairs, extra]).unique().sort("a", "b")
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    levels, sims = scorer.levels(a, b, similarities=True)
    weight = scorer.weight(a, levels) if len(a) else np.zeros(0)
    rule = scorer.rule(a, b) if len(a) else np.zeros(0, dtype=object)
    score = train.probability(weight + scorer.prior)
    exact = rule != PROBABILISTIC
    log_odds = np.where(exact, EXACT, weight + scorer.prior)
    sims = sims if sims.width else pl.DataFrame({"first_name": []})
    sims = sims.with_columns(pl.Series("match_weight", np.round(weight, 3)))
    keys = rows["source_key"]
    return (
        pl.DataFrame(
            {
                "a": a,
                "b": b,
                "left_key": keys.gather(a),
                "right_key": keys.gather(b),
                "contact_id": rows["survivor"].gather(a),
                "match_rule": pl.Series(rule.tolist(), dtype=pl.Utf8),
                "match_score": np.where(exact, 1.0, np.round(score, 6)),
                "log_odds": log_odds,
            }
        )
        .with_columns(
            sims.select(pl.struct(pl.all()).struct.json_encode().alias("similarities")).to_series()
        )
        .filter(pl.col("log_odds") >= LINK)
    )


def _placed_rows(rows: pl.DataFrame, pending: np.ndarray, evidence: pl.DataFrame) -> pl.DataFrame:
    """Pending rows with their contact, whether they created it, and their strongest link."""
    ends = (
        pl.concat(
            [
                evidence.select(pl.col("a").alias("idx"), "match_rule", "match_score", "log_odds"),
                evidence.select(pl.col("b").alias("idx"), "match_rule", "match_score", "log_odds"),
            ]
        )
        .sort("log_odds", "match_score", descending=True)
        .unique("idx", keep="first")
    )
    placed = (
        rows.filter(pl.col("idx").is_in(pl.Series(pending).implode()))
        .join(ends, on="idx", how="left")
        .with_columns((pl.col("creator_idx") == pl.col("idx")).fill_null(False).alias("creates"))
    )
    return placed.select(
        "import_id",
        "row_number",
        "source_key",
        "survivor",
        "creates",
        pl.when(pl.col("creates"))
        .then(pl.lit("new"))
        .otherwise(pl.col("match_rule").fill_null(PROBABILISTIC))
        .alias("match_rule"),
        pl.when(pl.col("creates"))
        .then(pl.lit(1.0))
        .otherwise(pl.col("match_score"))
        .alias("match_score"),
    )


def _reindexed(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.drop("idx").with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))
