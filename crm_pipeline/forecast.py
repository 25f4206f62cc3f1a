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
"""

from __future__ import annotations

import calendar
import datetime
import json

import duckdb
import numpy as np
import polars as pl
from scipy import sparse
from scipy.special import ndtr

from .ltv import (
    MODEL_FITTED,
    BgNbdParams,
    GammaGammaParams,
    expected_order_value,
    expected_purchases_if_alive,
    ltv_tables,
    p_alive,
)

ALL_SEGMENT = "all"
LOOKBACK_DAYS = 365
PRIOR_CONVERSIONS = 2.0
Z_80 = 1.2815515655446004  # standard normal quantile of 0.9
INTERVAL = (0.1, 0.9)
PARAMETER_DRAWS = 200
SAMPLE_PER_SEGMENT = 250
DRAW_SEED = 20240614

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

_SEGMENTS_AT = """
SELECT contact_id, segment FROM marts.contact_segments
WHERE tenant_id = $tenant_id AND as_of = $as_of
"""
_SEGMENTS_FROM_HISTORY = """
SELECT DISTINCT contact_id, segment FROM marts.segment_history
WHERE tenant_id = $tenant_id AND entered_on <= $as_of AND (left_on IS NULL OR left_on > $as_of)
"""
_SEGMENT_HISTORY = """
SELECT contact_id, segment, entered_on,
       CASE WHEN left_on IS NULL OR left_on > $as_of THEN NULL ELSE left_on END AS left_on
FROM marts.segment_history
WHERE tenant_id = $tenant_id AND entered_on <= $as_of
"""
# A contact is known from the earliest of its creation in the source CRM, its first sight here and
# its first activity.
_KNOWN_CONTACTS = """
WITH first_activity AS (
    SELECT contact_id, min(CAST(occurred_at AS DATE)) AS first_activity_on
    FROM core.activities
    WHERE tenant_id = $tenant_id
    GROUP BY contact_id
)
SELECT c.contact_id,
       least(CAST(c.first_seen_at AS DATE),
             coalesce(CAST(c.created_at AS DATE), CAST(c.first_seen_at AS DATE)),
             coalesce(a.first_activity_on, CAST(c.first_seen_at AS DATE))) AS known_on
FROM core.contacts AS c
LEFT JOIN first_activity AS a ON a.contact_id = c.contact_id
WHERE c.tenant_id = $tenant_id
"""


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def forecast_periods(
    as_of: datetime.date, months: int = 12
) -> list[tuple[datetime.date, datetime.date]]:
    """(first day, day after the last) of each period of the forecast after `as_of`."""
    if months < 1:
        raise ValueError("months must be at least 1")
    end = _add_months(as_of, months) + datetime.timedelta(days=1)
    starts = [as_of + datetime.timedelta(days=1)]
    while True:
        following = _add_months(starts[-1].replace(day=1), 1)
        if following >= end:
            break
        starts.append(following)
    return list(zip(starts, [*starts[1:], end], strict=True))


def segment_members(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date
) -> pl.DataFrame:
    """(contact_id, segment) at `as_of`: `marts.contact_segments`, else rebuilt from the history."""
    params = {"tenant_id": tenant_id, "as_of": as_of}
    members = con.sql(_SEGMENTS_AT, params=params).pl()
    if members.height == 0:
        members = con.sql(_SEGMENTS_FROM_HISTORY, params=params).pl()
    return members.cast({"contact_id": pl.String, "segment": pl.String})


def _membership(members: pl.DataFrame, ids: pl.Series, segments: list[str]) -> sparse.csr_matrix:
    """Segments x contacts 0/1 matrix of `members` over `ids` (row 0: every contact)."""
    index = pl.DataFrame({"contact_id": ids, "col": np.arange(ids.len())})
    seg_index = pl.DataFrame({"segment": segments, "row": np.arange(len(segments))})
    pairs = members.join(index, on="contact_id").join(seg_index, on="segment").unique()
    rows = np.concatenate([np.zeros(ids.len(), dtype=np.int64), pairs["row"].to_numpy()])
    cols = np.concatenate([np.arange(ids.len()), pairs["col"].to_numpy()])
    data = np.ones(rows.size)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(segments), ids.len()))


def _customer_moments(
    customer_ltv: pl.DataFrame, model_row: pl.DataFrame, t_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer and period: expected revenue and its variance, shape (periods, customers)."""
    ltv = customer_ltv
    e365 = ltv["expected_purchases_365d"].fill_null(0.0).to_numpy()
    clv = ltv["expected_clv_365d"].fill_null(0.0).to_numpy()
    value = np.divide(clv, e365, out=np.zeros_like(clv), where=e365 > 0)
    row = model_row.row(0, named=True)
    t_all = np.concatenate([[0.0], t_ends])
    if row["model"] == MODEL_FITTED and ltv.height:
        params = BgNbdParams(row["r"], row["alpha"], row["a"], row["b"])
        x = ltv["frequency"].to_numpy().astype(float)
        T = ltv["tenure_days"].to_numpy()
        palive = ltv["p_alive"].to_numpy()
        cumulative = expected_purchases_if_alive(params, t_all[1:], x, T) * palive
        mu = np.diff(cumulative, axis=0, prepend=0.0)
        extra = np.divide(
            1.0 / (params.r + x) + 1.0 - palive, palive, out=np.zeros_like(x), where=palive > 0
        )
        var_n = mu + mu**2 * extra
        cv2 = 1.0 / row["p"]
    else:
        mu = np.outer(np.diff(t_all), e365 / 365.0)
        var_n = mu
        cv2 = 1.0
    return mu * value, mu * value**2 * cv2 + var_n * value**2


