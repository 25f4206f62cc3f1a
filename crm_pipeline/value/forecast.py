"""Monthly revenue forecast per tenant and segment: existing customers plus leads' first purchases.

Periods. The forecast covers the `months` months after the as-of date: from the day after it up
to the same day `months` months later, cut at calendar month boundaries. Each period's
`period_start` is its first day: the day after the as-of date for the first (a partial month unless
the as-of date is a month's last day), then the first of each month; the last period then ends on
the as-of date's day of month. With 12 months this is exactly the window of `expected_clv_365d`
(365 or 366 days).

Customers. Under the fitted model, a customer's expected purchases in a period are the difference
of BG/NBD's conditional expectations at the period's ends, times their expected order value
(`expected_clv_365d / expected_purchases_365d`, i.e. Gamma-Gamma's). Under `historical_average`
purchases accrue linearly at the customer's predicted daily rate.

Leads. Contacts known on the as-of date without a purchase convert at a constant daily hazard per
segment, estimated over the year before the as-of date: first purchases of contacts known before
they bought, over the days they spent as leads. A segment's hazard uses `marts.segment_history`
(days spent in the segment as a lead, conversions while in it) shrunk towards the tenant's hazard
by `PRIOR_CONVERSIONS` pseudo-conversions, so a segment without history gets the tenant's. A
conversion is worth the mean net first-order value of recent converts (all customers if none).

Intervals (80%). Two kinds of uncertainty are combined.
- Process noise, given the parameters: customers and leads are independent; per customer,
  purchases N are Poisson given the rate and being alive, with the rate's posterior Gamma(r + x)
  and the alive probability adding variance (Var N = mu + mu^2 (1/(r + x) + 1 - p_alive) /
  p_alive), order values Gamma with shape p (CV^2 = 1/p; 1 under the fallback); per lead, a
  conversion is Bernoulli with the empirical first-order value. Each period's total is normal with
  the summed variance, sigma^2.
- Parameter uncertainty: `PARAMETER_DRAWS` parameter sets (fixed seed) are drawn from the
  asymptotic normal of the ML log-parameters (inverse observed information, stored in
  `marts.ltv_model.diagnostics`; BG/NBD and Gamma-Gamma independently: their likelihoods are
  separate), and each segment's expected revenue per period is recomputed under each draw. To
  stay fast at a million customers the draws are evaluated on a uniform sample of at most
  `SAMPLE_PER_SEGMENT` customers of each segment (all of them below that), as a ratio to the
  same sample's revenue at the ML parameters, which then scales the segment's expected revenue.
  Draws with q <= 1 (no finite mean spend) or non-finite predictions are dropped. Under the
  `historical_average` fallback the repeat rate is drawn from Gamma(repeat days, tenure days) and
  the value per purchase day from a normal with its standard error. Leads' hazards are drawn from
  their Gamma posterior (conversions + prior over exposure).
The interval is the 10% and 90% quantile of the mixture, over the draws, of normals centred on
each draw's expected revenue with the process sigma (the law of total variance, keeping the skew
of the parameter uncertainty), widened if needed to contain the expected revenue and clipped at 0.
With `parameter_draws=0` it is the plain normal interval expected +- 1.28 sigma.

Back-tests. Every input is read as of the given date (purchases, contacts known by then, segment
memberships from `marts.segment_history` when `marts.contact_segments` has none for that date):
`forecast_as_of` replays a forecast for any earlier date.

Computation. Each customer's expected revenue in a period is their expected purchases if alive
(a function of frequency and tenure only) times a weight of their own (p_alive x order value), and
likewise for the variance; so per segment the weights are summed per distinct (frequency, tenure)
and BG/NBD's expectation is evaluated once per distinct pair, however many customers share it.
The parameter draws are evaluated together, as arrays with one row per draw (each value computed
as for that draw alone). Memberships are joined in DuckDB against the customers' ids, once per
date (`segment_memberships`; lifetime value per segment uses the same); customers are ordered by
contact_id, so the samples are reproducible.
"""

from __future__ import annotations

import calendar
import datetime
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import duckdb
import numpy as np
import polars as pl
from scipy.special import ndtr

