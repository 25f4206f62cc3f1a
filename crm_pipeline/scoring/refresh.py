"""Scoring a tenant in a marts refresh: train or re-use each model, then score every contact.

`score_tenant` is called by `marts.refresh_marts` after the rule scores are worked out. For each
target (conversion of open leads, churn of customers) it finds the model of the run's training
date (`features.anchor_date`): a quick check first (history too short, too few customers ever:
the rule, without training), then the stored model when what it learned from is unchanged
(`store.fingerprint`), else it trains one (`train_model`) and stores it. It then computes every
contact's features at the as-of date, scores them, puts the reasons into words, and leaves two temp
tables for the marts' SQL to join:

* `mart_lead_model_scores` (contact_id, score_method, conversion_probability, top_factors): every
  contact; learned for open leads when the tenant's model is in use, rule otherwise;
* `mart_churn_model_scores` (contact_id, churn_method, churn_probability, top_factors): every
  customer; learned for subscribers and repeat buyers when the churn model is in use.

It writes the run's rows of marts.lead_score_model and marts.retention_model itself.
"""

from __future__ import annotations

import datetime

import duckdb
import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from crm_pipeline.marts.refresh import SCORE_TABLES
from crm_pipeline.marts.tenant_settings import query_params
from crm_pipeline.scoring import explain
from crm_pipeline.scoring.features import (
    HORIZON_DAYS,
    WARMUP_DAYS,
    Plan,
    anchor_date,
    build_cohort,
    build_contact_facts,
    build_scoring_pairs,
    contact_rate,
    drop_temp_tables,
    history_start,
    pair_features,
    plan_cutoffs,
    sample_cohort,
)
from crm_pipeline.scoring.leads import (
    LEAD_BASELINES,
    SEASON_MIN_SPAN_DAYS,
    is_open_lead,
    lead_factors,
)
from crm_pipeline.scoring.model import (
    MODEL_VERSION,
    Fitted,
    Outcome,
    contributions,
    learn,
    standardized,
)
from crm_pipeline.scoring.retention import (
    CHURN_BASELINES,
    churn_factors,
    is_observable,
    with_p_alive,
)
from crm_pipeline.scoring.store import (
    MODEL_TABLES,
    TARGETS,
    data_digest,
    fingerprint,
    load_model,
    model_row,
    save_model,
    write_model_row,
)
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import frame, run

MAX_POSITIVES = 30_000  # training rows kept per class; beyond, a weighted sample
MAX_NEGATIVES = 120_000
MAX_COHORT = 1_500_000  # (cut-off, contact) pairs of a cohort at most: beyond, a share of contacts
CHUNK = 500_000  # contacts scored at a time (bounds the memory of the model's matrix)
RULES = {"conversion": "rule", "churn": "declining"}