def _first_purchases(customer_ltv: pl.DataFrame, as_of: datetime.date) -> pl.DataFrame:
    """(contact_id, first_purchase_on, first_order_value) derived from the customer summary."""
    return customer_ltv.select(
        "contact_id",
        first_purchase_on=pl.lit(as_of, dtype=pl.Date)
        - pl.duration(days=pl.col("tenure_days").cast(pl.Int64)),
        first_order_value=pl.col("historical_revenue")
        - pl.col("avg_order_value").fill_null(0.0) * pl.col("frequency"),
    )


def _lead_hazards(
    con, tenant_id: str, as_of: datetime.date, contacts: pl.DataFrame, segments: list[str]
) -> tuple[dict[str, float], dict[str, tuple[float, float]], float, float]:
    """(daily conversion hazard per segment, its Gamma posterior (shape, rate) per segment,
    mean and mean square of a first order's value)."""
    window_start = as_of - datetime.timedelta(days=LOOKBACK_DAYS - 1)
    day_after = as_of + datetime.timedelta(days=1)
    leads = contacts.with_columns(
        lead_from=pl.max_horizontal("known_on", pl.lit(window_start)),
        lead_until=pl.col("first_purchase_on").fill_null(pl.lit(day_after)),
        converted=(pl.col("first_purchase_on") >= window_start)
        & (pl.col("known_on") < pl.col("first_purchase_on")),
    )
    days = (pl.col("lead_until") - pl.col("lead_from")).dt.total_days().clip(lower_bound=0)
    totals = leads.select(exposure=days.sum(), conversions=pl.col("converted").sum()).row(0)
    exposure, conversions = float(totals[0] or 0), float(totals[1] or 0)
    tenant_hazard = conversions / exposure if exposure > 0 else 0.0

    history = con.sql(_SEGMENT_HISTORY, params={"tenant_id": tenant_id, "as_of": as_of}).pl()
    in_segment = (
        history.cast({"contact_id": pl.String})
        .join(leads, on="contact_id")
        .with_columns(
            start=pl.max_horizontal("entered_on", "lead_from"),
            end=pl.min_horizontal(pl.col("left_on").fill_null(pl.lit(day_after)), "lead_until"),
            converted_here=pl.col("converted")
            & (pl.col("first_purchase_on") >= pl.col("entered_on"))
            & (pl.col("first_purchase_on") <= pl.col("left_on").fill_null(pl.lit(as_of))),
        )
    )
    by_segment = in_segment.group_by("segment").agg(
        exposure=(pl.col("end") - pl.col("start")).dt.total_days().clip(lower_bound=0).sum(),
        conversions=pl.col("contact_id").filter(pl.col("converted_here")).n_unique(),
    )
    seen = {s: (float(e), float(c)) for s, e, c in by_segment.iter_rows()}
    hazards = {ALL_SEGMENT: tenant_hazard}
    posteriors = {ALL_SEGMENT: (conversions, exposure)}
    for segment in segments:
        e, c = seen.get(segment, (0.0, 0.0))
        shape, rate = (
            (c + PRIOR_CONVERSIONS, e + PRIOR_CONVERSIONS / tenant_hazard)
            if tenant_hazard > 0
            else (0.0, 0.0)
        )
        hazards[segment] = shape / rate if rate > 0 else 0.0
        posteriors[segment] = (shape, rate)

    first_values = leads.filter(pl.col("converted"))["first_order_value"]
    if first_values.len() == 0:
        first_values = leads["first_order_value"].drop_nulls()
    values = first_values.clip(lower_bound=0.0).to_numpy()
    mean = float(values.mean()) if values.size else 0.0
    mean_square = float((values**2).mean()) if values.size else 0.0
    return hazards, posteriors, mean, mean_square


def _model_draws(
    model_row: pl.DataFrame, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """(draws x (r, alpha, a, b), draws x (p, q, v)) from the asymptotic normal of the ML
    log-parameters in the model's diagnostics; None without both covariances."""
    row = model_row.row(0, named=True)
    diagnostics = json.loads(row["diagnostics"] or "{}")
    sets = []
    for fit, names in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "v"))):
        covariance = (diagnostics.get(fit) or {}).get("log_parameter_covariance")
        if not covariance or covariance.get("parameters") != list(names):
            return None
        centre = np.log([row[n] for n in names])
        sets.append(np.exp(rng.multivariate_normal(centre, covariance["matrix"], draws)))
    return sets[0], sets[1]


