"""The tenant's match model: the stored one while the tenant has not grown by half since, else
one trained afresh (m, u and the match rate)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import polars as pl

from crm_pipeline.contacts.resolve import train
from crm_pipeline.contacts.resolve.blocking import candidate_pairs, random_pairs
from crm_pipeline.contacts.resolve.cluster import EXACT
from crm_pipeline.contacts.resolve.compare import FIELDS, compare_pairs
from crm_pipeline.contacts.resolve.score import PROBABILISTIC, Scorer
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import run

RANDOM_PAIRS = 100_000


EM_SAMPLE = 200_000


RETRAIN_GROWTH = 1.5  # retrain once the tenant has grown by half since the stored model


def _u_exact(rows: pl.DataFrame, col: str) -> float:
    """Chance that two random rows holding a value hold the same one: sum of squared shares."""
    p = rows[col].drop_nulls().value_counts()["count"].to_numpy().astype(np.float64)
    if p.sum() < 2:
        return 0.0
    p /= p.sum()
    return float((p * p).sum())


def stored_model(con, tenant_id: str, n_rows: int) -> train.Model | None:
    """The tenant's stored model while it has not grown by half since; else None (retrain)."""
    stored = run(
        con,
        "SELECT rows_seen, model FROM core.match_models WHERE tenant_id = $t "
        "ORDER BY trained_at DESC LIMIT 1",
        {"t": tenant_id},
    )
    if stored and n_rows < stored[0][0] * RETRAIN_GROWTH:
        return _model_from_json(stored[0][1])
    return None


def trained_model(
    ctx: ChangeContext, rows: pl.DataFrame, cand: pl.DataFrame | None
) -> tuple[train.Model, Scorer | None, dict]:
    """A fresh estimate of m, u and the match rate from the tenant's rows; the scorer of `rows`
    when estimating the rate built one (the caller reuses it); the row to store it as.

    `cand` are the candidate pairs over every row when the caller has them already.
    """
    # Estimate on every row (not only the pending ones) so a retrain sees the whole tenant.
    if cand is None:
        cand = candidate_pairs(rows, np.arange(rows.height))
    total = cand.height
    if cand.height > EM_SAMPLE:
        cand = cand.sample(EM_SAMPLE, seed=1)
    a, b = cand["a"].to_numpy(), cand["b"].to_numpy()
    levels, _ = compare_pairs(rows, a, b, similarities=False)

    def same(col: str) -> np.ndarray:
        return (rows[col].gather(a) == rows[col].gather(b)).fill_null(False).to_numpy()

    ra, rb = random_pairs(rows.height, min(RANDOM_PAIRS, rows.height * 5), seed=2)
    rlevels, _ = compare_pairs(rows, ra, rb, similarities=False)
    # A small tenant's value counts are mostly its own duplicates: it keeps the shipped u.
    u_exact = {}
    if len(ra) >= train.MIN_RANDOM_PAIRS:
        u_exact = {f: _u_exact(rows, col) for f, col in train.TF_FIELDS.items()}
        u_exact = {f: v for f, v in u_exact.items() if v > 0}
    model = train.fit(levels, same("k_email"), same("k_phone_name"), rlevels, u_exact)
    scorer = None
    if total >= train.MIN_EM_PAIRS:
        scorer = Scorer(rows, model)
        weight = np.where(scorer.rule(a, b) != PROBABILISTIC, EXACT, scorer.weight(a, levels))
        model = replace(model, rate=train.estimate_rate(weight, total, rows.height, model.rate))
        scorer = scorer.with_rate(model)
    stored = {"t": ctx.tenant_id, "r": ctx.run_id, "at": ctx.at, "n": rows.height, "p": total,
              "m": json.dumps(model.as_dict())}
    return model, scorer, stored


def _model_from_json(text: str) -> train.Model | None:
    """The stored model, or None when it was stored by another version of the matcher."""
    d = json.loads(text)
    if d.get("version") != train.MODEL_VERSION:
        return None
    return train.Model(
        {f: np.array(d["m"][f]) for f in FIELDS},
        {f: np.array(d["u"][f]) for f in FIELDS},
        float(d["matches_per_row"]),
    )