from crm_pipeline.value.ltv.bgnbd import (
    BgNbdParams,
    distinct,
    expected_purchases_if_alive,
    p_alive,
    purchases_if_alive,
)
from crm_pipeline.value.ltv.gamma_gamma import GammaGammaParams, expected_order_value
from crm_pipeline.value.ltv.model import MODEL_FITTED, ltv_tables
from crm_pipeline.value.memberships import (
    ALL_SEGMENT,
    Memberships,
    members_query,
    segment_memberships,
)
from crm_pipeline.warehouse import frame

LOOKBACK_DAYS = 365


PRIOR_CONVERSIONS = 2.0


Z_80 = 1.2815515655446004  # standard normal quantile of 0.9


INTERVAL = (0.1, 0.9)


PARAMETER_DRAWS = 200


SAMPLE_PER_SEGMENT = 250


DRAW_THREADS = 2


DRAW_SEED = 20240614


DRAW_CELLS = 2_000_000  # (draws x periods x customers) evaluated at once


REVENUE_FORECAST_SCHEMA = {
    "tenant_id": pl.String,
    "segment": pl.String,
    "period_start": pl.Date,
    "expected_revenue": pl.Float64,
    "revenue_low": pl.Float64,
    "revenue_high": pl.Float64,
    "from_customers": pl.Float64,
    "from_leads": pl.Float64,
    "as_of": pl.Date,
}


# The customers the forecast reads, a frame registered under this name (`registered_customers`).
CUSTOMERS_TABLE = "forecast_customers"


_CUSTOMER_COLUMNS = (
    "frequency, recency_days, tenure_days, avg_order_value, historical_revenue, p_alive, "
    "expected_purchases_365d, expected_clv_365d"
)


# Leads. A contact is known from the earliest of its creation in the source CRM, its first sight
# here and its first activity. The first activity only matters for contacts created and first seen
# on or after the window's start (for the others the lead spell starts at the window's start
# either way, and a purchase in the window comes after they were known), so it is looked up for
# those alone rather than grouping every activity of the tenant.
_LEADS = """
WITH contacts AS (
    SELECT contact_id,
           least(CAST(first_seen_at AS DATE),
                 coalesce(CAST(created_at AS DATE), CAST(first_seen_at AS DATE))) AS seen_on
    FROM core.contacts
    WHERE tenant_id = $tenant_id
),
first_activity AS (
    SELECT contact_id, min(CAST(occurred_at AS DATE)) AS first_activity_on
    FROM core.activities
    WHERE tenant_id = $tenant_id
      AND contact_id IN (SELECT contact_id FROM contacts WHERE seen_on >= $window_start)
    GROUP BY contact_id
),
first_purchases AS (
    SELECT contact_id,
           CAST($as_of AS DATE) - CAST(tenure_days AS INTEGER) AS first_purchase_on,
           historical_revenue - coalesce(avg_order_value, 0) * frequency AS first_order_value
    FROM forecast_customers
),
known AS (
    SELECT c.contact_id, least(c.seen_on, coalesce(a.first_activity_on, c.seen_on)) AS known_on
    FROM contacts AS c LEFT JOIN first_activity AS a USING (contact_id)
),
leads AS (
    SELECT k.contact_id, f.first_purchase_on, f.first_order_value,
           greatest(k.known_on, CAST($window_start AS DATE)) AS lead_from,
           coalesce(f.first_purchase_on, CAST($day_after AS DATE)) AS lead_until,
           f.first_purchase_on >= $window_start AND k.known_on < f.first_purchase_on AS converted
    FROM known AS k LEFT JOIN first_purchases AS f USING (contact_id)
    WHERE k.known_on <= $as_of
),
-- leads whose spell lies in the window (the others add no exposure and no conversion)
in_window AS (
    SELECT * FROM leads WHERE lead_until >= lead_from
),
history AS (
    SELECT contact_id, segment, entered_on,
           CASE WHEN left_on IS NULL OR left_on > $as_of THEN NULL ELSE left_on END AS left_on
    FROM marts.segment_history
    WHERE tenant_id = $tenant_id AND entered_on <= $as_of
),
members AS ({members})
SELECT 'tenant' AS kind, NULL AS segment,
       sum(greatest(date_diff('day', lead_from, lead_until), 0)) AS exposure,
       count(*) FILTER (converted) AS conversions,
       count(*) FILTER (first_purchase_on IS NULL) AS leads,
       avg(greatest(first_order_value, 0)) FILTER (converted) AS value_mean,
       avg(greatest(first_order_value, 0) ** 2) FILTER (converted) AS value_square,
       avg(greatest(first_order_value, 0)) AS any_value_mean,
       avg(greatest(first_order_value, 0) ** 2) AS any_value_square
FROM leads
UNION ALL
SELECT 'history', h.segment,
       sum(greatest(date_diff('day', greatest(h.entered_on, l.lead_from),
                              least(coalesce(h.left_on, CAST($day_after AS DATE)), l.lead_until)),
                    0)),
       -- a contact converts once, though spells that touch may both contain its purchase day
       coalesce(len(list_distinct(list(l.contact_id) FILTER (
           l.converted AND l.first_purchase_on >= h.entered_on
           AND l.first_purchase_on <= coalesce(h.left_on, $as_of)))), 0),
       NULL, NULL, NULL, NULL, NULL
FROM history AS h JOIN in_window AS l USING (contact_id)
GROUP BY h.segment
UNION ALL
SELECT 'members', m.segment, NULL, NULL, count(*), NULL, NULL, NULL, NULL
FROM members AS m JOIN leads AS l USING (contact_id)
WHERE l.first_purchase_on IS NULL
GROUP BY m.segment
"""


