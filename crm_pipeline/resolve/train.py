"""Fellegi-Sunter weights: m and u per comparison level, estimated from the tenant's own data.

u (how often two different people agree at a level) comes from random pairs of the tenant's rows,
which are almost all non-matches. m (how often the same person agrees at a level) and the share of
matches among candidate pairs come from expectation-maximization over the candidate pairs' level
vectors, started from the shipped defaults and held near them by pseudo-counts, so a small tenant
still gets sensible weights and a large one gets its own. EM works on the distinct level patterns
with their counts, so it costs the same for 10k pairs as for 10M.

Exact agreement on names and phone is then adjusted by term frequency: agreeing on a surname held
by one row in ten thousand says more than agreeing on "Smith", and a company's switchboard number
shared by twenty colleagues says less than a mobile number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import FIELDS, LEVELS

# Shipped starting values (level 0 = no evidence is not modelled). Roughly what EM finds on the
# labelled generator; they only seed EM and stand in when a tenant is too small to estimate.
DEFAULT_M = {
    "first_name": [0.82, 0.06, 0.08, 0.03, 0.01],
    "last_name": [0.91, 0.06, 0.02, 0.01],
    "email": [0.40, 0.20, 0.02, 0.01, 0.37],
    "phone": [0.93, 0.07],
    "company": [0.95, 0.02, 0.01, 0.02],
    "job_title": [0.92, 0.08],
    "city": [0.98, 0.02],
}
DEFAULT_U = {
    "first_name": [0.01, 0.002, 0.005, 0.05, 0.933],
    "last_name": [0.002, 0.003, 0.02, 0.975],
    "email": [1e-5, 1e-5, 5e-5, 2e-4, 0.99974],
    "phone": [1e-4, 0.9999],
    "company": [0.01, 0.005, 0.02, 0.965],
    "job_title": [0.05, 0.95],
    "city": [0.10, 0.90],
}
DEFAULT_LAMBDA = 0.28
MIN_EM_PAIRS = 1_000  # fewer candidate pairs keep the default lambda
PSEUDO_COUNT = 50.0  # weight of the defaults in the EM m estimate, in pairs
ANCHOR_PSEUDO = 20.0  # weight of the defaults in the anchored m estimate, in pairs
MIN_RANDOM_PAIRS = 20_000
U_FLOOR = 1e-6
NAMES_DIFFER_CAP = -10.0
TF_FIELDS = {"first_name": "fn", "last_name": "ln", "phone": "phone"}


@dataclass
class Model:
    """m and u per field (arrays over levels 1..k), and the prior share of matches."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    lam: float

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per field, with 0 for level 0 (no evidence) at index 0."""
        return {f: np.concatenate([[0.0], np.log2(self.m[f] / self.u[f])]) for f in FIELDS}

    def as_dict(self) -> dict:
        return {
            "lambda": self.lam,
            "m": {f: self.m[f].round(6).tolist() for f in FIELDS},
            "u": {f: self.u[f].round(8).tolist() for f in FIELDS},
        }


def default_model() -> Model:
    return Model(
        {f: np.array(DEFAULT_M[f]) for f in FIELDS},
        {f: np.array(DEFAULT_U[f]) for f in FIELDS},
        DEFAULT_LAMBDA,
    )


def estimate_u(levels: np.ndarray, prior: Model) -> dict[str, np.ndarray]:
    """u from random pairs: level frequencies among present values, smoothed towards the prior."""
    u = {}
    for j, f in enumerate(FIELDS):
        col = levels[:, j]
        counts = np.bincount(col, minlength=LEVELS[f])[1:].astype(np.float64)
        total = counts.sum()
        smoothed = (counts + prior.u[f] * 1.0) / (total + 1.0)
        u[f] = np.maximum(smoothed, U_FLOOR)
        u[f] = u[f] / u[f].sum()
    return u


def estimate_m(
    levels: np.ndarray, u: dict[str, np.ndarray], prior: Model, iterations: int = 30
) -> Model:
    """EM for m and lambda over candidate pairs' levels, u held fixed."""
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    counts = counts.astype(np.float64)
    m = {f: prior.m[f].copy() for f in FIELDS}
    lam = prior.lam
    for _ in range(iterations):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for j, f in enumerate(FIELDS):
            lv = patterns[:, j]
            pm = np.concatenate([[1.0], m[f]])[lv]
            pu = np.concatenate([[1.0], u[f]])[lv]
            log_m += np.log(pm)
            log_u += np.log(pu)
        a = np.log(lam) + log_m
        b = np.log1p(-lam) + log_u
        gamma = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        g = gamma * counts
        lam = float(np.clip(g.sum() / counts.sum(), 1e-4, 0.9))
        for j, f in enumerate(FIELDS):
            lv = patterns[:, j]
            sums = np.bincount(lv, weights=g, minlength=LEVELS[f])[1:]
            new = (sums + PSEUDO_COUNT * prior.m[f]) / (sums.sum() + PSEUDO_COUNT)
            m[f] = np.maximum(new, 1e-6)
    return Model(m, u, lam)


