"""Scoring row pairs: exact rules, or log2 odds from the tenant's match model, adjusted by
term frequencies."""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipeline.contacts.resolve import train
from crm_pipeline.contacts.resolve.cluster import EXACT
from crm_pipeline.contacts.resolve.compare import FIELDS, compare_pairs, value_ids

RULE_KEYS = {
    "same_source_id": "k_source",
    "same_email": "k_email",
    "same_phone_name": "k_phone_name",
}


PROBABILISTIC = "probabilistic"


TF_SMOOTHING = 100  # pseudo-rows pulling a small tenant's term frequencies towards u


SCORE_SLICE = 1_000_000  # pairs compared at once


class Scorer:
    """Scores row pairs: exact rules give `EXACT`, others log2 odds from the tenant's model."""

    def __init__(
        self, rows: pl.DataFrame, model: train.Model, population: pl.DataFrame | None = None
    ):
        """`population`: every row of the tenant when `rows` is only part of it (its size sets
        the prior, its values the term frequencies)."""
        self.rows = rows
        self.model = model
        everyone = rows if population is None else population
        self.prior = model.prior(everyone.height)
        self.tf = {
            field: _frequencies(rows, [col], model.u[field][0], everyone)
            for field, col in train.TF_FIELDS.items()
        }
        # The full name as one value: first and last names are not independent (families,
        # origins), and "Michael Smith" is commoner than "Michael" times "Smith".
        self.u_name = model.u["first_name"][0] * model.u["last_name"][0]
        self.tf_name = _frequencies(rows, ["fn", "ln"], self.u_name, everyone)
        self.keys = {k: value_ids(rows[k]).to_numpy() for k in RULE_KEYS.values()}
        self._keys = np.zeros(0, dtype=np.int64)  # pairs scored so far (a * n + b), sorted
        self._scores = np.zeros(0)

    def with_rate(self, model: train.Model) -> Scorer:
        """This scorer under `model`, which differs from its own in the match rate only (the
        term frequencies, the costly part, depend on u alone)."""
        if model.u is not self.model.u:
            raise ValueError("with_rate takes a model with the same u")
        self.model, self.prior = model, model.prior(self.rows.height)
        return self

    def rule(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Name of the strongest exact rule each pair meets, else `probabilistic`."""
        out = np.full(len(a), PROBABILISTIC, dtype=object)
        for rule, key in reversed(RULE_KEYS.items()):
            ids = self.keys[key]
            out[(ids[a] == ids[b]) & (ids[a] > 0)] = rule
        return out

    def levels(
        self, a: np.ndarray, b: np.ndarray, similarities: bool = False
    ) -> tuple[np.ndarray, pl.DataFrame]:
        return compare_pairs(self.rows, a, b, similarities)

    def weight(self, a: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """log2 Bayes factor of each pair, exact agreement adjusted by the value's frequency."""
        u = self.model.u
        adjust = {f: train.tf_adjustment(u[f][0], self.tf[f][a]) for f in train.TF_FIELDS}
        both = (levels[:, FIELDS.index("first_name")] == 1) & (
            levels[:, FIELDS.index("last_name")] == 1
        )
        name = train.tf_adjustment(self.u_name, self.tf_name[a], 2 * train.TF_BOUND)
        adjust["first_name"] = np.where(both, name, adjust["first_name"])
        adjust["last_name"] = np.where(both, 0.0, adjust["last_name"])
        return train.match_weight(self.model, levels, adjust)

    def score(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """log2 odds of a match (EXACT for an exact rule); pairs scored before are looked up."""
        if len(a) == 0:
            return np.zeros(0)
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        key = np.minimum(a, b) * self.rows.height + np.maximum(a, b)
        pos = np.searchsorted(self._keys, key)
        pos = np.minimum(pos, len(self._keys) - 1) if len(self._keys) else pos
        known = (self._keys[pos] == key) if len(self._keys) else np.zeros(len(key), dtype=bool)
        out = np.empty(len(key))
        out[known] = self._scores[pos[known]]
        new = np.flatnonzero(~known)
        # In slices, so the comparison arrays of millions of pairs never coexist.
        for start in range(0, len(new), SCORE_SLICE):
            part = new[start : start + SCORE_SLICE]
            na, nb = a[part], b[part]
            levels, _ = self.levels(na, nb)
            s = self.weight(na, levels) + self.prior
            out[part] = np.where(self.rule(na, nb) != PROBABILISTIC, EXACT, s)
        if len(new):
            keys = np.concatenate([self._keys, key[new]])
            scores = np.concatenate([self._scores, out[new]])
            keys, first = np.unique(keys, return_index=True)
            self._keys, self._scores = keys, scores[first]
        return out


def _frequencies(
    rows: pl.DataFrame, cols: list[str], u_exact: float, population: pl.DataFrame
) -> np.ndarray:
    """Share of the population's rows holding all of `cols` that hold each row's values,
    smoothed towards `u_exact` so a small tenant's counts do not swing the weights."""
    present = population.select(cols).drop_nulls()
    counts = present.group_by(cols).len()
    n = present.height
    tf = rows.select(cols).join(counts, on=cols, how="left", maintain_order="left")["len"]
    return (tf.fill_null(0).to_numpy() + TF_SMOOTHING * u_exact) / (n + TF_SMOOTHING)
