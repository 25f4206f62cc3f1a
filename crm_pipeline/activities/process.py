"""Activity logs: staged as read, then parsed, validated, linked to contacts and loaded.

`stage_activity_file` keeps a file's lines in `raw.activity_events`; `process_activities` turns
every pending import of a tenant into `core.activities` rows, quarantined lines and bounces, in
bulk SQL steps that each build one temp table (`_act_keys` once, then `_act_parsed`,
`_act_links`, `_act_checked`), so a step can be inspected alone. A large import goes through
these steps in slices of `SLICE_LINES` lines, so that its temp tables stay in memory instead of
spilling to disk; a slice finds the ids of earlier slices already stored, so the outcome is the
same as in one go.
The caller holds the transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import duckdb
import polars as pl

from crm_pipeline.activities.link import gather_contact_keys, link_contacts
from crm_pipeline.activities.recheck import requarantine_unholdable
from crm_pipeline.activities.validate import check_batch
from crm_pipeline.contacts.imports import close_import, pending_imports
from crm_pipeline.contacts.quarantine import quarantine_rows
from crm_pipeline.contacts.store import set_contact_fields
from crm_pipeline.sql import sql_text
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.trust.roles import Roles
from crm_pipeline.warehouse import frame, run

SLICE_LINES = 2_000_000
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
    """Process every pending activity import of the tenant, oldest first; returns the counts
    (and `requarantined`: stored rows of earlier imports moved to quarantine, by reason)."""
    roles = roles or Roles.load()
    requarantined = requarantine_unholdable(con, ctx)
    totals = Counter()
    by_reason: Counter = Counter()
    pending = pending_imports(con, ctx.tenant_id, "activity")
    if pending:
        _rehash_stored(con, ctx.tenant_id)
        gather_contact_keys(con, ctx.tenant_id)
    try:
        for import_id in pending:
            counts, reasons = _process_import(
                con, ctx, import_id, as_of=as_of, base_currency=base_currency,
                home_region=home_region, roles=roles,
            )
            totals.update(counts)
            by_reason.update(reasons)
    finally:
        _drop_temp_tables(con, ("_act_keys",))
    return {
        "rows_in": totals["rows_in"],
        "accepted": totals["accepted"],
        "merged": totals["merged"],
        "quarantined": totals["quarantined"],
        "by_reason": dict(sorted(by_reason.items())),
        "requarantined": dict(sorted(requarantined.items())),
    }


def _process_import(
    con, ctx: ChangeContext, import_id: str, *, as_of, base_currency, home_region, roles
) -> tuple[dict, dict]:
    tenant = ctx.tenant_id
    last_line = run(
        con,
        "SELECT coalesce(max(line_number), 0) FROM raw.activity_events "
        "WHERE tenant_id = $t AND import_id = $i",
        {"t": tenant, "i": import_id},
    )[0][0]
    counts: Counter = Counter()
    reasons: Counter = Counter()
    for first_line in range(1, last_line + 1, SLICE_LINES):
        slice_counts, slice_reasons = _process_slice(
            con, ctx, import_id, first_line, first_line + SLICE_LINES - 1, as_of=as_of,
            base_currency=base_currency, home_region=home_region, roles=roles,
        )
        counts.update(slice_counts)
        reasons.update(slice_reasons)
    _apply_bounces(con, ctx, import_id)
    accepted, merged, quarantined = counts["accepted"], counts["merged"], counts["quarantined"]
    close_import(
        con, tenant_id=tenant, import_id=import_id, run_id=ctx.run_id,
        accepted=accepted, merged=merged, quarantined=quarantined,
    )
    return (
        {"rows_in": accepted + merged + quarantined, "accepted": accepted, "merged": merged,
         "quarantined": quarantined},
        reasons,
    )


def _process_slice(
    con, ctx: ChangeContext, import_id: str, first_line: int, last_line: int, *, as_of,
    base_currency, home_region, roles
) -> tuple[dict, dict]:
    """Lines first_line..last_line of an import: stored, quarantined; returns their counts."""
    tenant = ctx.tenant_id
    try:
        run(con, sql_text("models/core/activities_parse"), {
            "tenant_id": tenant, "import_id": import_id, "first_line": first_line,
            "last_line": last_line,
        })
        link_contacts(con, home_region)
        check_batch(con, tenant_id=tenant, import_id=import_id, as_of=as_of,
                    base_currency=base_currency, roles=roles)
        run(con, "DROP TABLE _act_links")
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
            {"t": tenant, "i": import_id},
        )
        _quarantine(con, ctx, import_id, first_line, last_line)
        counts = dict(run(con, "SELECT outcome, count(*) FROM _act_checked GROUP BY 1"))
        reasons = dict(
            run(
                con,
                "SELECT reason_code, count(*) FROM _act_checked "
                "WHERE outcome = 'quarantined' GROUP BY 1",
            )
        )
    finally:
        _drop_temp_tables(con)
    return counts, reasons


def _rehash_stored(con, tenant_id: str) -> None:
    """Content hashes stored as sha256 by earlier versions become md5, the hash compared now."""
    legacy = run(
        con,
        "SELECT EXISTS (SELECT 1 FROM core.activities "
        "WHERE tenant_id = $t AND length(content_hash) = 64)",
        {"t": tenant_id},
    )[0][0]
    if legacy:
        run(con, sql_text("models/core/activities_rehash"), {"tenant_id": tenant_id})


def _drop_temp_tables(con, tables: tuple[str, ...] = _TEMP_TABLES) -> None:
    """Drop the step tables; after a failure the caller's aborted transaction may refuse, and
    the original error is the one to report."""
    for table in tables:
        try:
            run(con, f"DROP TABLE IF EXISTS {table}")
        except duckdb.Error:
            return


def _quarantine(con, ctx: ChangeContext, import_id: str, first_line: int, last_line: int) -> None:
    rows = frame(
        con,
        """
        SELECT c.line_number AS row_number, c.reason_code, c.reason_detail, e.line AS raw
        FROM _act_checked c
        JOIN raw.activity_events e
          ON e.tenant_id = $t AND e.import_id = $i AND e.line_number = c.line_number
        WHERE c.outcome = 'quarantined' AND e.line_number BETWEEN $first AND $last
        ORDER BY c.line_number
        """,
        {"t": ctx.tenant_id, "i": import_id, "first": first_line, "last": last_line},
    )
    quarantine_rows(con, tenant_id=ctx.tenant_id, import_id=import_id, kind="activity",
                    rows=rows, run_id=ctx.run_id, at=ctx.at)


def _apply_bounces(con, ctx: ChangeContext, import_id: str) -> None:
    """An email_bounce accepted from this import marks its contact's email bounced (audited)."""
    bounced = frame(
        con,
        """
        SELECT DISTINCT a.contact_id, 'bounced' AS email_status
        FROM core.activities a
        JOIN core.contacts c ON c.tenant_id = a.tenant_id AND c.contact_id = a.contact_id
        WHERE a.tenant_id = $t AND a.import_id = $i AND a.type = 'email_bounce'
          AND c.email_status IS DISTINCT FROM 'bounced'
        ORDER BY a.contact_id
        """,
        {"t": ctx.tenant_id, "i": import_id},
    )
    if bounced.height:
        set_contact_fields(con, ctx, bounced.with_columns(pl.col("email_status").cast(pl.String)))
