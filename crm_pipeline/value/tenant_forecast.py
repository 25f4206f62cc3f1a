"""The tenant's total revenue forecast (segment `all` of `marts.revenue_forecast`): the method its
own back-test proves best, intervals calibrated on its errors, and the accuracy tables that show
the proof (`marts.forecast_accuracy`, `marts.forecast_accuracy_summary`).

History. Whole calendar months before the first forecast month (`monthly_history`): net revenue
from `sql/models/marts/monthly_revenue.sql`; new customers and their first purchases' value from
the customer summary (first purchase day = as-of date - tenure; first purchase = historical
revenue - average repeat order value x repeat purchases). The first forecast month is the as-of
date's month unless the as-of date is its last day (then the next month): a partial current month
is what is booked from its first day to the as-of date (`booked_revenue`) plus the forecast of its
remaining days (the month's forecast times the share of its days that remain); the last period
(ending on the as-of date's day of month, 12 months on) likewise takes its share of its month.
The back-test compares whole months only, all of them complete before the as-of date.

Method. `value.monthly` re-makes the component model and the naive baselines at every month of the
history; `value.calibration` picks the method (the model unless a baseline beat it over the last
`SELECTION_MONTHS` months of the back-test: then the baseline, named in `method` and explained in
`method_note`) and calibrates the 80% and 50% intervals on that method's errors by horizon. The
customer-level parts (`from_customers`, `from_leads`: BG/NBD, Gamma-Gamma and lead conversion)
stay beside it, with the component model's own total (`model_revenue`) and its part from
customers not acquired yet (`from_new_customers`, `expected_new_customers`).
"""

from __future__ import annotations

import calendar
import datetime
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.marts.refresh import replace_slice
from crm_pipeline.sql import sql_text
from crm_pipeline.tenants import get_tenant
from crm_pipeline.value.calibration import (
    CALIBRATION_MONTHS,
    DEFAULT,
    LEVELS,
    MARGINS,
    MIN_PAIRS,
    SELECTION_HORIZON,
    SELECTION_MARGIN,
    SELECTION_MONTHS,
    evaluate_backtest,
    interval_multipliers,
    known_pairs,
    select_method,
    selection_pairs,
    wape,
)
from crm_pipeline.value.memberships import ALL_SEGMENT
from crm_pipeline.value.money import rounded_money
from crm_pipeline.value.monthly import (
    METHODS,
    NAIVE_BASELINES,
    Carved,
    all_forecasts,
    large_customers,
    rolling_forecasts,
)
from crm_pipeline.warehouse import frame, transaction

BACKTEST_HORIZON = 12
CUSTOMER_MODEL = "customer_model"  # segment rows: BG/NBD, Gamma-Gamma and leads, as computed
PUBLISHED = "forecast"  # accuracy rows of the forecast as published at each origin
SUMMARY_MONTHS = 6  # horizon 0 of the summary: months 1-6 together

ACCURACY_SCHEMA = {
    "tenant_id": pl.String, "origin": pl.Date, "horizon": pl.Int32, "period_start": pl.Date,
    "method": pl.String, "expected_revenue": pl.Float64, "actual_revenue": pl.Float64,
    "error": pl.Float64, "revenue_low": pl.Float64, "revenue_high": pl.Float64,
    "revenue_low_50": pl.Float64, "revenue_high_50": pl.Float64, "within_interval": pl.Boolean,
    "within_interval_50": pl.Boolean, "as_of": pl.Date,
}

SUMMARY_SCHEMA = {
    "tenant_id": pl.String, "method": pl.String, "horizon": pl.Int32, "periods": pl.Int64,
    "wape": pl.Float64, "bias": pl.Float64, "coverage_80": pl.Float64,
    "coverage_50": pl.Float64, "used": pl.Boolean, "as_of": pl.Date,
}

TENANT_COLUMNS = {
    "method": pl.String, "method_note": pl.String, "booked_revenue": pl.Float64,
    "revenue_low_50": pl.Float64, "revenue_high_50": pl.Float64, "model_revenue": pl.Float64,
    "from_new_customers": pl.Float64, "expected_new_customers": pl.Float64,
    "interval_basis": pl.String, "from_large_customers": pl.Float64,
    "from_subscriptions": pl.Float64, "expected_subscribers": pl.Float64,
    "subscription_churn": pl.Float64,
}


