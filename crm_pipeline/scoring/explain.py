"""Top factors in words: what raised or lowered each score, phrased from the contact's own values.

A learned score's factors are the model's per-factor contributions (`model.contributions`: how
far the contact's values move its log-odds from the average lead's); the `TOP` largest in size
are listed strongest first (the largest always, the others when at least `MIN_EFFECT`), each
as "+ words" (raises the score) or "- words" (lowers it): "+ attended 3 webinars in the last
30 days", "+ industry: healthcare", "- no activity in the last 180 days". A rule score's factors
are its largest components, with their points: "+ company of 250 employees (15 points)".

The time of year is never listed: every contact of a run shares it, so it explains the level
of the probabilities but not why one lead ranks above another. Words are built with polars
expressions, only for the rows and factors that make a contact's
top list: no Python loop over contacts.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipeline.scoring.features import RULE_COMPONENTS

TOP = 3
MIN_EFFECT = 0.1  # in log-odds (a tenth changes a 5% probability by about half a point)

# Activity kinds: (singular, plural, verb) for "attended 3 webinars".
KIND_WORDS = {
    "email_in": ("e-mail from them", "e-mails from them", "received"),
    "email_out": ("e-mail to them", "e-mails to them", "sent"),
    "call_in": ("call from them", "calls from them", "took"),
    "call_out": ("call to them", "calls to them", "made"),
    "meeting": ("meeting", "meetings", "held"),
    "support": ("support contact", "support contacts", "had"),
    "webinar": ("webinar", "webinars", "attended"),
    "download": ("download", "downloads", "made"),
    "form_submission": ("form", "forms", "submitted"),
}
SENIORITY_WORDS = {
    "top": "C-level, founder or owner title",
    "high": "VP, head or director title",
    "mid": "manager or lead title",
    "other": "a junior or unranked job title",
    "none": "no job title",
}


def _n(col: str) -> pl.Expr:
    return pl.col(col).fill_null(0).cast(pl.Int64)


def _plural(n: pl.Expr, singular: str, plural: str) -> pl.Expr:
    return pl.when(n == 1).then(pl.lit(singular)).otherwise(pl.lit(plural))


def kind_phrase(kind: str, windows: tuple) -> pl.Expr:
    """The shortest window with any of the kind, in words ('attended 3 webinars in the last 30
    days', 'received 2 e-mails from them so far'), or 'no webinars in the last 365 days'."""
    singular, plural, verb = KIND_WORDS[kind]

    def window(w):
        return "so far" if w is None else f"in the last {w} days"

    def col(w):
        return _n(f"{kind}_{'ever' if w is None else f'{w}d'}")

    expr = None
    for w in windows:
        n = col(w)
        text = pl.format(f"{verb} {{}} {{}} {window(w)}", n, _plural(n, singular, plural))
        expr = pl.when(n > 0).then(text) if expr is None else expr.when(n > 0).then(text)
    return expr.otherwise(pl.lit(f"no {plural} {window(windows[-1])}"))


def days_phrase(col: str, template: str, none: str) -> pl.Expr:
    """`template` with the number of days (a '{}' in it), or `none` when unknown."""
    days = pl.col(col)
    return (pl.when(days.is_null()).then(pl.lit(none))
            .otherwise(pl.format(template, days.cast(pl.Int64))))


def count_phrase(col: str, singular: str, plural: str, zero: str) -> pl.Expr:
    n = _n(col)
    return pl.when(n == 0).then(pl.lit(zero)).otherwise(
        pl.format("{} {}", n, _plural(n, singular, plural)))


def industry_phrase() -> pl.Expr:
    industry = pl.col("industry").str.strip_chars()
    return (pl.when(industry.is_null() | (industry == "")).then(pl.lit("industry unknown"))
            .otherwise(pl.format("industry: {}", industry)))


def size_phrase() -> pl.Expr:
    size = pl.col("company_size")
    return (pl.when(size.is_null()).then(pl.lit("company size unknown"))
            .otherwise(pl.format("company of {} employees", size.cast(pl.Int64))))


def seniority_phrase() -> pl.Expr:
    return pl.col("seniority").replace_strict(SENIORITY_WORDS, default="a job title",
                                              return_dtype=pl.Utf8)


def country_phrase() -> pl.Expr:
    country = pl.col("country")
    return (pl.when(country.is_null() | (country == "")).then(pl.lit("country unknown"))
            .otherwise(pl.format("country: {}", country)))


def source_phrase() -> pl.Expr:
    return pl.format("source: {}", pl.col("source").fill_null("unknown"))


def top_factor_words(features: pl.DataFrame, effects: np.ndarray, phrases: list[pl.Expr | None],
                     top: int = TOP, min_effect: float = MIN_EFFECT) -> pl.Series:
    """Each row's top factors in words (a list, strongest first: the largest effect, then others
    of at least `min_effect`), from its per-factor effects (rows x factors, in log-odds) and each
    factor's phrase expression over `features` (None: the factor is never listed)."""
    n, k = effects.shape
    silent = [i for i, phrase in enumerate(phrases) if phrase is None]
    if silent:  # factors without words (the time of year, the same for every contact of a run)
        effects = effects.copy()
        effects[:, silent] = 0.0
    if n == 0 or k == 0:
        return pl.Series("top_factors", [[]] * n, dtype=pl.List(pl.Utf8))
    top = min(top, k)
    size = np.abs(effects)
    order = np.argsort(-size, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(effects, order, axis=1)
    picks = pl.DataFrame({
        "row": np.repeat(np.arange(n, dtype=np.int64), top),
        "rank": np.tile(np.arange(top, dtype=np.int64), n),
        "factor": order.ravel().astype(np.int64),
        "effect": chosen.ravel(),
    }).filter((pl.col("effect").abs() >= min_effect)
              | ((pl.col("rank") == 0) & (pl.col("effect") != 0)))
    return _assemble(features, picks, phrases, n)


def _assemble(features: pl.DataFrame, picks: pl.DataFrame, phrases: list[pl.Expr | None],
              n: int) -> pl.Series:
    parts = []
    for i, phrase in enumerate(phrases):
        chosen = picks.filter(pl.col("factor") == i)
        if chosen.height == 0 or phrase is None:
            continue
        columns = list(dict.fromkeys(phrase.meta.root_names()))  # gather only what it reads
        needed = (features.select(columns)[chosen["row"].to_numpy()] if columns
                  else pl.DataFrame({"_row": chosen["row"]}))
        words = needed.with_columns(phrase.alias("_words"))["_words"]
        parts.append(chosen.with_columns(words.alias("words")))
    if not parts:
        return pl.Series("top_factors", [[]] * n, dtype=pl.List(pl.Utf8))
    words = pl.concat(parts).with_columns(
        pl.when(pl.col("effect") > 0).then(pl.lit("+ ")).otherwise(pl.lit("- "))
        .add(pl.col("words")).alias("words"))
    listed = words.sort("row", "rank").group_by("row", maintain_order=True).agg(pl.col("words"))
    full = pl.DataFrame({"row": np.arange(n, dtype=np.int64)}).join(
        listed, on="row", how="left", maintain_order="left")
    return full["words"].fill_null([]).cast(pl.List(pl.Utf8)).alias("top_factors")


# --- the rule's own factors ---------------------------------------------------------------------


def rule_phrases() -> list[pl.Expr]:
    """Words for each rule component (in `RULE_COMPONENTS` order), with its points."""
    def points(expr: pl.Expr, col: str) -> pl.Expr:
        value = pl.col(col).cast(pl.Float64).round(1)
        text = (pl.when(value == value.floor()).then(value.cast(pl.Int64).cast(pl.Utf8))
                .otherwise(value.cast(pl.Utf8)))
        return pl.format("{} ({} points)", expr, text)

    last = pl.col("days_since_last_activity")
    recency = (pl.when(last == 0).then(pl.lit("active today"))
               .otherwise(pl.format("last activity {} days ago", last.cast(pl.Int64))))
    return [
        points(size_phrase(), "fit_company_size"),
        points(seniority_phrase(), "fit_role"),
        points(pl.format("target industry: {}", pl.col("industry").str.strip_chars()),
               "fit_industry"),
        points(recency, "engagement_recency"),
        points(count_phrase("activities_90d", "activity in the last 90 days",
                            "activities in the last 90 days", "no activity"),
               "engagement_frequency"),
        points(count_phrase("depth_90d", "high-intent activity in the last 90 days",
                            "high-intent activities in the last 90 days", "none"),
               "engagement_depth"),
    ]


def rule_words(features: pl.DataFrame) -> pl.Series:
    """Each row's largest rule components in words (components with points only)."""
    effects = features.select(RULE_COMPONENTS).fill_null(0.0).to_numpy().astype(np.float64)
    return top_factor_words(features, effects, rule_phrases(), min_effect=1e-9)


def decline_words(features: pl.DataFrame, recent_days: int, baseline_days: int) -> pl.Series:
    """The decline rule in words: the recent window's activity against its usual rate."""
    rate = pl.col("baseline_monthly_rate")
    share = (pl.col("recent_activities") / rate * 100).round(0).cast(pl.Int64)
    template = f"activity in the last {recent_days} days at {{}}% of its usual rate"
    words = (
        pl.when(rate.is_null() | (rate <= 0))
        .then(pl.lit(f"no activity in the {baseline_days} days before the last {recent_days} "
                     "to compare with"))
        .when(pl.col("declining")).then(pl.format("+ " + template, share))
        .otherwise(pl.format("- " + template, share))
    )
    return features.select(pl.concat_list(words).alias("top_factors"))["top_factors"]
