"""Labelled tenants for the revenue forecast: growing, flat and shrinking; seasonal and not; young;
dominated by a few large customers. Each comes with its truth (the expected revenue of every month
under the process that drew it).

The process, month by month: new customers arrive (Poisson, mean base * exp(growth * t) * season)
and make their first purchase; customers acquired earlier and still alive buy Poisson(rate *
season) times (rate: Gamma per customer); order values are Gamma around a mean of the customer's
own (Gamma across customers); at the month's end each customer leaves for good with probability
`churn`. Whale tenants add a few customers, there from the start and never leaving, whose orders
are worth `whale_value` times the others'. Every draw is vectorised over customers.

Importable by the tests with small sizes (`simulate(kind, months=..., base=...)`); `events`
gives one row per purchase (contact, day, amount) for a pipeline run.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

SEASON = np.array([0.8, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.1, 1.3, 1.4])
SEASON = SEASON / SEASON.mean()

KINDS = {
    # kind: (monthly growth of arrivals, seasonal, whales, months of history)
    "growing": (0.03, False, False, 48),
    "growing_seasonal": (0.03, True, False, 48),
    "flat": (0.0, False, False, 48),
    "flat_seasonal": (0.0, True, False, 48),
    "shrinking": (-0.03, False, False, 48),
    "shrinking_seasonal": (-0.03, True, False, 48),
    "young": (0.03, False, False, 6),
    "whales": (0.0, False, True, 48),
}


@dataclass
class SimulatedTenant:
    """Monthly series of one simulated tenant, its truth and (optionally) its purchases."""

    kind: str
    start: datetime.date
    revenue: np.ndarray
    new_customers: np.ndarray
    first_revenue: np.ndarray
    month_of_year: np.ndarray
    truth: np.ndarray  # expected revenue of each month under the process
    events: dict[str, np.ndarray] = field(default_factory=dict)


def _month_start(start: datetime.date, t: int) -> datetime.date:
    month0 = start.month - 1 + t
    return datetime.date(start.year + month0 // 12, month0 % 12 + 1, 1)


def simulate(
    kind: str,
    months: int | None = None,
    seed: int = 0,
    *,
    base: float = 80.0,
    rate: float = 0.5,
    churn: float = 0.06,
    value: float = 60.0,
    whales: int = 4,
    whale_value: float = 60.0,
    start: datetime.date = datetime.date(2022, 1, 1),
    with_events: bool = False,
) -> SimulatedTenant:
    """One tenant of `kind` (see KINDS) over `months` months (the kind's history by default)."""
    growth, seasonal, has_whales, default_months = KINDS[kind]
    months = months or default_months
    rng = np.random.default_rng(seed)
    moy = (start.month - 1 + np.arange(months)) % 12
    season = SEASON[moy] if seasonal else np.ones(months)
    arrivals_mean = base * np.exp(growth * np.arange(months)) * season
    revenue = np.zeros(months)
    first_revenue = np.zeros(months)
    new_customers = np.zeros(months, dtype=np.int64)
    truth = np.zeros(months)
    shape_rate, shape_value, shape_order = 2.0, 3.0, 4.0
    rates = np.empty(0)
    values = np.empty(0)
    ids = np.empty(0, dtype=np.int64)
    next_id = 0
    if has_whales:
        rates = rng.gamma(shape_rate, rate / shape_rate, whales)
        values = np.full(whales, value * whale_value)
        ids = np.arange(whales)
        next_id = whales
    permanent = np.zeros(ids.size, dtype=bool) | has_whales
    alive_mean = 0.0
    events = {"contact": [], "month": [], "amount": []}
    for t in range(months):
        # existing customers buy (truth: the mean field of the same process)
        truth[t] = (arrivals_mean[t] * value
                    + alive_mean * rate * season[t] * value
                    + (whales * rate * season[t] * value * whale_value if has_whales else 0.0))
        counts = rng.poisson(rates * season[t])
        buying = counts > 0
        spent = np.zeros(ids.size)
        spent[buying] = rng.gamma(shape_order * counts[buying], values[buying] / shape_order)
        # new customers arrive and make their first purchase
        n = rng.poisson(arrivals_mean[t])
        new_rates = rng.gamma(shape_rate, rate / shape_rate, n)
        new_values = rng.gamma(shape_value, value / shape_value, n)
        first = rng.gamma(shape_order, new_values / shape_order) if n else np.empty(0)
        new_ids = np.arange(next_id, next_id + n)
        next_id += n
        revenue[t] = spent.sum() + first.sum()
        first_revenue[t] = first.sum()
        new_customers[t] = n
        if with_events:
            events["contact"] += [np.repeat(ids, counts), new_ids]
            per_order = np.repeat(np.divide(spent, np.maximum(counts, 1)), counts)
            events["amount"] += [per_order, first]
            events["month"] += [np.full(int(counts.sum()) + n, t)]
        rates = np.concatenate([rates, new_rates])
        values = np.concatenate([values, new_values])
        ids = np.concatenate([ids, new_ids])
        permanent = np.concatenate([permanent, np.zeros(n, dtype=bool)])
        stay = permanent | (rng.random(ids.size) >= churn)
        rates, values, ids, permanent = rates[stay], values[stay], ids[stay], permanent[stay]
        alive_mean = (alive_mean + arrivals_mean[t]) * (1.0 - churn)
    tenant = SimulatedTenant(kind, start, revenue, new_customers.astype(float), first_revenue, moy,
                             truth)
    if with_events:
        contact = np.concatenate(events["contact"]).astype(np.int64)
        month = np.concatenate(events["month"]).astype(np.int64)
        days = rng.integers(0, 28, month.size)
        tenant.events = {"contact": contact, "month": month, "day": days,
                         "amount": np.round(np.concatenate(events["amount"]), 2)}
    return tenant


def purchase_rows(tenant: SimulatedTenant) -> list[tuple[str, datetime.datetime, float]]:
    """The purchases as (contact id, time, amount), ordered by time then contact."""
    e = tenant.events
    order = np.lexsort((e["contact"], e["day"], e["month"]))
    rows = []
    for i in order:
        month = _month_start(tenant.start, int(e["month"][i]))
        when = datetime.datetime(month.year, month.month, 1 + int(e["day"][i]), 12)
        rows.append((f"c{int(e['contact'][i]):06d}", when, float(e["amount"][i])))
    return rows
