"""Which method a tenant's forecast uses, and intervals calibrated on the tenant's own back-test.

Both read the rolling back-test of `value.monthly` (every method re-made at every month of the
tenant's history) and use only the errors known at the origin they serve: at the as-of date that
is every complete month; in the back-test's own rows, only the months before that origin, so the
coverage the accuracy table shows is out of sample.

Selection (`select_method`). The component model is used unless a naive baseline had a lower
WAPE on the tenant's own back-test (on the months both forecast, at least `MIN_PAIRS` of them):
then the baseline with the lowest WAPE relative to the model's is used, and the rows say so
(`method`). With fewer pairs the model is used and the rows say the selection is untested.

Intervals (`interval_multipliers`). Split-conformal on the log ratio actual / forecast of the
selected method, per horizon: the 80% interval spans the ceil((n+1) 0.9)-th and floor((n+1) 0.1)-th
of the n residuals known at that horizon (50%: 0.75 and 0.25), so a forecast that was biased
is shifted as well as widened. Fallbacks, in order, when a horizon has fewer than
`MIN_RESIDUALS`: the residuals of every horizon pooled, each scaled by sqrt(horizon / its
horizon) (`pooled`); for a young tenant with fewer than `MIN_RESIDUALS` in all, a log-normal
whose spread is the tenant's month-to-month volatility of log revenue (at least
`MIN_VOLATILITY`) times sqrt(horizon) (`volatility`).
"""

from __future__ import annotations

import numpy as np

from crm_pipeline.value.monthly import COMPONENTS, METHODS

MIN_PAIRS = 6
SELECTION_MONTHS = 9
MIN_RESIDUALS = 8
MIN_VOLATILITY = 0.1
LEVELS = (0.8, 0.5)
Z = {0.8: 1.2815515655446004, 0.5: 0.6744897501960817}

CONFORMAL, POOLED, VOLATILITY = "conformal", "pooled", "volatility"


def known_pairs(
    origins: np.ndarray, actuals: np.ndarray, cutoff: int, window: int | None = None
) -> np.ndarray:
    """(origins x horizon) mask of back-test months whose actual was known before month
    `cutoff` (an index into the history); with `window`, only the last `window` such months."""
    months = origins[:, None] + np.arange(actuals.shape[1])[None, :]
    mask = (months < cutoff) & np.isfinite(actuals)
    return mask if window is None else mask & (months >= cutoff - window)


def wape(forecast: np.ndarray, actual: np.ndarray, mask: np.ndarray) -> float:
    """Sum of absolute errors over the sum of absolute actuals, on `mask`; NaN when empty."""
    denominator = np.abs(actual[mask]).sum()
    if not mask.any() or denominator <= 0:
        return float("nan")
    return float(np.abs(actual[mask] - forecast[mask]).sum() / denominator)


def select_method(
    forecasts: np.ndarray, actuals: np.ndarray, mask: np.ndarray
) -> tuple[int, bool]:
    """(index into METHODS of the method to use, whether the choice was tested: enough pairs)."""
    model = METHODS.index(COMPONENTS)
    best, best_ratio, tested = model, 1.0, False
    for k in range(len(METHODS)):
        if k == model:
            continue
        common = mask & np.isfinite(forecasts[k]) & np.isfinite(forecasts[model])
        if common.sum() < MIN_PAIRS:
            continue
        tested = True
        ours, theirs = wape(forecasts[model], actuals, common), wape(forecasts[k], actuals, common)
        if np.isfinite(ours) and np.isfinite(theirs) and ours > 0 and theirs / ours < best_ratio:
            best, best_ratio = k, theirs / ours
    return best, tested


def _conformal(residuals: np.ndarray, level: float) -> tuple[float, float]:
    """Split-conformal bounds of signed residuals at `level` (finite-sample order statistics)."""
    ordered = np.sort(residuals)
    n = ordered.size
    tail = (1.0 - level) / 2.0
    low = int(np.floor((n + 1) * tail))
    high = int(np.ceil((n + 1) * (1.0 - tail)))
    return float(ordered[max(low, 1) - 1]), float(ordered[min(high, n) - 1])


def volatility(revenue: np.ndarray) -> float:
    """Standard deviation of month-to-month changes of log revenue (at least MIN_VOLATILITY)."""
    positive = revenue[revenue > 0]
    if positive.size < 3:
        return max(MIN_VOLATILITY, 0.3)
    return max(float(np.std(np.diff(np.log(positive)), ddof=1)), MIN_VOLATILITY)


def interval_multipliers(
    forecast: np.ndarray, actuals: np.ndarray, mask: np.ndarray, revenue: np.ndarray,
    months_ahead: int,
) -> tuple[dict[float, tuple[np.ndarray, np.ndarray]], list[str]]:
    """Per level, (low, high) factors on the forecast for horizons 1..months_ahead, and the basis
    of each horizon's interval (conformal, pooled or volatility)."""
    usable = mask & np.isfinite(forecast) & (forecast > 0) & (actuals > 0)
    residuals = np.where(usable, np.log(np.where(usable, actuals, 1.0)
                                        / np.where(usable, forecast, 1.0)), np.nan)
    horizons = np.broadcast_to(np.arange(1, residuals.shape[1] + 1), residuals.shape)
    total = int(usable.sum())
    sigma = volatility(revenue)
    out = {level: (np.empty(months_ahead), np.empty(months_ahead)) for level in LEVELS}
    basis = []
    for h in range(1, months_ahead + 1):
        column = residuals[:, h - 1][usable[:, h - 1]] if h <= residuals.shape[1] else np.empty(0)
        if column.size >= MIN_RESIDUALS:
            sample, kind = column, CONFORMAL
        elif total >= MIN_RESIDUALS:
            sample = residuals[usable] * np.sqrt(h / horizons[usable])
            kind = POOLED
        else:
            sample, kind = None, VOLATILITY
        for level in LEVELS:
            if sample is None:
                spread = Z[level] * sigma * np.sqrt(h)
                low, high = -spread, spread
            else:
                low, high = _conformal(sample, level)
            out[level][0][h - 1], out[level][1][h - 1] = np.exp(low), np.exp(high)
        basis.append(kind)
    return out, basis


def evaluate_backtest(
    origins: np.ndarray, forecasts: np.ndarray, actuals: np.ndarray, revenue: np.ndarray
) -> dict[str, np.ndarray]:
    """The published forecast as it would have been at each origin: the method selected and the
    intervals calibrated with the errors known then. Arrays (origins x horizon): `expected`,
    `low_80`, `high_80`, `low_50`, `high_50`; `method` (origins,) index into METHODS."""
    n_origins, horizon = actuals.shape
    expected = np.full((n_origins, horizon), np.nan)
    bounds = {f"{side}_{int(level * 100)}": np.full((n_origins, horizon), np.nan)
              for level in LEVELS for side in ("low", "high")}
    method = np.zeros(n_origins, dtype=int)
    for i, origin in enumerate(origins):
        mask = known_pairs(origins, actuals, origin)
        k, _ = select_method(forecasts, actuals,
                             known_pairs(origins, actuals, origin, SELECTION_MONTHS))
        method[i] = k
        factors, _ = interval_multipliers(forecasts[k], actuals, mask, revenue[:origin], horizon)
        expected[i] = forecasts[k, i]
        for level in LEVELS:
            bounds[f"low_{int(level * 100)}"][i] = forecasts[k, i] * factors[level][0]
            bounds[f"high_{int(level * 100)}"][i] = forecasts[k, i] * factors[level][1]
    return {"expected": expected, "method": method, **bounds}
