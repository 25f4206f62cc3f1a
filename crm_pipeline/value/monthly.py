"""The tenant's revenue month by month: a component model (new customers with trend and season,
existing customers' revenue carried forward), naive baselines, and a rolling back-test of all of
them on the tenant's own history.

Everything here works on whole calendar months of one tenant, as arrays ordered by month:
`revenue` (net: purchases minus refunds), `new_customers` (first purchases in the month) and
`first_revenue` (what those first purchases were worth). `month_of_year` (0-11) places each month
in the year. The functions are pure numpy and cheap (a tenant has at most a few dozen months), so
the back-test re-runs every method at every month of the tenant's history.

Component model (`components_forecast`).
- Season: a multiplicative index per month of the year from the ratio of each month to its
  centred 12-month moving average (2x12), averaged per month, and shrunk towards 1: with two
  years of ratios or more, by the share of its deviation that the year-to-year noise of the
  ratios would explain (James-Stein: a tenant without a season keeps almost none); with less, by
  `SEASON_PRIOR_YEARS` pseudo-years (one year of ratios keeps 1 / (1 + prior) of each
  deviation); none below `SEASON_MONTHS` (13) months of history.
- New customers (acquisition): seasonally adjusted counts, log-linear trend over the last
  `TREND_MONTHS` months, the growth damped (`DAMPING` per month ahead) and shrunk by
  n / (n + `TREND_PRIOR_MONTHS`) when the history is short; each is worth the mean first-purchase
  value of the last 12 months.
- Existing customers: their seasonally adjusted revenue follows
  E[t+1] = retention * E[t] + carry * F[t], F the (adjusted) first-purchase revenue of month t
  (the month's new customers buying again), fitted by least squares over the last
  `TREND_MONTHS` months; the part from customers already acquired at the origin is reported apart
  from the part of customers still to come.

Baselines: `last_month`, `trailing_mean_3` (the last three months' mean), `seasonal_naive` (the
same month last year, scaled by the last 12 months over the 12 before, from 12 months of history)
and `drift` (the line from the first month to the last, extended).
"""

from __future__ import annotations

import numpy as np

COMPONENTS = "components"
BASELINES = ("last_month", "trailing_mean_3", "seasonal_naive", "drift")
METHODS = (COMPONENTS, *BASELINES)

HORIZON = 6  # months ahead the back-test compares
MIN_TRAIN = 3  # months of history before the first back-test origin

SEASON_MONTHS = 13
SEASON_PRIOR_YEARS = 0.5
TREND_MONTHS = 24
TREND_PRIOR_MONTHS = 2.0
DAMPING = 0.97
LEVEL_SMOOTHING = 0.3


def seasonal_index(values: np.ndarray, month_of_year: np.ndarray) -> np.ndarray:
    """Multiplicative index per month of the year (12 values, mean 1 before shrinking), from
    the ratio to the centred 2x12 moving average; ones below `SEASON_MONTHS` months."""
    n = values.size
    if n < SEASON_MONTHS or values.sum() <= 0:
        return np.ones(12)
    weights = np.r_[0.5, np.ones(11), 0.5] / 12.0
    average = np.convolve(values, weights, mode="valid")  # centred on months 6 .. n - 7
    centre = values[6:n - 6]
    ok = average > 0
    ratio = np.where(ok, centre / np.where(ok, average, 1.0), 1.0)
    months = month_of_year[6:n - 6]
    counts = np.bincount(months[ok], minlength=12).astype(float)
    sums = np.bincount(months[ok], weights=ratio[ok], minlength=12)
    index = np.where(counts > 0, sums / np.maximum(counts, 1.0), 1.0)
    index = index / index.mean()
    keep = counts / (counts + SEASON_PRIOR_YEARS)
    spread = ratio[ok] - index[months[ok]]
    repeated = ok.sum() - (counts > 0).sum()  # ratios beyond each month's first
    if repeated >= 6:  # noise measured across years: shrink what noise alone would explain
        noise = float(np.dot(spread, spread)) / repeated
        signal = float(np.mean((index - 1.0) ** 2))
        keep = np.clip(1.0 - noise / np.maximum(counts, 1.0) / max(signal, 1e-12), 0.0, 1.0)
    return 1.0 + keep * (index - 1.0)


