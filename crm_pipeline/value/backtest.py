"""Back-tests of the revenue forecast: re-made at earlier dates, compared with what then happened.

Each origin (3, 6 and 12 months before the as-of date) refits the models on the purchases known at
the origin and forecasts the next `horizon` months, all of which lie before the as-of date; the
actual net revenue of the segment's members in each period is then known.

Cost. The customer summaries at every origin come from one pass over the purchases (shared with
the as-of date's by `value.refresh_value`, which also runs the back-test on a thread of its own),
and each refit starts from `start` (the tenant's current parameters: the refits' optimum does not
depend on it). The actual revenue of every origin comes from one pass over the activities.
An origin whose inputs are unchanged since its rows were written is not recomputed: each row
carries `inputs_key`, a fingerprint of everything the origin's rows depend on, namely the origin
and horizon; every activity of the tenant up to the end of the horizon (contact, type, time and
amount, so late arrivals, refunds, merges, unmerges and erasures all change it); the tenant's
contacts and when each became known; its segment memberships and history at the origin; and the
code and library versions that compute the rows.
"""

from __future__ import annotations

import datetime
import hashlib
from functools import cache
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl
import scipy

from crm_pipeline.value.forecast import (
    add_months,
    forecast_loaded,
    forecast_periods,
    members_query,
)
from crm_pipeline.value.ltv.model import fitted_values
from crm_pipeline.value.ltv.summary import SUMMARY_COLUMNS, customer_summaries_query
from crm_pipeline.warehouse import frame, run

ORIGIN_MONTHS = (3, 6, 12)
HORIZON_MONTHS = 3

BACKTEST_SCHEMA = {
    "tenant_id": pl.String, "origin": pl.Date, "segment": pl.String, "period_start": pl.Date,
    "period_end": pl.Date, "expected_revenue": pl.Float64, "revenue_low": pl.Float64,
    "revenue_high": pl.Float64, "actual_revenue": pl.Float64, "error": pl.Float64,
    "abs_pct_error": pl.Float64, "within_interval": pl.Boolean, "as_of": pl.Date,
    "inputs_key": pl.String,
}

# Net revenue per origin, segment (members at the origin) and period; 'all': everyone's. One
# pass over the activities for every origin: each activity falls in one of the intervals between
# consecutive period bounds ({bucket}: a CASE over the bounds), and a period is the intervals it
# spans (`spans`). Activities are summed per contact only for the contacts in some segment.
_ACTUALS = """
WITH spans AS (
    SELECT unnest($origins) AS origin, unnest($starts) AS period_start,
           unnest($first_buckets) AS first_bucket, unnest($last_buckets) AS last_bucket
),
bucket_periods AS (
    SELECT origin, period_start, unnest(range(first_bucket, last_bucket + 1)) AS bucket
    FROM spans
),
amounts AS (
    SELECT contact_id, {bucket} AS bucket,
           CASE WHEN type = 'purchase' THEN amount_base ELSE -amount_base END AS amount
    FROM core.activities
    WHERE tenant_id = $tenant_id AND type IN ('purchase', 'refund')
      AND amount_base IS NOT NULL AND occurred_at >= $start AND occurred_at < $end
),
members AS ({members}),
member_revenue AS (
    SELECT contact_id, bucket, sum(amount) AS revenue
    FROM amounts
    WHERE contact_id IN (SELECT contact_id FROM members)
    GROUP BY ALL
),
revenue AS (
    SELECT bucket, sum(amount) AS revenue FROM amounts GROUP BY bucket
)
SELECT p.origin, m.segment, p.period_start, sum(r.revenue) AS revenue
FROM member_revenue AS r
JOIN bucket_periods AS p USING (bucket)
JOIN members AS m ON m.origin = p.origin AND m.contact_id = r.contact_id
GROUP BY ALL
UNION ALL
SELECT p.origin, 'all', p.period_start, sum(r.revenue)
FROM revenue AS r JOIN bucket_periods AS p USING (bucket)
GROUP BY ALL
"""

