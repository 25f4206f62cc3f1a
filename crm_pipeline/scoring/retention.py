"""The churn model: which customers are likely to churn in the next `HORIZON_DAYS` days.

Who is scored: customers (an active subscription, or a purchase within the tenant's
customer_purchase_days) whose churn can be observed: subscribers, and repeat buyers (two or more
purchases in the last 365 days). Churn: for a subscriber, a subscription_end within the horizon;
for a repeat buyer without a subscription, no purchase within it ("no purchase when they used to
buy"). A one-off buyer has no habit to lose and keeps the rule (the declining flag) alone.

Factors: the subscription and its age, purchases in 90 and 365 days, days since the last purchase
(in bands), refunds of the last 365 days, how long a customer, the decline rule's ratio and flag,
engagement by kind (support included, the lead model's windows), days since the last activity, fit
(industry, size, seniority, country) and time of year.

Baselines on the held-out period: the declining flag itself (`declining`, the rule) and BG/NBD's
probability of being alive, the model fitted on the purchases up to each held-out cut-off as
marts.customer_ltv fits it (`p_alive`, scored as 1 - p_alive; customers without a purchase
history, such as subscribers who never bought, rank in the middle; no AUC when the fit does not
converge).
"""

from __future__ import annotations

import datetime
import warnings

import duckdb
import polars as pl

from crm_pipeline.scoring import explain
from crm_pipeline.scoring.leads import days_band, fit_factors, kind_factors, log1p, season_factor
from crm_pipeline.scoring.model import Factor
from crm_pipeline.warehouse import frame


def churn_factors(season: bool) -> list[Factor]:
    """The churn model's factors, in a fixed order (the model's JSON refers to them by index)."""
    subscribed = pl.col("subscribed").fill_null(False)
    trend = ((pl.col("recent_activities").cast(pl.Float64) + 1)
             / (pl.col("baseline_monthly_rate").fill_null(0.0) + 1)).log()
    rate = pl.col("baseline_monthly_rate")
    share = (pl.col("recent_activities") / rate * 100).round(0).cast(pl.Int64)
    factors = [
        Factor("subscription",
               numeric=(("subscribed", subscribed.cast(pl.Float64)),
                        ("subscription_days", log1p("subscription_days"))),
               phrase=pl.when(subscribed)
               .then(pl.format("subscribed for {} days", pl.col("subscription_days")))
               .otherwise(pl.lit("no active subscription"))),
        Factor("purchases",
               numeric=(("purchases_90d", log1p("purchases_90d")),
                        ("purchases_365d", log1p("purchases_365d"))),
               phrase=pl.format("{} purchases in the last 365 days ({} in the last 90)",
                                pl.col("purchases_365d"), pl.col("purchases_90d"))),
        Factor("last_purchase",
               categorical=days_band("days_since_last_purchase", (30, 90, 180, 365)),
               phrase=explain.days_phrase("days_since_last_purchase", "last purchase {} days ago",
                                          "no purchase yet")),
        Factor("refunds", numeric=(("refunds_365d", log1p("refunds_365d")),),
               phrase=explain.count_phrase("refunds_365d", "refund in the last 365 days",
                                           "refunds in the last 365 days", "no refunds")),
        Factor("customer_for", numeric=(("customer_days", log1p("customer_days")),),
               phrase=explain.days_phrase("customer_days", "customer for {} days",
                                          "not yet a customer")),
        Factor("decline",
               numeric=(("activity_trend", trend),
                        ("declining", pl.col("declining").fill_null(False).cast(pl.Float64))),
               phrase=pl.when(rate.is_null() | (rate <= 0))
               .then(pl.format("{} activities lately, none in the months before",
                               pl.col("recent_activities")))
               .otherwise(pl.format("recent activity at {}% of its usual rate", share))),
        *kind_factors(),
        Factor("recency",
               categorical=days_band("days_since_last_activity", (7, 30, 90, 180)),
               phrase=explain.days_phrase("days_since_last_activity",
                                          "last activity {} days ago", "no activity yet")),
        *fit_factors(),
    ]
    return [*factors, season_factor()] if season else factors


P_ALIVE_FIT_CUSTOMERS = 10_000

CHURN_BASELINES = {
    "declining": pl.col("declining").fill_null(False).cast(pl.Float64),
    "p_alive": pl.col("p_dead"),
}


def is_customer(features: pl.DataFrame, customer_purchase_days: int) -> pl.Series:
    """Customers at the cut-off, as the lifecycle rules say."""
    return features.select(
        pl.col("subscribed").fill_null(False)
        | (pl.col("days_since_last_purchase") <= customer_purchase_days).fill_null(False)
    ).to_series()


def is_observable(features: pl.DataFrame, customer_purchase_days: int) -> pl.Series:
    """Customers whose churn can be observed: subscribers and repeat buyers."""
    return is_customer(features, customer_purchase_days) & features.select(
        pl.col("subscribed").fill_null(False) | (pl.col("purchases_365d") >= 2)
    ).to_series()


def with_p_alive(con: duckdb.DuckDBPyConnection, tenant_id: str, rows: pl.DataFrame,
                 cutoffs: tuple[datetime.date, ...]) -> pl.DataFrame:
    """`rows` (cutoff, contact_id, ...) with `p_dead` = 1 - BG/NBD's p_alive, the model fitted on
    the purchases up to each cut-off (on a deterministic sample of `P_ALIVE_FIT_CUSTOMERS`
    customers when there are more: the parameters of a million customers are those of a large
    random sample, for a fraction of the time): NULL for a customer without purchases, and for
    everyone when the fit does not converge."""
    from crm_pipeline.value.ltv.bgnbd import (  # only when a churn model is trained
        fit_bgnbd,
        p_alive,
    )
    from crm_pipeline.value.ltv.summary import customer_summaries_query

    if rows.height == 0 or not cutoffs:
        return rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("p_dead"))
    dates = sorted(cutoffs)
    query, params = customer_summaries_query(dates)
    summaries = frame(con, query, {"tenant_id": tenant_id, **params})
    wanted = rows.select("cutoff", "contact_id").unique()
    parts = []
    for i, day in enumerate(dates):
        s = summaries.filter(pl.col(f"frequency_{i}") >= 0).select(
            "contact_id", *(pl.col(f"{c}_{i}").cast(pl.Float64).alias(c)
                            for c in ("frequency", "recency_days", "tenure_days")))
        if s.height == 0:
            continue
        sample = s.filter(pl.col("contact_id").hash(seed=0) % s.height
                          < P_ALIVE_FIT_CUSTOMERS) if s.height > P_ALIVE_FIT_CUSTOMERS else s
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = fit_bgnbd(*(sample[c].to_numpy() for c in
                                  ("frequency", "recency_days", "tenure_days")))
            except (ValueError, FloatingPointError):
                continue
            if not fit.converged:
                continue
            scored = s.join(wanted.filter(pl.col("cutoff") == day), on="contact_id", how="semi")
            alive = p_alive(fit.params, *(scored[c].to_numpy() for c in
                                          ("frequency", "recency_days", "tenure_days")))
        parts.append(pl.DataFrame({
            "cutoff": [day] * scored.height, "contact_id": scored["contact_id"],
            "p_dead": 1.0 - alive,
        }, schema_overrides={"cutoff": pl.Date}))
    if not parts:
        return rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("p_dead"))
    return rows.join(pl.concat(parts).with_columns(pl.col("p_dead").fill_nan(None)),
                     on=["cutoff", "contact_id"], how="left")
