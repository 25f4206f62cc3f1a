"""The lead model: what it reads about an open lead (its factors), and its baselines.

The question it answers: will this open lead (never a customer so far) become a customer, a first
purchase or subscription, within `features.HORIZON_DAYS` days? Its factors:

* engagement by kind: e-mails and calls each way over the last 90 days and ever; meetings,
  support, webinars, downloads and forms over the last 30, 90 and 365 days;
* engagement signals so far (forms, downloads, webinars, inbound e-mails and calls: the lifecycle
  rule's lead signals), how long the contact has been known, how long since its first activity,
  and how long since its last (in bands);
* fit: industry, company size (in the rule's bands), seniority of the job title (the tenant's
  role keywords), country, and the system the contact came from;
* time of year, when the training period covers a year or more (seasonal buying).

Its baselines on the held-out period: the rule's lead_score as it would have been at each cut-off
(`rule`), and counting activities in the last 90 days (`activity_count`).
"""

from __future__ import annotations

import math

import polars as pl

from crm_pipeline.scoring import explain
from crm_pipeline.scoring.features import COUNT_KINDS
from crm_pipeline.scoring.model import Factor

SEASON_MIN_SPAN_DAYS = 330  # time of year is learned only from a year of cut-offs


def log1p(col: str) -> pl.Expr:
    return pl.col(col).fill_null(0).cast(pl.Float64).clip(lower_bound=0).log1p()


def days_band(col: str, edges: tuple[int, ...]) -> pl.Expr:
    """'none' when unknown, else the band of `edges` the days fall in ('0-7', ..., '181+')."""
    days = pl.col(col)
    expr = pl.when(days.is_null()).then(pl.lit("none"))
    low = 0
    for edge in edges:
        expr = expr.when(days <= edge).then(pl.lit(f"{low}-{edge}"))
        low = edge + 1
    return expr.otherwise(pl.lit(f"{low}+"))


def size_band() -> pl.Expr:
    """Company size in the rule's bands."""
    size = pl.col("company_size")
    return (pl.when(size.is_null()).then(pl.lit("unknown"))
            .when(size >= 1000).then(pl.lit("1000+"))
            .when(size >= 250).then(pl.lit("250-999"))
            .when(size >= 100).then(pl.lit("100-249"))
            .when(size >= 20).then(pl.lit("20-99"))
            .otherwise(pl.lit("1-19")))


def blank_as_unknown(col: str) -> pl.Expr:
    value = pl.col(col).cast(pl.Utf8).str.strip_chars()
    return pl.when(value.is_null() | (value == "")).then(pl.lit("unknown")).otherwise(value)


def season_factor() -> Factor:
    angle = pl.col("cutoff").dt.ordinal_day().cast(pl.Float64) * (2 * math.pi / 365.25)
    return Factor("season", numeric=(("season_sin", angle.sin()), ("season_cos", angle.cos())))


def kind_factors() -> list[Factor]:
    def name(kind, w):
        return f"{kind}_{'ever' if w is None else f'{w}d'}"

    return [
        Factor(kind, numeric=tuple((name(kind, w), log1p(name(kind, w))) for w in windows),
               phrase=explain.kind_phrase(kind, windows))
        for kind, windows in COUNT_KINDS.items()
    ]


def fit_factors() -> list[Factor]:
    return [
        Factor("industry", categorical=blank_as_unknown("industry_key"),
               phrase=explain.industry_phrase()),
        Factor("company_size", categorical=size_band(), phrase=explain.size_phrase()),
        Factor("seniority", categorical=pl.col("seniority"), phrase=explain.seniority_phrase()),
        Factor("country", categorical=blank_as_unknown("country"),
               phrase=explain.country_phrase()),
    ]


def lead_factors(season: bool) -> list[Factor]:
    """The lead model's factors, in a fixed order (the model's JSON refers to them by index)."""
    factors = [
        *kind_factors(),
        Factor("signals", numeric=(("signals_ever", log1p("signals_ever")),),
               phrase=explain.count_phrase("signals_ever", "engagement signal so far",
                                           "engagement signals so far",
                                           "no engagement signal so far")),
        Factor("known", numeric=(("known_days", log1p("known_days")),),
               phrase=explain.days_phrase("known_days", "known for {} days",
                                          "known since the as-of date")),
        Factor("engaged_since",
               numeric=(("first_activity_days", log1p("days_since_first_activity")),),
               phrase=explain.days_phrase("days_since_first_activity",
                                          "first activity {} days ago", "no activity yet")),
        Factor("recency",
               categorical=days_band("days_since_last_activity", (7, 30, 90, 180)),
               phrase=explain.days_phrase("days_since_last_activity",
                                          "last activity {} days ago", "no activity yet")),
        *fit_factors(),
        Factor("source", categorical=blank_as_unknown("source"), phrase=explain.source_phrase()),
    ]
    return [*factors, season_factor()] if season else factors


LEAD_BASELINES = {
    "rule": pl.col("rule_score").fill_null(0.0),
    "activity_count": pl.col("activities_90d").fill_null(0),
}


def is_open_lead(features: pl.DataFrame) -> pl.Series:
    """Contacts never a customer by the cut-off (no purchase or subscription_start yet)."""
    return features["customer_days"].is_null()