class MonthlyHistory(NamedTuple):
    """A tenant's whole months before `current` (the first forecast month), oldest first."""

    months: list[datetime.date]
    revenue: np.ndarray
    new_customers: np.ndarray
    first_revenue: np.ndarray
    month_of_year: np.ndarray
    current: datetime.date
    booked: float  # net revenue of `current` up to the as-of date (0 when it starts after)
    carved: Carved | None = None  # the parts forecast on their own (large customers, subscriptions)


def _month_number(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of datetime64[D] days."""
    return days.astype("datetime64[M]").astype(np.int64)


def _month_date(number: int) -> datetime.date:
    return datetime.date(1970 + number // 12, number % 12 + 1, 1)


def first_month(as_of: datetime.date) -> datetime.date:
    """First day of the first forecast month: the as-of date's month, or the next one when the
    as-of date is its month's last day."""
    return (as_of + datetime.timedelta(days=1)).replace(day=1)


def _month_numbers(rows: pl.DataFrame) -> np.ndarray:
    """Months since January 1970 of the rows' `month` dates."""
    return np.array([(d.year - 1970) * 12 + d.month - 1 for d in rows["month"].to_list()],
                    dtype=np.int64)


def _by_month(rows: pl.DataFrame | None, column: str, start: int, size: int,
              earlier: bool = False) -> np.ndarray:
    """The rows' `column` summed into `size` months from month number `start` (zeros without
    rows); with `earlier`, the months before `start` are counted in the first (subscriptions
    started before the first purchase are subscribers all the same)."""
    if rows is None or rows.height == 0:
        return np.zeros(size)
    months = _month_numbers(rows)
    if earlier:
        months = np.maximum(months, start)
    inside = (months >= start) & (months < start + size)
    values = rows[column].fill_null(0).to_numpy().astype(float)
    return np.bincount(months[inside] - start, weights=values[inside], minlength=size)


def _carved(con, tenant_id: str, as_of: datetime.date, large_ids: list[str], start: int,
            size: int) -> Carved:
    """The parts of the monthly history forecast on their own: the large customers' revenue
    (`monthly_revenue_of`, less what they paid while subscribed) and the subscriptions
    (`monthly_subscriptions`; their revenue, `monthly_subscription_revenue`, read only when the
    tenant has any)."""
    params = {"tenant_id": tenant_id, "as_of": as_of}
    subscriptions = frame(con, sql_text("models/marts/monthly_subscriptions"), params)
    large = frame(con, sql_text("models/marts/monthly_revenue_of"),
                  {**params, "contact_ids": large_ids}) if large_ids else None
    subscribed = frame(con, sql_text("models/marts/monthly_subscription_revenue"),
                       {**params, "large_ids": large_ids}) if subscriptions.height else None
    return Carved.none(
        size,
        large=_by_month(large, "revenue", start, size)
        - _by_month(subscribed, "large_revenue", start, size),
        subscription=_by_month(subscribed, "revenue", start, size),
        subscription_first=_by_month(subscribed, "first_revenue", start, size),
        subscription_new=_by_month(subscribed, "new_customers", start, size),
        starts=_by_month(subscriptions, "starts", start, size, earlier=True),
        ends=_by_month(subscriptions, "ends", start, size, earlier=True),
    )


def monthly_history(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    tenure_days: np.ndarray,
    first_values: np.ndarray,
    historical_revenue: np.ndarray | None = None,
    contact_ids: list[str] | None = None,
) -> MonthlyHistory:
    """The tenant's monthly history at `as_of`; `tenure_days` and `first_values`: each customer's
    age at the as-of date and first purchase's value (customer summary order); with
    `historical_revenue` and `contact_ids` (same order) the large customers
    (`monthly.large_customers`) are carved out: their revenue by month, their first purchases
    left out of the new customers'. Subscriptions are carved out in any case (`_carved`)."""
    current = first_month(as_of)
    current_number = (current.year - 1970) * 12 + current.month - 1
    large = (large_customers(historical_revenue) if historical_revenue is not None
             else np.zeros(np.asarray(tenure_days).size, dtype=bool))
    large_ids = [contact_ids[i] for i in np.flatnonzero(large)] if contact_ids is not None else []
    rows = frame(con, sql_text("models/marts/monthly_revenue"),
                 {"tenant_id": tenant_id, "as_of": as_of})
    revenue_months = _month_numbers(rows)
    revenue_values = rows["revenue"].fill_null(0.0).to_numpy().astype(float)
    booked = float(revenue_values[revenue_months == current_number].sum())
    first_days = np.datetime64(as_of, "D") - np.asarray(tenure_days).astype("timedelta64[D]")
    first_numbers = _month_number(first_days)
    candidates = [m[m < current_number].min() for m in (revenue_months, first_numbers)
                  if (m < current_number).any()]
    if not candidates:
        empty = np.zeros(0)
        return MonthlyHistory([], empty, empty, empty, np.zeros(0, dtype=np.int64), current,
                              booked, Carved.none(0))
    start = int(min(candidates))
    size = current_number - start
    revenue = _by_month(rows, "revenue", start, size)
    acquired = (first_numbers < current_number) & ~large
    new_customers = np.bincount(first_numbers[acquired] - start, minlength=size).astype(float)
    first_revenue = np.bincount(first_numbers[acquired] - start,
                                weights=np.nan_to_num(np.asarray(first_values)[acquired]),
                                minlength=size)
    numbers = np.arange(start, current_number)
    return MonthlyHistory([_month_date(int(n)) for n in numbers], revenue, new_customers,
                          first_revenue, numbers % 12, current, booked,
                          _carved(con, tenant_id, as_of, large_ids, start, size))


def first_purchase_values(customers: dict) -> np.ndarray:
    """Each customer's first purchase: historical revenue - average repeat order x repeats."""
    m = np.nan_to_num(np.asarray(customers["m"], dtype=float))
    repeats = np.asarray(customers["x"], dtype=float)
    return np.asarray(customers["revenue"], dtype=float) - m * repeats


class TenantForecast(NamedTuple):
    """The tenant-level columns of the `all` rows, and the accuracy tables' rows."""

    rows: pl.DataFrame  # period_start plus the tenant-level columns
    accuracy: pl.DataFrame
    summary: pl.DataFrame


def _period_shares(periods: list[tuple[datetime.date, datetime.date]]) -> np.ndarray:
    """Share of its calendar month each period covers."""
    return np.array([(end - start).days / calendar.monthrange(start.year, start.month)[1]
                     for start, end in periods])


def _note(k: int, tested: bool, forecasts, actuals, mask) -> str:
    """One sentence on why the method was chosen."""
    default = METHODS.index(DEFAULT)
    recent = (f"over the last {SELECTION_MONTHS} months of back-test (forecasts 1 to "
              f"{SELECTION_HORIZON} months ahead)")
    if not tested:
        return (f"{DEFAULT} (mean of the component model and the trailing 3-month mean), "
                f"untested: fewer than {MIN_PAIRS} months of back-test to compare it with the "
                "other methods")
    if k == default:
        return (f"{DEFAULT} (mean of the component model and the trailing 3-month mean): no other "
                f"method did better {recent} (the component model by any margin, a naive "
                f"forecast by {SELECTION_MARGIN:.0%})")
    common = mask & np.isfinite(forecasts[k]) & np.isfinite(forecasts[default])
    margin = MARGINS.get(METHODS[k], SELECTION_MARGIN)
    lead = f" by {margin:.0%} or more" if margin > 0 else ""
    return (f"{METHODS[k]}: it beat {DEFAULT}{lead} {recent} (WAPE "
            f"{wape(forecasts[k], actuals, common):.3f} against "
            f"{wape(forecasts[default], actuals, common):.3f}), so its numbers are used")


def tenant_forecast(
    tenant_id: str,
    as_of: datetime.date,
    history: MonthlyHistory,
    periods: list[tuple[datetime.date, datetime.date]],
) -> TenantForecast | None:
    """The tenant-level forecast of `periods` (`forecast.forecast_periods`) and its back-test;
    None without a whole month of history (the customer-level numbers then stand)."""
    n = history.revenue.size
    if n == 0:
        return None
    args = (history.revenue, history.new_customers, history.first_revenue,
            history.month_of_year)
    horizon = len(periods)
    now, parts = all_forecasts(*args, horizon, history.carved)
    origins, forecasts, actuals = rolling_forecasts(*args, horizon=BACKTEST_HORIZON,
                                                    carved=history.carved)
    window = selection_pairs(origins, actuals, n)
    k, tested = select_method(forecasts, actuals, window, known_pairs(origins, actuals, n))
    if not np.isfinite(now[k]).all():
        k, tested = METHODS.index(DEFAULT), False
    factors, basis = interval_multipliers(
        forecasts[k], actuals, known_pairs(origins, actuals, n, CALIBRATION_MONTHS),
        history.revenue, horizon)
    share = _period_shares(periods)
    booked = np.zeros(horizon)
    if periods[0][0] != history.current:
        booked[0] = history.booked
    ahead = now[k] * share
    bounds = {level: (booked + ahead * factors[level][0], booked + ahead * factors[level][1])
              for level in LEVELS}
    note = _note(k, tested, forecasts, actuals, window)
    rows = pl.DataFrame({
        "period_start": [start for start, _ in periods],
        "expected_revenue": booked + ahead,
        "revenue_low": np.maximum(bounds[0.8][0], booked),
        "revenue_high": bounds[0.8][1],
        "method": METHODS[k],
        "method_note": note,
        "booked_revenue": booked,
        "revenue_low_50": np.maximum(bounds[0.5][0], booked),
        "revenue_high_50": bounds[0.5][1],
        "model_revenue": parts["expected"] * share,
        "from_new_customers": parts["new"] * share,
        "expected_new_customers": parts["new_customers"] * share,
        "interval_basis": basis,
        "from_large_customers": parts["large"] * share,
        "from_subscriptions": parts["subscriptions"] * share,
        "expected_subscribers": parts["subscribers"] * share,
        "subscription_churn": parts["churn"],
    })
    accuracy = _accuracy_rows(tenant_id, as_of, history, origins, forecasts, actuals)
    return TenantForecast(rows, accuracy, _summary_rows(tenant_id, as_of, accuracy, METHODS[k]))


def _accuracy_rows(tenant_id, as_of, history, origins, forecasts, actuals) -> pl.DataFrame:
    """Every method at every origin and horizon whose month is known, and the published forecast
    (`PUBLISHED`) with its out-of-sample intervals."""
    if origins.size == 0:
        return pl.DataFrame(schema=ACCURACY_SCHEMA)
    published = evaluate_backtest(origins, forecasts, actuals, history.revenue)
    n_origins, horizon = actuals.shape
    o, h = np.meshgrid(np.arange(n_origins), np.arange(horizon), indexing="ij")
    months = history.months
    origin_dates = [months[i] - datetime.timedelta(days=1) for i in origins]
    blocks = []
    names = [*METHODS, PUBLISHED]
    values = [*forecasts, published["expected"]]
    for name, expected in zip(names, values, strict=True):
        ok = np.isfinite(actuals) & np.isfinite(expected)
        oi, hi = o[ok], h[ok]
        block = {
            "method": name,
            "origin": [origin_dates[i] for i in oi],
            "horizon": (hi + 1).astype(np.int32),
            "period_start": [months[origins[i] + j] for i, j in zip(oi, hi, strict=True)],
            "expected_revenue": expected[ok],
            "actual_revenue": actuals[ok],
        }
        for column, key in (("revenue_low", "low_80"), ("revenue_high", "high_80"),
                            ("revenue_low_50", "low_50"), ("revenue_high_50", "high_50")):
            block[column] = published[key][ok] if name == PUBLISHED else np.full(ok.sum(), np.nan)
        blocks.append(pl.DataFrame(block))
    bounds = ("revenue_low", "revenue_high", "revenue_low_50", "revenue_high_50")
    rows = pl.concat(blocks, how="vertical_relaxed").with_columns(
        *(pl.col(c).fill_nan(None) for c in bounds)  # other methods have no interval
    ).with_columns(
        pl.lit(tenant_id).alias("tenant_id"),
        (pl.col("actual_revenue") - pl.col("expected_revenue")).alias("error"),
        pl.col("actual_revenue").is_between(pl.col("revenue_low"), pl.col("revenue_high"))
        .alias("within_interval"),
        pl.col("actual_revenue").is_between(pl.col("revenue_low_50"), pl.col("revenue_high_50"))
        .alias("within_interval_50"),
        pl.lit(as_of).alias("as_of"),
    )
    return rows.select(list(ACCURACY_SCHEMA)).cast(ACCURACY_SCHEMA).sort(
        "method", "origin", "horizon")


def _summary_rows(tenant_id, as_of, accuracy: pl.DataFrame, used: str) -> pl.DataFrame:
    """WAPE, bias and coverage per method and horizon (0: months 1-6 together)."""
    if accuracy.height == 0:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    pooled = accuracy.filter(pl.col("horizon") <= SUMMARY_MONTHS).with_columns(
        pl.lit(0, dtype=pl.Int32).alias("horizon"))
    both = pl.concat([accuracy, pooled])
    actual_sum = pl.col("actual_revenue").abs().sum()
    return both.group_by("method", "horizon").agg(
        pl.len().cast(pl.Int64).alias("periods"),
        pl.when(actual_sum > 0).then((pl.col("error").abs().sum()) / actual_sum).alias("wape"),
        pl.when(actual_sum > 0).then(-pl.col("error").sum() / actual_sum).alias("bias"),
        pl.col("within_interval").cast(pl.Float64).mean().alias("coverage_80"),
        pl.col("within_interval_50").cast(pl.Float64).mean().alias("coverage_50"),
    ).with_columns(
        pl.lit(tenant_id).alias("tenant_id"),
        pl.col("method").is_in([used, PUBLISHED]).alias("used"),
        pl.lit(as_of).alias("as_of"),
    ).select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA).sort("method", "horizon")