def _sampled(membership: sparse.csr_matrix, size: int, rng: np.random.Generator):
    """Each segment's members, or a uniform sample of `size` of them (segments x contacts)."""
    rows, cols = [], []
    for s in range(membership.shape[0]):
        members = membership.indices[membership.indptr[s] : membership.indptr[s + 1]]
        if members.size > size:
            members = rng.choice(members, size, replace=False)
        rows.append(np.full(members.size, s))
        cols.append(members)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix(
        (np.ones(rows.size), (rows, cols)), shape=membership.shape
    )


def _fitted_ratios(
    customer_ltv: pl.DataFrame,
    model_row: pl.DataFrame,
    t_ends: np.ndarray,
    by_segment: sparse.csr_matrix,
    draws: int,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Customers' revenue under each parameter draw / at the ML parameters: (draws, periods,
    segments), evaluated on each segment's sample; None without a covariance."""
    sets = _model_draws(model_row, draws, rng)
    if sets is None:
        return None
    sample = _sampled(by_segment, SAMPLE_PER_SEGMENT, rng)
    used = np.unique(sample.indices)
    sample = sample[:, used]
    ltv = customer_ltv[used]
    x = ltv["frequency"].to_numpy().astype(float)
    tx = ltv["recency_days"].to_numpy()
    T = ltv["tenure_days"].to_numpy()
    m = ltv["avg_order_value"].fill_null(np.nan).to_numpy()
    worthless = ltv["expected_clv_365d"].fill_null(0.0).to_numpy() <= 0
    pairs, inverse = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
    inverse = inverse.ravel()

    def revenue(bg: np.ndarray, gg: np.ndarray) -> np.ndarray:
        params = BgNbdParams(*bg)
        with np.errstate(all="ignore"):
            alive = expected_purchases_if_alive(params, t_ends, pairs[:, 0], pairs[:, 1])
            cumulative = alive[:, inverse] * p_alive(params, x, tx, T)
            value = np.where(worthless, 0.0, expected_order_value(GammaGammaParams(*gg), x, m))
            return (sample @ (np.diff(cumulative, axis=0, prepend=0.0) * value).T).T

    row = model_row.row(0, named=True)
    base = revenue(
        np.array([row[n] for n in ("r", "alpha", "a", "b")]),
        np.array([row[n] for n in ("p", "q", "v")]),
    )
    bg_sets, gg_sets = sets
    keep = gg_sets[:, 1] > 1.0
    out = np.stack([revenue(bg, gg) for bg, gg in zip(bg_sets[keep], gg_sets[keep], strict=True)])
    out = out[np.isfinite(out).all(axis=(1, 2))]
    if out.shape[0] == 0:
        return None
    with np.errstate(all="ignore"):
        return np.where(base > 0, out / base, 1.0)


def _fallback_ratios(customer_ltv: pl.DataFrame, draws: int, rng: np.random.Generator):
    """Revenue under each draw of the historical rate and value / at their estimates: (draws,)."""
    x = customer_ltv["frequency"].to_numpy().astype(float)
    T = customer_ltv["tenure_days"].to_numpy()
    revenue = customer_ltv["historical_revenue"].to_numpy()
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

    `parameter_draws=0` leaves parameter uncertainty out of the interval (process noise only).
    """
    periods = forecast_periods(as_of, months)
    t_ends = np.array([(end - as_of).days - 1 for _, end in periods], dtype=float)
    members = segment_members(con, tenant_id, as_of)
    segments = [ALL_SEGMENT, *sorted(set(members["segment"].to_list()) - {ALL_SEGMENT})]

    customers = customer_ltv
    revenue, variance = _customer_moments(customers, model_row, t_ends)
    by_segment = _membership(members, customers["contact_id"], segments)
    customer_mean = (by_segment @ revenue.T).T  # (periods, segments)
    customer_var = (by_segment @ variance.T).T

    known = (
        con.sql(_KNOWN_CONTACTS, params={"tenant_id": tenant_id})
        .pl()
        .filter(pl.col("known_on") <= as_of)
    )
    contacts = known.join(_first_purchases(customers, as_of), on="contact_id", how="left")
    hazards, posteriors, value_mean, value_square = _lead_hazards(
        con, tenant_id, as_of, contacts, segments[1:]
    )
    lead_ids = contacts.filter(pl.col("first_purchase_on").is_null())["contact_id"]
    leads_in = np.asarray(_membership(members, lead_ids, segments).sum(axis=1)).ravel()
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
        fitted = model_row["model"][0] == MODEL_FITTED and customers.height > 0
        ratios = (
            _fitted_ratios(customers, model_row, t_ends, by_segment, parameter_draws, rng)
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


def forecast_as_of(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, months: int = 12
) -> pl.DataFrame:
    """The forecast as it would have been made on `as_of` (for back-tests): refits, then forecasts.

    Nothing is written; segment memberships come from `marts.segment_history` unless
    `marts.contact_segments` holds that date.
    """
    model_row, customer_ltv = ltv_tables(con, tenant_id, as_of, run_id=f"forecast-as-of-{as_of}")
    return revenue_forecast(con, tenant_id, as_of, customer_ltv, model_row, months)