def estimate_m_from_anchors(
    levels: np.ndarray, same_email: np.ndarray, same_phone_name: np.ndarray, prior: Model
) -> dict[str, np.ndarray]:
    """m per field from pairs an exact rule already links, each field judged on pairs linked by a
    rule that does not involve it (email on phone-and-name pairs, names and phone on email
    pairs, the rest on both), smoothed towards the defaults."""
    anchors = {
        "first_name": same_email,
        "last_name": same_email,
        "phone": same_email,
        "email": same_phone_name & ~same_email,
    }
    either = same_email | same_phone_name
    m = {}
    for j, f in enumerate(FIELDS):
        sel = anchors.get(f, either)
        counts = np.bincount(levels[sel, j], minlength=LEVELS[f])[1:].astype(np.float64)
        m[f] = (counts + ANCHOR_PSEUDO * prior.m[f]) / (counts.sum() + ANCHOR_PSEUDO)
        m[f] = np.maximum(m[f], 1e-4)
        m[f] = m[f] / m[f].sum()
    return m


def estimate_lambda(
    levels: np.ndarray, m: dict, u: dict, start: float, iterations: int = 50
) -> float:
    """Share of matches among candidate pairs, by EM with m and u held fixed."""
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    log_ratio = np.zeros(len(patterns))
    for j, f in enumerate(FIELDS):
        lv = patterns[:, j]
        log_ratio += np.log(np.concatenate([[1.0], m[f]])[lv] / np.concatenate([[1.0], u[f]])[lv])
    lam = start
    for _ in range(iterations):
        odds = np.log(lam / (1 - lam)) + log_ratio
        gamma = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        lam = float(np.clip((gamma * counts).sum() / counts.sum(), 1e-4, 0.5))
    return lam


def fit(
    candidate_levels: np.ndarray,
    same_email: np.ndarray,
    same_phone_name: np.ndarray,
    random_levels: np.ndarray | None,
    prior: Model | None = None,
) -> Model:
    """The tenant's model: u from random pairs, m from rule-anchored pairs, lambda by EM.

    Plain EM over blocked pairs was tried first and collapsed on realistic data (it took "same
    surname" for the match class: lambda 0.9, m(last name exact) 0.88), because the blocking keys
    make name agreement the dominant pattern among candidates; anchoring m avoids that.
    """
    prior = prior or default_model()
    if random_levels is not None and len(random_levels) >= MIN_RANDOM_PAIRS:
        u = estimate_u(random_levels, prior)
    else:
        u = prior.u
    if len(candidate_levels) == 0:
        return Model(prior.m, u, prior.lam)
    m = estimate_m_from_anchors(candidate_levels, same_email, same_phone_name, prior)
    lam = (
        estimate_lambda(candidate_levels, m, u, prior.lam)
        if len(candidate_levels) >= MIN_EM_PAIRS
        else prior.lam
    )
    return Model(m, u, lam)


def match_weight(
    model: Model, levels: np.ndarray, tf_adjust: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Total log2 Bayes factor of each pair (sum of per-field weights, term-frequency adjusted)."""
    w = model.weights()
    total = np.zeros(len(levels))
    for j, f in enumerate(FIELDS):
        total += w[f][levels[:, j]]
    for f, adjust in (tf_adjust or {}).items():
        j = FIELDS.index(f)
        exact = levels[:, j] == 1
        total += np.where(exact, adjust, 0.0)
    # Different first names (not a nickname, a typo or an initial away): another person, such as
    # a spouse or a colleague on the same line and at the same company, whatever else agrees.
    # Swapped names were aligned before this.
    # So are different last names, unless the mailbox is the same (a name changed by marriage).
    fn = levels[:, FIELDS.index("first_name")]
    ln = levels[:, FIELDS.index("last_name")]
    email = levels[:, FIELDS.index("email")]
    differ = (fn == LEVELS["first_name"] - 1) | ((ln == LEVELS["last_name"] - 1) & (email != 1))
    total = np.where(differ, np.minimum(total, NAMES_DIFFER_CAP), total)
    return total


def tf_adjustment(model: Model, field: str, tf: np.ndarray) -> np.ndarray:
    """Extra weight of an exact agreement on a value whose frequency is `tf` (Splink's rule:
    log2(u_exact / tf)), bounded so one field cannot decide alone."""
    u_exact = model.u[field][0]
    return np.clip(np.log2(u_exact / np.maximum(tf, U_FLOOR)), -6.0, 6.0)


def probability(weight: np.ndarray, lam: float) -> np.ndarray:
    prior = np.log2(lam / (1.0 - lam))
    return 1.0 / (1.0 + np.exp2(-(weight + prior)))
