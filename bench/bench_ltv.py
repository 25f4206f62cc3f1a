"""Benchmark: LTV for 1M customers (~5.3M purchases simulated from BG/NBD) against lifetimes.

Ours: `ltv_tables` end to end (summary in DuckDB from core.activities, both fits, predictions).
lifetimes: `summary_data_from_transaction_data`, BetaGeoFitter, GammaGammaFitter and the same
predictions, on the same purchases. Run: `.venv/bin/python bench/bench_ltv.py [--customers N]
[--skip-lifetimes]`. Not run by the tests.

`--stages [--dir DIR]`: instead, the pipeline's three LTV stages (lifetime value, forecast,
back-test) on a CRM home built as in `bench_ltv_run.py` (kept in DIR and reused when given; the
marts stage runs once at set-up for the segments), each timed in wall and CPU seconds (DuckDB's
threads included), then again as a re-run of the same day, whose back-test keeps its rows; then
the same two runs of `value.refresh_value`, which writes the three stages' rows in one pass.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipeline.value.ltv.bgnbd import BgNbdParams, simulate
from crm_pipeline.value.ltv.gamma_gamma import GammaGammaParams
from crm_pipeline.value.ltv.model import ltv_tables
from crm_pipeline.value.ltv.summary import customer_summary
from crm_pipeline.warehouse import connect, create_tables

AS_OF = datetime.date(2024, 12, 31)
TRUE_BGNBD = BgNbdParams(r=0.85, alpha=36.5, a=0.7, b=4.0)
TRUE_GG = GammaGammaParams(p=6.0, q=4.0, v=15.0)


def simulated_purchases(customers: int, seed: int = 0) -> pl.DataFrame:
    """Purchases (contact_id, occurred_at, amount) of customers with BG/NBD purchase times."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, 731, customers).astype(float)
    x, tx = simulate(TRUE_BGNBD, T, rng)
    x = x.astype(np.int64)
    # purchase times since the first: 0, then x - 1 uniform on [0, tx], then tx
    owner = np.repeat(np.arange(customers), x + 1)
    starts = np.cumsum(x + 1) - (x + 1)
    position = np.arange(owner.size) - starts[owner]
    times = rng.uniform(0.0, 1.0, owner.size) * tx[owner]
    times = np.where(position == 0, 0.0, np.where(position == x[owner], tx[owner], times))
    first = np.datetime64(AS_OF) - T.astype("timedelta64[D]")
    at = first[owner].astype("datetime64[us]") + (times * 86400e6).astype("timedelta64[us]")
    nu = rng.gamma(TRUE_GG.q, 1.0 / TRUE_GG.v, customers)
    amount = np.round(rng.gamma(TRUE_GG.p, 1.0 / nu[owner]), 2)
    return pl.DataFrame({"contact_id": owner, "occurred_at": at, "amount": amount}).with_columns(
        pl.format("c{}", "contact_id").alias("contact_id")
    )


def load_activities(con, purchases: pl.DataFrame) -> None:
    """Insert the purchases into core.activities as tenant 'bench'."""
    rows = purchases.with_row_index("line_number").select(
        pl.lit("bench").alias("tenant_id"),
        pl.format("a{}", "line_number").alias("activity_id"),
        "contact_id",
        pl.lit("purchase").alias("type"),
        pl.col("occurred_at").cast(pl.Datetime("us")),
        "amount",
        pl.lit("USD").alias("currency"),
        pl.col("amount").alias("amount_base"),
        pl.lit("-").alias("content_hash"),
        pl.lit("bench").alias("import_id"),
        pl.col("line_number").cast(pl.Int64),
    )
    con.register("bench_rows", rows)
    con.execute("INSERT INTO core.activities BY NAME SELECT * FROM bench_rows")
    con.unregister("bench_rows")


