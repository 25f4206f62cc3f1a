"""Stored activities that a later stage cannot hold, taken out again: so a tenant converges.

Earlier versions accepted amounts that are not finite or too large for DECIMAL(18, 6) (the type
money is summed in), and times outside the years 1900..9999; one such row made the tenant's
value stage fail on every run, for good. Each run, before anything else of the tenant's
activities, re-checks the stored rows against the same bounds the door applies now
(`validate.py`) and moves a row that breaks them to quarantine (`bad_amount` or
`bad_timestamp`, with its original line), counted against the import that brought it: its
accepted count goes down by one and its quarantined count up by one, so rows in still equal
accepted + merged + quarantined. Only the values a later stage cannot hold are re-checked:
a row the current rules would refuse for another reason (a declared actor kind, say) stays, as
it was accepted under the rules of its day. The caller holds the transaction.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.activities.validate import EARLIEST, LATEST, MAX_AMOUNT
from crm_pipeline.contacts.quarantine import quarantine_rows
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import frame, run

# DuckDB orders NaN above every number, so "strictly between" fails for NaN and both infinities.
_UNHOLDABLE = """
SELECT a.import_id, a.line_number AS row_number,
       CASE WHEN NOT (a.occurred_at >= $earliest AND a.occurred_at <= $latest)
            THEN 'bad_timestamp' ELSE 'bad_amount' END AS reason_code,
       CASE WHEN NOT (a.occurred_at >= $earliest AND a.occurred_at <= $latest)
            THEN format('occurred_at {} is outside the years {} to {} (UTC); stored by an '
                        'earlier version, quarantined when re-checked', a.occurred_at,
                        year($earliest), year($latest))
            WHEN NOT (a.amount > -$max AND a.amount < $max)
            THEN format('amount {} is not a finite number below {} in absolute value; stored '
                        'by an earlier version, quarantined when re-checked', a.amount,
                        CAST($max AS BIGINT))
            ELSE format('amount {} {} is {} in the base currency, not below {} in absolute '
                        'value; stored by an earlier version, quarantined when re-checked',
                        a.amount, a.currency, a.amount_base, CAST($max AS BIGINT))
       END AS reason_detail,
       coalesce(e.line, to_json(a)::VARCHAR) AS raw
FROM core.activities a
LEFT JOIN raw.activity_events e
  ON e.tenant_id = a.tenant_id AND e.import_id = a.import_id AND e.line_number = a.line_number
WHERE a.tenant_id = $t
  AND (NOT (a.occurred_at >= $earliest AND a.occurred_at <= $latest)
       OR NOT (a.amount > -$max AND a.amount < $max)
       OR NOT (a.amount_base > -$max AND a.amount_base < $max))
ORDER BY a.import_id, a.line_number
"""


def unholdable_rows(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """(import_id, row_number, reason_code, reason_detail, raw) of the tenant's stored
    activities that break the bounds the door applies."""
    return frame(con, _UNHOLDABLE, {"t": tenant_id, "earliest": EARLIEST, "latest": LATEST,
                                    "max": MAX_AMOUNT})


def requarantine_unholdable(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> dict[str, int]:
    """Move the tenant's stored activities that a later stage cannot hold to quarantine;
    returns how many per reason code (empty when none, the usual case: one narrow scan)."""
    rows = unholdable_rows(con, ctx.tenant_id)
    if rows.height == 0:
        return {}
    tenant = ctx.tenant_id
    for (import_id,), part in rows.group_by(["import_id"], maintain_order=True):
        lines = part.drop("import_id")
        quarantine_rows(con, tenant_id=tenant, import_id=import_id, kind="activity", rows=lines,
                        run_id=ctx.run_id, at=ctx.at)
        con.register("_act_unholdable", lines.select("row_number"))
        try:
            run(con, "DELETE FROM core.activities WHERE tenant_id = $t AND import_id = $i "
                     "AND line_number IN (SELECT row_number FROM _act_unholdable)",
                {"t": tenant, "i": import_id})
        finally:
            con.unregister("_act_unholdable")
        run(con, "UPDATE raw.imports SET rows_accepted = rows_accepted - $n, "
                 "rows_quarantined = rows_quarantined + $n "
                 "WHERE tenant_id = $t AND import_id = $i",
            {"n": lines.height, "t": tenant, "i": import_id})
    return dict(rows.group_by("reason_code").len().iter_rows())
