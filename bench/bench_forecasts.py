"""Revenue forecast accuracy on simulated tenants (bench/forecast_simulator.py).

For every kind and seed, the forecast is re-made at every back-test origin with the history before
it (the published forecast: the method the tenant's own back-test selects then, its intervals
calibrated on the errors known then) and compared with the next six months. Printed per kind:
six-month WAPE of our forecast, of the component model alone and of each naive baseline (pooled
over origins and seeds), ours against the best of the issue's naive baselines (last month,
trailing 3-month mean, same month last year x trend: the target's yardstick) and against the best
of those and drift (a candidate of ours, shown for comparison), the WAPE of the truth itself (the
process's expected revenue: the noise no forecast can remove), how often the months fell inside
the 80% and 50% intervals, and which methods were used.

    .venv/bin/python bench/bench_forecasts.py [--seeds 8] [--first-seed 1000] [--first 24]
        [--json FILE]

Origins start once `--first` months are known (6 for young tenants, whose history is 6 months:
their one origin is at month 6 of a 12-month simulation).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.forecast_simulator import KINDS, simulate  # noqa: E402
from crm_pipeline.value.calibration import evaluate_backtest  # noqa: E402
from crm_pipeline.value.monthly import (  # noqa: E402
    BASELINES,
    COMBINED,
    COMPONENTS,
    METHODS,
    NAIVE_BASELINES,
    rolling_forecasts,
)

SIX = 6


def measure(kind: str, seeds: int, first: int, first_seed: int = 1000) -> dict:
    errors = {name: [0.0, 0.0] for name in ("forecast", *METHODS, "truth")}
    inside = {80: [0, 0], 50: [0, 0]}
    used: dict[str, int] = {}
    for seed in range(seeds):
        history = KINDS[kind][3]
        months = history + SIX if kind == "young" else None
        tenant = simulate(kind, months=months, seed=first_seed + seed)
        origins, forecasts, actuals = rolling_forecasts(
            tenant.revenue, tenant.new_customers, tenant.first_revenue, tenant.month_of_year,
            horizon=12, carved=tenant.carved())
        published = evaluate_backtest(origins, forecasts, actuals, tenant.revenue)
        start = history if kind == "young" else first
        keep = (origins >= start) & (origins + SIX <= tenant.revenue.size)
        if kind == "young":
            keep &= origins == history
        actual = actuals[keep, :SIX]
        months = np.minimum(origins[:, None] + np.arange(12)[None, :], tenant.truth.size - 1)
        truth = tenant.truth[months]  # the process's expected revenue: the floor no method beats
        for name, values in (("forecast", published["expected"]), ("truth", truth),
                             *((m, forecasts[k]) for k, m in enumerate(METHODS))):
            f = values[keep, :SIX]
            ok = np.isfinite(f)
            errors[name][0] += float(np.abs(actual[ok] - f[ok]).sum())
            errors[name][1] += float(np.abs(actual[ok]).sum()) if ok.all() else float("nan")
        for level in (80, 50):
            low = published[f"low_{level}"][keep, :SIX]
            high = published[f"high_{level}"][keep, :SIX]
            inside[level][0] += int(((actual >= low) & (actual <= high)).sum())
            inside[level][1] += actual.size
        for k in published["method"][keep]:
            used[METHODS[k]] = used.get(METHODS[k], 0) + 1
    wape = {name: (e / a if a == a and a > 0 else None) for name, (e, a) in errors.items()}
    best = min(wape[b] for b in NAIVE_BASELINES if wape[b] is not None)
    best_any = min(wape[b] for b in BASELINES if wape[b] is not None)
    return {
        "kind": kind, "wape": wape, "best_naive": best,
        "vs_best_naive": wape["forecast"] / best - 1.0,
        "vs_best_incl_drift": wape["forecast"] / best_any - 1.0,
        "coverage_80": inside[80][0] / inside[80][1], "coverage_50": inside[50][0] / inside[50][1],
        "months": inside[80][1], "methods_used": used,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--first", type=int, default=24)
    parser.add_argument("--first-seed", type=int, default=1000,
                        help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [measure(kind, args.seeds, args.first, args.first_seed) for kind in KINDS]
    header = (f"{'kind':20} {'ours':>6} {'model':>6} {'combined':>8} "
              + " ".join(f"{b[:9]:>9}" for b in BASELINES))
    print(header + f" {'vs naive':>8} {'vs+drift':>8} {'truth':>6} {'cov80':>6} {'cov50':>6} "
          f"{'months':>6}  methods")
    for r in results:
        w = r["wape"]
        cells = " ".join(f"{w[b]:9.3f}" if w[b] is not None else f"{'-':>9}" for b in BASELINES)
        print(f"{r['kind']:20} {w['forecast']:6.3f} {w[COMPONENTS]:6.3f} {w[COMBINED]:8.3f} "
              f"{cells} {r['vs_best_naive']:+8.1%} {r['vs_best_incl_drift']:+8.1%} "
              f"{w['truth']:6.3f} {r['coverage_80']:6.1%} "
              f"{r['coverage_50']:6.1%} "
              f"{r['months']:6d}  {r['methods_used']}")
    total = sum(r["months"] for r in results)
    cov80 = sum(r["coverage_80"] * r["months"] for r in results) / total
    cov50 = sum(r["coverage_50"] * r["months"] for r in results) / total
    print(f"all kinds: 80% intervals held {cov80:.1%} of {total} months, 50% held {cov50:.1%}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
