"""Lifetime value per segment (`marts.segment_ltv`): the customers' values summed over each
segment's members at the as-of date, plus segment 'all'."""

from __future__ import annotations

import datetime

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.value.memberships import segment_memberships

SEGMENT_LTV_SCHEMA = {
    "tenant_id": pl.String,
    "segment": pl.String,
    "customers": pl.Int64,
    "expected_active_customers": pl.Float64,
    "mean_p_alive": pl.Float64,
    "historical_revenue": pl.Float64,
    "expected_purchases_90d": pl.Float64,
    "expected_purchases_365d": pl.Float64,
    "expected_clv_365d": pl.Float64,
    "mean_clv_365d": pl.Float64,
    "model": pl.String,
    "run_id": pl.String,
    "as_of": pl.Date,
}


def ltv_by_segment(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    customer_ltv: pl.DataFrame,
    model_row: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rows of `marts.segment_ltv`: customer value per segment at `as_of`, plus segment 'all'.

    Every segment with members at `as_of` has a row, one without customers (leads) included, so a
    reader sees it is worth nothing yet rather than missing. `model` and `run_id` come from
    `model_row` (the tenant's row of `marts.ltv_model`), NULL without one.
    """
    memberships = segment_memberships(con, tenant_id, as_of, customer_ltv["contact_id"])
    values = {
        c: customer_ltv[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
        for c in ("p_alive", "historical_revenue", *SEGMENT_SUMS)
    }
    return segment_ltv_rows(tenant_id, as_of, memberships, values, model_row)


SEGMENT_SUMS = ("expected_purchases_90d", "expected_purchases_365d", "expected_clv_365d")


def segment_ltv_rows(
    tenant_id: str,
    as_of: datetime.date,
    memberships,
    values: dict[str, np.ndarray],
    model_row: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`ltv_by_segment` from the segments' members (`memberships.segment_memberships`: positions in
    `values`) and the customers' p_alive (NaN when unknown), historical_revenue and predictions."""
    rows = []
    for segment, members in zip(*memberships[:2], strict=True):
        p = values["p_alive"][members]
        p = p[~np.isnan(p)]
        clv = values["expected_clv_365d"][members]
        rows.append({
            "segment": segment,
            "customers": members.size,
            "expected_active_customers": float(p.sum()) if p.size else None,
            "mean_p_alive": float(p.mean()) if p.size else None,
            "historical_revenue": float(values["historical_revenue"][members].sum()),
            **{c: float(values[c][members].sum()) for c in SEGMENT_SUMS},
            "mean_clv_365d": float(clv.mean()) if clv.size else None,
        })
    model = model_row.row(0, named=True) if model_row is not None and model_row.height else {}
    return (
        pl.DataFrame(rows, schema={k: SEGMENT_LTV_SCHEMA[k] for k in rows[0]})
        .with_columns(
            tenant_id=pl.lit(tenant_id),
            model=pl.lit(model.get("model"), dtype=pl.String),
            run_id=pl.lit(model.get("run_id"), dtype=pl.String),
            as_of=pl.lit(as_of, dtype=pl.Date),
        )
        .select(list(SEGMENT_LTV_SCHEMA))
        .cast(SEGMENT_LTV_SCHEMA)
        .sort("segment")
    )