# Fingerprints: (rows, sum of row hashes). Activities by bucket (0: before the earliest end,
# then before each next one) so each row is hashed once whatever the number of origins.
_ACTIVITY_FINGERPRINTS = """
SELECT {bucket} AS bucket, count(*), sum(hash(contact_id, type, occurred_at, amount_base))
FROM core.activities
WHERE tenant_id = $tenant_id AND occurred_at < $last_end
GROUP BY bucket
"""
_CONTACT_FINGERPRINT = """
SELECT count(*), sum(hash(contact_id, first_seen_at, created_at))
FROM core.contacts WHERE tenant_id = $tenant_id
"""
_SEGMENT_FINGERPRINT = """
SELECT * FROM
(SELECT count(*), sum(hash(contact_id, segment, entered_on,
                          CASE WHEN left_on > $origin THEN NULL ELSE left_on END))
 FROM marts.segment_history WHERE tenant_id = $tenant_id AND entered_on <= $origin),
(SELECT count(*), sum(hash(contact_id, segment))
 FROM marts.contact_segments WHERE tenant_id = $tenant_id AND as_of = $origin)
"""


@cache
def _code_fingerprint() -> str:
    """The source of the modules that compute back-test rows (the `value` package), with the
    library versions."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{duckdb.__version__} {np.__version__} {scipy.__version__}".encode())
    return digest.hexdigest()


def _origins(
    as_of: datetime.date, origins_months: tuple[int, ...], horizon_months: int
) -> list[tuple[datetime.date, int, list[tuple[datetime.date, datetime.date]]]]:
    """(origin, horizon in months, periods) for each origin, in the order given."""
    out = []
    for back in origins_months:
        origin = add_months(as_of, -back)
        horizon = min(horizon_months, back)
        out.append((origin, horizon, forecast_periods(origin, horizon)))
    return out


def inputs_keys(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    origins: list[tuple[datetime.date, int, list[tuple[datetime.date, datetime.date]]]],
) -> list[str]:
    """The fingerprint of each origin's inputs (see the module's docstring)."""
    ends = sorted({periods[-1][1] for _, _, periods in origins})
    bucket = "CASE " + " ".join(
        f"WHEN occurred_at < $end_{i} THEN {i}" for i in range(len(ends))
    ) + f" ELSE {len(ends)} END"
    params = {"tenant_id": tenant_id, "last_end": ends[-1],
              **{f"end_{i}": end for i, end in enumerate(ends)}}
    buckets = {
        int(b): (int(n), int(h or 0))
        for b, n, h in run(con, _ACTIVITY_FINGERPRINTS.format(bucket=bucket), params)
    }
    contacts = run(con, _CONTACT_FINGERPRINT, {"tenant_id": tenant_id})[0]
    keys = []
    for origin, horizon, periods in origins:
        last = ends.index(periods[-1][1])
        rows = sum(buckets.get(b, (0, 0))[0] for b in range(last + 1))
        hashes = sum(buckets.get(b, (0, 0))[1] for b in range(last + 1)) % 2**128
        segments = run(con, _SEGMENT_FINGERPRINT, {"tenant_id": tenant_id, "origin": origin})[0]
        text = repr((_code_fingerprint(), origin.isoformat(), horizon, rows, hashes,
                     *(int(v or 0) for v in (*contacts, *segments))))
        keys.append(hashlib.sha256(text.encode()).hexdigest()[:32])
    return keys


def _stored_rows(con, tenant_id: str, keys: list[str]) -> pl.DataFrame:
    """The tenant's rows of `marts.forecast_backtest` made from inputs with one of `keys`."""
    return frame(
        con,
        "SELECT * FROM marts.forecast_backtest WHERE tenant_id = $tenant_id "
        "AND list_contains($keys, inputs_key)",
        {"tenant_id": tenant_id, "keys": keys},
    )


