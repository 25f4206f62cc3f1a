"""A tenant's lifetime value, revenue forecast and forecast back-test, refreshed in one pass.

The same rows as `pipeline.ltv_stage`, `forecast_stage` and `backtest_stage` run in turn, for
less. One pass over the purchases gives the customer summary at the as-of date and at each
back-test origin that is recomputed (an origin whose inputs are unchanged keeps its rows and needs
none). The forecast takes the fitted customers from memory rather than reading them back, and
shares the as-of date's segment memberships with the per-segment values.

The back-test runs on a worker thread with a cursor of its own (numpy, SciPy and DuckDB release
the GIL, so both cores work) while lifetime value and the forecast are computed and written. Its
refits start from the parameters `ltv.previous_parameters` gives once this run's model row is
written, as when the stages run in turn. Writes stay on the caller's connection, in the stages'
order and transactions; an error on the worker is raised before the back-test's rows are written
(lifetime value and the forecast stay written, as with the stages), and an error in lifetime value
or the forecast stops the worker and writes nothing after it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import duckdb
import numpy as np
import polars as pl

from .backtest import (
    BacktestPlan,
    backtest_plan,
    backtest_rows,
    plan_actuals,
    recomputed_rows,
)
from .forecast import forecast_loaded, segment_memberships
from .ltv import (
    MODEL_FITTED,
    customer_ltv_rows,
    fitted_values,
    previous_parameters,
    segment_ltv_rows,
)
from .ltv.summary import SUMMARY_COLUMNS, SUMMARY_SCHEMA, customer_summaries_query
from .warehouse import frame, run

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


def refresh_value(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str
) -> dict:
    """Write the tenant's marts.ltv_model, customer_ltv, segment_ltv, revenue_forecast and
    forecast_backtest at `as_of`; the three stages' results (model, customers,
    expected_clv_365d, months, expected_revenue_12m, rows, within_interval_share)."""
    from .pipeline import insert_frame, replace_slice, transaction

    start = previous_parameters(con, tenant_id)
    plan = backtest_plan(con, tenant_id, as_of)
    query, params = customer_summaries_query([as_of, *plan.todo_origins])
    summaries = frame(con, query, {"tenant_id": tenant_id, **params})
    with _backtest_on_worker(con, tenant_id, plan, summaries) as (refit_start, recomputed):
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
        refit_start.set_result(_start_after_write(con, tenant_id, as_of, run_id, model_row))
        customer_ltv = customer_ltv_rows(tenant_id, as_of, summary, values)
        memberships = segment_memberships(con, tenant_id, as_of, customers["contact_id"])
        segment_ltv = segment_ltv_rows(
            tenant_id, as_of, memberships,
            {"historical_revenue": customers["revenue"], **values}, model_row,
        )
        with transaction(con):
            replace_slice(con, "marts.customer_ltv", tenant_id, customer_ltv)
            replace_slice(con, "marts.segment_ltv", tenant_id, segment_ltv)
            run(con, "DELETE FROM marts.ltv_model WHERE tenant_id = $t AND run_id = $r",
                {"t": tenant_id, "r": run_id})
            insert_frame(con, "marts.ltv_model", model_row)

        customers.update(p_alive=values["p_alive"], e365=values["expected_purchases_365d"],
                         clv=values["expected_clv_365d"])
        forecast = forecast_loaded(con, tenant_id, as_of, customers, model_row.row(0, named=True),
                                   memberships=memberships)
        with transaction(con):
            replace_slice(con, "marts.revenue_forecast", tenant_id, forecast)

        backtest = backtest_rows(tenant_id, as_of, plan, recomputed.result())
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
    }


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


class _Stopped(Exception):
    """Lifetime value failed: the back-test worker has no start and stops."""


@contextmanager
def _backtest_on_worker(
    con: duckdb.DuckDBPyConnection, tenant_id: str, plan: BacktestPlan, summaries: pl.DataFrame
) -> Iterator[tuple[Future, Future]]:
    """(the refits' start, for the caller to set; the recomputed back-test rows, raising what
    the worker raised). The worker reads the actual revenue at once, then waits for the start."""
    start: Future = Future()
    if not plan.todo:
        done: Future = Future()
        done.set_result([])
        yield start, done
        return
    cursor = con.cursor()
    pool = ThreadPoolExecutor(1, thread_name_prefix="value-backtest")

    def rows() -> list[pl.DataFrame]:
        actuals = plan_actuals(cursor, tenant_id, plan)
        return recomputed_rows(cursor, tenant_id, plan, summaries, 1, actuals, start.result())

    recomputed = pool.submit(rows)
    try:
        yield start, recomputed
    finally:
        if not start.done():
            start.set_exception(_Stopped())
        pool.shutdown(wait=True)
        cursor.close()
