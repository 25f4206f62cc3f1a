"""Fellegi-Sunter weights: m and u per comparison level, estimated from the tenant's own data.

u (how often two different people agree at a level) comes from random pairs of the tenant's rows,
which are almost all non-matches; exact agreement's u from the value counts (the sum of squared
shares). m (how often the same person agrees at a level) comes from pairs an exact rule already
links, held near the shipped defaults by pseudo-counts, so a small tenant still gets sensible
weights. The prior is that of two random rows (not of two candidate pairs, whose names agree by
construction): matching pairs per row, by EM over a sample of candidate pairs, turned into a
probability per pair for the tenant's size, so namesakes, which grow with the square of the size,
need more evidence in a large tenant.

Exact agreement on the full name, phone and company is then adjusted by term frequency: agreeing on
a name held by one row in ten thousand says more than agreeing on "Michael Smith", a company's
switchboard number shared by twenty colleagues says less than a mobile number, and a large company
agreeing says less than a small one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_pipeline.contacts.resolve.compare import FIELDS, LEVELS

# Shipped starting values (level 0 = no evidence is not modelled). Roughly what EM finds on the
# labelled generator; they only seed EM and stand in when a tenant is too small to estimate.
DEFAULT_M = {
    "first_name": [0.82, 0.06, 0.08, 0.03, 0.01],
    "last_name": [0.91, 0.06, 0.02, 0.01],
    "email": [0.40, 0.20, 0.02, 0.01, 0.37],
    "phone": [0.93, 0.07],
    "company": [0.95, 0.02, 0.01, 0.02],
    "job_title": [0.92, 0.08],
    "city": [0.94, 0.03, 0.03],
    "street": [0.90, 0.07, 0.005, 0.025],
    "postcode": [0.93, 0.03, 0.04],
    "state": [0.97, 0.03],
    "birthdate": [0.88, 0.03, 0.03, 0.05, 0.01],
}
DEFAULT_U = {
    "first_name": [0.01, 0.002, 0.005, 0.05, 0.933],
    "last_name": [0.002, 0.003, 0.02, 0.975],
    "email": [1e-5, 1e-5, 5e-5, 2e-4, 0.99974],
    "phone": [1e-4, 0.9999],
    "company": [0.01, 0.005, 0.02, 0.965],
    "job_title": [0.05, 0.95],
    "city": [0.10, 0.01, 0.89],
    "street": [2e-4, 1e-4, 5e-3, 0.9947],
    "postcode": [1e-3, 5e-3, 0.994],
    "state": [0.3, 0.7],
    "birthdate": [5e-5, 5e-5, 4e-4, 0.015, 0.98445],
}
DEFAULT_MATCHES_PER_ROW = 0.3  # matching pairs per row: the prior a tiny tenant starts from
MIN_EM_PAIRS = 1_000  # fewer candidate pairs keep the default rate
MODEL_VERSION = 3  # stored models of another version are re-estimated
ANCHOR_PSEUDO = 20.0  # weight of the defaults in the anchored m estimate, in pairs
MIN_RANDOM_PAIRS = 20_000
U_FLOOR = 1e-6
NAMES_DIFFER_CAP = -10.0
NEIGHBOUR_LEVEL = 3  # street level: the same street, another house number
TF_FIELDS = {"first_name": "fn", "last_name": "ln", "phone": "phone", "company": "company_key",
             "city": "city_key", "postcode": "postcode_key"}
TF_BOUND = 6.0  # most one value's frequency may move a field's weight, in bits


@dataclass
class Model:
    """m and u per field (arrays over levels 1..k), and how many matching pairs there are per row.

    The prior is the chance that two random rows of the tenant match, 2 * rate / (n - 1): it falls
    as the tenant grows, as does u for a company or a full name, so evidence that settles a match
    among 10k rows must be stronger among 1M, and one link threshold serves every size.
    """

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    rate: float

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per field, with 0 for level 0 (no evidence) at index 0."""
        return {f: np.concatenate([[0.0], np.log2(self.m[f] / self.u[f])]) for f in FIELDS}

    def prior(self, n_rows: int) -> float:
        """log2 odds that two random rows of a tenant of `n_rows` rows match."""
        p = min(0.5, 2.0 * self.rate / max(n_rows - 1, 1))
        return float(np.log2(p / (1.0 - p)))

    def as_dict(self) -> dict:
        return {
            "version": MODEL_VERSION,
            "matches_per_row": self.rate,
            "m": {f: self.m[f].round(6).tolist() for f in FIELDS},
            "u": {f: self.u[f].tolist() for f in FIELDS},
        }