def _actuals(con, tenant_id: str, origins: list) -> pl.DataFrame:
    """(origin, segment, period_start, revenue) for each (origin, horizon, periods)."""
    members = " UNION ALL ".join(
        f"SELECT CAST($as_of_{i} AS DATE) AS origin, contact_id, segment FROM ("
        + members_query(con, tenant_id, origin).replace("$as_of", f"$as_of_{i}") + ")"
        for i, (origin, _, _) in enumerate(origins)
    )
    periods = [(origin, *p) for origin, _, ps in origins for p in ps]
    bounds = sorted({d for _, start, end in periods for d in (start, end)})
    bucket = "CASE " + " ".join(
        f"WHEN occurred_at < $bound_{k} THEN {k - 1}" for k in range(1, len(bounds))
    ) + " END"
    return frame(
        con,
        _ACTUALS.format(members=members, bucket=bucket),
        {
            "tenant_id": tenant_id,
            **{f"as_of_{i}": origin for i, (origin, _, _) in enumerate(origins)},
            **{f"bound_{k}": bound for k, bound in enumerate(bounds) if k},
            "origins": [o for o, _, _ in periods], "starts": [s for _, s, _ in periods],
            "first_buckets": [bounds.index(s) for _, s, _ in periods],
            "last_buckets": [bounds.index(e) - 1 for _, _, e in periods],
            "start": bounds[0], "end": bounds[-1],
        },
    )


class BacktestPlan(NamedTuple):
    """What a back-test at an as-of date does: its origins (origin, horizon in months, periods),
    each one's `inputs_key`, the stored rows kept, and the origins recomputed (indices)."""

    origins: list[tuple[datetime.date, int, list[tuple[datetime.date, datetime.date]]]]
    keys: list[str]
    stored: pl.DataFrame
    todo: list[int]

    @property
    def todo_origins(self) -> list[datetime.date]:
        return [self.origins[j][0] for j in self.todo]


def backtest_plan(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    origins_months: tuple[int, ...] = ORIGIN_MONTHS,
    horizon_months: int = HORIZON_MONTHS,
) -> BacktestPlan:
    """The origins of a back-test at `as_of`, and which of them keep their stored rows."""
    origins = _origins(as_of, origins_months, horizon_months)
    if not origins:
        return BacktestPlan([], [], pl.DataFrame(schema=BACKTEST_SCHEMA), [])
    keys = inputs_keys(con, tenant_id, origins)
    stored = _stored_rows(con, tenant_id, keys)
    reused = set(stored.select("origin", "inputs_key").unique().iter_rows())
    todo = [j for j, (origin, _, _) in enumerate(origins) if (origin, keys[j]) not in reused]
    return BacktestPlan(origins, keys, stored, todo)


def plan_actuals(
    con: duckdb.DuckDBPyConnection, tenant_id: str, plan: BacktestPlan
) -> pl.DataFrame:
    """Net revenue per recomputed origin, segment and period (see `_ACTUALS`)."""
    return _actuals(con, tenant_id, [plan.origins[j] for j in plan.todo])


def recomputed_rows(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    plan: BacktestPlan,
    summaries: pl.DataFrame,
    first: int,
    actuals: pl.DataFrame,
    start: dict | None,
) -> list[pl.DataFrame]:
    """The rows of each origin of `plan.todo` that has purchases before it.

    `summaries`: `customer_summaries_query`'s rows, the i-th recomputed origin's summary in the
    columns suffixed `first + i`; `actuals`: `plan_actuals`; `start`: the refits' start.
    """
    frames = []
    first_purchase_on = summaries["first_purchase_on"]
    for i, j in enumerate(plan.todo):
        origin, horizon, periods = plan.origins[j]
        mask = (first_purchase_on <= origin).to_numpy()
        if not mask.any():
            continue  # no purchase yet at this origin: nothing to test
        rows = _origin_rows(con, tenant_id, origin, horizon, periods, first + i, summaries, mask,
                            actuals, start)
        frames.append(rows.with_columns(inputs_key=pl.lit(plan.keys[j])))
    return frames


