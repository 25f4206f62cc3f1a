"""Labelled tenants for the revenue forecast: growing, flat and shrinking; seasonal and not; young;
dominated by a few large customers. Each comes with its truth (the expected revenue of every month
under the process that drew it).

The process, month by month: new customers arrive (Poisson, mean base * exp(growth * t) * season)
and make their first purchase; customers acquired earlier and still alive buy Poisson(rate *
season) times (rate: Gamma per customer); order values are Gamma around a mean of the customer's
own (Gamma across customers); at the month's end each customer leaves for good with probability
`churn`. Whale tenants add a few customers, there from the start and never leaving, whose orders
are worth `whale_value` times the others' (each about 4% of the revenue: the customers
`value.monthly.large_customers` singles out; `large_revenue` is theirs). Subscription tenants add
subscribers (Poisson arrivals, `subscribers` a month x growth, on their own random stream) who
pay their plan's monthly fee (`FEES`) every month from the one they start in, and end with
probability `subscription_churn` at each month's end. Every draw is vectorised over customers.

Importable by the tests with small sizes (`simulate(kind, months=..., base=...)`); `events`
gives one row per purchase (contact, day, amount) for a pipeline run, and for subscription tenants
`events["subscriptions"]` (`subscription_rows` turns it into activities).
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
    "subscriptions": (0.02, False, False, 48),
}
SUBSCRIPTION_KINDS = {"subscriptions"}  # kinds whose tenants also sell subscriptions
FEES = np.array([29.0, 49.0, 99.0])  # monthly fees of the plans, chosen at random


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
    large_revenue: np.ndarray | None = None  # the whales' revenue (the large customers)
    subscription_revenue: np.ndarray | None = None
    subscription_starts: np.ndarray | None = None
    subscription_ends: np.ndarray | None = None

    def carved(self):
        """The parts `value.monthly` forecasts on their own (`Carved`)."""
        from crm_pipeline.value.monthly import Carved

        n = self.revenue.size
        given = {"large": self.large_revenue}
        if self.subscription_revenue is not None:
            given |= {"subscription": self.subscription_revenue,
                      "starts": self.subscription_starts, "ends": self.subscription_ends}
        return Carved.none(n, **{k: v for k, v in given.items() if v is not None})


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
    subscribers: float = 30.0,
    subscription_churn: float = 0.04,
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
    large_revenue = np.zeros(months)
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
    # subscriptions: a separate rng stream, so the other kinds' draws are unchanged
    has_subscriptions = kind in SUBSCRIPTION_KINDS
    sub_rng = np.random.default_rng([seed, 1])
    sub_fees = np.empty(0)
    sub_ids = np.empty(0, dtype=np.int64)
    sub_revenue, sub_starts, sub_ends = np.zeros(months), np.zeros(months), np.zeros(months)
    sub_alive_mean = 0.0
    sub_events = []
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
        large_revenue[t] = spent[permanent].sum()
        first_revenue[t] = first.sum()
        new_customers[t] = n
        if with_events:
            events["contact"] += [np.repeat(ids, counts), new_ids]
            per_order = np.repeat(np.divide(spent, np.maximum(counts, 1)), counts)
            events["amount"] += [per_order, first]
            events["month"] += [np.full(int(counts.sum()) + n, t)]
        if has_subscriptions:  # subscribers pay their plan's fee every month until they end
            arriving_mean = subscribers * np.exp(growth * t)
            truth[t] += (sub_alive_mean + arriving_mean) * FEES.mean()
            k = sub_rng.poisson(arriving_mean)
            new_sub = np.arange(next_id, next_id + k)
            next_id += k
            sub_fees = np.concatenate([sub_fees, sub_rng.choice(FEES, k)])
            sub_ids = np.concatenate([sub_ids, new_sub])
            sub_revenue[t] = sub_fees.sum()
            revenue[t] += sub_revenue[t]
            sub_starts[t] = k
            leaving = sub_rng.random(sub_ids.size) < subscription_churn
            sub_ends[t] = leaving.sum()
            if with_events:  # start on the 1st, pay on the 2nd, end on the 28th
                sub_events.append((t, new_sub, sub_ids.copy(), sub_fees.copy(), sub_ids[leaving]))
            sub_alive_mean = (sub_alive_mean + arriving_mean) * (1.0 - subscription_churn)
            sub_fees, sub_ids = sub_fees[~leaving], sub_ids[~leaving]
        rates = np.concatenate([rates, new_rates])
        values = np.concatenate([values, new_values])
        ids = np.concatenate([ids, new_ids])
        permanent = np.concatenate([permanent, np.zeros(n, dtype=bool)])
        stay = permanent | (rng.random(ids.size) >= churn)
        rates, values, ids, permanent = rates[stay], values[stay], ids[stay], permanent[stay]
        alive_mean = (alive_mean + arrivals_mean[t]) * (1.0 - churn)
    tenant = SimulatedTenant(kind, start, revenue, new_customers.astype(float), first_revenue, moy,
                             truth, large_revenue=large_revenue)
    if with_events:
        contact = np.concatenate(events["contact"]).astype(np.int64)
        month = np.concatenate(events["month"]).astype(np.int64)
        days = rng.integers(0, 28, month.size)
        tenant.events = {"contact": contact, "month": month, "day": days,
                         "amount": np.round(np.concatenate(events["amount"]), 2)}
    if has_subscriptions:
        tenant.subscription_revenue = sub_revenue
        tenant.subscription_starts, tenant.subscription_ends = sub_starts, sub_ends
        if with_events:
            tenant.events["subscriptions"] = sub_events  # (month, starts, payers, fees, ends)
    return tenant


def subscription_rows(tenant: SimulatedTenant) -> list[tuple[str, str, datetime.datetime, float]]:
    """The subscription tenant's subscription activities as (contact id, type, time, amount):
    a start on the 1st of its month, the fee paid on the 2nd of every month subscribed, an end
    on the 28th (amount 0 but for purchases)."""
    rows = []
    for t, starts, payers, fees, ends in tenant.events.get("subscriptions", []):
        month = _month_start(tenant.start, t)
        first, second, last = (datetime.datetime(month.year, month.month, d, 9) for d in (1, 2, 28))
        rows += [(f"c{int(c):06d}", "subscription_start", first, 0.0) for c in starts]
        rows += [(f"c{int(c):06d}", "purchase", second, float(f))
                 for c, f in zip(payers, fees, strict=True)]
        rows += [(f"c{int(c):06d}", "subscription_end", last, 0.0) for c in ends]
    return rows


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
