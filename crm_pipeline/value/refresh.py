"""A tenant's lifetime value, revenue forecast and forecast back-test, refreshed in one pass.

The pipeline's only way to these tables. It writes the same rows as writing each table on its
own from its model functions (the reference in `tests/value_stages.py`, which the tests and
`bench/bench_ltv.py` compare it with), for less. One pass over the purchases gives the
customer summary at the as-of date and at each back-test origin that is recomputed (an origin
whose inputs are unchanged keeps its rows and needs none). The forecast takes the fitted
customers from memory rather than reading them back, and shares the as-of date's segment
memberships with the per-segment values. The tenant's monthly history (one scan of its purchases
by month, and its customers' first purchases from the summary) is read with the summaries; the
tenant-level forecast and its accuracy tables (`value.tenant_forecast`) are written with the
revenue forecast, in its transaction.

Two phases. `prepare_value` reads only and needs nothing of this run's segments: the summaries,
the as-of fit and predictions, and the back-test's refits (its origins lie before the as-of date,
whose segment history a refresh at the as-of date leaves alone). The pipeline runs it beside the
marts refresh (`pipeline.marts_and_value_stage`). `write_value` then reads the run's segments,
computes the per-segment values and the forecast, and writes every table in the stages' order and
transactions. The back-test's refits start from the parameters `ltv.previous_parameters` gives
once this run's model row is written, as when the stages run in turn. A back-test that fails is
raised after lifetime value and the forecast are written (as with the stages); a failure before
writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.marts.refresh import replace_slice
from crm_pipeline.tenants import get_tenant
from crm_pipeline.value.backtest import (
    BacktestPlan,
    backtest_plan,
    backtest_rows,
    plan_actuals,
    recomputed_rows,
)
from crm_pipeline.value.forecast import forecast_loaded, forecast_periods, segment_memberships
from crm_pipeline.value.ltv.model import (
    MODEL_FITTED,
    customer_ltv_rows,
    fitted_values,
    previous_parameters,
)
from crm_pipeline.value.ltv.segments import segment_ltv_rows
from crm_pipeline.value.ltv.summary import SUMMARY_COLUMNS, SUMMARY_SCHEMA, customer_summaries_query
from crm_pipeline.value.money import rounded_money
from crm_pipeline.value.tenant_forecast import (
    MonthlyHistory,
    accuracy_metadata,
    first_purchase_values,
    monthly_history,
    tenant_forecast,
    write_forecast_tables,
)
from crm_pipeline.warehouse import frame, insert_frame, run, transaction

PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "v")

# The parameters `previous_parameters` gives once the run's model row ($new_*) is written.
_START_AFTER_WRITE = """
SELECT r, alpha, a, b, p, q, v FROM (
    SELECT r, alpha, a, b, p, q, v, as_of, run_id FROM marts.ltv_model
    WHERE tenant_id = $tenant_id AND model = $fitted AND run_id IS DISTINCT FROM $run_id
    UNION ALL
    SELECT CAST($new_r AS DOUBLE), CAST($new_alpha AS DOUBLE), CAST($new_a AS DOUBLE),
           CAST($new_b AS DOUBLE), CAST($new_p AS DOUBLE), CAST($new_q AS DOUBLE),
           CAST($new_v AS DOUBLE), CAST($as_of AS DATE), CAST($run_id AS VARCHAR)
    WHERE $new_model = $fitted
)
ORDER BY as_of DESC, run_id DESC LIMIT 1
"""


class PreparedValue(NamedTuple):
    """What `prepare_value` read and computed; `write_value` writes it."""

    summary: pl.DataFrame  # the as-of customer summary, ordered by contact_id
    customers: dict  # its columns as arrays (x, tx, T, m, revenue, contact_id)
    model_row: pl.DataFrame
    values: dict  # each customer's predictions
    plan: BacktestPlan
    summaries: pl.DataFrame  # every date's summary: the as-of date's, then the origins'
    history: MonthlyHistory  # the tenant's whole months before the first forecast month


def refresh_value(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str
) -> dict:
    """Write the tenant's marts.ltv_model, customer_ltv, segment_ltv, revenue_forecast,
    forecast_accuracy, forecast_accuracy_summary and forecast_backtest at `as_of`; the three
    stages' results (model, customers, expected_clv_365d, months, expected_revenue_12m, rows,
    within_interval_share) and the tenant-level forecast's method and accuracy (`accuracy`)."""
    prepared = prepare_value(con, tenant_id, as_of, run_id)
    recomputed = backtest_recomputed(con, tenant_id, as_of, run_id, prepared)
    return write_value(con, tenant_id, as_of, run_id, prepared, lambda: recomputed)


def prepare_value(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str
) -> PreparedValue:
    """What lifetime value needs besides this run's segments: the summaries (the as-of date's and
    the back-test's origins') and the as-of fit and predictions. Reads only, so it can run on a
    cursor of its own beside the marts refresh."""
    start = previous_parameters(con, tenant_id)
    plan = backtest_plan(con, tenant_id, as_of)
    query, params = customer_summaries_query([as_of, *plan.todo_origins])
    summaries = frame(con, query, {"tenant_id": tenant_id, **params})
    summary = summaries.select(
        "contact_id", *(pl.col(f"{c}_0").alias(c) for c in SUMMARY_COLUMNS)
    ).cast({c: SUMMARY_SCHEMA[c] for c in ("contact_id", *SUMMARY_COLUMNS)})
    customers = {
        "contact_id": summary["contact_id"],
        "x": summary["frequency"].to_numpy().astype(float),
        "tx": summary["recency_days"].to_numpy(),
        "T": summary["tenure_days"].to_numpy(),
        "m": summary["avg_order_value"].fill_null(np.nan).to_numpy(),
        "revenue": summary["historical_revenue"].to_numpy(),
    }
    model_row, values = fitted_values(
        *(customers[k] for k in ("x", "tx", "T", "m", "revenue")), tenant_id, as_of, run_id,
        start=start,
    )
    history = monthly_history(con, tenant_id, as_of, customers["T"],
                              first_purchase_values(customers), customers["revenue"],
                              customers["contact_id"].to_list())
    return PreparedValue(summary, customers, model_row, values, plan, summaries, history)


