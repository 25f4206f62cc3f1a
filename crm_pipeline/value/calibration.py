"""Which method a tenant's forecast uses, and intervals calibrated on the tenant's own back-test.

Both read the rolling back-test of `value.monthly` (every method re-made at every month of the
tenant's history) and use only the errors known at the origin they serve: at the as-of date that
is every complete month; in the back-test's own rows, only the months before that origin, so the
coverage the accuracy table shows is out of sample.

Selection (`select_method`). The default is `combined`, the mean of the component model and
the trailing 3-month mean (averaging two forecasts whose errors differ beats either on flat and
noisy tenants). Another candidate replaces it when it did better over the back-test's months of
the last `SELECTION_MONTHS`, judged on the forecasts made 1 to `SELECTION_HORIZON` months ahead
(the recent forecasts: longer horizons in the window are forecasts made a year or more earlier,
from a history too short to hold a season) and on the months both forecast, `MIN_PAIRS` of them or
more: the component model alone when its WAPE is lower at all (`MARGINS`), a naive baseline or
drift when lower by `SELECTION_MARGIN` at least. Of the candidates that qualify, the one with the
lowest WAPE over all the back-test's months is used, and the rows say so (`method`,
`method_note`). With fewer pairs the default is used and the note says it is untested. The margin
keeps month-to-month noise from switching to a baseline and back (measured on the simulated
tenants: switching on any lead lost more than it won).

Intervals (`interval_multipliers`). Split-conformal on the log ratio actual / forecast of the
selected method, per horizon, over the last `CALIBRATION_MONTHS` months of the back-test (the
model's errors from when its history was short would otherwise widen it for good): the 80% interval
spans the residuals of ranks (n+1) 0.1 and (n+1) 0.9 among the n known at that horizon,
interpolated between neighbours (50%: 0.25 and 0.75), so a forecast that was biased is shifted as
well as widened. Fallbacks, in order, when a horizon has fewer than
`MIN_RESIDUALS`: the residuals of every horizon pooled, each scaled by sqrt(horizon / its
horizon) (`pooled`); for a young tenant with fewer than `MIN_RESIDUALS` in all, a log-normal
whose spread is the month-to-month noise of its log revenue (the standard deviation of its
changes over sqrt(2), at least `MIN_VOLATILITY`) times sqrt(horizon) (`volatility`). Each
horizon is calibrated on its own errors, so with a dozen of them a later month's interval can come
out narrower than an earlier one's (forcing them to widen took the simulated 80% coverage from 86%
to 91%).
"""

from __future__ import annotations

import numpy as np

from crm_pipeline.value.monthly import COMBINED, COMPONENTS, METHODS

DEFAULT = COMBINED

MIN_PAIRS = 6
SELECTION_MONTHS = 12
SELECTION_HORIZON = 3
SELECTION_MARGIN = 0.2
MARGINS = {COMPONENTS: 0.0}  # the lead each candidate needs (default SELECTION_MARGIN)
CALIBRATION_MONTHS: int | None = 10
MIN_RESIDUALS = 8
MIN_VOLATILITY = 0.05
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


def selection_pairs(origins: np.ndarray, actuals: np.ndarray, cutoff: int) -> np.ndarray:
    """The back-test months selection compares: known before `cutoff`, among the last
    `SELECTION_MONTHS`, forecast 1 to `SELECTION_HORIZON` months ahead."""
    mask = known_pairs(origins, actuals, cutoff, SELECTION_MONTHS)
    return mask & (np.arange(actuals.shape[1]) < SELECTION_HORIZON)[None, :]


def wape(forecast: np.ndarray, actual: np.ndarray, mask: np.ndarray) -> float:
    """Sum of absolute errors over the sum of absolute actuals, on `mask`; NaN when empty."""
    denominator = np.abs(actual[mask]).sum()
    if not mask.any() or denominator <= 0:
        return float("nan")
    return float(np.abs(actual[mask] - forecast[mask]).sum() / denominator)


def select_method(
    forecasts: np.ndarray, actuals: np.ndarray, mask: np.ndarray,
    history: np.ndarray | None = None,
) -> tuple[int, bool]:
    """(index into METHODS of the method to use, whether the choice was tested: enough pairs).

    A candidate qualifies when its WAPE on `mask` (`selection_pairs`) is below the default's
    (`DEFAULT`) times 1 - its margin (`MARGINS`; SELECTION_MARGIN for the baselines); of those
    that qualify, the one with the lowest WAPE over `history` (every known month; `mask` when not
    given) is used."""
    default = METHODS.index(DEFAULT)
    history = mask if history is None else history
    best, best_wape, tested = default, np.inf, False
    for k in range(len(METHODS)):
        if k == default:
            continue
        common = mask & np.isfinite(forecasts[k]) & np.isfinite(forecasts[default])
        if common.sum() < MIN_PAIRS:
            continue
        tested = True
        ours = wape(forecasts[default], actuals, common)
        theirs = wape(forecasts[k], actuals, common)
        if not (np.isfinite(ours) and np.isfinite(theirs) and ours > 0):
            continue
        if theirs / ours < 1.0 - MARGINS.get(METHODS[k], SELECTION_MARGIN):
            overall = wape(forecasts[k], actuals, history & np.isfinite(forecasts[k]))
            if overall < best_wape:
                best, best_wape = k, overall
    return best, tested


def _conformal(residuals: np.ndarray, level: float) -> tuple[float, float]:
    """Split-conformal bounds of signed residuals at `level`: the order statistics of ranks
    (n + 1) tail and (n + 1) (1 - tail), interpolated between neighbours (a new residual falls
    below the k-th of n with chance k / (n + 1); rounding the ranks outwards instead made a 50%
    interval of ten residuals hold 64%), clipped to the smallest and largest."""
    ordered = np.sort(residuals)
    n = ordered.size
    tail = (1.0 - level) / 2.0
    positions = np.clip([(n + 1) * tail - 1.0, (n + 1) * (1.0 - tail) - 1.0], 0.0, n - 1.0)
    low, high = np.interp(positions, np.arange(n), ordered)
    return float(low), float(high)


def volatility(revenue: np.ndarray) -> float:
    """Month-to-month noise of log revenue: the standard deviation of its changes over sqrt(2)
    (each change holds two months' noise), at least MIN_VOLATILITY."""
    positive = revenue[revenue > 0]
    if positive.size < 3:
        return max(MIN_VOLATILITY, 0.3)
    return max(float(np.std(np.diff(np.log(positive)), ddof=1)) / np.sqrt(2.0), MIN_VOLATILITY)


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
        k, _ = select_method(forecasts, actuals, selection_pairs(origins, actuals, origin), mask)
        method[i] = k
        recent = known_pairs(origins, actuals, origin, CALIBRATION_MONTHS)
        factors, _ = interval_multipliers(forecasts[k], actuals, recent, revenue[:origin], horizon)
        expected[i] = forecasts[k, i]
        for level in LEVELS:
            bounds[f"low_{int(level * 100)}"][i] = forecasts[k, i] * factors[level][0]
            bounds[f"high_{int(level * 100)}"][i] = forecasts[k, i] * factors[level][1]
    return {"expected": expected, "method": method, **bounds}