def clock() -> tuple[float, float]:
    """(wall, CPU of this process incl. DuckDB's threads) in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


def since(start: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    return now[0] - start[0], now[1] - start[1]


def run_ours(con) -> dict[str, tuple[float, float]]:
    timings = {}
    start = clock()
    customer_summary(con, "bench", AS_OF)
    timings["summary"] = since(start)
    start = clock()
    model_row, customers = ltv_tables(con, "bench", AS_OF, "bench")
    timings["end_to_end"] = since(start)
    timings["fits_and_predictions"] = tuple(
        e - s for e, s in zip(timings["end_to_end"], timings["summary"], strict=True)
    )
    row = model_row.row(0, named=True)
    print(
        f"  ours: model {row['model']}, r={row['r']:.4f} alpha={row['alpha']:.3f} a={row['a']:.4f} "
        f"b={row['b']:.4f} p={row['p']:.4f} q={row['q']:.4f} v={row['v']:.4f}"
    )
    print(f"  ours: total expected_clv_365d {customers['expected_clv_365d'].sum():,.0f}")
    return timings, row, customers


def run_lifetimes(con) -> dict[str, tuple[float, float]]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    transactions = con.execute(
        "SELECT contact_id, occurred_at, amount_base FROM core.activities WHERE tenant_id = 'bench'"
    ).df()
    timings = {}
    start = clock()
    summary = summary_data_from_transaction_data(
        transactions,
        "contact_id",
        "occurred_at",
        monetary_value_col="amount_base",
        observation_period_end=str(AS_OF),
        freq="D",
    )
    timings["summary"] = since(start)
    start = clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        f, r, T = summary["frequency"], summary["recency"], summary["T"]
        bgf.conditional_probability_alive(f, r, T)
        bgf.conditional_expected_number_of_purchases_up_to_time(90, f, r, T)
        e365 = bgf.conditional_expected_number_of_purchases_up_to_time(365, f, r, T)
        clv = e365 * ggf.conditional_expected_average_profit(f, summary["monetary_value"])
    timings["fits_and_predictions"] = since(start)
    timings["end_to_end"] = tuple(
        a + b for a, b in zip(timings["summary"], timings["fits_and_predictions"], strict=True)
    )
    b, g = bgf.params_, ggf.params_
    print(
        f"  lifetimes: r={b['r']:.4f} alpha={b['alpha']:.3f} a={b['a']:.4f} b={b['b']:.4f} "
        f"p={g['p']:.4f} q={g['q']:.4f} v={g['v']:.4f}"
    )
    print(f"  lifetimes: total expected_clv_365d {clv.sum():,.0f}")
    return timings, {**b.to_dict(), **g.to_dict()}


def run_stages(customers: int, work: Path | None) -> None:
    """Time the LTV, forecast and back-test stages on a built home (see the module docstring)."""
    import shutil
    import tempfile

    from bench_ltv_run import TENANT, build_home

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from value_stages import backtest_stage, forecast_stage, ltv_stage  # the reference

    from crm_pipeline import pipeline
    from crm_pipeline.value.refresh import refresh_value
    from crm_pipeline.warehouse import run

    root = work or Path(tempfile.mkdtemp(prefix="bench_ltv_stages_"))
    pristine = root / "pristine.duckdb"
    if not pristine.exists():
        start = time.perf_counter()
        home, purchases = build_home(root / "home", customers)
        con = connect(home.shard(TENANT))
        pipeline.marts_stage(con, TENANT, AS_OF)
        run(con, "CHECKPOINT")
        con.close()
        shutil.copy(home.shard(TENANT), pristine)
        print(f"setup: {customers:,} customers, {purchases:,} purchases "
              f"({time.perf_counter() - start:.1f} s, not timed)")
    db = root / "stages.duckdb"
    shutil.copy(pristine, db)
    con = connect(db)
    create_tables(con)
    stages = {
        "ltv": lambda: ltv_stage(con, TENANT, AS_OF, "bench-run"),
        "forecast": lambda: forecast_stage(con, TENANT, AS_OF, "bench-run"),
        "backtest": lambda: backtest_stage(con, TENANT, AS_OF),
    }
    print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for attempt in ("first run", "re-run"):
        total = [0.0, 0.0]
        for name, stage in stages.items():
            start = clock()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stage()
            wall, cpu = since(start)
            total = [total[0] + wall, total[1] + cpu]
            print(f"  {attempt}: {name:<9} {wall:6.2f} s wall / {cpu:6.2f} s CPU")
        print(f"  {attempt}: three stages {total[0]:6.2f} s wall / {total[1]:6.2f} s CPU")
    con.close()
    shutil.copy(pristine, db)  # the same from the same start, in one pass
    con = connect(db)
    create_tables(con)
    for attempt in ("first run", "re-run"):
        start = clock()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refresh_value(con, TENANT, AS_OF, "bench-run")
        wall, cpu = since(start)
        print(f"  {attempt}: one pass (value.refresh_value) {wall:6.2f} s wall / {cpu:6.2f} s CPU")
    con.close()
    db.unlink(missing_ok=True)
    if work is None:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--stages", action="store_true", help="time the pipeline's stages")
    parser.add_argument("--dir", type=Path, default=None, help="keep the --stages home here")
    args = parser.parse_args()
    if args.stages:
        run_stages(args.customers, args.dir)
        return

    con = connect(":memory:")
    create_tables(con)
    start = time.perf_counter()
    purchases = simulated_purchases(args.customers)
    load_activities(con, purchases)
    print(
        f"setup: {args.customers:,} customers, {purchases.height:,} purchases "
        f"({time.perf_counter() - start:.1f} s, not timed)"
    )
    print(f"  true: {TRUE_BGNBD}, {TRUE_GG}")

    print(f"  load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    def show(name, timings):
        print(
            f"{name} (wall s / CPU s): "
            + ", ".join(f"{k} {wall:.2f} / {cpu:.2f}" for k, (wall, cpu) in timings.items())
        )

    ours, our_row, _ = run_ours(con)
    show("ours", ours)
    if args.skip_lifetimes:
        return
    theirs, their_params = run_lifetimes(con)
    show("lifetimes", theirs)
    print(
        "ratio lifetimes/ours, wall: "
        + ", ".join(f"{k} {theirs[k][0] / ours[k][0]:.1f}x" for k in ours)
    )
    print(
        "ratio lifetimes/ours, CPU:  "
        + ", ".join(f"{k} {theirs[k][1] / ours[k][1]:.1f}x" for k in ours)
    )
    gaps = {k: our_row[k] / their_params[k] - 1 for k in ("r", "alpha", "a", "b", "p", "q", "v")}
    print("parameters, ours/lifetimes - 1: " + ", ".join(f"{k} {v:+.2e}" for k, v in gaps.items()))


if __name__ == "__main__":
    main()