def default_model() -> Model:
    return Model(
        {f: np.array(DEFAULT_M[f]) for f in FIELDS},
        {f: np.array(DEFAULT_U[f]) for f in FIELDS},
        DEFAULT_MATCHES_PER_ROW,
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


def estimate_m_from_anchors(
    levels: np.ndarray, same_email: np.ndarray, same_phone_name: np.ndarray, prior: Model
) -> dict[str, np.ndarray]:
    """m per field from pairs an exact rule already links, each field judged on pairs linked by a
    rule that does not involve it (email on phone-and-name pairs, names and phone on email
    pairs, the rest on both), smoothed towards the defaults.

    Lists without emails or phones have their own anchors, from the levels: the same full name
    and birth date (for the address fields), the same birth date, house number, street and
    postcode (for the names), the same full name, street and postcode (for the birth date)."""
    col = {f: levels[:, j] for j, f in enumerate(FIELDS)}
    name = (col["first_name"] == 1) & (col["last_name"] == 1)
    born = col["birthdate"] == 1
    home = (col["street"] == 1) & (col["postcode"] == 1)
    anchors = {
        "first_name": same_email | (born & home),
        "last_name": same_email | (born & home),
        "phone": same_email,
        "email": same_phone_name & ~same_email,
        "birthdate": same_email | same_phone_name | (name & home),
    }
    either = same_email | same_phone_name
    for f in ("street", "postcode", "city", "state"):
        anchors[f] = either | (name & born)
    m = {}
    for j, f in enumerate(FIELDS):
        sel = anchors.get(f, either)
        counts = np.bincount(levels[sel, j], minlength=LEVELS[f])[1:].astype(np.float64)
        m[f] = (counts + ANCHOR_PSEUDO * prior.m[f]) / (counts.sum() + ANCHOR_PSEUDO)
        m[f] = np.maximum(m[f], 1e-4)
        m[f] = m[f] / m[f].sum()
    return m


def estimate_rate(weights: np.ndarray, pairs_total: float, n_rows: int, start: float) -> float:
    """Matching pairs per row, by EM over a sample of candidate pairs with m and u held fixed.

    `weights` are the sample's log2 Bayes factors; `pairs_total` the candidate pairs the sample
    stands for. Pairs outside the candidates count as non-matches.
    """
    if len(weights) == 0:
        return start
    scale = pairs_total / len(weights)
    rate = start
    for _ in range(50):
        prior = np.log2(min(0.5, 2.0 * rate / max(n_rows - 1, 1)))
        gamma = 1.0 / (1.0 + np.exp2(-np.clip(weights + prior, -700, 700)))
        new = float(gamma.sum() * scale / n_rows)
        new = min(max(new, 1e-3), 5.0)
        if abs(new - rate) < 1e-6:
            return new
        rate = new
    return rate


def fit(
    candidate_levels: np.ndarray,
    same_email: np.ndarray,
    same_phone_name: np.ndarray,
    random_levels: np.ndarray | None,
    u_exact: dict[str, float] | None = None,
    prior: Model | None = None,
) -> Model:
    """The tenant's m and u (the rate is set apart, by `estimate_rate`): u from random pairs,
    exact agreement's u from the value frequencies where given, m from rule-anchored pairs.

    Plain EM over blocked pairs was tried first and collapsed on realistic data (it took "same
    surname" for the match class: lambda 0.9, m(last name exact) 0.88), because the blocking keys
    make name agreement the dominant pattern among candidates; anchoring m avoids that.
    """
    prior = prior or default_model()
    if random_levels is not None and len(random_levels) >= MIN_RANDOM_PAIRS:
        u = estimate_u(random_levels, prior)
    else:
        u = {f: prior.u[f].copy() for f in FIELDS}
    for f, value in (u_exact or {}).items():
        # Exact agreement of random pairs is sum(p_v^2) over the values: known, not sampled.
        rest = u[f][1:] / u[f][1:].sum() * (1.0 - value)
        u[f] = np.maximum(np.concatenate([[value], rest]), U_FLOOR)
    if len(candidate_levels) == 0:
        return Model(prior.m, u, prior.rate)
    m = estimate_m_from_anchors(candidate_levels, same_email, same_phone_name, prior)
    return Model(m, u, prior.rate)


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
    # Nor when the birth date, house number and street are the same (a name changed, or badly
    # keyed, at home).
    born = levels[:, FIELDS.index("birthdate")]
    street = levels[:, FIELDS.index("street")]
    at_home = (born == 1) & (street == 1)
    differ = (fn == LEVELS["first_name"] - 1) | (
        (ln == LEVELS["last_name"] - 1) & (email != 1) & ~at_home
    )
    # Birth dates that differ by more than a slip (a swap, a digit, the year alone): another
    # person, such as a parent and a child of one name at one address. So is another house number
    # on the same street (a neighbour), unless the mailbox or phone is the same.
    phone = levels[:, FIELDS.index("phone")]
    differ |= born == LEVELS["birthdate"] - 1
    differ |= (street == NEIGHBOUR_LEVEL) & (email != 1) & (phone != 1)
    total = np.where(differ, np.minimum(total, NAMES_DIFFER_CAP), total)
    return total


def tf_adjustment(u_exact: float, tf: np.ndarray, bound: float = TF_BOUND) -> np.ndarray:
    """Extra weight of an exact agreement on a value whose frequency is `tf` (Splink's rule:
    log2(u_exact / tf)), bounded so one field cannot decide alone."""
    return np.clip(np.log2(u_exact / np.maximum(tf, U_FLOOR)), -bound, bound)


def probability(log_odds: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-log_odds))