def with_tenant_forecast(forecast: pl.DataFrame, tenant: TenantForecast | None) -> pl.DataFrame:
    """`marts.revenue_forecast` rows: the customer-level `forecast` with the tenant-level numbers
    in its `all` rows (their expected revenue and intervals replaced) and `method` on every row."""
    if tenant is None:
        return forecast.with_columns(
            pl.lit(CUSTOMER_MODEL).alias("method"),
            *(pl.lit(None, dtype=t).alias(c) for c, t in TENANT_COLUMNS.items() if c != "method"),
        )
    joined = forecast.join(tenant.rows, on="period_start", how="left", suffix="_tenant")
    is_all = pl.col("segment") == ALL_SEGMENT
    replaced = [
        pl.when(is_all).then(pl.col(f"{c}_tenant")).otherwise(pl.col(c)).alias(c)
        for c in ("expected_revenue", "revenue_low", "revenue_high")
    ]
    extra = [
        (pl.when(is_all).then(pl.col(c)).otherwise(pl.lit(CUSTOMER_MODEL)) if c == "method"
         else pl.when(is_all).then(pl.col(c))).cast(t).alias(c)
        for c, t in TENANT_COLUMNS.items()
    ]
    columns = [*forecast.columns, *(c for c in TENANT_COLUMNS if c not in forecast.columns)]
    return joined.with_columns(*replaced, *extra).select(columns)


