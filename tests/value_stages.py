"""The value tables written by their model functions one table at a time: the reference the
product's one pass (`value.refresh.refresh_value`, the pipeline's only path) is tested and
benchmarked against. Not product code: the pipeline never runs these."""

from __future__ import annotations

from datetime import date

from crm_pipeline.marts.refresh import replace_slice
from crm_pipeline.value.backtest import forecast_backtest
from crm_pipeline.value.forecast import forecast_periods, stored_revenue_forecast
from crm_pipeline.value.ltv.model import ltv_tables, previous_parameters
from crm_pipeline.value.ltv.segments import ltv_by_segment
from crm_pipeline.value.refresh import write_ltv_tables
from crm_pipeline.value.tenant_forecast import (
    accuracy_metadata,
    monthly_history,
    tenant_forecast,
    write_forecast_tables,
)
from crm_pipeline.warehouse import frame, transaction


def ltv_stage(con, tenant_id: str, as_of: date, run_id: str) -> dict:
    """Fit the tenant's lifetime-value models; write marts.ltv_model, customer_ltv, segment_ltv."""
    model, customers = ltv_tables(con, tenant_id, as_of, run_id,
                                  start=previous_parameters(con, tenant_id))
    segments = ltv_by_segment(con, tenant_id, as_of, customers, model)
    write_ltv_tables(con, tenant_id, run_id, customers, segments, model)
    row = model.row(0, named=True)
    return {"model": row["model"], "customers": row["customers"],
            "expected_clv_365d": float(customers["expected_clv_365d"].sum() or 0.0)}


def forecast_stage(con, tenant_id: str, as_of: date, run_id: str) -> dict:
    """The tenant's 12-month revenue forecast by segment, the tenant's total by the method its
    back-test proves best, and the accuracy tables."""
    forecast = stored_revenue_forecast(con, tenant_id, as_of, run_id)
    customers = frame(con, "SELECT contact_id, tenure_days, historical_revenue, "
                           "historical_revenue - coalesce(avg_order_value, 0)"
                           " * frequency AS first_value FROM marts.customer_ltv "
                           "WHERE tenant_id = $t ORDER BY contact_id", {"t": tenant_id})
    history = monthly_history(con, tenant_id, as_of, customers["tenure_days"].to_numpy(),
                              customers["first_value"].to_numpy(),
                              customers["historical_revenue"].to_numpy(),
                              customers["contact_id"].to_list())
    tenant = tenant_forecast(tenant_id, as_of, history, forecast_periods(as_of))
    forecast = write_forecast_tables(con, tenant_id, forecast, tenant)
    total = forecast.filter(forecast["segment"] == "all")
    return {"months": total.height, "expected_revenue_12m": float(total["expected_revenue"].sum()),
            "accuracy": accuracy_metadata(tenant)}


def backtest_stage(con, tenant_id: str, as_of: date) -> dict:
    """Forecasts re-made 3, 6 and 12 months back, beside what then happened."""
    rows = forecast_backtest(con, tenant_id, as_of, start=previous_parameters(con, tenant_id))
    with transaction(con):
        replace_slice(con, "marts.forecast_backtest", tenant_id, rows)
    overall = rows.filter(rows["segment"] == "all")
    return {"rows": rows.height,
            "within_interval_share": float(overall["within_interval"].mean() or 0.0)
            if overall.height else None}
