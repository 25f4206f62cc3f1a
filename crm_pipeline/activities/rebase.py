"""Stored amounts converted again when a tenant's base currency changes (`crm tenant set
currency`): `amount_base` is kept in the base currency at import, so a new base means new values,
from the amounts as sent, in one statement. Amounts that the new base puts out of range are moved
to quarantine by the next run (`recheck`), as for any stored row a later stage cannot hold."""

from __future__ import annotations

import duckdb

from crm_pipeline.activities.validate import rates_to_base
from crm_pipeline.warehouse import run


def reconverted_amounts(con: duckdb.DuckDBPyConnection, tenant_id: str, base_currency: str) -> int:
    """Recompute every stored `amount_base` of the tenant in `base_currency`; returns how many
    activities carry an amount. The caller holds the transaction."""
    con.register("_rebase_rates", rates_to_base(base_currency))
    try:
        return run(con, """
            UPDATE core.activities a SET amount_base = a.amount * r.to_base
            FROM _rebase_rates r
            WHERE a.tenant_id = $t AND a.amount IS NOT NULL AND r.currency = a.currency
            """, {"t": tenant_id})[0][0]
    finally:
        con.unregister("_rebase_rates")
