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
  E[t+1] = retention * E[t] + carry * F[t] (+ steady), F the (adjusted) first-purchase revenue
  of month t (the month's new customers buying again), fitted over the last `TREND_MONTHS`
  months with the mean of the `IV_LAG` months before as the instrument of E[t] (`_retention`);
  the part from customers already acquired at the origin is reported apart from the part of
  customers still to come.
- Carved parts (`Carved`), forecast on their own and added: the few large customers (their mean
  month over the last `LARGE_MONTHS`) and subscriptions (`subscription_forecast`: subscribers
  decaying by the churn learned from the tenant's history, new ones by the trend of the starts).

Candidates beside the model: `combined` (the mean of the model and `trailing_mean_3`, the default
the selection starts from, `value.calibration`) and `drift` (the line from the first month to the
last, extended). Naive baselines, the yardsticks (`NAIVE_BASELINES`): `last_month`,
`trailing_mean_3` (the last three months' mean) and `seasonal_naive` (the same month last year,
scaled by the last 12 months over the 12 before, from 12 months of history).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

COMPONENTS = "components"
COMBINED = "combined"  # the mean of the component model and the trailing 3-month mean
NAIVE_BASELINES = ("last_month", "trailing_mean_3", "seasonal_naive")  # the yardsticks
BASELINES = (*NAIVE_BASELINES, "drift")  # drift: a candidate of ours, not a yardstick
METHODS = (COMPONENTS, COMBINED, *BASELINES)

HORIZON = 6  # months ahead the back-test compares
MIN_TRAIN = 3  # months of history before the first back-test origin

SEASON_MONTHS = 13
SEASON_PRIOR_YEARS = 0.5
TREND_MONTHS = 24
TREND_PRIOR_MONTHS = 2.0
DAMPING = 0.97
LEVEL_SMOOTHING = 0.3
IV_LAG = 3
LARGE_SHARE = 0.02  # a customer with this share of the tenant's revenue or more is large
LARGE_MIN_CUSTOMERS = 200  # ... in a tenant of this many customers or more
LARGE_MAX = 10
LARGE_MONTHS = 12  # large customers' revenue ahead: their mean month over this many
SUBSCRIPTION_MONTHS = 12  # subscriptions' churn: measured over this many months


def large_customers(historical_revenue: np.ndarray) -> np.ndarray:
    """Mask of the tenant's large customers: at most `LARGE_MAX`, each with `LARGE_SHARE` of its
    net revenue or more, in a tenant of `LARGE_MIN_CUSTOMERS` customers or more (in a small
    tenant every customer has a large share; none is singled out)."""
    values = np.nan_to_num(np.asarray(historical_revenue, dtype=float))
    mask = np.zeros(values.size, dtype=bool)
    total = values[values > 0].sum()
    if values.size < LARGE_MIN_CUSTOMERS or total <= 0:
        return mask
    top = np.argsort(-values, kind="stable")[:LARGE_MAX]
    mask[top[values[top] >= LARGE_SHARE * total]] = True
    return mask


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


class Retention(NamedTuple):
    """E[t+1] = retention E[t] + carry F[t] + steady: the part of existing customers' revenue
    that stays, what a month's new customers buy again the month after, and revenue that neither
    decays nor comes from new customers (customers who never leave, such as a few large ones)."""

    retention: float
    carry: float
    steady: float = 0.0


def _instrumented(target, e, lagged, columns) -> np.ndarray | None:
    """Instrumental-variable solution of target = [e, *columns] beta, `lagged` standing in for e
    (month-to-month noise in e would bias least squares' retention towards 0); None when
    singular."""
    x = np.column_stack([e, *columns])
    z = np.column_stack([lagged, *columns])
    try:
        return np.linalg.solve(z.T @ x, z.T @ target)
    except np.linalg.LinAlgError:
        return None


def _retention(existing: np.ndarray, first: np.ndarray) -> Retention:
    """`Retention` of the seasonally adjusted existing revenue over the last `TREND_MONTHS`
    months. With `IV_LAG` months more, fitted with the mean of the `IV_LAG` months before each
    month as the instrument of its revenue (noise in the regressor does not shrink retention)
    and a steady part when that is admissible (retention at most 1, carry and steady part not
    negative), else without it; otherwise least squares; retention alone when the pair is
    ill-posed or out of range."""
    n = existing.size
    if n >= IV_LAG + 6:
        lagged = np.mean([existing[IV_LAG - j:n - 1 - j] for j in range(1, IV_LAG + 1)], axis=0)
        target, e, f = (v[-TREND_MONTHS:] for v in (
            existing[IV_LAG + 1:], existing[IV_LAG:-1], first[IV_LAG:-1]))
        lagged = lagged[-TREND_MONTHS:]
        if np.dot(f, f) > 0:
            for columns in ((f, np.ones_like(f)), (f,)):
                beta = _instrumented(target, e, lagged, columns)
                if beta is None:
                    continue
                fit = Retention(*(float(b) for b in beta))
                if 0.0 <= fit.retention <= 1.0 and fit.carry >= 0.0 and fit.steady >= 0.0:
                    return fit
    target, e, f = existing[1:][-TREND_MONTHS:], existing[:-1][-TREND_MONTHS:], first[:-1][
        -TREND_MONTHS:]
    if target.size == 0 or np.dot(e, e) <= 0:
        return Retention(1.0, 0.0)
    if target.size >= 4 and np.dot(f, f) > 0:
        (retention, carry), *_ = np.linalg.lstsq(np.column_stack([e, f]), target, rcond=None)
        if 0.0 <= retention <= 1.2 and carry >= 0.0:
            return Retention(float(retention), float(carry))
    return Retention(float(min(max(np.dot(e, target) / np.dot(e, e), 0.0), 1.2)), 0.0)


def _smoothed_level(existing: np.ndarray, first: np.ndarray, fit: Retention):
    """Existing customers' (adjusted) revenue at the last month, filtered: each month's value
    blended (`LEVEL_SMOOTHING`) with what the previous month's level and new customers predict."""
    level = existing[0]
    for t in range(1, existing.size):  # a filter over months, not rows
        level = LEVEL_SMOOTHING * existing[t] + (1.0 - LEVEL_SMOOTHING) * (
            fit.retention * level + fit.carry * first[t - 1] + fit.steady)
    return level


class Carved(NamedTuple):
    """Parts of a tenant's monthly revenue forecast on their own (arrays by month, like
    `revenue`, which holds them): the large customers' revenue (`large`, while not subscribed),
    the subscribers' (`subscription`; of it the first purchases, `subscription_first`, of
    `subscription_new` new customers), and the subscriptions started and ended each month."""

    large: np.ndarray
    subscription: np.ndarray
    subscription_first: np.ndarray
    subscription_new: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def none(cls, months: int, **given: np.ndarray) -> Carved:
        """Zeros for `months` months, but for the parts `given`."""
        return cls(*(np.asarray(given.get(f, np.zeros(months)), dtype=float)
                     for f in cls._fields))

    def head(self, months: int) -> Carved:
        return Carved(*(v[:months] for v in self))


def subscription_forecast(carved: Carved, months_ahead: int) -> dict[str, np.ndarray]:
    """Subscriptions ahead, as recurring revenue with churn: `expected` (revenue), `subscribers`
    (months of subscription in each month), `churn` (monthly share of subscribers who end).

    Subscribers at a month's start are the starts minus the ends before it; a month's exposure is
    those plus half its starts. Churn is the ends over the exposure of the last
    `SUBSCRIPTION_MONTHS` months; revenue per subscriber-month the subscribers' revenue over
    their exposure in the last 3 months; new subscriptions follow `trend_forecast` of the starts.
    Each month ahead: revenue = exposure x revenue per subscriber-month, and the subscribers at
    the next month's start = this one's + starts - churn x exposure."""
    zeros = np.zeros(months_ahead)
    starts, ends = carved.starts, carved.ends
    at_start = np.maximum(np.concatenate([[0.0], np.cumsum(starts - ends)[:-1]]), 0.0)
    exposure = at_start + starts / 2.0
    if starts.size == 0 or exposure[-SUBSCRIPTION_MONTHS:].sum() <= 0:
        return {"expected": zeros, "subscribers": zeros.copy(), "churn": zeros.copy()}
    churn = min(float(ends[-SUBSCRIPTION_MONTHS:].sum() / exposure[-SUBSCRIPTION_MONTHS:].sum()),
                1.0)
    recent = exposure[-3:].sum()
    per_month = float(carved.subscription[-3:].sum() / recent) if recent > 0 else 0.0
    new = trend_forecast(starts, months_ahead)
    subscribers = max(float(at_start[-1] + starts[-1] - ends[-1]), 0.0)
    held = np.empty(months_ahead)
    for h in range(months_ahead):  # a recursion over months, not rows
        held[h] = subscribers + new[h] / 2.0
        subscribers = max(subscribers + new[h] - churn * held[h], 0.0)
    return {"expected": np.maximum(held * per_month, 0.0), "subscribers": held,
            "churn": np.full(months_ahead, churn)}


def _carved_forecast(revenue, new_customers, first_revenue, month_of_year, months_ahead,
                     carved: Carved) -> dict[str, np.ndarray]:
    """The component model of the revenue besides the carved parts, plus those parts."""
    rest = components_forecast(
        revenue - carved.large - carved.subscription,
        np.maximum(new_customers - carved.subscription_new, 0.0),
        np.maximum(first_revenue - carved.subscription_first, 0.0),
        month_of_year, months_ahead)
    large = np.zeros(months_ahead)
    if carved.large.any():
        large[:] = float(carved.large[-LARGE_MONTHS:].mean())
    subscriptions = subscription_forecast(carved, months_ahead)
    return {**rest, "expected": rest["expected"] + large + subscriptions["expected"],
            "existing": rest["existing"] + large, "large": large,
            "subscriptions": subscriptions["expected"],
            "subscribers": subscriptions["subscribers"], "churn": subscriptions["churn"]}


def components_forecast(
    revenue: np.ndarray,
    new_customers: np.ndarray,
    first_revenue: np.ndarray,
    month_of_year: np.ndarray,
    months_ahead: int,
    carved: Carved | None = None,
) -> dict[str, np.ndarray]:
    """The component model's next `months_ahead` months: `expected`, `existing` (customers
    acquired by the last month of history, large ones included), `new` (customers still to come:
    their first purchases and repeats), `new_customers` (expected count), and with `carved`
    (parts of `revenue` forecast on their own) `large` (the large customers: their mean month
    over the last `LARGE_MONTHS`, as they do not churn like the many), `subscriptions`,
    `subscribers` and `churn` (`subscription_forecast`)."""
    if carved is not None and (carved.large.any() or carved.subscription.any()
                               or carved.starts.any()):
        return _carved_forecast(revenue, new_customers, first_revenue, month_of_year,
                                months_ahead, carved)
    zeros = np.zeros(months_ahead)
    nothing = {"large": zeros, "subscriptions": zeros, "subscribers": zeros, "churn": zeros}
    ahead_moy = (month_of_year[-1] + 1 + np.arange(months_ahead)) % 12 if month_of_year.size else (
        np.arange(months_ahead) % 12)
    if revenue.size < MIN_TRAIN:
        level = float(revenue.mean()) if revenue.size else 0.0
        flat = np.full(months_ahead, level)
        return {"expected": flat, "existing": flat.copy(), "new": np.zeros(months_ahead),
                "new_customers": np.zeros(months_ahead), **nothing}
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
    fit = _retention(e_adj, f_adj)
    f_ahead_adj = first_ahead / season_new[ahead_moy]
    old = np.empty(months_ahead)
    new_repeat = np.empty(months_ahead)
    old_level, new_level = _smoothed_level(e_adj, f_adj, fit), 0.0
    old_first, new_first = f_adj[-1], 0.0
    for h in range(months_ahead):  # a recursion over months, not rows
        old_level = fit.retention * old_level + fit.carry * old_first + fit.steady
        new_level = fit.retention * new_level + fit.carry * new_first
        old_first, new_first = 0.0, f_ahead_adj[h]
        old[h], new_repeat[h] = old_level, new_level
    old = np.maximum(old * season_existing[ahead_moy], 0.0)
    new = np.maximum(new_repeat * season_existing[ahead_moy], 0.0) + first_ahead
    return {"expected": old + new, "existing": old, "new": new, "new_customers": counts,
            **nothing}


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
    carved: Carved | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(methods x months_ahead forecasts in `METHODS` order, the component model's parts)."""
    parts = components_forecast(revenue, new_customers, first_revenue, month_of_year,
                                months_ahead, carved)
    baselines = baseline_forecasts(revenue, months_ahead)
    combined = (parts["expected"] + baselines["trailing_mean_3"]) / 2.0
    return np.vstack([parts["expected"], combined, *(baselines[b] for b in BASELINES)]), parts


def rolling_forecasts(
    revenue: np.ndarray,
    new_customers: np.ndarray,
    first_revenue: np.ndarray,
    month_of_year: np.ndarray,
    horizon: int = HORIZON,
    carved: Carved | None = None,
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
                                           month_of_year[:o], horizon,
                                           None if carved is None else carved.head(o))
        seen = revenue[o:o + horizon]
        actuals[i, :seen.size] = seen
    return origins, forecasts, actuals
