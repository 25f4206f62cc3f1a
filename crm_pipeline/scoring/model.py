"""Training a tenant's model on its own history, validating it on a later period, and deciding
whether it or the rule is used.

The model is a logistic regression (scikit-learn) over standardized features: counts as
log(1 + n), days and amounts in bands or logs, categorical fields one-hot over the levels the
tenant's data holds often enough. Logistic regression was chosen over gradient boosting for three
reasons that matter here: its probabilities come out calibrated (it minimises log loss, with no
separate calibration step to validate), each score splits exactly into per-factor contributions
(coefficient x distance from the average lead), which is what `top_factors` puts into words, and
it trains on 150,000 rows in about a second and scores a million in about one; its
coefficients are kept as JSON (no pickled objects, nothing personal). Bands and one-hot levels
let it bend where a driver is not linear (small companies converting more than mid-sized ones,
say); what it cannot see is interactions between drivers.

The matrices are small (at most 150,000 rows by about 90 columns): BLAS runs on one thread
(`threadpool_limits(1)`): the value stage computes beside the marts refresh on the other core, and
two BLAS threads fighting for a busy core made the same product ten times slower.

Rows are weighted: when a cohort is larger than the caps, each class is sampled and its rows
carry the inverse of their sampling rate (`features.sample_cohort`, and `features.contact_rate`
for the share of contacts a large tenant's cohort keeps); weights are normalised to a mean of 1
so the regularisation means the same at every size.

The decision (`learn`): the rule is used when the cut-offs before the held-out period hold fewer
than `min_conversions` converting contacts (distinct), when the held-out period holds fewer than
`min_holdout_conversions`, or when the learned model's held-out AUC does not beat the rule's by
more than `min_auc_gain`; otherwise the model is refitted on every cut-off and used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

MODEL_VERSION = 1
C = 0.5  # inverse L2 strength on standardized features, rows weighted to a mean of 1
MAX_LEVELS = 20  # one-hot levels per categorical field at most ...
MIN_LEVEL_ROWS = 20  # ... each seen in at least this many training rows
DECILES = 10
DIGITS = 9  # coefficients and probabilities are rounded: identical inputs, identical outputs


@dataclass(frozen=True, eq=False)
class Factor:
    """One explainable driver: numeric columns and/or a categorical field, and its words."""

    name: str
    numeric: tuple[tuple[str, pl.Expr], ...] = ()
    categorical: pl.Expr | None = None
    phrase: pl.Expr | None = None


@dataclass
class Encoding:
    """How features become the model's columns: one-hot levels, standardisation."""

    levels: dict[str, list[str]]  # factor name -> one-hot levels
    columns: list[str]  # every model column, in order
    factor_of: list[int]  # the factor index of each column
    means: list[float]
    scales: list[float]