def damped_growth(months_ahead: int) -> np.ndarray:
    """Cumulative damped steps 1..months_ahead: sum of DAMPING^i for i = 1..h."""
    return np.cumsum(DAMPING ** np.arange(1, months_ahead + 1))


def trend_forecast(values: np.ndarray, months_ahead: int) -> np.ndarray:
    """Log-linear trend of the last `TREND_MONTHS` values, damped and shrunk when short, from
    the fitted level at the last month."""
    recent = values[-TREND_MONTHS:]
    n = recent.size
    if n == 0:
        return np.zeros(months_ahead)
    logs = np.log(np.maximum(recent, 0.0) + 0.5)
    if n < 3:
        return np.full(months_ahead, max(float(recent.mean()), 0.0))
    t = np.arange(n, dtype=float)
    slope, intercept = np.polyfit(t, logs, 1)
    slope *= n / (n + TREND_PRIOR_MONTHS)
    level = intercept + slope * (n - 1)
    return np.maximum(np.exp(level + slope * damped_growth(months_ahead)) - 0.5, 0.0)


def _retention(existing: np.ndarray, first: np.ndarray) -> tuple[float, float]:
    """(retention, carry) of E[t+1] = retention E[t] + carry F[t], least squares over the last
    `TREND_MONTHS` months; retention alone when the pair is ill-posed or out of range."""
    target, e, f = existing[1:][-TREND_MONTHS:], existing[:-1][-TREND_MONTHS:], first[:-1][
        -TREND_MONTHS:]
    if target.size == 0 or np.dot(e, e) <= 0:
        return (1.0, 0.0)
    if target.size >= 4 and np.dot(f, f) > 0:
        (retention, carry), *_ = np.linalg.lstsq(np.column_stack([e, f]), target, rcond=None)
        if 0.0 <= retention <= 1.2 and carry >= 0.0:
            return float(retention), float(carry)
    return float(min(max(np.dot(e, target) / np.dot(e, e), 0.0), 1.2)), 0.0


def _smoothed_level(existing: np.ndarray, first: np.ndarray, retention: float, carry: float):
    """Existing customers' (adjusted) revenue at the last month, filtered: each month's value
    blended (`LEVEL_SMOOTHING`) with what the previous month's level and new customers predict."""
    level = existing[0]
    for t in range(1, existing.size):  # a filter over months, not rows
        level = LEVEL_SMOOTHING * existing[t] + (1.0 - LEVEL_SMOOTHING) * (
            retention * level + carry * first[t - 1])
    return level