def add_months(day: datetime.date, months: int) -> datetime.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def forecast_periods(
    as_of: datetime.date, months: int = 12
) -> list[tuple[datetime.date, datetime.date]]:
    """(first day, day after the last) of each period of the forecast after `as_of`."""
    if months < 1:
        raise ValueError("months must be at least 1")
    end = add_months(as_of, months) + datetime.timedelta(days=1)
    starts = [as_of + datetime.timedelta(days=1)]
    while True:
        following = add_months(starts[-1].replace(day=1), 1)
        if following >= end:
            break
        starts.append(following)
    return list(zip(starts, [*starts[1:], end], strict=True))


def load_customers(con, source: str, params: dict) -> dict[str, np.ndarray | pl.Series]:
    """The customers of `source`, ordered by contact_id: their ids and columns."""
    query = f"SELECT contact_id, {_CUSTOMER_COLUMNS} FROM {source} ORDER BY contact_id"
    rows = frame(con, query, {k: v for k, v in params.items() if f"${k}" in query})
    return {
        "contact_id": rows["contact_id"],
        "x": rows["frequency"].cast(pl.Float64).to_numpy(),
        "tx": rows["recency_days"].to_numpy(),
        "T": rows["tenure_days"].to_numpy(),
        "m": rows["avg_order_value"].fill_null(np.nan).to_numpy(),
        "revenue": rows["historical_revenue"].to_numpy(),
        "p_alive": rows["p_alive"].fill_null(np.nan).to_numpy(),
        "e365": rows["expected_purchases_365d"].fill_null(0.0).to_numpy(),
        "clv": rows["expected_clv_365d"].fill_null(0.0).to_numpy(),
    }


@contextmanager
def registered_customers(
    con: duckdb.DuckDBPyConnection, customers: dict[str, np.ndarray | pl.Series]
) -> Iterator[None]:
    """The customers as the relation `forecast_customers` of `con` while the block runs:
    contact_id, frequency, tenure_days, avg_order_value, historical_revenue."""
    relation = pl.DataFrame({
        "contact_id": pl.Series(customers["contact_id"], dtype=pl.String),
        "frequency": customers["x"],
        "tenure_days": customers["T"],
        "avg_order_value": customers["m"],
        "historical_revenue": customers["revenue"],
    }).with_columns(pl.col("avg_order_value").fill_nan(None))
    con.register(CUSTOMERS_TABLE, relation)
    try:
        yield
    finally:
        con.unregister(CUSTOMERS_TABLE)


def _segment_sums(weights: np.ndarray, groups: np.ndarray, members: list[np.ndarray], size: int):
    """(groups, segments) sums of `weights` per group of each segment's customers."""
    return np.column_stack(
        [np.bincount(groups[m], weights=weights[m], minlength=size) for m in members]
    )