@dataclass
class Fitted:
    """A fitted model: its encoding and coefficients (on standardized columns)."""

    encoding: Encoding
    coef: list[float]
    intercept: float
    metrics: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        e = self.encoding
        return {"levels": e.levels, "columns": e.columns, "factor_of": e.factor_of,
                "means": e.means, "scales": e.scales, "coef": self.coef,
                "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict) -> Fitted:
        encoding = Encoding(data["levels"], data["columns"], data["factor_of"], data["means"],
                            data["scales"])
        return cls(encoding, data["coef"], data["intercept"])


def _raw_columns(features: pl.DataFrame, factors: list[Factor]) -> pl.DataFrame:
    """Each factor's numeric columns and categorical value, computed from the features."""
    exprs = []
    for f in factors:
        exprs += [expr.cast(pl.Float64).alias(name) for name, expr in f.numeric]
        if f.categorical is not None:
            exprs.append(f.categorical.cast(pl.Utf8).fill_null("unknown").alias(f"cat:{f.name}"))
    return features.select(exprs)


def _levels(values: pl.Series) -> list[str]:
    counts = (values.value_counts().filter(pl.col("count") >= MIN_LEVEL_ROWS)
              .sort(["count", values.name], descending=[True, False]).head(MAX_LEVELS))
    return sorted(counts[values.name].to_list())


def _matrix(raw: pl.DataFrame, factors: list[Factor], levels: dict[str, list[str]]
            ) -> tuple[np.ndarray, list[str], list[int]]:
    """The model's columns, unstandardized: numeric columns as they are (NULL as 0), one 0/1
    column per one-hot level; with each column's name and factor index."""
    exprs, columns, factor_of = [], [], []
    for i, f in enumerate(factors):
        for name, _ in f.numeric:
            exprs.append(pl.col(name).fill_null(0.0).alias(name))
            columns.append(name)
            factor_of.append(i)
        if f.categorical is not None:
            for level in levels.get(f.name, []):
                column = f"{f.name}={level}"
                exprs.append((pl.col(f"cat:{f.name}") == level).cast(pl.Float64).alias(column))
                columns.append(column)
                factor_of.append(i)
    if not exprs:
        return np.zeros((raw.height, 0)), columns, factor_of
    matrix = raw.select(exprs).to_numpy(order="c").astype(np.float64, copy=False)
    return matrix, columns, factor_of


def fit_encoding(features: pl.DataFrame, factors: list[Factor], weights: np.ndarray
                 ) -> tuple[Encoding, np.ndarray]:
    """The encoding learned from training rows, and their standardized matrix."""
    raw = _raw_columns(features, factors)
    levels = {f.name: _levels(raw[f"cat:{f.name}"]) for f in factors if f.categorical is not None}
    x, columns, factor_of = _matrix(raw, factors, levels)
    w = weights / weights.sum()
    means = w @ x
    scales = np.sqrt(np.maximum(w @ (x - means) ** 2, 0.0))
    scales = np.where(scales > 1e-12, scales, 1.0)
    encoding = Encoding(levels, columns, factor_of, means.tolist(), scales.tolist())
    return encoding, (x - means) / scales


def standardized(features: pl.DataFrame, factors: list[Factor], encoding: Encoding) -> np.ndarray:
    """The model's standardized matrix for rows to score."""
    x, columns, _ = _matrix(_raw_columns(features, factors), factors, encoding.levels)
    if columns != encoding.columns:
        raise ValueError("the features do not give the columns the model was trained on")
    return (x - np.asarray(encoding.means)) / np.asarray(encoding.scales)


def fit(features: pl.DataFrame, factors: list[Factor]) -> Fitted:
    """A logistic regression of `label` on the factors, rows weighted by `weight`."""
    weights = features["weight"].to_numpy().astype(np.float64)
    y = features["label"].to_numpy().astype(np.int8)
    encoding, x = fit_encoding(features, factors, weights)
    from sklearn.linear_model import LogisticRegression  # on first need: a second to import

    model = LogisticRegression(C=C, solver="newton-cholesky", max_iter=200, tol=1e-8)
    with threadpool_limits(1):  # one BLAS thread: see the module's docstring
        model.fit(x, y, sample_weight=weights * (weights.size / weights.sum()))
    coef = [round(float(c), DIGITS) for c in model.coef_[0]]
    return Fitted(encoding, coef, round(float(model.intercept_[0]), DIGITS))


def logits(model: Fitted, x: np.ndarray) -> np.ndarray:
    return x @ np.asarray(model.coef) + model.intercept


def predict(model: Fitted, features: pl.DataFrame, factors: list[Factor]) -> np.ndarray:
    """Probabilities for rows of features (rounded to `DIGITS` places)."""
    if features.height == 0:
        return np.zeros(0)
    z = logits(model, standardized(features, factors, model.encoding))
    return np.round(1.0 / (1.0 + np.exp(-z)), DIGITS)


def contributions(model: Fitted, x: np.ndarray, n_factors: int) -> np.ndarray:
    """Each row's logit split by factor: coefficient x standardized value, summed per factor
    (0 for the average training row, whose standardized values are all 0): one product with the
    columns' coefficients placed in their factors' columns."""
    membership = np.zeros((len(model.coef), n_factors))
    membership[np.arange(len(model.coef)), model.encoding.factor_of] = model.coef
    return x @ membership


# --- measuring --------------------------------------------------------------------------------


def auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y).astype(bool)
    if y.size == 0 or y.all() or not y.any():
        return None
    value = roc_auc_score(y, np.asarray(score, dtype=np.float64), sample_weight=weights)
    return round(float(value), 6)


