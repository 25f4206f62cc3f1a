"""The per-customer purchase summary (frequency, recency, tenure, order value), in DuckDB."""

from __future__ import annotations

import datetime

import duckdb
import polars as pl

from ..sql import sql_text

SUMMARY_MODEL = "models/marts/customer_summary"

SUMMARY_SCHEMA = {
    "contact_id": pl.String,
    "frequency": pl.Int32,
    "recency_days": pl.Float64,
    "tenure_days": pl.Float64,
    "avg_order_value": pl.Float64,
    "historical_revenue": pl.Float64,
    "first_order_value": pl.Float64,
    "first_purchase_on": pl.Date,
}


def customer_summary(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date
) -> pl.DataFrame:
    """One row per contact with a purchase on or before `as_of`, sorted by contact_id.

    Definitions are in `sql/models/marts/customer_summary.sql`: `frequency` is distinct purchase
    days minus one, `recency_days` and `tenure_days` are whole days from the first purchase day to
    the last purchase day and to the as-of date, `avg_order_value` is the mean net value of the
    repeat purchase days (NULL without one), refunds deducted.
    """
    params = {"tenant_id": tenant_id, "as_of": as_of}
    frame = con.sql(sql_text(SUMMARY_MODEL), params=params).pl()
    if frame.height == 0:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    return frame.cast(SUMMARY_SCHEMA)