def _distinct_pairs(x: np.ndarray, T: np.ndarray):
    """Distinct (frequency, tenure) pairs as `bgnbd.distinct` gives them (days: whole numbers)."""
    if x.size and x.min() >= 0 and T.min() >= 0 and np.all(T == np.floor(T)):
        return distinct(x * (T.max() + 1.0) + T)
    _, first, groups = np.unique(np.column_stack([x, T]), axis=0, return_index=True,
                                 return_inverse=True)
    return None, first, groups.ravel()


def customer_moments(
    customers: dict[str, np.ndarray], model: dict, t_ends: np.ndarray, members: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Expected revenue of each segment's customers per period and its variance: (periods,
    segments) each.

    Per customer, purchases in period k have mean mu = dE_k p_alive (dE_k: the increase of the
    expected purchases if alive) and variance mu + mu^2 (1/(r + x) + 1 - p_alive) / p_alive; an
    order's value has mean `value` and CV^2 = 1/p. So revenue has mean dE_k w1 and variance
    dE_k w2 + dE_k^2 w3 with per-customer weights w1, w2, w3, summed per (x, T) and segment.
    """
    e365, clv = customers["e365"], customers["clv"]
    value = np.divide(clv, e365, out=np.zeros_like(clv), where=e365 > 0)
    t_all = np.concatenate([[0.0], t_ends])
    n = value.size
    if model["model"] == MODEL_FITTED and n:
        params = BgNbdParams(model["r"], model["alpha"], model["a"], model["b"])
        x, T, palive = customers["x"], customers["T"], customers["p_alive"]
        _, first, groups = _distinct_pairs(x, T)
        cumulative = expected_purchases_if_alive(params, t_all[1:], x[first], T[first])
        d_e = np.diff(cumulative, axis=0, prepend=0.0)  # (periods, pairs)
        w1 = palive * value
        w2 = w1 * value * (1.0 + 1.0 / model["p"])
        w3 = w1 * value * (1.0 / (params.r + x) + 1.0 - palive)
        sums = [_segment_sums(w, groups, members, first.size) for w in (w1, w2, w3)]
        return d_e @ sums[0], d_e @ sums[1] + d_e**2 @ sums[2]
    # historical_average: purchases accrue linearly; Poisson counts, exponential order values
    share = np.diff(t_all)[:, None] / 365.0
    zeros = np.zeros(n, dtype=np.int64)
    revenue = _segment_sums(e365 * value, zeros, members, 1)
    square = _segment_sums(e365 * value**2, zeros, members, 1)
    return share * revenue, 2.0 * share * square


def _lead_rates(con, members: str, params: dict, segments: list[str]):
    """(daily conversion hazard per segment, its Gamma posterior (shape, rate) per segment,
    mean and mean square of a first order's value, leads per segment)."""
    as_of = params["as_of"]
    window = {
        "window_start": as_of - datetime.timedelta(days=LOOKBACK_DAYS - 1),
        "day_after": as_of + datetime.timedelta(days=1),
    }
    rows = frame(con, _LEADS.format(members=members), {**params, **window})
    tenant = rows.filter(pl.col("kind") == "tenant").row(0, named=True)
    exposure, conversions = float(tenant["exposure"] or 0), float(tenant["conversions"] or 0)
    tenant_hazard = conversions / exposure if exposure > 0 else 0.0
    seen = {
        r["segment"]: (float(r["exposure"] or 0), float(r["conversions"] or 0))
        for r in rows.filter(pl.col("kind") == "history").iter_rows(named=True)
    }
    hazards = {ALL_SEGMENT: tenant_hazard}
    posteriors = {ALL_SEGMENT: (conversions, exposure)}
    for segment in segments[1:]:
        e, c = seen.get(segment, (0.0, 0.0))
        shape, rate = (
            (c + PRIOR_CONVERSIONS, e + PRIOR_CONVERSIONS / tenant_hazard)
            if tenant_hazard > 0
            else (0.0, 0.0)
        )
        hazards[segment] = shape / rate if rate > 0 else 0.0
        posteriors[segment] = (shape, rate)
    if conversions > 0:  # a conversion is worth what recent converts' first orders were
        mean, square = tenant["value_mean"], tenant["value_square"]
    else:
        mean, square = tenant["any_value_mean"], tenant["any_value_square"]
    leads = {
        r["segment"]: int(r["leads"])
        for r in rows.filter(pl.col("kind") == "members").iter_rows(named=True)
    }
    leads[ALL_SEGMENT] = int(tenant["leads"] or 0)
    leads_in = np.array([leads.get(s, 0) for s in segments], dtype=float)
    return hazards, posteriors, float(mean or 0.0), float(square or 0.0), leads_in


def _model_draws(
    model: dict, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """(draws x (r, alpha, a, b), draws x (p, q, v)) from the asymptotic normal of the ML
    log-parameters in the model's diagnostics; None without both covariances."""
    diagnostics = json.loads(model["diagnostics"] or "{}")
    sets = []
    for fit, names in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "v"))):
        covariance = (diagnostics.get(fit) or {}).get("log_parameter_covariance")
        if not covariance or covariance.get("parameters") != list(names):
            return None
        centre = np.log([model[n] for n in names])
        sets.append(np.exp(rng.multivariate_normal(centre, covariance["matrix"], draws)))
    return sets[0], sets[1]