def components_forecast(
    revenue: np.ndarray,
    new_customers: np.ndarray,
    first_revenue: np.ndarray,
    month_of_year: np.ndarray,
    months_ahead: int,
) -> dict[str, np.ndarray]:
    """The component model's next `months_ahead` months: `expected`, `existing` (customers
    acquired by the last month of history), `new` (customers still to come: their first purchases
    and repeats) and `new_customers` (expected count)."""
    ahead_moy = (month_of_year[-1] + 1 + np.arange(months_ahead)) % 12 if month_of_year.size else (
        np.arange(months_ahead) % 12)
    if revenue.size < MIN_TRAIN:
        level = float(revenue.mean()) if revenue.size else 0.0
        flat = np.full(months_ahead, level)
        return {"expected": flat, "existing": flat.copy(), "new": np.zeros(months_ahead),
                "new_customers": np.zeros(months_ahead)}
    season_new = seasonal_index(new_customers, month_of_year)
    existing = revenue - first_revenue
    season_existing = seasonal_index(existing, month_of_year)
    count_adjusted = new_customers / season_new[month_of_year]
    counts = trend_forecast(count_adjusted, months_ahead) * season_new[ahead_moy]
    recent = slice(-12, None)
    customers_recent = new_customers[recent].sum()
    per_customer = first_revenue[recent].sum() / customers_recent if customers_recent > 0 else 0.0
    first_ahead = counts * per_customer
    e_adj = existing / season_existing[month_of_year]
    f_adj = first_revenue / season_new[month_of_year]
    retention, carry = _retention(e_adj, f_adj)
    f_ahead_adj = first_ahead / season_new[ahead_moy]
    old = np.empty(months_ahead)
    new_repeat = np.empty(months_ahead)
    old_level, new_level = _smoothed_level(e_adj, f_adj, retention, carry), 0.0
    old_first, new_first = f_adj[-1], 0.0
    for h in range(months_ahead):  # a recursion over months, not rows
        old_level = retention * old_level + carry * old_first
        new_level = retention * new_level + carry * new_first
        old_first, new_first = 0.0, f_ahead_adj[h]
        old[h], new_repeat[h] = old_level, new_level
    old = np.maximum(old * season_existing[ahead_moy], 0.0)
    new = np.maximum(new_repeat * season_existing[ahead_moy], 0.0) + first_ahead
    return {"expected": old + new, "existing": old, "new": new, "new_customers": counts}


def baseline_forecasts(revenue: np.ndarray, months_ahead: int) -> dict[str, np.ndarray]:
    """Each naive baseline's next `months_ahead` months (NaN where it needs more history)."""
    n = revenue.size
    h = np.arange(1, months_ahead + 1)
    nan = np.full(months_ahead, np.nan)
    if n == 0:
        return {name: nan.copy() for name in BASELINES}
    out = {
        "last_month": np.full(months_ahead, revenue[-1]),
        "trailing_mean_3": np.full(months_ahead, revenue[-3:].mean()),
        "drift": revenue[-1] + h * ((revenue[-1] - revenue[0]) / (n - 1) if n > 1 else 0.0),
    }
    if n >= 12:
        same = revenue[n - 12 + (h - 1) % 12]
        scale = 1.0
        if n >= 24 and revenue[-24:-12].sum() > 0:
            scale = revenue[-12:].sum() / revenue[-24:-12].sum()
        out["seasonal_naive"] = same * scale
    else:
        out["seasonal_naive"] = nan.copy()
    out["drift"] = np.maximum(out["drift"], 0.0)
    return {name: out[name] for name in BASELINES}


def all_forecasts(
    revenue: np.ndarray,
    new_customers: np.ndarray,
    first_revenue: np.ndarray,
    month_of_year: np.ndarray,
    months_ahead: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(methods x months_ahead forecasts in `METHODS` order, the component model's parts)."""
    parts = components_forecast(revenue, new_customers, first_revenue, month_of_year,
                                months_ahead)
    baselines = baseline_forecasts(revenue, months_ahead)
    return np.vstack([parts["expected"], *(baselines[b] for b in BASELINES)]), parts


def rolling_forecasts(
    revenue: np.ndarray,
    new_customers: np.ndarray,
    first_revenue: np.ndarray,
    month_of_year: np.ndarray,
    horizon: int = HORIZON,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every method re-made at every origin of the history (after `MIN_TRAIN` months) with the
    months before it only: (origins: index of the first forecast month, forecasts
    methods x origins x horizon, actuals origins x horizon, NaN past the history's end)."""
    n = revenue.size
    origins = np.arange(MIN_TRAIN, n)
    forecasts = np.full((len(METHODS), origins.size, horizon), np.nan)
    actuals = np.full((origins.size, horizon), np.nan)
    for i, o in enumerate(origins):
        forecasts[:, i], _ = all_forecasts(revenue[:o], new_customers[:o], first_revenue[:o],
                                           month_of_year[:o], horizon)
        seen = revenue[o:o + horizon]
        actuals[i, :seen.size] = seen
    return origins, forecasts, actuals