def write_forecast_tables(
    con: duckdb.DuckDBPyConnection, tenant_id: str, forecast: pl.DataFrame,
    tenant: TenantForecast | None,
) -> pl.DataFrame:
    """The tenant's marts.revenue_forecast (`forecast` with the tenant-level numbers),
    forecast_accuracy and forecast_accuracy_summary, in one transaction; the forecast rows, their
    money rounded to the tenant currency's minor unit (`money`)."""
    found = get_tenant(con, tenant_id)
    currency = found.base_currency if found else "USD"
    rows = rounded_money(with_tenant_forecast(forecast, tenant), currency)
    accuracy = rounded_money(
        tenant.accuracy if tenant else pl.DataFrame(schema=ACCURACY_SCHEMA), currency)
    summary = tenant.summary if tenant else pl.DataFrame(schema=SUMMARY_SCHEMA)
    with transaction(con):
        replace_slice(con, "marts.revenue_forecast", tenant_id, rows)
        replace_slice(con, "marts.forecast_accuracy", tenant_id, accuracy)
        replace_slice(con, "marts.forecast_accuracy_summary", tenant_id, summary)
    return rows


def accuracy_metadata(tenant: TenantForecast | None) -> dict:
    """The tenant's forecast method and six-month accuracy (summary horizon 0), for a run's
    metadata: `forecast_method`, `six_month_wape` (as published), `best_naive_six_month_wape`,
    `coverage_80`, `coverage_50`; empty without a tenant-level forecast."""
    if tenant is None or tenant.summary.height == 0:
        return {}
    six = tenant.summary.filter(pl.col("horizon") == 0)
    published = six.filter(pl.col("method") == PUBLISHED).row(0, named=True)
    naive = six.filter(pl.col("method").is_in(NAIVE_BASELINES))["wape"].drop_nulls()
    return {
        "forecast_method": tenant.rows["method"][0],
        "six_month_wape": published["wape"],
        "best_naive_six_month_wape": float(naive.min()) if naive.len() else None,
        "coverage_80": published["coverage_80"],
        "coverage_50": published["coverage_50"],
    }