def backtest_recomputed(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str,
    prepared: PreparedValue,
) -> list[pl.DataFrame] | Exception:
    """The back-test's recomputed origins, or the error that stopped them (raised by
    `write_value` once the rest is written). Their memberships come from the segment history
    before the as-of date, which a marts refresh at `as_of` does not change: this too can run
    beside the refresh."""
    if not prepared.plan.todo:
        return []
    try:
        actuals = plan_actuals(con, tenant_id, prepared.plan)
        start = _start_after_write(con, tenant_id, as_of, run_id, prepared.model_row)
        return recomputed_rows(con, tenant_id, prepared.plan, prepared.summaries, 1, actuals,
                               start)
    except Exception as exc:  # noqa: BLE001 - a back-test failure must not stop the rest
        return exc


def write_value(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str,
    prepared: PreparedValue, recomputed: Callable[[], list[pl.DataFrame] | Exception],
) -> dict:
    """Per-segment values and the forecast from this run's segments, then every table written,
    in the stages' order and transactions. A back-test that failed is raised after lifetime
    value and the forecast are written, with its own rows left as they were. `recomputed` gives
    `backtest_recomputed`'s result, waited for only when the back-test's rows are written."""
    summary, customers, model_row, values, plan, _, history = prepared
    customer_ltv = customer_ltv_rows(tenant_id, as_of, summary, values)
    memberships = segment_memberships(con, tenant_id, as_of, customers["contact_id"])
    segment_ltv = segment_ltv_rows(
        tenant_id, as_of, memberships,
        {"historical_revenue": customers["revenue"], **values}, model_row,
    )
    forecast_customers = {**customers, "p_alive": values["p_alive"],
                          "e365": values["expected_purchases_365d"],
                          "clv": values["expected_clv_365d"]}
    cursor = con.cursor()  # the forecast is computed while lifetime value is written
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="value-forecast") as pool:
            forecast_future = pool.submit(
                forecast_loaded, cursor, tenant_id, as_of, forecast_customers,
                model_row.row(0, named=True), memberships=memberships)
            write_ltv_tables(con, tenant_id, run_id, customer_ltv, segment_ltv, model_row)
            tenant = tenant_forecast(tenant_id, as_of, history, forecast_periods(as_of))
            forecast = forecast_future.result()
    finally:
        cursor.close()
    forecast = write_forecast_tables(con, tenant_id, forecast, tenant)

    rows = recomputed()
    if isinstance(rows, Exception):
        raise rows
    backtest = backtest_rows(tenant_id, as_of, plan, rows)
    with transaction(con):
        replace_slice(con, "marts.forecast_backtest", tenant_id, backtest)

    model = model_row.row(0, named=True)
    total = forecast.filter(forecast["segment"] == "all")
    overall = backtest.filter(backtest["segment"] == "all")
    return {
        "model": model["model"],
        "customers": model["customers"],
        "expected_clv_365d": float(customer_ltv["expected_clv_365d"].sum() or 0.0),
        "months": total.height,
        "expected_revenue_12m": float(total["expected_revenue"].sum()),
        "rows": backtest.height,
        "within_interval_share": float(overall["within_interval"].mean() or 0.0)
        if overall.height else None,
        "accuracy": accuracy_metadata(tenant),
    }


def base_currency(con: duckdb.DuckDBPyConnection, tenant_id: str) -> str:
    """The tenant's base currency (USD for a tenant not registered, as in tests)."""
    tenant = get_tenant(con, tenant_id)
    return tenant.base_currency if tenant else "USD"


def _start_after_write(
    con, tenant_id: str, as_of: datetime.date, run_id: str, model_row: pl.DataFrame
) -> dict | None:
    """The back-test refits' start: `previous_parameters` as it reads once `model_row` is
    written (the stage that writes it runs first), found without waiting for the write."""
    model = model_row.row(0, named=True)
    rows = run(con, _START_AFTER_WRITE, {
        "tenant_id": tenant_id, "fitted": MODEL_FITTED, "run_id": run_id, "as_of": as_of,
        "new_model": model["model"], **{f"new_{k}": model[k] for k in PARAMETERS},
    })
    return dict(zip(PARAMETERS, rows[0], strict=True)) if rows else None


def write_ltv_tables(con, tenant_id: str, run_id: str, customer_ltv, segment_ltv, model) -> None:
    """The tenant's marts.customer_ltv and segment_ltv, and the run's marts.ltv_model row, in one
    transaction; segment_ltv's money rounded to the tenant currency's minor unit (`money`)."""
    segment_ltv = rounded_money(segment_ltv, base_currency(con, tenant_id))
    with transaction(con):
        replace_slice(con, "marts.customer_ltv", tenant_id, customer_ltv)
        replace_slice(con, "marts.segment_ltv", tenant_id, segment_ltv)
        run(con, "DELETE FROM marts.ltv_model WHERE tenant_id = $t AND run_id = $r",
            {"t": tenant_id, "r": run_id})
        insert_frame(con, "marts.ltv_model", model)
