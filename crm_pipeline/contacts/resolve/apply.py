"""Writing a tenant's decision (`apply_decision`): sources, merges, evidence, golden contacts
and their audit rows. `resolve_tenant` decides and writes."""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.contacts.consent import record_consent_changes
from crm_pipeline.contacts.resolve.decide import Decision, decide
from crm_pipeline.contacts.resolve.review import flag_borderline_rows, flag_held_for_review
from crm_pipeline.contacts.resolve.secondary import record_other_values
from crm_pipeline.contacts.resolve.survive import flag_held_rows, golden_records
from crm_pipeline.contacts.store import keep_manual_values, merge_contacts, upsert_contacts
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import frame, memory_capped, run


def resolve_tenant(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> dict[str, dict[str, int]]:
    """Resolve the tenant's pending staged rows; per import: accepted (new contact) and merged."""
    return apply_decision(con, ctx, decide(con, ctx))


def apply_decision(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, decision: Decision | None
) -> dict[str, dict[str, int]]:
    """Write a tenant's decision (made by `decide`, with nothing of the tenant written since):
    sources, merges, evidence, golden contacts and their audit rows; counts per import."""
    if decision is None:
        return {}
    # A million golden rows and their audit rows are bulk writes: DuckDB's cache is capped
    # meanwhile (it spills), or it keeps gigabytes of them in memory.
    with memory_capped(con):
        _write_decision(con, ctx, decision)
    counts: dict[str, dict[str, int]] = {}
    for import_id, creates, n in decision.placed.group_by("import_id", "creates").len().iter_rows():
        entry = counts.setdefault(import_id, {"accepted": 0, "merged": 0})
        entry["accepted" if creates else "merged"] += n
    return counts


def _write_decision(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, decision: Decision) -> None:
    # Only the decision reaches the writes: the row frames and pair arrays are freed by now.
    placed = decision.placed
    if decision.trained is not None:
        run(con, "INSERT INTO core.match_models VALUES ($t, $r, $at, $n, $p, $m)",
            decision.trained)
    _link_sources(con, ctx, placed)
    merge_contacts(con, ctx, decision.merges)
    _write_evidence(con, ctx, decision.evidence)
    # Golden rows stay in DuckDB (a temporary table): at a million contacts a round trip
    # through Python costs seconds and gigabytes.
    # Borderline rows are queued for review first, so this run's golden records hold them.
    flag_borderline_rows(con, ctx, placed)
    held = golden_records(con, ctx.tenant_id, decision.placement["survivor"], into="_golden")
    flag_held_rows(con, ctx.tenant_id, held, placed)
    flag_held_for_review(con, ctx, held, placed)
    try:
        _keep_bounces(con, ctx.tenant_id, "_golden")
        keep_manual_values(con, ctx.tenant_id, "_golden")
        record_other_values(con, ctx.tenant_id, "_golden")
        consent = "SELECT contact_id, consent_status FROM _golden"
        before = frame(
            con,
            "SELECT c.contact_id, c.consent_status FROM core.contacts c "
            "JOIN _golden g USING (contact_id) WHERE c.tenant_id = $t",
            {"t": ctx.tenant_id},
        )
        upsert_contacts(con, ctx, "_golden")
        imports = ",".join(sorted(placed["import_id"].unique().to_list()))
        record_consent_changes(con, ctx, before, frame(con, consent), source=f"import:{imports}")
    finally:
        run(con, "DROP TABLE IF EXISTS _golden")
    run(
        con,
        "UPDATE staging.contact_rows SET status = 'resolved' "
        "WHERE tenant_id = $t AND status = 'pending'",
        {"t": ctx.tenant_id},
    )


def _link_sources(con, ctx: ChangeContext, placed: pl.DataFrame) -> None:
    links = placed.select(
        pl.lit(ctx.tenant_id).alias("tenant_id"),
        "import_id",
        pl.col("row_number").cast(pl.Int64),
        "source_key",
        pl.col("survivor").alias("contact_id"),
        pl.col("match_score").cast(pl.Float64),
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


def _write_evidence(con, ctx: ChangeContext, evidence: pl.DataFrame) -> None:
    if evidence.height == 0:
        return
    out = evidence.select(
        pl.lit(ctx.tenant_id).alias("tenant_id"),
        "contact_id",
        "left_key",
        "right_key",
        "match_rule",
        pl.col("match_score").cast(pl.Float64),
        "similarities",
        pl.lit(ctx.run_id).alias("run_id"),
        pl.lit(ctx.at, pl.Datetime("us")).alias("at"),
    )
    con.register("_evidence", out)
    try:
        run(con, "INSERT INTO core.match_evidence BY NAME SELECT * FROM _evidence")
    finally:
        con.unregister("_evidence")


def _keep_bounces(con, tenant_id: str, golden: str) -> None:
    """A bounced email stays bounced until a source brings a different email."""
    run(
        con,
        f"""
        UPDATE {golden} AS g SET email_status = 'bounced'
        FROM core.contacts c
        WHERE c.tenant_id = $t AND c.contact_id = g.contact_id
          AND c.email_status = 'bounced' AND c.email = g.email
        """,
        {"t": tenant_id},
    )
