"""Entity resolution: place every pending staged row in a golden contact.

Exact rules, in order of strength: the same record of the same source system (re-exports and
changed files), the same normalized email, the same E.164 phone with compatible names (colleagues
share a company's main line, so a phone alone is not enough). New rows are matched against the
sources of existing contacts, so ids stay stable: a component that holds existing contacts keeps
the oldest id, and the others become aliases.
"""

from __future__ import annotations

import hashlib

import duckdb
import polars as pl

from ..audit import ChangeContext
from ..contacts_store import merge_contacts, upsert_contacts
from ..warehouse import frame, run
from .cluster import components
from .survive import golden_records

RULE_KEYS = {
    "same_source_id": "k_source",
    "same_email": "k_email",
    "same_phone_name": "k_phone_name",
}


def _keyed_rows(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """Every staged row of the tenant with its exact match keys and current contact (if placed)."""
    return frame(
        con,
        """
        SELECT s.import_id, s.row_number, s.status, cs.contact_id, c.first_seen_at,
               i.imported_at,
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
    ).with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))


def new_contact_id(tenant_id: str, import_id: str, row_number: int) -> str:
    """Deterministic id of a contact created by a source row, so rebuilds give the same ids."""
    digest = hashlib.sha256(f"{tenant_id}|{import_id}|{row_number}".encode()).hexdigest()
    return f"c_{digest[:16]}"


def resolve_tenant(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> dict[str, dict[str, int]]:
    """Resolve the tenant's pending staged rows; per import: accepted (new contact) and merged."""
    rows = _keyed_rows(con, ctx.tenant_id)
    if rows.filter(pl.col("status") == "pending").height == 0:
        return {}
    keys = list(RULE_KEYS.values())
    rows = rows.with_columns(components(rows, keys))
    pending = rows.filter(pl.col("status") == "pending")
    # Components touched by pending rows.
    touched = rows.filter(pl.col("component").is_in(pending["component"].implode()))
    existing = (
        touched.filter(pl.col("contact_id").is_not_null())
        .group_by("component", "contact_id")
        .agg(pl.col("first_seen_at").min(), pl.col("idx").min().alias("first_idx"))
        .sort("component", "first_seen_at", "first_idx", "contact_id")
    )
    survivors = existing.group_by("component", maintain_order=True).first().select(
        "component", pl.col("contact_id").alias("survivor")
    )
    merges = existing.join(survivors, on="component").filter(
        pl.col("contact_id") != pl.col("survivor")
    ).select(pl.col("contact_id").alias("alias_id"), pl.col("survivor").alias("contact_id"))
    merges = _without_blocked(con, ctx.tenant_id, merges)
    first_rows = touched.group_by("component").agg(pl.all().sort_by("idx").first())
    new_ids = first_rows.join(survivors, on="component", how="anti").select(
        "component",
        pl.struct("import_id", "row_number").map_elements(
            lambda s: new_contact_id(ctx.tenant_id, s["import_id"], s["row_number"]),
            return_dtype=pl.Utf8,
        ).alias("survivor"),
        pl.col("idx").alias("creator_idx"),
    )
    placement = pl.concat([survivors, new_ids.select("component", "survivor")])
    placed = pending.join(placement, on="component").join(
        new_ids.select("creator_idx", pl.lit(True).alias("creates")),
        left_on="idx", right_on="creator_idx", how="left",
    )
    placed = placed.with_columns(
        pl.col("creates").fill_null(False),
        _rule_expr(rows, placed).alias("match_rule"),
    )
    _link_sources(con, ctx, placed)
    merge_contacts(con, ctx, merges)
    golden = golden_records(con, ctx.tenant_id, placement["survivor"])
    golden = _keep_bounces(con, ctx.tenant_id, golden)
    upsert_contacts(con, ctx, golden)
    run(
        con,
        "UPDATE staging.contact_rows SET status = 'resolved' WHERE tenant_id = $t AND status = 'pending'",
        {"t": ctx.tenant_id},
    )
    counts: dict[str, dict[str, int]] = {}
    for import_id, creates, n in placed.group_by("import_id", "creates").len().iter_rows():
        entry = counts.setdefault(import_id, {"accepted": 0, "merged": 0})
        entry["accepted" if creates else "merged"] += n
    return counts


def _without_blocked(con, tenant_id: str, merges: pl.DataFrame) -> pl.DataFrame:
    """Drop merges of contacts that an unmerge split apart: they are never merged again."""
    if merges.height == 0:
        return merges
    blocks = frame(
        con,
        """
        SELECT cs.contact_id AS a, b.blocked_contact_id AS b FROM core.match_blocks b
        JOIN core.contact_sources cs ON cs.tenant_id = b.tenant_id AND cs.source_key = b.source_key
        WHERE b.tenant_id = $t
        """,
        {"t": tenant_id},
    )
    if blocks.height == 0:
        return merges
    pairs = pl.concat([blocks, blocks.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    return merges.join(pairs, left_on=["alias_id", "contact_id"], right_on=["a", "b"], how="anti")


def _rule_expr(rows: pl.DataFrame, placed: pl.DataFrame) -> pl.Expr:
    """The strongest exact rule a pending row shares with another row of its component."""
    expr = pl.when(pl.col("creates")).then(pl.lit("new"))
    for rule, key in RULE_KEYS.items():
        shared = rows.filter(pl.col(key).is_not_null()).group_by(key).len().filter(pl.col("len") > 1)
        expr = expr.when(pl.col(key).is_in(shared[key].implode())).then(pl.lit(rule))
    return expr.otherwise(pl.lit("same_component"))


def _link_sources(con, ctx: ChangeContext, placed: pl.DataFrame) -> None:
    links = placed.select(
        pl.lit(ctx.tenant_id).alias("tenant_id"),
        "import_id",
        pl.col("row_number").cast(pl.Int64),
        (pl.col("import_id") + ":" + pl.col("row_number").cast(pl.Utf8)).alias("source_key"),
        pl.col("survivor").alias("contact_id"),
        pl.lit(1.0).alias("match_score"),
        "match_rule",
        pl.lit(ctx.at, pl.Datetime("us")).alias("linked_at"),
        pl.lit(ctx.run_id).alias("run_id"),
    )
    con.register("_links", links)
    try:
        run(
            con,
            """
            INSERT INTO core.contact_sources BY NAME
            SELECT l.*, s.source_id FROM _links l
            JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
            """,
        )
    finally:
        con.unregister("_links")


def _keep_bounces(con, tenant_id: str, golden: pl.DataFrame) -> pl.DataFrame:
    """A bounced email stays bounced until a source brings a different email."""
    bounced = frame(
        con,
        "SELECT contact_id, email AS _bounced_email FROM core.contacts "
        "WHERE tenant_id = $t AND email_status = 'bounced'",
        {"t": tenant_id},
    )
    if bounced.height == 0:
        return golden
    return golden.join(bounced, on="contact_id", how="left").with_columns(
        pl.when(pl.col("_bounced_email") == pl.col("email")).then(pl.lit("bounced"))
        .otherwise(pl.col("email_status")).alias("email_status")
    ).drop("_bounced_email")
