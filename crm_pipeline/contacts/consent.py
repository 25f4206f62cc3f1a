"""Consent history: every change of a contact's `consent_status`, with its source and time.

Consent is the one field whose whole history a regulator may ask for, so it gets its own table
(`core.consent_history`) rather than living only in the audit trail, whose values erasure
redacts and whose diffs mix every field. It is written beside the audited contact write, from
the same before and after states, in the same transaction.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import run


def consent_changes(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """(contact_id, previous_status, consent_status[, source]) of the contacts whose status changed.

    `before` holds the stored (contact_id, consent_status) of existing contacts (absent: new
    contact); `after` the statuses being written, optionally with a per-row `source`. A new contact
    with a status counts as a change from nothing; a status becoming NULL is not a change of consent.
    """
    prev = before.select("contact_id", pl.col("consent_status").alias("previous_status"))
    extra = ["source"] if "source" in after.columns else []
    joined = after.select("contact_id", "consent_status", *extra).join(
        prev, on="contact_id", how="left"
    )
    return joined.filter(
        pl.col("consent_status").is_not_null()
        & (pl.col("previous_status").is_null()
           | (pl.col("consent_status") != pl.col("previous_status")))
    ).select("contact_id", "previous_status", "consent_status", *extra)


def record_consent_changes(
    con: duckdb.DuckDBPyConnection,
    ctx: ChangeContext,
    before: pl.DataFrame,
    after: pl.DataFrame,
    source: str,
) -> int:
    """Append the consent changes between two states to core.consent_history; returns the count.

    `source` names where the change came from (e.g. `import:<import_id>`, `unmerge`); a `source`
    column in `after` overrides it per row. Call it inside the caller's transaction.
    """
    changes = consent_changes(before, after)
    if changes.height == 0:
        return 0
    if "source" not in changes.columns:
        changes = changes.with_columns(pl.lit(source).alias("source"))
    rows = changes.select(
        pl.lit(ctx.tenant_id).alias("tenant_id"),
        "contact_id",
        "consent_status",
        "previous_status",
        pl.col("source").fill_null(source),
        pl.lit(ctx.at, pl.Datetime("us")).alias("changed_at"),
        pl.lit(ctx.run_id, pl.Utf8).alias("run_id"),
    )
    con.register("_consent", rows)
    try:
        run(con, "INSERT INTO core.consent_history BY NAME SELECT * FROM _consent")
    finally:
        con.unregister("_consent")
    return rows.height


def stored_consent(con: duckdb.DuckDBPyConnection, tenant_id: str, contact_ids) -> pl.DataFrame:
    """The stored (contact_id, consent_status) of some contacts: the `before` of a write."""
    ids = pl.DataFrame({"contact_id": list(contact_ids)}, schema={"contact_id": pl.Utf8})
    con.register("_consent_ids", ids)
    try:
        return con.sql(
            "SELECT c.contact_id, c.consent_status FROM core.contacts c "
            "JOIN _consent_ids i USING (contact_id) WHERE c.tenant_id = $t",
            params={"t": tenant_id},
        ).pl()
    finally:
        con.unregister("_consent_ids")
