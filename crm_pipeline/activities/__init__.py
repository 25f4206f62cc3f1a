"""Activity logs: staged as read, then parsed, validated, linked to contacts and loaded.

`stage_activity_file` keeps a file's lines in `raw.activity_events`; `process_activities` turns
every pending import of a tenant into `core.activities` rows, quarantined lines and bounces, in
bulk SQL steps that each build one temp table (`_act_parsed`, `_act_links`, `_act_checked`), so
a step can be inspected alone. The caller holds the transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import duckdb
import polars as pl

from ..audit import ChangeContext
from ..contacts_store import set_contact_fields
from ..imports import close_import, pending_imports
from ..quarantine import quarantine_rows
from ..roles import ACTIVITY_TYPES, Roles
from ..sql import sql_text
from ..warehouse import frame, run
from .link import link_contacts
from .read import stage_activity_file
from .validate import check_batch

__all__ = ["ACTIVITY_TYPES", "process_activities", "stage_activity_file"]

_TEMP_TABLES = ("_act_parsed", "_act_links", "_act_checked")
_STORED_COLUMNS = (
    "tenant_id, activity_id, contact_id, type, occurred_at, actor, actor_kind, direction, "
    "subject, notes, amount, currency, amount_base, ticket_id, status, content_hash, import_id, "
    "line_number"
)


def process_activities(
    con: duckdb.DuckDBPyConnection,
    ctx: ChangeContext,
    *,
    as_of: date,
    base_currency: str,
    home_region: str,
    roles: Roles | None = None,
) -> dict:
    """Process every pending activity import of the tenant, oldest first; returns the counts."""
    roles = roles or Roles.load()
    totals = Counter()
    by_reason: Counter = Counter()
    for import_id in pending_imports(con, ctx.tenant_id, "activity"):
        counts, reasons = _process_import(
            con, ctx, import_id, as_of=as_of, base_currency=base_currency,
            home_region=home_region, roles=roles,
        )
        totals.update(counts)
        by_reason.update(reasons)
    return {
        "rows_in": totals["rows_in"],
        "accepted": totals["accepted"],
        "merged": totals["merged"],
        "quarantined": totals["quarantined"],
        "by_reason": dict(sorted(by_reason.items())),
    }


def _process_import(
    con, ctx: ChangeContext, import_id: str, *, as_of, base_currency, home_region, roles
) -> tuple[dict, dict]:
    tenant = ctx.tenant_id
    try:
        run(con, sql_text("models/core/activities_parse"), {"tenant_id": tenant,
                                                             "import_id": import_id})
        link_contacts(con, tenant, home_region)
        check_batch(con, tenant_id=tenant, as_of=as_of, base_currency=base_currency, roles=roles)
        params = {"t": tenant, "i": import_id}
        run(
            con,
            f"""
            INSERT INTO core.activities ({_STORED_COLUMNS})
            SELECT $t, p.activity_id, c.contact_id, c.type, p.occurred_at, p.actor, c.actor_kind,
                   p.direction, p.subject, p.notes, m.amount, c.currency, m.amount * c.to_base,
                   p.ticket_id, p.status, p.content_hash, $i, p.line_number
            FROM _act_checked c
            JOIN _act_parsed p USING (line_number),
            -- a refund is money returned: its amount is positive
            LATERAL (SELECT CASE WHEN c.type = 'refund' THEN abs(p.amount_value)
                                 ELSE p.amount_value END AS amount) m
            WHERE c.outcome = 'accepted'
            """,
            params,
        )
        _quarantine(con, ctx, import_id)
        _apply_bounces(con, ctx)
        counts = dict(run(con, "SELECT outcome, count(*) FROM _act_checked GROUP BY 1"))
        reasons = dict(
            run(
                con,
                "SELECT reason_code, count(*) FROM _act_checked "
                "WHERE outcome = 'quarantined' GROUP BY 1",
            )
        )
        accepted, merged = counts.get("accepted", 0), counts.get("merged", 0)
        quarantined = counts.get("quarantined", 0)
        close_import(
            con, tenant_id=tenant, import_id=import_id, run_id=ctx.run_id,
            accepted=accepted, merged=merged, quarantined=quarantined,
        )
    finally:
        _drop_temp_tables(con)
    return (
        {"rows_in": accepted + merged + quarantined, "accepted": accepted, "merged": merged,
         "quarantined": quarantined},
        reasons,
    )


def _drop_temp_tables(con) -> None:
    """Drop the step tables; after a failure the caller's aborted transaction may refuse, and
    the original error is the one to report."""
    for table in _TEMP_TABLES:
        try:
            run(con, f"DROP TABLE IF EXISTS {table}")
        except duckdb.Error:
            return


def _quarantine(con, ctx: ChangeContext, import_id: str) -> None:
    rows = frame(
        con,
        """
        SELECT c.line_number AS row_number, c.reason_code, c.reason_detail, e.line AS raw
        FROM _act_checked c
        JOIN raw.activity_events e
          ON e.tenant_id = $t AND e.import_id = $i AND e.line_number = c.line_number
        WHERE c.outcome = 'quarantined'
        ORDER BY c.line_number
        """,
        {"t": ctx.tenant_id, "i": import_id},
    )
    quarantine_rows(con, tenant_id=ctx.tenant_id, import_id=import_id, kind="activity",
                    rows=rows, run_id=ctx.run_id, at=ctx.at)


def _apply_bounces(con, ctx: ChangeContext) -> None:
    """A newly accepted email_bounce marks its contact's email bounced (audited)."""
    bounced = frame(
        con,
        """
        SELECT DISTINCT a.contact_id, 'bounced' AS email_status
        FROM _act_checked a
        JOIN core.contacts c ON c.tenant_id = $t AND c.contact_id = a.contact_id
        WHERE a.outcome = 'accepted' AND a.type = 'email_bounce'
          AND c.email_status IS DISTINCT FROM 'bounced'
        ORDER BY a.contact_id
        """,
        {"t": ctx.tenant_id},
    )
    if bounced.height:
        set_contact_fields(con, ctx, bounced.with_columns(pl.col("email_status").cast(pl.String)))
