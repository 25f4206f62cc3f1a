"""Back-tests of the revenue forecast: re-made at earlier dates, compared with what then happened.

Each origin (3, 6 and 12 months before the as-of date) refits the models on the purchases known at
the origin and forecasts the next `horizon` months, all of which lie before the as-of date; the
actual net revenue of the segment's members in each period is then known.
"""

from __future__ import annotations

import datetime

import duckdb
import polars as pl

from .forecast import ALL_SEGMENT, _add_months, forecast_as_of, forecast_periods, segment_members

ORIGIN_MONTHS = (3, 6, 12)
HORIZON_MONTHS = 3

_ACTUALS = """
SELECT contact_id,
       sum(CASE WHEN type = 'purchase' THEN amount_base ELSE -amount_base END) AS revenue
FROM core.activities
WHERE tenant_id = $tenant_id AND type IN ('purchase', 'refund') AND amount_base IS NOT NULL
  AND occurred_at >= $start AND occurred_at < $end
GROUP BY contact_id
"""


def forecast_backtest(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    origins_months: tuple[int, ...] = ORIGIN_MONTHS,
    horizon_months: int = HORIZON_MONTHS,
) -> pl.DataFrame:
    """Rows of `marts.forecast_backtest` for every origin with purchases before it."""
    frames = []
    for back in origins_months:
        origin = _add_months(as_of, -back)
        horizon = min(horizon_months, back)
        has_history = con.execute(
            "SELECT count(*) FROM core.activities WHERE tenant_id = $t AND type = 'purchase' "
            "AND occurred_at < $o",
            {"t": tenant_id, "o": origin + datetime.timedelta(days=1)},
        ).fetchall()[0][0]
        if not has_history:
            continue
        forecast = forecast_as_of(con, tenant_id, origin, months=horizon)
        periods = forecast_periods(origin, horizon)
        members = segment_members(con, tenant_id, origin)
        actual_rows = []
        for start, end in periods:
            actual = con.sql(_ACTUALS, params={"tenant_id": tenant_id, "start": start,
                                               "end": end}).pl()
            by_segment = actual.join(members, on="contact_id").group_by("segment").agg(
                pl.col("revenue").sum())
            actual_rows.append(by_segment.with_columns(pl.lit(start).alias("period_start"),
                                                       pl.lit(end).alias("period_end")))
            actual_rows.append(pl.DataFrame({
                "segment": [ALL_SEGMENT], "revenue": [float(actual["revenue"].sum() or 0.0)],
                "period_start": [start], "period_end": [end]}))
        actuals = pl.concat(actual_rows, how="vertical_relaxed")
        frames.append(
            forecast.join(actuals, on=["segment", "period_start"], how="left")
            .with_columns(pl.col("revenue").fill_null(0.0).alias("actual_revenue"),
                          pl.col("period_end").fill_null(
                              pl.col("period_start").map_elements(
                                  lambda d, p=dict(periods): p[d], return_dtype=pl.Date)),
                          pl.lit(origin).alias("origin"))
        )
    if not frames:
        return pl.DataFrame(schema=BACKTEST_SCHEMA)
    result = pl.concat(frames, how="vertical_relaxed")
    return result.select(
        pl.lit(tenant_id).alias("tenant_id"),
        "origin", "segment", "period_start", "period_end", "expected_revenue",
        "revenue_low", "revenue_high", "actual_revenue",
        (pl.col("actual_revenue") - pl.col("expected_revenue")).alias("error"),
        pl.when(pl.col("actual_revenue") > 0)
        .then((pl.col("actual_revenue") - pl.col("expected_revenue")).abs() / pl.col("actual_revenue"))
        .alias("abs_pct_error"),
        pl.col("actual_revenue").is_between(pl.col("revenue_low"), pl.col("revenue_high"))
        .alias("within_interval"),
        pl.lit(as_of).alias("as_of"),
    ).cast(BACKTEST_SCHEMA)


BACKTEST_SCHEMA = {
    "tenant_id": pl.String, "origin": pl.Date, "segment": pl.String, "period_start": pl.Date,
    "period_end": pl.Date, "expected_revenue": pl.Float64, "revenue_low": pl.Float64,
    "revenue_high": pl.Float64, "actual_revenue": pl.Float64, "error": pl.Float64,
    "abs_pct_error": pl.Float64, "within_interval": pl.Boolean, "as_of": pl.Date,
}
