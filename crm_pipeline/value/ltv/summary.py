"""The per-customer purchase summary (frequency, recency, tenure, order value), in DuckDB."""

from __future__ import annotations

import datetime

import duckdb
import polars as pl

from crm_pipeline.sql import sql_text

SUMMARIES_MODEL = "models/marts/customer_summaries"

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

    Definitions are in `sql/models/marts/customer_summaries.sql` (this is its one-date case):
    `frequency` is distinct purchase days minus one, `recency_days` and `tenure_days` are whole
    days from the first purchase day to the last purchase day and to the as-of date,
    `avg_order_value` is the mean net value of the repeat purchase days (NULL without one),
    refunds deducted.
    """
    query, params = customer_summaries_query([as_of])
    frame = con.sql(query, params={"tenant_id": tenant_id, **params}).pl()
    if frame.height == 0:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    return frame.rename(lambda c: c.removesuffix("_0")).select(*SUMMARY_SCHEMA).cast(SUMMARY_SCHEMA)


# The columns of the i-th as-of date in sql/models/marts/customer_summaries.sql: a refund counts at
# a date on or after its own day, for the purchase day it reduces (if that day is on or before the
# date too).
_REFUNDED = "sum(r.refunded) FILTER (r.day <= $as_of_{i}) AS refunded_{i}"
_REFUND_TOTALS = (
    "sum(refunded_{i}) FILTER (day <= $as_of_{i}) AS refunded_{i}, "
    "sum(refunded_{i}) FILTER (day = first_day) AS first_refunded_{i}"
)
_AGGREGATES = (
    "count(*) {upto} - 1 AS frequency_{i}, "
    "max(day) {upto} AS last_{i}, "
    "sum(value) {upto} AS gross_{i}"
)
_UPTO = "FILTER (day <= $as_of_{i})"  # needless at the latest date: no later day is read
_NETS = (
    "c.gross_{i} - coalesce(r.refunded_{i}, 0) AS revenue_{i}, "
    "c.first_day_value - coalesce(r.first_refunded_{i}, 0) AS first_value_{i}"
)
_COLUMNS = (
    "CAST(frequency_{i} AS INTEGER) AS frequency_{i}, "
    "CAST(date_diff('day', first_purchase_on, last_{i}) AS DOUBLE) AS recency_days_{i}, "
    "CAST(date_diff('day', first_purchase_on, CAST($as_of_{i} AS DATE)) AS DOUBLE) "
    "AS tenure_days_{i}, "
    "CASE WHEN frequency_{i} > 0 "
    "THEN CAST(revenue_{i} - first_value_{i} AS DOUBLE) / frequency_{i} END "
    "AS avg_order_value_{i}, "
    "CAST(revenue_{i} AS DOUBLE) AS historical_revenue_{i}, "
    "CAST(first_value_{i} AS DOUBLE) AS first_order_value_{i}"
)
SUMMARY_COLUMNS = ("frequency", "recency_days", "tenure_days", "avg_order_value",
                   "historical_revenue")


def customer_summaries_query(as_ofs: list[datetime.date]) -> tuple[str, dict]:
    """(SQL, parameters without $tenant_id) of the customer summary at each date of `as_ofs`.

    One row per contact with a purchase on or before the last date, ordered by contact_id:
    `contact_id`, `first_purchase_on`, and for the i-th date the columns of `customer_summary`
    suffixed `_i` (`frequency_i` is -1 and the others NULL before the first purchase). At each
    date they equal `customer_summary` at that date, for a third of the cost of three.
    """
    if not as_ofs:
        raise ValueError("customer summaries need at least one as-of date")
    last = max(as_ofs)
    parts = {
        name: ", ".join(
            template.format(i=i, upto="" if day == last else _UPTO.format(i=i))
            for i, day in enumerate(as_ofs)
        )
        for name, template in (("refunded", _REFUNDED), ("refund_totals", _REFUND_TOTALS),
                               ("aggregates", _AGGREGATES), ("nets", _NETS),
                               ("columns", _COLUMNS))
    }
    params = {f"as_of_{i}": day for i, day in enumerate(as_ofs)}
    return sql_text(SUMMARIES_MODEL).format(**parts), {"last": last, **params}