def calibration(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> list[dict]:
    """Predicted against observed rate by decile of the prediction (deciles of the weighted
    population, lowest first): decile, population (estimated), rows (sampled), predicted
    (mean probability), observed (share that converted)."""
    if y.size == 0:
        return []
    order = np.lexsort((np.arange(p.size), p))
    p, y, w = p[order], np.asarray(y, dtype=np.float64)[order], weights[order]
    before = np.cumsum(w) - w
    decile = np.minimum((before / w.sum() * DECILES).astype(int), DECILES - 1)
    rows = []
    for d in range(DECILES):
        mask = decile == d
        if not mask.any():
            continue
        wd = w[mask]
        rows.append({
            "decile": d + 1,
            "population": int(round(float(wd.sum()))),
            "rows": int(mask.sum()),
            "predicted": round(float(wd @ p[mask] / wd.sum()), 6),
            "observed": round(float(wd @ y[mask] / wd.sum()), 6),
        })
    return rows


def max_calibration_gap(deciles: list[dict], min_leads: int = 100) -> float | None:
    """The largest |observed - predicted| over deciles holding at least `min_leads` leads."""
    gaps = [abs(d["observed"] - d["predicted"])
            for d in deciles if d["population"] >= min_leads]
    return round(max(gaps), 6) if gaps else None


def log_loss(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> float | None:
    if y.size == 0:
        return None
    p = np.clip(p, 1e-12, 1 - 1e-12)
    y = np.asarray(y, dtype=np.float64)
    value = -(weights @ (y * np.log(p) + (1 - y) * np.log(1 - p))) / weights.sum()
    return round(float(value), 6) if math.isfinite(value) else None


def converting_contacts(rows: pl.DataFrame, contact_rate: float = 1.0) -> int:
    """Distinct contacts with a positive label among the rows (estimated for every contact when
    the rows hold a share `contact_rate` of them)."""
    if rows.height == 0:
        return 0
    return int(round(rows.filter(pl.col("label"))["contact_id"].n_unique() / contact_rate))


# --- learning and deciding ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What training gave: the method to use and why, the model in use (when learned), the
    held-out measurements, and the held-out rows with every score (for benchmarks)."""

    method: str  # learned | rule
    reason: str
    model: Fitted | None
    metrics: dict
    holdout: pl.DataFrame | None = None


def learn(rows: pl.DataFrame, plan, factors: list[Factor], baselines: dict[str, pl.Expr],
          rule: str, settings: dict, contact_rate: float = 1.0,
          event: str = "conversions") -> Outcome:
    """Validate a model learned from `plan.validation_train` on `plan.holdout`, against the
    baselines (`rule` names the one it must beat), and decide; when it is used, refit it on
    every cut-off of `plan.deploy`.

    `rows`: features of the sampled cohort at every cut-off of the plan, with `label` and
    `weight`. `settings`: the tenant's learned_scores settings (min_conversions,
    min_holdout_conversions, min_auc_gain). `contact_rate`: the share of contacts the cohort
    kept; counts of converting contacts are estimated for all of them. `event`: what a positive
    label is, in the reasons ("conversions", "churned customers")."""
    train = rows.filter(pl.col("cutoff").is_in(list(plan.validation_train)))
    hold = rows.filter(pl.col("cutoff").is_in(list(plan.holdout)))
    deploy = rows.filter(pl.col("cutoff").is_in(list(plan.deploy)))
    metrics: dict = {
        "train_rows": _population(deploy),
        "train_positives": converting_contacts(deploy, contact_rate),
        "validation_rows": _population(train),
        "validation_positives": converting_contacts(train, contact_rate),
        "holdout_rows": _population(hold),
        "holdout_positives": converting_contacts(hold, contact_rate),
        "auc_learned": None, "calibration": [], "calibration_max_gap": None,
        "holdout_log_loss": None,
    }
    y = hold["label"].to_numpy().astype(bool)
    w = hold["weight"].to_numpy().astype(np.float64)
    scored = hold.select("cutoff", "contact_id", "label", "weight",
                         *(expr.cast(pl.Float64).alias(f"score_{name}")
                           for name, expr in baselines.items()))
    for name in baselines:  # a baseline without a value for some rows ranks them in the middle
        values = scored[f"score_{name}"]
        if values.null_count() < values.len():
            values = values.fill_null(values.median())
            metrics[f"auc_{name}"] = auc(y, values.to_numpy(), w)
        else:
            metrics[f"auc_{name}"] = None
    minimum = int(settings["min_conversions"])
    minimum_holdout = int(settings["min_holdout_conversions"])
    reason = None
    if metrics["validation_positives"] < minimum:
        reason = (f"fewer than {minimum} {event} to learn from before the held-out period "
                  f"({metrics['validation_positives']})")
    elif metrics["holdout_positives"] < minimum_holdout:
        reason = (f"fewer than {minimum_holdout} {event} in the held-out period to validate "
                  f"on ({metrics['holdout_positives']})")
    if reason is None:
        validated = fit(train, factors)
        p = predict(validated, hold, factors)
        scored = scored.with_columns(pl.Series("score_learned", p))
        metrics["auc_learned"] = auc(y, p, w)
        metrics["calibration"] = calibration(y, p, w)
        metrics["calibration_max_gap"] = max_calibration_gap(metrics["calibration"])
        metrics["holdout_log_loss"] = log_loss(y, p, w)
        learned, baseline = metrics["auc_learned"], metrics[f"auc_{rule}"]
        gain = float(settings["min_auc_gain"])
        if learned is None or (baseline is not None and learned <= baseline + gain):
            reason = (f"the learned model's held-out AUC ({_fmt(learned)}) does not beat the "
                      f"rule's ({_fmt(baseline)})"
                      + (f" by more than {gain:g}" if gain else ""))
    if reason is not None:
        return Outcome("rule", reason, None, metrics, scored)
    model = fit(deploy, factors)
    reason = (f"held-out AUC {_fmt(metrics['auc_learned'])} against the rule's "
              f"{_fmt(metrics[f'auc_{rule}'])}")
    return Outcome("learned", reason, model, metrics, scored)


def _population(rows: pl.DataFrame) -> int:
    return int(round(float(rows["weight"].sum()))) if rows.height else 0


def _fmt(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"