def score_tenant(con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date,
                 params: dict, settings: dict, run_id: str | None = None) -> dict:
    """Models found or trained, every contact scored into the two temp tables, the model rows
    written; rows written per model table. Needs `mart_contacts` (the rule scores and stages)."""
    learned = settings["learned_scores"]
    try:
        build_contact_facts(con, tenant_id, from_marts=True)
        anchor = anchor_date(as_of, int(learned["retrain_days"]))
        plan = plan_cutoffs(anchor, history_start(con, tenant_id))
        digest = Digest(con, tenant_id, plan)
        models = {t: model_for(con, t, tenant_id, plan, params, settings, run_id, digest)
                  for t in TARGETS}
        text = sql_text("models/scoring/rule_inputs")
        inputs = frame(con, text, query_params(text, params, "sql/models/scoring/rule_inputs.sql"))
        stages = [*(("lead", "prospect") if models["conversion"][0]["method"] == "learned" else ()),
                  *(("customer", "advocate") if models["churn"][0]["method"] == "learned" else ())]
        features = None
        if stages:  # only the contacts a learned model scores need its features
            build_scoring_pairs(con, as_of, stages)
            features = pair_features(con, tenant_id, params, with_rule=False, marts_as_of=as_of)
        leads = lead_rows(inputs, features, models["conversion"][0])
        churn = churn_rows(inputs, features, models["churn"][0], params)
        for name, rows in zip(SCORE_TABLES, (leads, churn), strict=True):
            con.register("_scores", rows)
            try:
                run(con, f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _scores")
            finally:
                con.unregister("_scores")
    finally:
        drop_temp_tables(con)
    counts = {}
    for target, (model, retrained) in models.items():
        row = model_row(target, tenant_id, run_id, as_of, model, retrained)
        counts[f"marts.{MODEL_TABLES[target]}"] = write_model_row(con, target, row)
    return counts


def drop_score_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in SCORE_TABLES:
        run(con, f"DROP TABLE IF EXISTS {name}")


# --- finding or training a model -----------------------------------------------------------------


def _base(target: str, plan: Plan) -> dict:
    deploy, holdout = sorted(plan.deploy), sorted(plan.holdout)
    return {
        "target": target, "version": MODEL_VERSION, "anchor": plan.anchor.isoformat(),
        "horizon_days": HORIZON_DAYS,
        "window": {
            "train_from": deploy[0].isoformat() if deploy else None,
            "train_to": deploy[-1].isoformat() if deploy else None,
            "holdout_from": holdout[0].isoformat() if holdout else None,
            "holdout_to": holdout[-1].isoformat() if holdout else None,
        },
    }


def _quick_reason(con, target: str, plan: Plan, settings: dict) -> str | None:
    """Why the rule is used without training, when it is plain from the history's length or
    its number of customers; None when only training can tell."""
    if not plan.usable:
        needed = plan.anchor - datetime.timedelta(days=2 * HORIZON_DAYS + 4 * 30 + WARMUP_DAYS)
        return (f"history too short: learning and validating needs activity from {needed} "
                f"or earlier (a {HORIZON_DAYS}-day horizon, a held-out period and cut-offs "
                "before it)")
    minimum = int(settings["learned_scores"]["min_conversions"])
    customers = run(con, "SELECT count(*) FROM score_contact_facts "
                         "WHERE first_conversion_at < $end",
                    {"end": plan.anchor + datetime.timedelta(days=1)})[0][0]
    if customers < minimum:
        what = "conversions" if target == "conversion" else "customers"
        return f"fewer than {minimum} {what} in the tenant's history ({customers})"
    return None


class Digest:
    """The data digest of a plan's anchor (`store.data_digest`), worked out once, when first
    needed, for both targets."""

    def __init__(self, con, tenant_id: str, plan: Plan):
        self._args = (con, tenant_id, plan.anchor, max(plan.holdout) if plan.holdout else None)
        self._value: str | None = None

    def __call__(self) -> str:
        if self._value is None:
            self._value = data_digest(*self._args)
        return self._value


def model_for(con, target: str, tenant_id: str, plan: Plan, params: dict, settings: dict,
              run_id: str | None, digest: Digest | None = None) -> tuple[dict, bool]:
    """(the model of the plan's anchor, whether this call trained it)."""
    reason = _quick_reason(con, target, plan, settings)
    if reason is not None:
        return {**_base(target, plan), "method": "rule", "reason": reason, "metrics": {}}, False
    data = (digest or Digest(con, tenant_id, plan))()
    key = fingerprint(data, target, settings)
    stored = load_model(con, tenant_id, target, plan.anchor, key)
    if stored is not None:
        return stored, False
    model, _ = train_model(con, target, tenant_id, plan, params, settings)
    save_model(con, tenant_id, target, plan.anchor, key, run_id, model)
    return model, True


def train_model(con, target: str, tenant_id: str, plan: Plan, params: dict,
                settings: dict) -> tuple[dict, Outcome]:
    """Train, validate and decide (`model.learn`) on the tenant's history at the plan's cut-offs;
    (the model as stored, the outcome with its held-out rows). Needs `score_contact_facts`."""
    rate = contact_rate(con, target, plan.cutoffs, MAX_COHORT)
    build_cohort(con, target, tenant_id, plan.cutoffs, params, rate)
    sizes = sample_cohort(con, MAX_POSITIVES, MAX_NEGATIVES, rate)
    rows = pair_features(con, tenant_id, params, with_rule=target == "conversion")
    validation = sorted(plan.validation_train)
    season = (validation[-1] - validation[0]).days >= SEASON_MIN_SPAN_DAYS
    if target == "conversion":
        factors, baselines = lead_factors(season), LEAD_BASELINES
    else:
        factors, baselines = churn_factors(season), CHURN_BASELINES
        with threadpool_limits(1):  # BG/NBD's optimiser too: one BLAS thread
            rows = with_p_alive(con, tenant_id, rows, plan.holdout)
    outcome = learn(rows, plan, factors, baselines, RULES[target], settings["learned_scores"],
                    contact_rate=rate,
                    event="conversions" if target == "conversion" else "churned customers")
    model = {
        **_base(target, plan), "method": outcome.method, "reason": outcome.reason,
        "season": season, "cohort": sizes, "metrics": outcome.metrics,
        "fitted": outcome.model.to_json() if outcome.model is not None else None,
    }
    return model, outcome


# --- scoring ------------------------------------------------------------------------------------


def _apply(model: dict, features: pl.DataFrame, factors) -> tuple[np.ndarray, pl.Series]:
    """Probabilities and top factors in words of `features`' rows, in chunks."""
    fitted = Fitted.from_json(model["fitted"])
    phrases = [f.phrase for f in factors]
    probabilities, words = [], []
    with threadpool_limits(1):  # one BLAS thread (model.py's docstring says why)
        for start in range(0, features.height, CHUNK):
            part = features.slice(start, CHUNK)
            x = standardized(part, factors, fitted.encoding)
            z = x @ np.asarray(fitted.coef) + fitted.intercept
            probabilities.append(np.round(1.0 / (1.0 + np.exp(-z)), 6))
            words.append(explain.top_factor_words(
                part, contributions(fitted, x, len(factors)), phrases))
    if not probabilities:
        return np.zeros(0), pl.Series("top_factors", [], dtype=pl.List(pl.Utf8))
    return np.concatenate(probabilities), pl.concat(words)


def lead_rows(inputs: pl.DataFrame, features: pl.DataFrame | None, model: dict) -> pl.DataFrame:
    """Every contact's score method, learned probability and top factors: learned for the open
    leads when the tenant's model is in use, the rule's words for everyone else."""
    parts = []
    if model["method"] == "learned" and features is not None:
        scored = features.filter(is_open_lead(features))
        if scored.height:
            p, words = _apply(model, scored, lead_factors(model.get("season", False)))
            parts.append(pl.DataFrame({
                "contact_id": scored["contact_id"], "score_method": "learned",
                "conversion_probability": p, "top_factors": words,
            }))
    rule = inputs.join(parts[0].select("contact_id"), on="contact_id", how="anti") if parts \
        else inputs
    parts.append(pl.DataFrame({
        "contact_id": rule["contact_id"], "score_method": "rule",
        "conversion_probability": pl.Series([None] * rule.height, dtype=pl.Float64),
        "top_factors": explain.rule_words(rule),
    }))
    return pl.concat(parts, how="vertical_relaxed")


def churn_rows(inputs: pl.DataFrame, features: pl.DataFrame | None, model: dict,
               params: dict) -> pl.DataFrame:
    """Every customer's churn method, learned probability and top factors: learned for
    subscribers and repeat buyers when the churn model is in use, the declining rule's words
    for the other customers."""
    parts = []
    if model["method"] == "learned" and features is not None:
        scored = features.filter(is_observable(features, int(params["customer_purchase_days"])))
        if scored.height:
            p, words = _apply(model, scored, churn_factors(model.get("season", False)))
            parts.append(pl.DataFrame({
                "contact_id": scored["contact_id"], "churn_method": "learned",
                "churn_probability": p, "top_factors": words,
            }))
    customers = inputs.filter(pl.col("stage").is_in(["customer", "advocate"]))
    rule = customers.join(parts[0].select("contact_id"), on="contact_id", how="anti") if parts \
        else customers
    recent, baseline = int(params["decline_recent_days"]), int(params["decline_baseline_days"])
    rate = pl.col("baseline_activities") * (recent / baseline)
    rule = rule.with_columns(rate.alias("baseline_monthly_rate")).with_columns(
        ((pl.col("baseline_monthly_rate") > 0)
         & (pl.col("recent_activities") / pl.col("baseline_monthly_rate")
            < float(params["decline_ratio"]))).fill_null(False).alias("declining"))
    parts.append(pl.DataFrame({
        "contact_id": rule["contact_id"], "churn_method": "rule",
        "churn_probability": pl.Series([None] * rule.height, dtype=pl.Float64),
        "top_factors": explain.decline_words(rule, recent, baseline),
    }))
    return pl.concat(parts, how="vertical_relaxed")