def _sampled(members: list[np.ndarray], size: int, rng: np.random.Generator):
    """Each segment's members, or a uniform sample of `size` of them."""
    return [m if m.size <= size else rng.choice(m, size, replace=False) for m in members]


def _fitted_ratios(
    customers: dict[str, np.ndarray],
    model: dict,
    t_ends: np.ndarray,
    members: list[np.ndarray],
    draws: int,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Customers' revenue under each parameter draw / at the ML parameters: (draws, periods,
    segments), evaluated on each segment's sample; None without a covariance."""
    sets = _model_draws(model, draws, rng)
    if sets is None:
        return None
    sample = _sampled(members, SAMPLE_PER_SEGMENT, rng)
    used, at = np.unique(np.concatenate(sample), return_inverse=True)
    bounds = np.cumsum([0, *(s.size for s in sample)])
    column = np.repeat(np.arange(len(sample)), np.diff(bounds))
    x, tx, T, m = (customers[k][used] for k in ("x", "tx", "T", "m"))
    worthless = customers["clv"][used] <= 0
    pairs, inverse = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    segments = len(sample)

    def revenue(bg: np.ndarray, gg: np.ndarray) -> np.ndarray:
        """(sets, periods, segments) under the parameter sets bg (sets x 4) and gg (sets x 3),
        all at once: each element is computed as for one set alone, so results are the same."""
        sets = bg.shape[0]
        with np.errstate(all="ignore"):
            alive = purchases_if_alive(BgNbdParams(*bg.T[:, :, None, None]), t_ends, pairs[:, 0],
                              pairs[:, 1])  # (sets, periods, pairs)
            cumulative = alive[:, :, inverse] * p_alive(BgNbdParams(*bg.T[:, :, None]), x, tx,
                                                        T)[:, None, :]
            value = np.where(worthless, 0.0,
                             expected_order_value(GammaGammaParams(*gg.T[:, :, None]), x, m))
            per_customer = np.diff(cumulative, axis=1, prepend=0.0) * value[:, None, :]
        cells = sets * t_ends.size  # one bincount: each cell's sum adds the sample in order
        index = (np.arange(cells)[:, None] * segments + column).ravel()
        weights = per_customer.reshape(cells, -1)[:, at].ravel()
        return np.bincount(index, weights=weights, minlength=cells * segments).reshape(
            sets, t_ends.size, segments)

    base = revenue(
        np.array([[model[n] for n in ("r", "alpha", "a", "b")]]),
        np.array([[model[n] for n in ("p", "q", "v")]]),
    )[0]
    bg_sets, gg_sets = sets
    keep = gg_sets[:, 1] > 1.0
    bg_sets, gg_sets = bg_sets[keep], gg_sets[keep]
    n = bg_sets.shape[0]
    # Chunks bound the memory used; two threads share them (SciPy's functions release the GIL),
    # and each set's result is the same whichever chunk it is in.
    per_set = max(t_ends.size * x.size, 1)
    chunks = -(-max(n * per_set // DRAW_CELLS, 1) // DRAW_THREADS) * DRAW_THREADS  # even shares
    chunk = max(1, -(-n // chunks))
    with ThreadPoolExecutor(DRAW_THREADS, thread_name_prefix="forecast-draws") as pool:
        parts = list(pool.map(lambda i: revenue(bg_sets[i:i + chunk], gg_sets[i:i + chunk]),
                              range(0, n, chunk)))
    out = np.concatenate(parts) if parts else np.zeros((0, t_ends.size, segments))
    out = out[np.isfinite(out).all(axis=(1, 2))]
    if out.shape[0] == 0:
        return None
    with np.errstate(all="ignore"):
        return np.where(base > 0, out / base, 1.0)


def _fallback_ratios(customers: dict[str, np.ndarray], draws: int, rng: np.random.Generator):
    """Revenue under each draw of the historical rate and value / at their estimates: (draws,)."""
    x, T, revenue = customers["x"], customers["T"], customers["revenue"]
    repeats, days = float(x.sum()), float((x + 1).sum())
    if repeats <= 0 or T.sum() <= 0 or days <= 0 or revenue.sum() <= 0:
        return np.ones(draws)
    rate = rng.gamma(repeats, 1.0 / repeats, draws)  # rate draw / estimate, posterior mean 1
    value = revenue.sum() / days
    error = np.sqrt(np.sum((revenue - value * (x + 1)) ** 2)) / days
    return rate * np.maximum(rng.normal(value, error, draws), 0.0) / value


def _mixture_interval(centres: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """INTERVAL quantiles of the equal mixture over axis 0 of normals N(centres, sigma^2)."""
    scale = np.maximum(sigma, 1e-9 * np.maximum(np.abs(centres).max(axis=0), 1.0))
    bounds = []
    for q in INTERVAL:
        lo = (centres - 6 * scale).min(axis=0)
        hi = (centres + 6 * scale).max(axis=0)
        for _ in range(60):  # bisection, every cell at once
            mid = (lo + hi) / 2
            below = ndtr((mid - centres) / scale).mean(axis=0) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        bounds.append((lo + hi) / 2)
    return bounds[0], bounds[1]


def _forecast(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    source: str,
    model: dict,
    months: int,
    parameter_draws: int,
) -> pl.DataFrame:
    """The forecast from the customers of `source` (SQL, parameter $tenant_id) and a model row."""
    customers = load_customers(con, source, {"tenant_id": tenant_id})
    return forecast_loaded(con, tenant_id, as_of, customers, model, months, parameter_draws)


def forecast_loaded(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    customers: dict[str, np.ndarray | pl.Series],
    model: dict,
    months: int = 12,
    parameter_draws: int = PARAMETER_DRAWS,
    *,
    memberships: Memberships | None = None,
) -> pl.DataFrame:
    """The forecast of `customers` under `model` (a `marts.ltv_model` row as a dict).

    `customers` holds, ordered by contact_id, their `contact_id` and the arrays x, tx, T, m,
    revenue (their summary), p_alive, e365 and clv (their predictions). `memberships`: their
    segments at `as_of` when already known (`segment_memberships`), else they are read.
    """
    periods = forecast_periods(as_of, months)
    t_ends = np.array([(end - as_of).days - 1 for _, end in periods], dtype=float)
    params = {"tenant_id": tenant_id, "as_of": as_of}
    with registered_customers(con, customers):
        if memberships is None:
            memberships = segment_memberships(con, tenant_id, as_of, customers["contact_id"])
        segments, members = memberships
        hazards, posteriors, value_mean, value_square, leads_in = _lead_rates(
            con, members_query(con, tenant_id, as_of), params, segments
        )
    customer_mean, customer_var = customer_moments(customers, model, t_ends, members)

    hazard = np.array([hazards[s] for s in segments])
    t_all = np.concatenate([[0.0], t_ends])
    survival = np.exp(-np.outer(t_all, hazard))  # (periods + 1, segments)
    convert = survival[:-1] - survival[1:]
    lead_mean = leads_in * convert * value_mean
    lead_var = leads_in * (convert * value_square - convert**2 * value_mean**2)

    expected = customer_mean + lead_mean
    sigma = np.sqrt(np.maximum(customer_var + lead_var, 0.0))
    if parameter_draws > 0:
        rng = np.random.default_rng(DRAW_SEED)
        fitted = model["model"] == MODEL_FITTED and customers["x"].size > 0
        ratios = (
            _fitted_ratios(customers, model, t_ends, members, parameter_draws, rng)
            if fitted
            else None
        )
        if ratios is None:
            ratios = _fallback_ratios(customers, parameter_draws, rng)[:, None, None]
        shape, rate = (np.array([posteriors[s][i] for s in segments]) for i in (0, 1))
        hazard_draws = np.where(
            (shape > 0) & (rate > 0),
            rng.gamma(np.maximum(shape, 1e-12), 1.0 / np.maximum(rate, 1e-12),
                      (ratios.shape[0], len(segments))),
            hazard,
        )  # (draws, segments)
        survival_draws = np.exp(-t_all[None, :, None] * hazard_draws[:, None, :])
        lead_draws = leads_in * (survival_draws[:, :-1] - survival_draws[:, 1:]) * value_mean
        low, high = _mixture_interval(customer_mean * ratios + lead_draws, sigma)
    else:
        low, high = expected - Z_80 * sigma, expected + Z_80 * sigma
    low, high = np.minimum(low, expected), np.maximum(high, expected)
    k, s = np.meshgrid(np.arange(len(periods)), np.arange(len(segments)), indexing="ij")
    return pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "segment": [segments[i] for i in s.ravel()],
            "period_start": [periods[i][0] for i in k.ravel()],
            "expected_revenue": expected.ravel(),
            "revenue_low": np.maximum(low, 0.0).ravel(),
            "revenue_high": high.ravel(),
            "from_customers": customer_mean.ravel(),
            "from_leads": lead_mean.ravel(),
            "as_of": as_of,
        },
        schema=REVENUE_FORECAST_SCHEMA,
    ).sort("segment", "period_start")


_FRAME_SOURCE = "forecast_customer_ltv"


def revenue_forecast(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    customer_ltv: pl.DataFrame,
    model_row: pl.DataFrame,
    months: int = 12,
    *,
    parameter_draws: int = PARAMETER_DRAWS,
) -> pl.DataFrame:
    """Rows of `marts.revenue_forecast`: each segment of the tenant at `as_of`, and 'all'.

    `customer_ltv` holds the tenant's rows of `marts.customer_ltv`, `model_row` its
    `marts.ltv_model` row. `parameter_draws=0` leaves parameter uncertainty out of the interval
    (process noise only).
    """
    con.register(_FRAME_SOURCE, customer_ltv.select(["contact_id", *_CUSTOMER_COLUMNS.split(", ")]))
    try:
        return _forecast(con, tenant_id, as_of, _FRAME_SOURCE, model_row.row(0, named=True),
                         months, parameter_draws)
    finally:
        con.unregister(_FRAME_SOURCE)


def stored_revenue_forecast(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    run_id: str,
    months: int = 12,
    *,
    parameter_draws: int = PARAMETER_DRAWS,
) -> pl.DataFrame:
    """`revenue_forecast` of the tenant's `marts.customer_ltv` rows and `marts.ltv_model` row of
    `run_id`, read in DuckDB (nothing is loaded that the forecast does not use)."""
    model_row = frame(
        con, "SELECT * FROM marts.ltv_model WHERE tenant_id = $t AND run_id = $r",
        {"t": tenant_id, "r": run_id},
    )
    source = "(SELECT * FROM marts.customer_ltv WHERE tenant_id = $tenant_id)"
    return _forecast(con, tenant_id, as_of, source, model_row.row(0, named=True), months,
                     parameter_draws)


def forecast_as_of(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, months: int = 12
) -> pl.DataFrame:
    """The forecast as it would have been made on `as_of` (for back-tests): refits, then forecasts.

    Nothing is written; segment memberships come from `marts.segment_history` unless
    `marts.contact_segments` holds that date.
    """
    model_row, customer_ltv = ltv_tables(con, tenant_id, as_of, run_id=f"forecast-as-of-{as_of}")
    return revenue_forecast(con, tenant_id, as_of, customer_ltv, model_row, months)