def _origin_rows(
    con, tenant_id: str, origin: datetime.date, horizon: int, periods: list, i: int,
    summaries: pl.DataFrame, mask: np.ndarray, actuals: pl.DataFrame, start: dict | None,
) -> pl.DataFrame:
    """The forecast at `origin` (the i-th summary of `summaries`) beside actuals."""
    x, tx, T, m, revenue = (
        summaries[f"{c}_{i}"].cast(pl.Float64).fill_null(np.nan).to_numpy()[mask]
        for c in SUMMARY_COLUMNS
    )
    model_row, values = fitted_values(
        x, tx, T, m, revenue, tenant_id, origin, f"forecast-as-of-{origin}", start=start
    )
    customers = {
        "contact_id": summaries["contact_id"].filter(mask), "x": x, "tx": tx, "T": T, "m": m,
        "revenue": revenue, "p_alive": values["p_alive"],
        "e365": values["expected_purchases_365d"], "clv": values["expected_clv_365d"],
    }
    forecast = forecast_loaded(
        con, tenant_id, origin, customers, model_row.row(0, named=True), months=horizon
    )
    period_ends = pl.DataFrame(
        {"period_start": [s for s, _ in periods], "period_end": [e for _, e in periods]}
    )
    actuals = actuals.filter(pl.col("origin") == origin).drop("origin")
    return (
        forecast.join(period_ends, on="period_start", how="left")
        .join(actuals, on=["segment", "period_start"], how="left")
        .with_columns(
            actual_revenue=pl.col("revenue").fill_null(0.0),
            origin=pl.lit(origin, dtype=pl.Date),
        )
    )


def backtest_rows(
    tenant_id: str, as_of: datetime.date, plan: BacktestPlan, recomputed: list[pl.DataFrame]
) -> pl.DataFrame:
    """Rows of `marts.forecast_backtest`: the plan's kept rows and the `recomputed` ones."""
    frames = [
        plan.stored.filter((pl.col("origin") == o) & (pl.col("inputs_key") == plan.keys[j]))
        for j, (o, _, _) in enumerate(plan.origins) if j not in plan.todo
    ] + recomputed
    if not frames:
        return pl.DataFrame(schema=BACKTEST_SCHEMA)
    result = pl.concat([f.select(_ROW_COLUMNS) for f in frames], how="vertical_relaxed")
    return result.select(
        pl.lit(tenant_id).alias("tenant_id"),
        "origin", "segment", "period_start", "period_end", "expected_revenue",
        "revenue_low", "revenue_high", "actual_revenue",
        (pl.col("actual_revenue") - pl.col("expected_revenue")).alias("error"),
        pl.when(pl.col("actual_revenue") > 0)
        .then((pl.col("actual_revenue") - pl.col("expected_revenue")).abs()
              / pl.col("actual_revenue"))
        .alias("abs_pct_error"),
        pl.col("actual_revenue").is_between(pl.col("revenue_low"), pl.col("revenue_high"))
        .alias("within_interval"),
        pl.lit(as_of).alias("as_of"),
        "inputs_key",
    ).cast(BACKTEST_SCHEMA).sort("origin", "segment", "period_start")


def forecast_backtest(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    origins_months: tuple[int, ...] = ORIGIN_MONTHS,
    horizon_months: int = HORIZON_MONTHS,
    *,
    start: dict | None = None,
) -> pl.DataFrame:
    """Rows of `marts.forecast_backtest` for every origin with purchases before it.

    An origin whose rows in `marts.forecast_backtest` were made from the same inputs (same
    `inputs_key`) keeps them, with this `as_of`. `start`: parameters to start the refits from
    (e.g. `ltv.previous_parameters`); the results do not depend on it.
    """
    plan = backtest_plan(con, tenant_id, as_of, origins_months, horizon_months)
    recomputed = []
    if plan.todo:
        query, params = customer_summaries_query(plan.todo_origins)
        summaries = frame(con, query, {"tenant_id": tenant_id, **params})
        actuals = plan_actuals(con, tenant_id, plan)
        recomputed = recomputed_rows(con, tenant_id, plan, summaries, 0, actuals, start)
    return backtest_rows(tenant_id, as_of, plan, recomputed)


_ROW_COLUMNS = ("origin", "segment", "period_start", "period_end", "expected_revenue",
                "revenue_low", "revenue_high", "actual_revenue", "inputs_key")
